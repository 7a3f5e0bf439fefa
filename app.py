"""Routes and the schedule. Each handler parses the request, calls chalicelib, shapes the response."""
from chalice import Chalice, Rate

from chalicelib import site, web
from chalicelib.homepage import run_rotation
from chalicelib.static_files import static_response
from chalicelib.wiring import services

app = Chalice(app_name="campaign-platform")
web.bind_request_getter(lambda: app.current_request)


def _ctx():
    svc = services()
    request = app.current_request
    return svc, svc.clock(), web.lang_of(request), web.links_of(request)


@app.route("/")
@web.handles_errors("html")
def homepage():
    svc, at, lang, links = _ctx()
    s = svc.settings
    return web.to_response(site.home(svc.catalog, at, lang, "html", links, s.homepage_slots, s.rotation_minutes))


@app.route("/api/homepage")
@web.handles_errors("json")
def homepage_json():
    svc, at, lang, links = _ctx()
    s = svc.settings
    return web.to_response(site.home(svc.catalog, at, lang, "json", links, s.homepage_slots, s.rotation_minutes))


@app.route("/campaigns/{campaign_id}")
@web.handles_errors("html")
def campaign_page(campaign_id):
    svc, at, lang, links = _ctx()
    return web.to_response(site.campaign(svc.catalog, campaign_id, at, lang, "html", links, svc.totals))


@app.route("/api/campaigns/{campaign_id}")
@web.handles_errors("json")
def campaign_json(campaign_id):
    svc, at, lang, links = _ctx()
    return web.to_response(site.campaign(svc.catalog, campaign_id, at, lang, "json", links, svc.totals))


@app.route("/charity")
@web.handles_errors("html")
def charity_channel():
    svc, at, lang, links = _ctx()
    return web.to_response(site.charity(svc.catalog, at, lang, links, svc.totals))


@app.route("/static/{name}")
@web.handles_errors("html")
def static_file(name):
    return web.to_response(static_response(name))


# The rate must equal ROTATION_MINUTES of every stage in .chalice/config.json
# (a decorator cannot read settings without reading the environment at import
# time); tests/functional/test_config.py holds the two together.
ROTATION_RATE_MINUTES = 15


@app.schedule(Rate(ROTATION_RATE_MINUTES, unit=Rate.MINUTES), name="rotate_homepage")
def rotate_homepage(event):
    """One homepage rotation: the same code as `campaign rotate`."""
    svc = services()
    s = svc.settings
    outcome = run_rotation(svc.store, svc.clock(), s.homepage_slots, s.rotation_history_days)
    return {"rotation": outcome.rotation, "written": outcome.written, "message": outcome.message}
