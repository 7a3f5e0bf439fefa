"""Routes and the schedule. Each handler parses the request, calls chalicelib, shapes the response."""

from collections.abc import Callable, Mapping
from typing import Any

from chalice import Chalice, Rate

from chalicelib.observability import page_state
from chalicelib.web.assets import static_response
from chalicelib.web.http import Web
from chalicelib.web.pages import campaign, charity, exposure, homepage, impact, ledger, sitemap
from chalicelib.web.response import Response
from chalicelib.web.view import View
from chalicelib.webhooks.routes import RawBody, Webhooks
from chalicelib.wiring import services

# env={}: Chalice would otherwise read and write os.environ["AWS_EXECUTION_ENV"] at import.
# configure_logs=False: logging belongs to chalicelib.observability (JSON lines, Powertools).
app = Chalice(app_name="campaign-platform", configure_logs=False, env={})
# Every response is text (HTML, JSON, CSS, JS, SVG): no binary media types, so Chalice never
# matches a response against them (and API Gateway passes no body through as binary).
app.api.binary_types = []
app.register_middleware(lambda event, get_response: services().observability.middleware(event, get_response), "all")
web = Web(app, now=lambda: services().clock(), deadlines=lambda: services().deadlines, settings=lambda: services().settings)


def _viewed(page_name: str, page: Response) -> Response:
    """Count the page view by state (CloudWatch metric PageViews)."""
    services().observability.page_view(page_name, page_state(page))
    return page


# --- the consumer pages: each HTML route and its /api/ twin share one body


@web.page("/", "html")
def homepage_html(view: View) -> Response:
    return _homepage(view)


@web.page("/api/homepage", "json")
def homepage_json(view: View) -> Response:
    return _homepage(view)


def _homepage(view: View) -> Response:
    svc = services()
    return _viewed("homepage", homepage.page(svc.catalog, view, svc.settings.homepage_slots, svc.settings.rotation_minutes))


@web.page("/homepage/exposure", "html")
def exposure_html(view: View) -> Response:
    return _exposure(view)


@web.page("/api/homepage/exposure", "json")
def exposure_json(view: View) -> Response:
    return _exposure(view)


def _exposure(view: View) -> Response:
    svc, s = services(), services().settings
    page = exposure.page(
        svc.catalog, view, svc.rotations.rotations_from, web.query_param("date"), s.homepage_slots, s.rotation_minutes
    )
    return _viewed("exposure", page)


@web.page("/campaigns/{campaign_id}", "html")
def campaign_page(view: View, campaign_id: str) -> Response:
    return _campaign(view, campaign_id)


@web.page("/api/campaigns/{campaign_id}", "json")
def campaign_json(view: View, campaign_id: str) -> Response:
    return _campaign(view, campaign_id)


def _campaign(view: View, campaign_id: str) -> Response:
    svc = services()
    return _viewed("campaign", campaign.page(svc.catalog, view, campaign_id, svc.totals))


@web.page("/charity", "html")
def charity_channel(view: View) -> Response:
    svc = services()
    return _viewed("charity", charity.page(svc.catalog, view, svc.books.totals_of))


@web.route("/static/{name}", "html")
def static_file(name: str) -> Response:
    return static_response(name)


# --- the donation books (docs/donations.md): signed system webhooks, the public ledger, impact

# Any content type: the body is parsed as JSON whatever its label, and the signature covers its bytes.
SYSTEM_CONTENT_TYPES = ["*/*"]


def _signed(route: Callable[[Webhooks, RawBody, Mapping[str, str]], Response]) -> Response:
    """A system route: the raw body bytes and the headers go to chalicelib (signature, then body)."""
    svc, request = services(), web.request
    return route(Webhooks(svc.verifier, svc.books, svc.clock, svc.observability), request.raw_body, request.headers)


@web.route("/api/sales", "json", methods=["POST"], content_types=SYSTEM_CONTENT_TYPES)
def record_sale() -> Response:
    return _signed(Webhooks.sale)


@web.route("/api/refunds", "json", methods=["POST"], content_types=SYSTEM_CONTENT_TYPES)
def record_refund() -> Response:
    return _signed(Webhooks.refund)


@web.route("/api/point-donations", "json", methods=["POST"], content_types=SYSTEM_CONTENT_TYPES)
def record_point_donation() -> Response:
    return _signed(Webhooks.point_donation)


@web.page("/campaigns/{campaign_id}/ledger", "html")
def ledger_page(view: View, campaign_id: str) -> Response:
    return _ledger(view, campaign_id)


@web.page("/api/campaigns/{campaign_id}/ledger", "json")
def ledger_json(view: View, campaign_id: str) -> Response:
    return _ledger(view, campaign_id)


def _ledger(view: View, campaign_id: str) -> Response:
    svc, cursor = services(), web.query_param("cursor")
    order, client = web.query_param("order"), _client_address()
    return _viewed(
        "ledger", ledger.page(svc.catalog, view, svc.books, svc.cursors, campaign_id, cursor, order, svc.lookups, client)
    )


def _client_address() -> str:
    """The caller's address as API Gateway saw it (the key of per-client limits); ``""`` when absent."""
    identity = (web.request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "")


@web.page("/impact", "html")
def impact_page(view: View) -> Response:
    return _impact(view)


@web.page("/api/impact", "json")
def impact_json(view: View) -> Response:
    return _impact(view)


def _impact(view: View) -> Response:
    svc = services()
    return _viewed("impact", impact.page(svc.catalog, view, svc.books))


# --- search: what is visible at the request's instant (chalicelib/web/pages/sitemap.py)


@web.page("/sitemap.xml", "html")
def sitemap_xml(view: View) -> Response:
    return sitemap.sitemap(services().catalog, view)


@web.page("/robots.txt", "html")
def robots_txt(view: View) -> Response:
    return sitemap.robots(view)


# The rate must equal ROTATION_MINUTES of every stage in .chalice/config.json
# (a decorator cannot read settings without reading the environment at import
# time); tests/functional/test_config.py holds the two together.
ROTATION_RATE_MINUTES = 15


@app.schedule(Rate(ROTATION_RATE_MINUTES, unit=Rate.MINUTES), name="rotate_homepage")
def rotate_homepage(event: Any) -> dict[str, Any]:
    """One homepage rotation: the same code as `campaign rotate`, within the rotation's deadline."""
    svc = services()
    with svc.deadlines.begin("rotation", getattr(event, "context", None)):
        return svc.rotation_job.run().as_json()
