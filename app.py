"""Routes and the schedule. Each handler parses the request, calls chalicelib, shapes the response."""
from chalice import Chalice, Rate

from chalicelib import observability
from chalicelib.homepage.job import run_rotation
from chalicelib.web import http as web
from chalicelib.web.pages import ledger as ledger_pages
from chalicelib.web.pages import site
from chalicelib.web.assets import static_response
from chalicelib.webhooks import routes as system_api
from chalicelib.wiring import services

# env={}: Chalice would otherwise read and write os.environ["AWS_EXECUTION_ENV"] at import.
# configure_logs=False: logging belongs to chalicelib.observability (JSON lines, Powertools).
app = Chalice(app_name="campaign-platform", configure_logs=False, env={})
app.register_middleware(observability.middleware, "all")
web.bind_request_getter(lambda: app.current_request)


def _ctx():
    svc = services()
    links = web.links_of(app.current_request)  # knows the language too
    return svc, svc.clock(), links.lang, links


def _viewed(page_name, page):
    """Count the page view by state (CloudWatch metric PageViews) and make the response."""
    observability.record_page_view(page_name, observability.page_state(page))
    return web.to_response(page)


@app.route("/")
@web.handles_errors("html")
def homepage():
    svc, at, lang, links = _ctx()
    s = svc.settings
    return _viewed("homepage", site.home(svc.catalog, at, lang, "html", links, s.homepage_slots, s.rotation_minutes))


@app.route("/api/homepage")
@web.handles_errors("json")
def homepage_json():
    svc, at, lang, links = _ctx()
    s = svc.settings
    return _viewed("homepage", site.home(svc.catalog, at, lang, "json", links, s.homepage_slots, s.rotation_minutes))


@app.route("/campaigns/{campaign_id}")
@web.handles_errors("html")
def campaign_page(campaign_id):
    svc, at, lang, links = _ctx()
    return _viewed("campaign", site.campaign(svc.catalog, campaign_id, at, lang, "html", links, svc.totals))


@app.route("/api/campaigns/{campaign_id}")
@web.handles_errors("json")
def campaign_json(campaign_id):
    svc, at, lang, links = _ctx()
    return _viewed("campaign", site.campaign(svc.catalog, campaign_id, at, lang, "json", links, svc.totals))


@app.route("/charity")
@web.handles_errors("html")
def charity_channel():
    svc, at, lang, links = _ctx()
    return _viewed("charity", site.charity(svc.catalog, at, lang, links, svc.totals))


@app.route("/static/{name}")
@web.handles_errors("html")
def static_file(name):
    return web.to_response(static_response(name))


# --- the donation books (issue 3): signed system webhooks, the public ledger, impact

# Any content type: the body is parsed as JSON whatever its label, and the signature covers its bytes.
SYSTEM_CONTENT_TYPES = ["*/*"]


def _signed(handler):
    """A system route: the raw body bytes and the headers go to chalicelib (signature, then body)."""
    request = app.current_request
    return web.to_response(handler(services(), request.raw_body, request.headers))


def _cursor():
    return (app.current_request.query_params or {}).get("cursor")


@app.route("/api/sales", methods=["POST"], content_types=SYSTEM_CONTENT_TYPES)
@web.handles_errors("json")
def record_sale():
    return _signed(system_api.sale)


@app.route("/api/refunds", methods=["POST"], content_types=SYSTEM_CONTENT_TYPES)
@web.handles_errors("json")
def record_refund():
    return _signed(system_api.refund)


@app.route("/api/point-donations", methods=["POST"], content_types=SYSTEM_CONTENT_TYPES)
@web.handles_errors("json")
def record_point_donation():
    return _signed(system_api.point_donation)


@app.route("/campaigns/{campaign_id}/ledger")
@web.handles_errors("html")
def ledger_page(campaign_id):
    svc, at, lang, links = _ctx()
    return _viewed("ledger", ledger_pages.ledger(svc.catalog, svc.books, svc.cursors, campaign_id, _cursor(), at, lang, "html", links))


@app.route("/api/campaigns/{campaign_id}/ledger")
@web.handles_errors("json")
def ledger_json(campaign_id):
    svc, at, lang, links = _ctx()
    return _viewed("ledger", ledger_pages.ledger(svc.catalog, svc.books, svc.cursors, campaign_id, _cursor(), at, lang, "json", links))


@app.route("/impact")
@web.handles_errors("html")
def impact_page():
    svc, at, lang, links = _ctx()
    return _viewed("impact", ledger_pages.impact(svc.catalog, svc.books, at, lang, "html", links))


@app.route("/api/impact")
@web.handles_errors("json")
def impact_json():
    svc, at, lang, links = _ctx()
    return _viewed("impact", ledger_pages.impact(svc.catalog, svc.books, at, lang, "json", links))


# The rate must equal ROTATION_MINUTES of every stage in .chalice/config.json
# (a decorator cannot read settings without reading the environment at import
# time); tests/functional/test_config.py holds the two together.
ROTATION_RATE_MINUTES = 15


@app.schedule(Rate(ROTATION_RATE_MINUTES, unit=Rate.MINUTES), name="rotate_homepage")
def rotate_homepage(event):
    """One homepage rotation: the same code as `campaign rotate`."""
    svc = services()
    s = svc.settings
    try:
        outcome = run_rotation(svc.store, svc.clock(), s.homepage_slots, s.rotation_history_days)
    except Exception:
        observability.record_rotation("failed")
        raise
    observability.record_rotation("written" if outcome.written else "lost", outcome.slots)
    return {"rotation": outcome.rotation, "written": outcome.written, "message": outcome.message}
