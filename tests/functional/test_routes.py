"""Consumer routes through the Chalice test client, against moto."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.homepage.job import run_rotation
from tests.factories import campaign, charity_sale, local
from tests.faults import DownStore

MS = timedelta(milliseconds=1)


def get(client, path, **headers):
    return client.http.get(path, headers=headers)


def body(response):
    return json.loads(response.body)


@pytest.mark.parametrize(
    ("at", "status", "state"),
    [
        (local(2026, 10, 10) - MS, 404, None),
        (local(2026, 10, 10), 200, "teaser"),
        (local(2026, 10, 17) - MS, 200, "teaser"),
        (local(2026, 10, 17), 200, "live"),
        (local(2026, 10, 18) - MS, 200, "live"),
        (local(2026, 10, 18), 410, "ended"),
    ],
)
def test_campaign_json_in_each_state(client, publish, clock, at, status, state):
    publish(campaign())
    clock.set(at)
    response = get(client, "/api/campaigns/poverty-day-2026")
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    data = body(response)
    if state is None:
        assert data == {"error": "not_found", "message": "no campaign 'poverty-day-2026'"}
        return
    assert data["state"] == state
    assert data["starts_at"] == "2026-10-17T00:00:00+08:00"
    assert data["ends_at"] == "2026-10-18T00:00:00+08:00"
    prices = ["price" in p for p in data["products"]]
    assert prices == [state == "live"] * 3


def test_live_json_has_the_brief_shape_and_language(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    data = body(get(client, "/api/campaigns/poverty-day-2026?lang=en"))
    assert data["title"] == "Campaign poverty-day-2026"
    assert data["products"][0] == {
        "sku": "EGG-0017",
        "name": "Product EGG-0017",
        "price": "39.90",
        "list_price": None,
        "merchant": {"id": "m-0042", "name": "Cooperative"},
        "county": {"code": "511902", "name": "Bazhou District"},
        "endorsement": {"by": "County government", "kind": "government"},
        "image": "/static/placeholder.svg",
        "buy_url": None,  # no PRODUCT_URL_TEMPLATE, no url of its own: no buy link
    }
    zh = body(get(client, "/api/campaigns/poverty-day-2026?lang=fr"))
    assert zh["title"] == "活动 poverty-day-2026"


def test_charity_json_carries_the_books(client, publish, clock):
    publish(charity_sale())
    clock.set(local(2026, 12, 1))
    data = body(get(client, "/api/campaigns/bazhong-pork-charity"))
    assert data["charity"] == {
        "rate": "5.45%",
        "goal": "60000.00",
        "raised": "0.00",
        "raised_from_sales": "0.00",
        "raised_from_points": "0.00",
        "sales": "0.00",
        "beneficiary": "巴中留守儿童",
        "beneficiaries": 23,
        "partner": "巴中市人民政府",
        "points_per_yuan": 100,
        "confirmed": "0.00",
        "pending": "0.00",
        "disbursed": "0.00",
        "balance": "0.00",
        "return_days": 7,
        "disbursements": [],
    }


def test_cache_control_never_outlives_the_state(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 23, 58, 30))
    response = get(client, "/campaigns/poverty-day-2026")
    assert response.headers["Cache-Control"] == "public, max-age=90"
    clock.set(local(2026, 10, 12))
    assert get(client, "/campaigns/poverty-day-2026").headers["Cache-Control"] == "public, max-age=300"


def test_html_page_is_escaped_localized_and_linked(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    response = get(client, "/campaigns/poverty-day-2026?lang=en")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.body.decode()
    assert '<html lang="en">' in html
    assert "¥39.90" in html
    assert 'href="/campaigns/poverty-day-2026"' in html  # the language switch back to zh-CN
    assert "Ends in" in html


def test_unknown_and_hostile_ids_are_404_pages_without_traceback(client, publish, clock, counter):
    publish(campaign())
    counter.reset()
    for path in ("/campaigns/nope", "/campaigns/..%2F..%2Fetc", "/campaigns/" + "x" * 10_000):
        response = get(client, path)
        assert response.status_code == 404
        assert "Traceback" not in response.body.decode()
    assert body(get(client, "/api/campaigns/%3Cscript%3E"))["error"] == "not_found"


def test_homepage_shows_the_rotation_and_drops_picks_at_their_end(client, publish, services, clock):
    short = charity_sale(ends_at=local(2026, 10, 17, 12), starts_at=local(2026, 10, 16), teaser_from=None)
    publish(campaign(pinned=("EGG-0017",)), short)
    clock.set(local(2026, 10, 17, 11, 50))
    outcome = run_rotation(services.rotations, clock(), 8, 30)
    assert outcome.written and outcome.rotation == 1
    services.catalog._rotation = None
    data = body(get(client, "/api/homepage"))
    assert data["rotation"] == 1
    assert data["slots"][0] == {
        "position": 1,
        "campaign_id": "poverty-day-2026",
        "sku": "EGG-0017",
        "name": "商品 EGG-0017",
        "price": "39.90",
        "pinned": True,
        "image": "/static/placeholder.svg",
        "url": "/campaigns/poverty-day-2026",
        "buy_url": None,  # no PRODUCT_URL_TEMPLATE, no url of its own: no buy link
    }
    assert {s["campaign_id"] for s in data["slots"]} == {"poverty-day-2026", "bazhong-pork-charity"}
    clock.set(local(2026, 10, 17, 12))
    after = body(get(client, "/api/homepage"))
    assert {s["campaign_id"] for s in after["slots"]} == {"poverty-day-2026"}
    assert len(after["slots"]) == 3  # min(slots, live picks)


def test_scheduled_function_rotates(client, publish, services, clock):
    publish(campaign())
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:us-east-1:123456789012:rule/x"]
    )
    first = client.lambda_.invoke("rotate_homepage", event)
    second = client.lambda_.invoke("rotate_homepage", event)
    assert first.payload["rotation"] == 1 and first.payload["written"] is True
    assert second.payload["rotation"] == 2
    assert services.rotations.get_rotation()["rotation"] == 2


def test_charity_channel_lists_live_charity_sales(client, publish, clock):
    publish(campaign(), charity_sale())
    clock.set(local(2026, 12, 1))
    html = get(client, "/charity?lang=en").body.decode()
    assert "Left-behind children of Bazhong" in html
    assert 'role="progressbar"' in html and 'aria-valuenow="0.00"' in html
    assert "Campaign poverty-day-2026" not in html


def test_links_carry_the_stage_prefix_on_the_execute_api_url(services, publish, clock):
    from chalicelib.web import http as web
    from chalicelib.web.view import Links

    class Request:
        context = {"path": "/api/campaigns/poverty-day-2026", "resourcePath": "/campaigns/{campaign_id}"}
        uri_params = {"campaign_id": "poverty-day-2026"}
        query_params = {"lang": "en"}

    assert web.links_of(Request()) == Links(prefix="/api", lang="en")
    Request.context = {"path": "/campaigns/poverty-day-2026", "resourcePath": "/campaigns/{campaign_id}"}
    assert web.prefix_of(Request()) == ""
    Request.context = {"path": "/api/", "resourcePath": "/"}
    Request.uri_params = None
    assert web.prefix_of(Request()) == "/api"
    assert Links("/api", "en").static("/static/egg.svg") == "/api/static/egg.svg"


def test_static_files_are_served_and_paths_refused(client):
    css = get(client, "/static/site.css")
    assert css.status_code == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert get(client, "/static/..%2Fapp.py").status_code == 404


def test_store_outage_is_a_friendly_503(client, services):
    services.catalog.releases = services.catalog.rotations = DownStore()
    response = get(client, "/api/campaigns/poverty-day-2026")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert body(response)["error"] == "unavailable"
    html = get(client, "/campaigns/poverty-day-2026").body.decode()
    assert "服务暂时不可用" in html and "Traceback" not in html


def test_outage_serves_a_cached_page_stale_for_up_to_ten_minutes(table, clock, publish):
    from chalicelib.errors import StoreUnavailable
    from chalicelib.releases.catalog import StoreCatalog
    from chalicelib.store.releases import ReleaseStore
    from chalicelib.store.rotations import RotationStore
    from chalicelib.store.table import Table
    from chalicelib.web.pages import campaign as campaign_page
    from chalicelib.web.view import View

    class Switch(Table):
        down = False

        def get(self, key, consistent=False):
            if self.down:
                raise StoreUnavailable("DynamoDB is unavailable: ThrottlingException")
            return super().get(key, consistent)

    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    door, elapsed = Switch(table), [0.0]
    catalog = StoreCatalog(ReleaseStore(door), RotationStore(door), monotonic=lambda: elapsed[0])
    fresh = campaign_page.page(catalog, View.of(clock(), fmt="json"), "poverty-day-2026")
    assert fresh.status == 200 and "Warning" not in fresh.headers
    door.down, elapsed[0] = True, 300.0
    stale = campaign_page.page(catalog, View.of(clock(), fmt="json"), "poverty-day-2026")
    assert stale.status == 200 and stale.headers["Warning"] == '110 - "Response is Stale"'
    assert stale.headers["Cache-Control"] == "no-cache"
    elapsed[0] = 601.0
    with pytest.raises(StoreUnavailable):
        campaign_page.page(catalog, View.of(clock(), fmt="json"), "poverty-day-2026")
