"""The live parts of the pages: countdown, reload at zero, language switch,
keyboard use, and the charity goal's progress bar."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails under CI, with the reason
    expect = None

from tests.browser.checks import FOCUS, check_page
from tests.browser.conftest import (
    CHARITY_AT,
    campaigns_copy,
    screenshot,
    start_site,
    wait_until_up,
)
from tests.conftest import ROOT


def js_label(seconds: int, lang: str) -> str:
    """What static/countdown.js shows for ``seconds`` left."""
    d, h, m, s = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60, seconds % 60
    if lang == "en":
        return (f"{d} d " if d else "") + f"{h} h {m:02d} min {s:02d} s"
    return (f"{d}天 " if d else "") + f"{h}小时 {m:02d}分 {s:02d}秒"


# ---------------------------------------------------------------- countdown


@pytest.mark.parametrize(
    ("site_fixture", "path", "lang"),
    [("live_site", "/campaigns/poverty-day-2026", "zh-CN"), ("later_site", "/campaigns/poverty-day-2027", "en")],
    ids=["live-ends-in", "teaser-starts-in"],
)
def test_countdown_ticks_down_from_the_servers_figure(request, open_tab, site_fixture, path, lang):
    site = request.getfixturevalue(site_fixture)
    tab = open_tab(360)
    tab.page.clock.install()  # the page's timers and Date run on a clock the test moves
    tab.page.goto(site.url(path, lang))
    countdown = tab.page.locator(".countdown")
    left_s = int(countdown.get_attribute("data-left"))
    assert left_s > 0
    expect(countdown.locator(".left")).to_have_text(js_label(left_s, lang))
    tab.page.clock.run_for(5_000)
    expect(countdown.locator(".left")).to_have_text(js_label(left_s - 5, lang))
    tab.page.clock.fast_forward(61_000)
    expect(countdown.locator(".left")).to_have_text(js_label(left_s - 66, lang))
    assert tab.errors == []


def test_countdown_ticks_in_real_time(live_site, open_tab):
    tab = open_tab(1280)
    tab.page.goto(live_site.url("/campaigns/poverty-day-2026"))
    left = tab.page.locator(".countdown .left")
    first = left.text_content()
    expect(left).not_to_have_text(first, timeout=3_000)  # the one-second tick, polled by Playwright


def test_countdown_is_there_without_javascript(live_site, browser):
    from chalicelib.web.templates import remaining

    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 780})
    try:
        page = context.new_page()
        page.goto(live_site.url("/campaigns/poverty-day-2026", "en"))
        countdown = page.locator(".countdown")
        left_s = int(countdown.get_attribute("data-left"))
        assert countdown.locator(".left").text_content() == remaining(left_s, "en")
        assert countdown.text_content().startswith("Ends in")
    finally:
        context.close()


def test_at_zero_the_page_reloads_into_the_next_state(open_tab, tmp_path):
    starts = datetime.fromisoformat("2026-10-17T00:00:00+08:00")  # Poverty Day 2026: teaser -> live
    campaigns = campaigns_copy(tmp_path)
    tab = open_tab(360)
    hero = tab.page.locator(".hero")
    # GIVEN a stack whose clock stands a few seconds before the start (more if this machine
    # is too slow to show the teaser in time)
    for margin_s in (5, 10, 20):
        site = wait_until_up(start_site((starts - timedelta(seconds=margin_s)).isoformat(), campaigns))
        tab.page.goto(site.url("/campaigns/poverty-day-2026"))
        if "state-teaser" in (hero.get_attribute("class") or ""):
            break
        site.stop()
    else:
        pytest.fail("the stack never showed the teaser before the start")
    try:
        assert tab.page.locator(".price .now").count() == 0
        # WHEN the countdown reaches zero THEN the page reloads, and the server now says live
        expect(hero).to_have_class(re.compile(r"\bstate-live\b"), timeout=(margin_s + 5) * 1000)
        expect(tab.page.locator(".price .now").first).to_have_text("¥39.90")
        assert tab.errors == []
    finally:
        site.stop()


# ---------------------------------------------------------------- language switch


@pytest.mark.parametrize("width", (360, 1280))
def test_language_switch_changes_the_page_language(live_site, open_tab, width):
    tab = open_tab(width)
    page = tab.page
    page.goto(live_site.url("/campaigns/poverty-day-2026"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    switch = page.locator(".lang-switch")
    expect(switch).to_be_visible()
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/campaigns/poverty-day-2026?lang=en")
    expect(page.locator("h1")).to_have_text("Poverty Alleviation Day: 24 seasonal picks")
    page.locator(".lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("10·17 扶贫日 · 24款应季好物")
    assert tab.errors == []


# ---------------------------------------------------------------- keyboard


def tab_through(page, presses: int = 40, until: str | None = None) -> list[dict]:
    """Presses Tab up to ``presses`` times (or until an element of class ``until``
    has focus), recording each focused element."""
    seen = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus is not None:
            seen.append(focus)
            if until and until in focus["cls"]:
                break
    return seen


def focus_is_visible(focus: dict) -> bool:
    return focus["visible"] and ((focus["outlineStyle"] != "none" and focus["outlineWidth"] >= 2) or focus["boxShadow"] != "none")


@pytest.mark.parametrize("width", (360, 1280))
def test_keyboard_reaches_the_language_switch_and_a_product_with_visible_focus(live_site, open_tab, width):
    tab = open_tab(width)
    page = tab.page
    page.goto(live_site.url("/"))
    seen = tab_through(page, until="product-link")
    assert seen[0]["cls"] == "skip-link" and focus_is_visible(seen[0])
    switch = [f for f in seen if "lang-switch" in f["cls"]]
    assert switch and focus_is_visible(switch[0]), switch
    product = seen[-1]
    assert "product-link" in product["cls"] and focus_is_visible(product), seen
    assert product["href"].startswith("/campaigns/")
    # Enter on the focused product opens its campaign
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(product["href"]) + "$"))
    assert tab.errors == []


def test_skip_link_moves_focus_to_the_content(live_site, open_tab):
    tab = open_tab(360)
    page = tab.page
    page.goto(live_site.url("/campaigns/store-leishan"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    after = tab_through(page, 1)[0]
    assert not after["inHeader"], after  # the next Tab goes on from the content, past the header
    assert tab.errors == []


# ---------------------------------------------------------------- the charity goal


def test_progress_bar_shows_the_books_of_the_live_charity_sale(books_site, charity_books, open_tab):
    # GIVEN sales, a refund and a point donation recorded through the signed webhooks
    assert charity_books["raised"] != "0.00" and charity_books["raised_from_points"] != "0.00"
    tab = open_tab(360)
    page = tab.page
    # WHEN the campaign page and the public benefit channel show the goal
    for path in ("/campaigns/bazhong-pork-charity", "/charity"):
        page.goto(books_site.url(path))
        # THEN the progress bar's value is the raised total the books report, split into sales and points
        bar = page.get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuenow", charity_books["raised"])
        expect(bar).to_have_attribute("aria-valuemax", charity_books["goal"])
        expect(bar).to_have_attribute("aria-valuemin", "0")
        text = bar.get_attribute("aria-valuetext")
        assert "¥60,000.00" in text
        goal = float(charity_books["goal"])
        whole = bar.bounding_box()["width"]
        for part, source in ((".goal-sales", "raised_from_sales"), (".goal-points", "raised_from_points")):
            share = float(charity_books[source]) / goal
            assert page.locator(part).bounding_box()["width"] == pytest.approx(whole * share, abs=1.5)
    assert tab.errors == []


def rendered_page(route_url: str, page_response) -> callable:
    """A Playwright route handler that answers with a page rendered by our code,
    with the headers our web layer adds, at the stack's origin (so the hashed
    stylesheet and script load from the real server)."""
    from chalicelib.web.http import to_chalice

    response = to_chalice(page_response)

    def handle(route):
        route.fulfill(status=response.status_code, headers=response.headers, body=response.body)

    return handle


@pytest.mark.parametrize("width", (360,))
def test_progress_bar_splits_sales_and_points(charity_site, open_tab, width):
    # GIVEN the charity sale with 24,000 yuan raised from sales and 6,000 from points (half the goal)
    from campaign_tools.authoring.campaign_yaml import validate_paths
    from chalicelib.domain.totals import CharityTotals
    from chalicelib.releases.catalog import YamlCatalog
    from chalicelib.web.pages import campaign as campaign_page
    from chalicelib.web.view import View

    campaign = next(c for c in validate_paths([str(ROOT / "campaigns")]).campaigns if c.id == "bazhong-pork-charity")
    totals = CharityTotals(raised_from_sales_fen=2_400_000, raised_from_points_fen=600_000, sales_fen=44_036_697)
    at = datetime.fromisoformat(CHARITY_AT)
    tab = open_tab(width)
    page = tab.page
    url = charity_site.url("/campaigns/bazhong-pork-charity?lang=en&with-totals")
    rendered = campaign_page.page(YamlCatalog([campaign]), View.of(at, "en"), campaign.id, lambda _: totals)
    page.route(url, rendered_page(url, rendered))
    response = page.goto(url)
    check_page(tab, response, 200, "en")
    # THEN the bar's value is the raised total, and its two segments are 40 % and 10 % of its width
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "30000.00")
    expect(bar).to_have_attribute("aria-valuemax", "60000.00")
    expect(bar).to_have_attribute("data-percent", "50")
    assert "from sales ¥24,000.00" in bar.get_attribute("aria-valuetext")
    assert "from points ¥6,000.00" in bar.get_attribute("aria-valuetext")
    whole = bar.bounding_box()
    sales = page.locator(".goal-sales").bounding_box()
    points = page.locator(".goal-points").bounding_box()
    assert sales["width"] == pytest.approx(whole["width"] * 0.40, abs=1.5)
    assert points["width"] == pytest.approx(whole["width"] * 0.10, abs=1.5)
    assert points["x"] == pytest.approx(sales["x"] + sales["width"], abs=1.5)
    expect(page.locator(".goal-percent")).to_have_text("50% of the goal")
    expect(page.locator(".goal-legend")).to_contain_text("from sales ¥24,000.00")
    expect(page.locator(".sales-total")).to_contain_text("Sales ¥440,366.97")
    screenshot(page, f"charity-progress-{width}-en")


@pytest.mark.parametrize("width", (360, 1280))
def test_the_503_page_is_friendly(charity_site, open_tab, width):
    from chalicelib.web.pages.errors import error_page
    from chalicelib.web.view import Links

    tab = open_tab(width)
    url = charity_site.url("/campaigns/bazhong-pork-charity?outage")
    page_response = error_page(503, "unavailable", "DynamoDB is unavailable", "html", Links())
    tab.page.route(url, rendered_page(url, page_response))
    response = tab.page.goto(url)
    check_page(tab, response, 503, "zh-CN")
    expect(tab.page.locator("h1")).to_have_text("服务暂时不可用，请稍后再试")
    assert "DynamoDB" not in tab.page.content()
    screenshot(tab.page, f"unavailable-{width}-zh-CN")
