"""A shopper buys a pick of the Bazhong charity page through the demo mall in Chromium, then
reads the ledger: the buy link, the mall's product page and pay form, the platform's answer,
the way back, and no console or CSP error on the platform's pages (JSON-LD included)."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator

import pytest

from tests.browser.conftest import CHARITY_AT, SIGNING_SECRET, Site, campaigns_copy, screenshot, start_site, wait_until_up

CAMPAIGN = "bazhong-pork-charity"


@pytest.fixture(scope="module")
def shop_site(tmp_path_factory) -> Iterator[Site]:
    """A charity site of its own: the purchase must not move the figures the other tests compare."""
    site = wait_until_up(start_site(CHARITY_AT, campaigns_copy(tmp_path_factory.mktemp("shop")), SIGNING_SECRET))
    yield site
    site.stop()


def ledger_entries(site: Site) -> list[dict]:
    with urllib.request.urlopen(site.url(f"/api/campaigns/{CAMPAIGN}/ledger"), timeout=10) as response:
        return json.loads(response.read())["entries"]


def test_a_shopper_buys_through_the_demo_mall_and_sees_the_ledger_move(open_tab, shop_site):
    tab = open_tab(1280)
    page = tab.page
    assert page.goto(shop_site.url(f"/campaigns/{CAMPAIGN}", "en")).status == 200
    ld = json.loads(page.locator('script[type="application/ld+json"]').text_content())
    assert ld["@type"] == "ItemList" and ld["itemListElement"][0]["item"]["sku"] == "PRK-3101"
    assert tab.errors == []  # no CSP report for the JSON-LD, no script error

    before = ledger_entries(shop_site)
    page.locator('a.buy-link[data-sku="PRK-3101"]').click()
    page.wait_for_load_state()
    assert "/item/PRK-3101" in page.url and "utm_campaign=bazhong-pork-charity" in page.url
    assert "a local stand-in for the real mall" in page.locator(".stand-in").inner_text()
    assert page.locator(".price").inner_text() == "¥68.00"
    page.fill('input[name="quantity"]', "2")
    page.click('button[type="submit"]')
    page.wait_for_load_state()
    result = page.locator(".result").inner_text()
    assert re.search(r"2 × ¥68.00 = ¥136.00, donation ¥7.41", result), result
    screenshot(page, "demo-mall-paid")

    page.locator("a.back").click()
    page.wait_for_load_state()
    assert page.url.startswith(shop_site.url(f"/campaigns/{CAMPAIGN}"))
    after = ledger_entries(shop_site)
    assert len(after) == len(before) + 1 and (after[0]["kind"], after[0]["amount"]) == ("sale", "7.41")
    assert page.goto(shop_site.url(f"/campaigns/{CAMPAIGN}/ledger", "en")).status == 200
    assert "7.41" in page.locator("main").inner_text()
    assert tab.errors == []
