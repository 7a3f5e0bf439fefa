"""Buy links from a campaign page and a homepage slot to the mall, with the attribution the
order system reads back (docs/architecture.md, "Buy links"), through the routes."""

from __future__ import annotations

import json
from dataclasses import replace
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import wiring
from chalicelib.domain.buy_links import UTM_SOURCE, campaign_of, pick_url_problem
from chalicelib.homepage.job import run_rotation
from chalicelib.settings import Settings, SettingsError
from tests.conftest import TABLE
from tests.factories import campaign, local

TEMPLATE = "https://mall.example/item/{sku}?from=fupin"


@pytest.fixture
def mall_services(table, clock):
    svc = wiring.build(Settings(table_name=TABLE, product_url_template=TEMPLATE, site_url="https://fupin.example"), clock, table)
    wiring.configure(svc)
    yield svc
    wiring.configure(None)


@pytest.fixture
def mall_client(mall_services):
    from chalice.test import Client

    from app import app
    from tests.conftest import ROOT

    with Client(app, stage_name="local", project_dir=str(ROOT)) as c:
        yield c


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.buy: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        found = {k: v or "" for k, v in attrs}
        if tag == "a" and "buy-link" in found.get("class", ""):
            self.buy.append(found)


def buy_links(html: str) -> list[dict[str, str]]:
    parser = _Anchors()
    parser.feed(html)
    return parser.buy


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def with_own_url(c, sku: str, url: str):
    return replace(c, products=tuple(replace(p, url=url) if p.sku == sku else p for p in c.products))


def test_a_live_campaign_page_links_each_pick_to_the_mall_with_attribution(mall_client, publish, clock):
    slashed = replace(campaign(skus=("EGG/0017", "POT-0101")), homepage=None)
    publish(with_own_url(slashed, "POT-0101", "https://shop.example/p/1?utm_source=old&keep=1#top"))
    clock.set(local(2026, 10, 17, 9))
    for lang in ("zh-CN", "en"):
        response = mall_client.http.get(f"/campaigns/poverty-day-2026?lang={lang}")
        links = buy_links(response.body.decode())
        assert [a["data-sku"] for a in links] == ["EGG/0017", "POT-0101"]
        first, own = (urlsplit(a["href"].replace("&amp;", "&")) for a in links)
        # The template's, the SKU percent-encoded with its slash, the template's own query kept.
        assert (first.scheme, first.netloc, first.path) == ("https", "mall.example", "/item/EGG%2F0017")
        assert parse_qs(first.query) == {
            "from": ["fupin"],
            "utm_source": [UTM_SOURCE],
            "utm_medium": ["campaign"],
            "utm_campaign": ["poverty-day-2026"],
        }
        # The pick's own url wins; its utm_source is replaced, its other parameters and fragment kept.
        assert (own.netloc, own.path, own.fragment) == ("shop.example", "/p/1", "top")
        assert parse_qs(own.query) == {
            "keep": ["1"],
            "utm_source": [UTM_SOURCE],
            "utm_medium": ["campaign"],
            "utm_campaign": ["poverty-day-2026"],
        }
    data = json.loads(mall_client.http.get("/api/campaigns/poverty-day-2026").body)
    urls = [p["buy_url"] for p in data["products"]]
    assert urls == [a["href"].replace("&amp;", "&") for a in links]
    assert campaign_of(urls[0]) == "poverty-day-2026"


def test_teaser_and_ended_pages_have_no_buy_link(mall_client, publish, clock):
    publish(campaign())
    for at, status in ((local(2026, 10, 12), 200), (local(2026, 10, 18), 410)):
        clock.set(at)
        html = mall_client.http.get("/campaigns/poverty-day-2026")
        assert html.status_code == status
        assert buy_links(html.body.decode()) == [] and "mall.example" not in html.body.decode()
        data = json.loads(mall_client.http.get("/api/campaigns/poverty-day-2026").body)
        assert all("buy_url" not in p for p in data["products"])


def test_homepage_slots_carry_the_slot_position_and_keep_their_campaign_url(mall_client, mall_services, publish, clock):
    publish(campaign(pinned=("EGG-0017",)))
    clock.set(local(2026, 10, 17, 9))
    run_rotation(mall_services.rotations, clock(), 8, 30)
    data = json.loads(mall_client.http.get("/api/homepage?lang=en").body)
    assert len(data["slots"]) == 3
    for slot in data["slots"]:
        assert slot["url"] == "/campaigns/poverty-day-2026?lang=en"
        buy = urlsplit(slot["buy_url"])
        assert buy.path == f"/item/{slot['sku']}"
        assert parse_qs(buy.query) == {
            "from": ["fupin"],
            "utm_source": [UTM_SOURCE],
            "utm_medium": ["homepage"],
            "utm_campaign": ["poverty-day-2026"],
            "utm_content": [f"slot-{slot['position']}"],
        }
    html_links = buy_links(mall_client.http.get("/?lang=en").body.decode())
    assert [a["href"].replace("&amp;", "&") for a in html_links] == [s["buy_url"] for s in data["slots"]]


def test_a_pick_url_reaches_the_homepage_slot(mall_client, mall_services, publish, clock):
    publish(with_own_url(campaign(skus=("EGG-0017",)), "EGG-0017", "https://shop.example/egg"))
    clock.set(local(2026, 10, 17, 9))
    run_rotation(mall_services.rotations, clock(), 8, 30)
    (slot,) = json.loads(mall_client.http.get("/api/homepage").body)["slots"]
    assert slot["buy_url"].startswith("https://shop.example/egg?")
    assert query(slot["buy_url"])["utm_content"] == ["slot-1"]


def test_without_a_template_or_a_pick_url_there_is_no_buy_link(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    assert buy_links(client.http.get("/campaigns/poverty-day-2026").body.decode()) == []
    data = json.loads(client.http.get("/api/campaigns/poverty-day-2026").body)
    assert [p["buy_url"] for p in data["products"]] == [None, None, None]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("https://mall.example/item/", "put {sku} where the SKU goes"),
        ("http://mall.example/item/{sku}", "write an https:// address"),
        ("ftp://mall.example/{sku}", "write an https:// address"),
        ("https://u:p@mall.example/{sku}", "no user name or password"),
    ],
)
def test_a_template_that_cannot_work_is_refused_when_the_stage_starts(value, reason):
    with pytest.raises(SettingsError, match="PRODUCT_URL_TEMPLATE") as raised:
        Settings.from_env({"PRODUCT_URL_TEMPLATE": value})
    assert reason in str(raised.value)


def test_local_http_templates_and_site_urls_are_accepted():
    s = Settings.from_env({"PRODUCT_URL_TEMPLATE": "http://127.0.0.1:8002/item/{sku}", "SITE_URL": "https://fupin.example/"})
    assert (s.product_url_template, s.site_url) == ("http://127.0.0.1:8002/item/{sku}", "https://fupin.example")
    with pytest.raises(SettingsError, match="SITE_URL"):
        Settings.from_env({"SITE_URL": "http://fupin.example"})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://mall.example/x", None),
        ("http://mall.example/x", "is not an https:// address; the mall's product pages are https"),
        ("https://a:b@mall.example/x", "has a user name or password in it; remove them"),
        (
            "https://mall.example/" + "a" * 2028,
            "is 2,049 characters long; an address of the mall's product pages has at most 2,048",
        ),
        ("https:///x", "has no host"),
        ("https://mall.example:port/x", "is not a valid URL"),
    ],
)
def test_the_pick_url_rule(url, problem):
    assert pick_url_problem(url) == problem
