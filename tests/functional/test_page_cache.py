"""The in-container page cache: warm pages are not re-rendered, and never outlive their state."""
from __future__ import annotations

from datetime import timedelta

from chalicelib import pages
from chalicelib.page_cache import PageCache
from chalicelib.pages import CharityTotals, Links
from tests.factories import campaign, charity_sale, local


def test_a_warm_page_is_served_from_memory_with_this_requests_countdown():
    elapsed = [0.0]
    cache, c = PageCache(lambda: elapsed[0]), campaign()
    first = pages.campaign_page(c, c.id, local(2026, 10, 17, 23, 0), "en", "html", Links(), cache=cache)
    second = pages.campaign_page(c, c.id, local(2026, 10, 17, 23, 30), "en", "html", Links(), cache=cache)
    assert (cache.misses, cache.hits) == (1, 1)
    assert 'data-left="3600"' in first.body and "1 h 0 min" in first.body
    assert 'data-left="1800"' in second.body and "0 h 30 min" in second.body
    assert "\ue000" not in second.body
    uncached = pages.campaign_page(c, c.id, local(2026, 10, 17, 23, 30), "en", "html", Links())
    assert uncached.body == second.body


def test_a_state_change_a_new_publish_new_totals_or_60_seconds_render_afresh():
    elapsed = [0.0]
    cache, c = PageCache(lambda: elapsed[0]), charity_sale()
    at = local(2026, 12, 1)
    pages.campaign_page(c, c.id, at, "zh-CN", "html", Links(), cache=cache)
    teaser = pages.campaign_page(c, c.id, local(2026, 11, 10), "zh-CN", "html", Links(), cache=cache)
    assert teaser.state == "teaser" and cache.misses == 2
    republished = charity_sale()  # equal content, a new object: what a new release brings
    pages.campaign_page(republished, c.id, at, "zh-CN", "html", Links(), cache=cache)
    assert cache.misses == 3
    moved = pages.campaign_page(republished, c.id, at, "zh-CN", "html", Links(), totals=lambda cid: CharityTotals(1234, 0, 22642), cache=cache)
    assert cache.misses == 4 and "¥12.34" in moved.body
    elapsed[0] = 60.0
    pages.campaign_page(republished, c.id, at, "zh-CN", "html", Links(), totals=lambda cid: CharityTotals(1234, 0, 22642), cache=cache)
    assert (cache.misses, cache.hits) == (5, 0)


def test_warm_pages_through_the_handler_make_no_dynamodb_request_and_no_render(client, publish, clock, services, counter):
    publish(campaign(), charity_sale())
    clock.set(local(2026, 10, 17, 9))
    client.http.get("/campaigns/poverty-day-2026")
    client.http.get("/api/campaigns/poverty-day-2026")
    counter.reset()
    misses = services.catalog.page_cache.misses
    clock.set(local(2026, 10, 17, 9) + timedelta(seconds=2))
    html = client.http.get("/campaigns/poverty-day-2026")
    api = client.http.get("/api/campaigns/poverty-day-2026")
    assert (html.status_code, api.status_code) == (200, 200)
    assert counter.calls == [] and services.catalog.page_cache.misses == misses
    assert 'data-left="53998"' in html.body.decode()
