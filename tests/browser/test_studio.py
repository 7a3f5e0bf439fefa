"""``campaign studio`` in Chromium, with the checks of the consumer pages (tests/browser/checks.py).

The studio runs in-process on 127.0.0.1, port 0, its clock at Poverty Day 2026 09:00
(北京时间), over a copy of ``campaigns/`` plus one file with errors; its plan panel
builds the local stage as ``campaign plan`` does, against a port where nothing listens.
Each page, at 360 px and 1280 px: the status and security headers, no horizontal
overflow, one h1 and no skipped heading level, no inline style or handler, WCAG AA
contrast, no console or script error (the previews in their frames included), and
every control reachable by the keyboard with a visible focus.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from campaign_tools.cli import _services
from campaign_tools.stages import STAGES, shell_settings
from campaign_tools.studio import Studio, make_server
from chalicelib.clock import FixedClock
from tests.browser.checks import CONTRAST, FOCUS, LAYOUT
from tests.browser.conftest import screenshot
from tests.conftest import ROOT

BROKEN = "id: broken-sale\nkind: featured\ntitle: {zh-CN: 测试}\nstarts_at: 2026-10-17\nends_at: 2026-10-18T00:00:00\n"

PAGES = [
    ("timeline", "/", 200),
    ("timeline-utc", "/?tz=UTC", 200),
    ("machine", "/machine?at=2026-10-17T00%3A00%3A00.001%2B08%3A00&campaign=poverty-day-2026", 200),
    ("machine-ended", "/machine?at=2026-10-18T00%3A00%3A00.000%2B08%3A00&campaign=poverty-day-2026", 200),
    ("fairness", "/fairness?date=2026-10-17", 200),
    ("plan", "/plan", 200),
    ("bad-input", "/machine?at=tomorrow", 400),
]
WIDTHS = (360, 1280)
# What a keyboard user must reach on each page (CSS selectors in the top document).
CONTROLS = {
    "timeline": ["nav a[href='/machine']", "#tz", "button[type=submit]"],
    "machine": ["nav a[href='/plan']", "#at", "#t", "#tz", "#campaign", "button[type=submit]"],
    "fairness": ["#date", "#tz", "button[type=submit]"],
    "plan": ["#stage", "button[type=submit]"],
}


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("studio") / "campaigns"
    shutil.copytree(ROOT / "campaigns", folder, ignore=shutil.ignore_patterns("*.json"))
    (folder / "broken-sale.yaml").write_text(BROKEN, encoding="utf-8")
    with socket.socket() as s:  # a port where no DynamoDB listens
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    args = argparse.Namespace(stage="local", dynamodb_port=dead, campaigns=str(folder))
    settings = shell_settings()
    studio = Studio(
        folder,
        stage="local",
        stages=STAGES,
        services_of=lambda stage: _services(argparse.Namespace(**{**vars(args), "stage": stage})),
        slots=settings.homepage_slots,
        rotation_minutes=settings.rotation_minutes,
        clock=FixedClock(datetime(2026, 10, 17, 1, 0, tzinfo=UTC)),
    )
    server = make_server(studio, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _check_studio_page(tab, response, status: int) -> None:
    page = tab.page
    assert response.status == status
    headers = response.headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    facts = page.evaluate(LAYOUT)
    assert facts["lang"] == "en"
    assert facts["scrollWidth"] <= facts["clientWidth"], f"horizontal overflow by {facts['overflowing']}"
    headings = facts["headings"]
    assert headings.count(1) == 1 and headings[0] == 1, headings
    assert all(b <= a + 1 for a, b in itertools.pairwise(headings)), f"a heading level is skipped: {headings}"
    assert facts["inlineStyles"] == 0 and facts["inlineHandlers"] == 0
    assert page.evaluate(CONTRAST) == []
    assert tab.errors == [] and tab.dialogs == []


def _reach_by_keyboard(page, selectors: list[str]) -> None:
    """Tabs through the page until every selector's element had the focus, each focus visible."""
    wanted = {sel: page.locator(sel).first.element_handle() for sel in selectors}
    reached: set[str] = set()
    for _ in range(200):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus is None:
            continue
        for sel, handle in wanted.items():
            if sel not in reached and page.evaluate("(e) => e === document.activeElement", handle):
                assert focus["outlineWidth"] >= 2 or focus["boxShadow"] != "none", focus
                reached.add(sel)
        if reached == set(wanted):
            return
    pytest.fail(f"not reachable by the keyboard: {sorted(set(wanted) - reached)}")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_studio_page_fits_reads_and_is_keyboard_reachable(open_tab, studio_url, name, path, status, width):
    tab = open_tab(width)
    response = tab.page.goto(studio_url + path)
    if name.startswith("machine"):
        for frame in tab.page.frames[1:]:
            frame.wait_for_load_state("load")
    _check_studio_page(tab, response, status)
    screenshot(tab.page, f"studio-{name}-{width}")
    if name in CONTROLS:
        _reach_by_keyboard(tab.page, CONTROLS[name])
    assert tab.errors == []


def test_a_link_followed_inside_a_preview_shows_that_page_at_the_same_instant(open_tab, studio_url):
    tab = open_tab(1280)
    tab.page.goto(studio_url + "/machine?at=2026-10-17T09%3A30%3A00.000%2B08%3A00&campaign=store-leishan")
    home = tab.page.frames[1]
    link = home.locator("main a[href^='/campaigns/poverty-day-2026']").first
    with home.expect_navigation():
        link.click()
    assert "/render/campaigns/poverty-day-2026?at=2026-10-17T09%3A30%3A00.000%2B08%3A00&lang=zh-CN" in home.url
    assert "10·17 扶贫日" in home.locator("h1").inner_text()
    assert tab.errors == []


def test_with_script_the_instant_field_follows_the_slider(open_tab, studio_url):
    tab = open_tab(360)
    tab.page.goto(studio_url + "/machine?at=2026-10-17T09%3A00&tz=Asia%2FShanghai&campaign=")
    tab.page.focus("#t")
    tab.page.keyboard.press("ArrowRight")  # one step: a minute
    assert tab.page.input_value("#at") == "2026-10-17T09:01"
    tab.page.click("button[type=submit]")
    assert "2026-10-17 09:01:00.000" in tab.page.locator("h1 + p").inner_text()
    assert tab.errors == []


def test_the_timeline_marks_the_file_with_errors_and_the_time_machine_needs_no_script(open_tab, studio_url, browser):
    tab = open_tab(1280)
    tab.page.goto(studio_url + "/")
    row = tab.page.locator("#c-broken-sale")
    assert "not valid" in row.inner_text()
    assert "broken-sale.yaml:4:12: error: starts_at" in row.inner_text()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 780})
    try:
        page = context.new_page()
        page.goto(studio_url + "/machine?at=2026-10-17T09%3A00&campaign=")
        page.fill("#at", "2026-10-16T23:59:59.999")
        page.click("button[type=submit]")
        assert "2026-10-16 23:59:59.999" in page.locator("h1 + p").inner_text()
        frame = page.frames[1]
        assert frame.locator("html").get_attribute("lang") == "zh-CN"
    finally:
        context.close()
