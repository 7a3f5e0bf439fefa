"""Share cards (Open Graph), canonical and hreflang links, JSON-LD, the sitemap, robots.txt and
HEAD, through the routes (docs/architecture.md, "Share cards and search")."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import wiring
from chalicelib.domain.model import Text
from chalicelib.settings import Settings
from chalicelib.web import http
from chalicelib.web.pages import campaign as campaign_page
from chalicelib.web.view import View
from tests.conftest import ROOT, TABLE
from tests.factories import campaign, charity_sale, local

SITE = "https://fupin.example"
TEMPLATE = "https://mall.example/item/{sku}"
HOSTILE = '</script><script>alert(1)</script><!-- & "quotes"'


@pytest.fixture
def site_client(table, clock):
    from chalice.test import Client

    from app import app

    svc = wiring.build(Settings(table_name=TABLE, product_url_template=TEMPLATE, site_url=SITE), clock, table)
    wiring.configure(svc)
    with Client(app, stage_name="local", project_dir=str(ROOT)) as c:
        yield c
    wiring.configure(None)


class _Head(HTMLParser):
    """The <link>s and <meta property>s of a page, and the text of its JSON-LD scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str]] = []
        self.og: dict[str, str] = {}
        self.json_ld: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        found = {k: v or "" for k, v in attrs}
        if tag == "link":
            self.links.append(found)
        elif tag == "meta" and found.get("property", "").startswith("og:"):
            self.og[found["property"]] = found["content"]
        elif tag == "script":
            self.scripts.append(found)
            self._in_ld = found.get("type") == "application/ld+json"
            if self._in_ld:
                self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld[-1] += data


def head_of(response) -> _Head:
    parser = _Head()
    parser.feed(response.body.decode())
    return parser


def alternates(head: _Head) -> dict[str, str]:
    return {link["hreflang"]: link["href"] for link in head.links if link.get("rel") == "alternate"}


def canonical(head: _Head) -> str:
    (link,) = [link for link in head.links if link.get("rel") == "canonical"]
    return link["href"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_page_has_a_canonical_link_alternates_and_a_share_card(site_client, publish, clock, lang):
    publish(campaign(), charity_sale())
    clock.set(local(2026, 11, 20, 9))
    suffix = "" if lang == "zh-CN" else "?lang=en"
    pages = ["/", "/charity", "/impact", "/campaigns/bazhong-pork-charity", "/campaigns/bazhong-pork-charity/ledger"]
    for path in pages:
        response = site_client.http.get(f"{path}{suffix}")
        assert response.status_code == 200, path
        assert response.body.decode().startswith("<!doctype html>\n<html lang="), path  # nothing before the doctype
        head = head_of(response)
        assert canonical(head) == f"{SITE}{path}{suffix}"
        assert alternates(head) == {"zh-CN": f"{SITE}{path}", "en": f"{SITE}{path}?lang=en", "x-default": f"{SITE}{path}"}
        assert head.og["og:url"] == canonical(head)
        assert head.og["og:type"] == "website"
        assert head.og["og:title"] and head.og["og:description"]
        assert urlsplit(head.og["og:image"]).scheme == "https"
        assert head.og["og:image"].startswith(f"{SITE}/static/")


def test_a_teaser_card_says_when_it_starts_and_shows_no_price(site_client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 12))
    zh = head_of(site_client.http.get("/campaigns/poverty-day-2026"))
    en = head_of(site_client.http.get("/campaigns/poverty-day-2026?lang=en"))
    assert en.og["og:description"].startswith("Starts 17 Oct 2026, 00:00 (Beijing time)")
    assert zh.og["og:description"].startswith("2026年10月17日 00:00 (北京时间) 开始")
    assert en.og["og:title"] == "Campaign poverty-day-2026"
    for head in (zh, en):
        assert "39.90" not in json.dumps(head.og) and "¥" not in json.dumps(head.og)
        assert head.json_ld == []


def test_an_error_page_has_no_card_and_is_not_indexed(site_client):
    response = site_client.http.get("/campaigns/nope")
    assert response.status_code == 404
    head = head_of(response)
    assert head.og == {} and [link for link in head.links if link.get("rel") == "canonical"] == []
    assert '<meta name="robots" content="noindex">' in response.body.decode()


def test_without_a_site_url_links_are_absolute_on_the_request_host_and_its_stage_prefix():
    raw = SimpleNamespace(headers={"host": "abc123.execute-api.cn-north-1.amazonaws.com.cn"})
    assert http.origin_of(raw, None, "/api") == "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/api"
    assert http.origin_of(SimpleNamespace(headers={"host": "127.0.0.1:8000"}), None) == "http://127.0.0.1:8000"
    assert http.origin_of(SimpleNamespace(headers={"host": "evil.example/<x>"}), None) == ""
    assert http.origin_of(raw, SITE, "/api") == SITE  # the custom domain has no stage prefix
    c = campaign()
    view = View.of(local(2026, 10, 17, 9), "en", "html", "/api", "https://abc123.execute-api.example/api", TEMPLATE)
    head = _Head()
    head.feed(campaign_page.page(_Catalog(c), view, c.id).body)
    assert canonical(head) == "https://abc123.execute-api.example/api/campaigns/poverty-day-2026?lang=en"
    assert alternates(head)["zh-CN"] == "https://abc123.execute-api.example/api/campaigns/poverty-day-2026"


class _Catalog:
    page_cache = None

    def __init__(self, c):
        self._c = c

    def campaign(self, campaign_id):
        return self._c if campaign_id == self._c.id else None


# ---------------------------------------------------------------- JSON-LD


def test_a_live_campaign_page_carries_its_picks_as_json_ld(site_client, publish, clock):
    hostile = replace(charity_sale(), title=Text({"zh-CN": HOSTILE, "en": HOSTILE}))
    publish(hostile)
    clock.set(local(2026, 11, 20, 9))
    response = site_client.http.get("/campaigns/bazhong-pork-charity?lang=en")
    body = response.body.decode()
    head = head_of(response)
    (text,) = head.json_ld
    assert "<" not in text and ">" not in text and "&" not in text
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert body.count("<script") == 2  # the JSON-LD and the one hashed script file: no injected element
    data = json.loads(text)
    assert (data["@context"], data["@type"], data["name"]) == ("https://schema.org", "ItemList", HOSTILE)
    api = json.loads(site_client.http.get("/api/campaigns/bazhong-pork-charity?lang=en").body)
    items = data["itemListElement"]
    assert [i["position"] for i in items] == [1, 2]
    for item, product in zip(items, api["products"], strict=True):
        offer = item["item"]["offers"]
        assert (item["item"]["@type"], item["item"]["sku"], item["item"]["name"]) == ("Product", product["sku"], product["name"])
        assert offer == {
            "@type": "Offer",
            "price": product["price"],
            "priceCurrency": "CNY",
            "validFrom": api["starts_at"],
            "priceValidUntil": api["ends_at"],
            "url": product["buy_url"],
            "availability": "https://schema.org/InStock",
        }
        assert parse_qs(urlsplit(offer["url"]).query)["utm_campaign"] == ["bazhong-pork-charity"]
    assert (api["starts_at"], api["ends_at"]) == ("2026-11-15T00:00:00+08:00", "2027-03-01T00:00:00+08:00")


def test_ended_pages_have_no_json_ld(site_client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 18))
    assert head_of(site_client.http.get("/campaigns/poverty-day-2026")).json_ld == []


# ---------------------------------------------------------------- sitemap and robots

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def sitemap_of(client) -> tuple[list[str], dict[str, dict[str, str]], str]:
    response = client.http.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(response.body)
    locs, alts = [], {}
    for url in root.findall("s:url", NS):
        loc = url.find("s:loc", NS).text
        locs.append(loc)
        alts[loc] = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", NS)}
    return locs, alts, response.headers["Cache-Control"]


def paths(locs: list[str]) -> list[str]:
    return [loc.removeprefix(SITE) for loc in locs if not loc.endswith("?lang=en")]


def test_the_sitemap_follows_each_campaigns_state(site_client, publish, clock):
    publish(campaign(), charity_sale())
    channels = ["/", "/charity", "/impact"]
    # Before any teaser: the channels only, cached until the first teaser (2026-10-10 00:00, 5 min away).
    clock.set(local(2026, 10, 9, 23, 55))
    locs, alts, cache = sitemap_of(site_client)
    assert paths(locs) == channels and cache == "public, max-age=300"
    clock.set(local(2026, 10, 9, 23, 59, 30))
    assert sitemap_of(site_client)[2] == "public, max-age=30"
    # The featured campaign's teaser.
    clock.set(local(2026, 10, 12))
    assert paths(sitemap_of(site_client)[0]) == [*channels, "/campaigns/poverty-day-2026"]
    # It ended; the charity sale is live with its ledger.
    clock.set(local(2026, 11, 20))
    locs, alts, cache = sitemap_of(site_client)
    assert paths(locs) == [*channels, "/campaigns/bazhong-pork-charity", "/campaigns/bazhong-pork-charity/ledger"]
    page = f"{SITE}/campaigns/bazhong-pork-charity"
    assert alts[page] == alts[f"{page}?lang=en"] == {"zh-CN": page, "en": f"{page}?lang=en", "x-default": page}
    assert len(locs) == 2 * 5
    # After the charity sale ends: the channels again.
    clock.set(local(2027, 3, 1))
    assert paths(sitemap_of(site_client)[0]) == channels


def test_robots_names_the_sitemap(site_client):
    response = site_client.http.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.body.decode().splitlines()
    assert lines == ["User-agent: *", "Allow: /", "Disallow: /api/", f"Sitemap: {SITE}/sitemap.xml"]


# ---------------------------------------------------------------- HEAD


def get_routes() -> list[str]:
    from app import app

    return sorted(path for path, methods in app.routes.items() if "GET" in methods)


def test_every_get_route_also_answers_head():
    from app import app

    routes = get_routes()
    assert len(routes) >= 12
    assert [path for path in routes if "HEAD" not in app.routes[path]] == []


CONCRETE = {
    "/": ["/", "/?lang=en"],
    "/api/homepage": ["/api/homepage"],
    "/campaigns/{campaign_id}": ["/campaigns/bazhong-pork-charity", "/campaigns/nope"],
    "/api/campaigns/{campaign_id}": ["/api/campaigns/bazhong-pork-charity", "/api/campaigns/nope"],
    "/charity": ["/charity"],
    "/static/{name}": ["/static/site.css", "/static/nope.css"],
    "/campaigns/{campaign_id}/ledger": ["/campaigns/bazhong-pork-charity/ledger"],
    "/api/campaigns/{campaign_id}/ledger": ["/api/campaigns/bazhong-pork-charity/ledger", "/api/campaigns/nope/ledger"],
    "/impact": ["/impact"],
    "/api/impact": ["/api/impact"],
    "/sitemap.xml": ["/sitemap.xml"],
    "/robots.txt": ["/robots.txt"],
    "/homepage/exposure": ["/homepage/exposure?date=2026-11-20", "/homepage/exposure?date=soon"],
    "/api/homepage/exposure": ["/api/homepage/exposure?date=2026-11-20", "/api/homepage/exposure"],
}


def test_head_answers_the_status_and_headers_of_get_without_a_body(site_client, publish, clock):
    publish(campaign(), charity_sale())
    clock.set(local(2026, 11, 20, 9))
    tried = set()
    for route in get_routes():
        for path in CONCRETE.get(route, []):
            got, head = site_client.http.get(path), site_client.http.request("HEAD", path)
            assert (head.status_code, head.body) == (got.status_code, b""), path
            assert head.headers == got.headers, path
            tried.add(route)
    assert tried == set(get_routes())
