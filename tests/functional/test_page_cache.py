"""The in-container page cache: warm pages are not re-rendered, and never outlive their state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.totals import CharityTotals
from chalicelib.homepage.job import run_rotation
from chalicelib.releases.catalog import StoreCatalog, YamlCatalog
from chalicelib.web.page_cache import COUNTDOWN_TOKENS, CountdownBody, PageCache
from chalicelib.web.pages import campaign as campaign_page
from chalicelib.web.pages import homepage
from chalicelib.web.view import View
from tests.factories import campaign, charity_sale, local

MS = timedelta(milliseconds=1)


def source(c, cache=None):
    """A page source of the one campaign ``c`` (its objects as given), with ``cache`` (``None``: none)."""
    found = YamlCatalog([c])
    found.page_cache = cache
    return found


def test_a_warm_page_is_served_from_memory_with_this_requests_countdown():
    elapsed = [0.0]
    cache, c = PageCache(lambda: elapsed[0]), campaign()
    first = campaign_page.page(source(c, cache), View.of(local(2026, 10, 17, 23, 0), "en"), c.id)
    second = campaign_page.page(source(c, cache), View.of(local(2026, 10, 17, 23, 30), "en"), c.id)
    assert (cache.misses, cache.hits) == (1, 1)
    assert 'data-left="3600"' in first.body and "1 h 0 min" in first.body
    assert 'data-left="1800"' in second.body and "0 h 30 min" in second.body
    assert "\ue000" not in second.body
    uncached = campaign_page.page(source(c), View.of(local(2026, 10, 17, 23, 30), "en"), c.id)
    assert uncached.body == second.body


def test_a_state_change_a_new_publish_new_totals_or_60_seconds_render_afresh():
    elapsed = [0.0]
    cache, c = PageCache(lambda: elapsed[0]), charity_sale()
    at = local(2026, 12, 1)
    campaign_page.page(source(c, cache), View.of(at), c.id)
    teaser = campaign_page.page(source(c, cache), View.of(local(2026, 11, 10)), c.id)
    assert teaser.state == "teaser" and cache.misses == 2
    republished = charity_sale()  # equal content, a new object: what a new release brings
    campaign_page.page(source(republished, cache), View.of(at), c.id)
    assert cache.misses == 3
    moved = campaign_page.page(source(republished, cache), View.of(at), c.id, lambda cid: CharityTotals(1234, 0, 22642))
    assert cache.misses == 4 and "¥12.34" in moved.body
    elapsed[0] = 60.0
    campaign_page.page(source(republished, cache), View.of(at), c.id, lambda cid: CharityTotals(1234, 0, 22642))
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


def test_a_countdown_body_is_filled_as_str_replace_would_and_reused_within_a_second():
    left, text = COUNTDOWN_TOKENS["left"], COUNTDOWN_TOKENS["text"]
    body = CountdownBody(f'<p data-left="{left}">{text}</p><i>{left}</i>')
    first = body.fill(61, "1 min <b>")
    assert first == '<p data-left="61">1 min &lt;b&gt;</p><i>61</i>'
    assert body.fill(61, "1 min <b>") is first  # the same second: no new copy of the body
    assert body.fill(60, "1 min <b>") == '<p data-left="60">1 min &lt;b&gt;</p><i>60</i>'
    assert body.fill(None, "") == '<p data-left="0"></p><i>0</i>'
    plain = CountdownBody("<p>no countdown</p>")
    assert plain.fill(5, "x") == "<p>no countdown</p>"


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_the_warm_campaign_page_equals_a_cold_one_around_every_boundary(fmt):
    # GIVEN a campaign with a teaser, a start and an end, and a warm cache
    c, cache = charity_sale(), PageCache()
    totals = lambda cid: CharityTotals(1234, 500, 22642)  # noqa: E731
    instants = sorted(
        {b + d for b in (c.teaser_from, c.starts_at, c.ends_at) for d in (-2 * MS, -MS, 0 * MS, MS, timedelta(milliseconds=400))}
        | {c.starts_at + timedelta(hours=h, seconds=s) for h in (1, 2) for s in (0, 0.5, 1)}
    )
    for at in instants:
        for lang in ("zh-CN", "en"):
            # WHEN the page is made from the cache and afresh
            warm = campaign_page.page(source(c, cache), View.of(at, lang, fmt), c.id, totals)
            cold = campaign_page.page(source(c), View.of(at, lang, fmt), c.id, totals)
            # THEN status, headers, state and body are the same, at every instant
            assert warm == cold, (at, lang)
    assert cache.hits > 0


def test_the_warm_homepage_equals_a_cold_one_around_every_boundary(services, publish):
    # GIVEN campaigns that start and end at different instants, and a rotation computed before all of them
    first = campaign(pinned=("EGG-0017",))
    short = charity_sale(starts_at=local(2026, 10, 16), ends_at=local(2026, 10, 17, 12), teaser_from=None)
    later = campaign(
        "later-campaign",
        skus=("LAT-0001", "LAT-0002"),
        starts_at=local(2026, 10, 17, 10),
        ends_at=local(2026, 10, 19),
        teaser_from=local(2026, 10, 17, 6),
        weight=1,
    )
    publish(first, short, later)
    run_rotation(services.rotations, local(2026, 10, 17, 10, 30), 8, 30)
    warm = services.catalog
    boundaries = {local(2026, 10, 17, h) for h in (0, 6, 10, 12)} | {local(2026, 10, 18), local(2026, 10, 19)}
    instants = sorted({b + d for b in boundaries for d in (-MS, 0 * MS, MS, timedelta(minutes=7))})
    for at in instants:
        cold = StoreCatalog(services.releases, services.rotations, page_cache=PageCache())  # a new container: nothing kept
        for fmt in ("html", "json"):
            for lang in ("zh-CN", "en"):
                # WHEN the homepage is made warm and cold (a long rotation period, so the
                # Cache-Control comes from the boundaries)
                made = [homepage.page(pages, View.of(at, lang, fmt), 8, 24 * 60 * 7) for pages in (warm, cold)]
                # THEN they are the same response, cacheable up to the next boundary at most (300 s cap)
                assert made[0] == made[1], (at, fmt, lang)
                later = [b for b in boundaries if b > at]
                expected = min(300, int((min(later) - at).total_seconds())) if later else 300
                assert made[0].headers["Cache-Control"] == f"public, max-age={expected}", at
    assert warm.page_cache.hits > 0


def test_the_homepage_view_is_kept_between_boundaries_and_rebuilt_past_one(services, publish):
    publish(campaign(), charity_sale(starts_at=local(2026, 10, 16), ends_at=local(2026, 10, 17, 12), teaser_from=None))
    run_rotation(services.rotations, local(2026, 10, 17, 11), 8, 30)
    catalog = services.catalog
    before = [homepage.page(catalog, View.of(local(2026, 10, 17, 11, m), "en", "json"), 8, 15) for m in (0, 30)]
    misses = catalog.page_cache.misses
    at_end = homepage.page(catalog, View.of(local(2026, 10, 17, 12), "en", "json"), 8, 15)
    assert before[0].body == before[1].body and "bazhong-pork-charity" in before[0].body
    assert "bazhong-pork-charity" not in at_end.body
    assert catalog.page_cache.misses == misses + 2  # a new view, and the body of the new slots
