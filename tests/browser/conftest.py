"""Browser tests: Playwright driving Debian's Chromium against the real local stack.

Each site is one ``campaign serve --at INSTANT`` process (moto's DynamoDB, a
publish of a copy of ``campaigns/``, the rotation, Chalice's local server),
started once for tests/browser (package-scoped fixtures: stopped before the other
test folders run) and shared by the tests of that instant:

- ``live_site``    2026-10-17 09:00 (北京时间): Poverty Day 2026 live, the regional stores;
- ``charity_site`` 2026-12-01 10:00: the Bashan pork charity sale live (``books_site``: the
  same, once signed webhooks have recorded a few sales, a refund and a point donation);
- ``later_site``   2027-10-12 10:00: Poverty Day 2027 teaser, the charity sale ended,
  plus ``tests/browser/data/xss-probe.yaml`` (a hostile campaign) live.

The browser is Debian's Chromium (``apt-get install chromium fonts-noto-cjk``),
never one downloaded by ``playwright install``. When it is missing the tests
skip with the reason, except under CI (``CI=true``, which ``.ci/run`` sets),
where they fail: the suite must run there.

Screenshots go to ``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from tests.browser.checks import LOAD_ALL_IMAGES
from tests.conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DATA = Path(__file__).resolve().parent / "data"
STARTUP_TIMEOUT_S = 60
SIGNING_SECRET = "whsec_" + base64.b64encode(b"browser-tests-signing-key-32byte").decode()

LIVE_AT = "2026-10-17T09:00+08:00"
CHARITY_AT = "2026-12-01T10:00+08:00"
LATER_AT = "2027-10-12T10:00+08:00"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(f"{reason} (install with: apt-get install -y chromium fonts-noto-cjk)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.server)


# ---------------------------------------------------------------- the local stack


@dataclass
class Site:
    """A running ``campaign serve`` process and its base URL."""

    at: str
    proc: subprocess.Popen
    signing_secret: str | None = None
    base: str = ""
    output: list[str] = field(default_factory=list)

    def url(self, path: str, lang: str | None = None) -> str:
        if lang is None:
            return self.base + path
        return f"{self.base}{path}{'&' if '?' in path else '?'}lang={lang}"

    def post_signed(self, path: str, body: dict) -> tuple[int, dict]:
        """A system webhook, signed as the order and loyalty systems sign them (Standard Webhooks)."""
        import json
        import urllib.error
        import urllib.request
        import uuid
        from datetime import datetime

        from standardwebhooks.webhooks import Webhook

        assert self.signing_secret, "start the site with a signing secret"
        data = json.dumps(body, ensure_ascii=False)
        msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(self.signing_secret).sign(msg_id, now, data),
        }
        request = urllib.request.Request(self.base + path, data=data.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def start_site(at: str, campaigns: Path, signing_secret: str | None = None) -> Site:
    """Starts ``campaign serve --at AT`` on free ports (returns at once: see :func:`wait_until_up`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "SYSTEM_SIGNING_SECRET"}
    env["PYTHONUNBUFFERED"] = "1"
    if signing_secret:
        env["SYSTEM_SIGNING_SECRET"] = signing_secret
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "campaign_tools.cli",
            "serve",
            "--port",
            "0",
            "--dynamodb-port",
            "0",
            "--at",
            at,
            "--campaigns",
            str(campaigns),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return Site(at=at, proc=proc, signing_secret=signing_secret)


def wait_until_up(site: Site) -> Site:
    """Reads the server's output until it says it serves, then keeps draining it
    in a thread (a full pipe would block the server)."""
    watchdog = threading.Timer(STARTUP_TIMEOUT_S, site.proc.kill)
    watchdog.start()
    try:
        assert site.proc.stdout is not None
        for line in site.proc.stdout:
            site.output.append(line)
            m = re.match(r"serving on (http://\S+)", line)
            if m:
                site.base = m.group(1)
            if "Ctrl-C stops everything" in line:
                break
        else:
            pytest.fail(f"campaign serve --at {site.at} exited early:\n" + "".join(site.output))
    finally:
        watchdog.cancel()
    threading.Thread(target=lambda: [site.output.append(line) for line in site.proc.stdout], daemon=True).start()
    assert site.base, "".join(site.output)
    return site


def campaigns_copy(tmp: Path, *extra: Path) -> Path:
    target = tmp / "campaigns"
    shutil.copytree(ROOT / "campaigns", target)
    for path in extra:
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="package")
def sites(tmp_path_factory) -> Iterator[dict[str, Site]]:
    """The three sites, started side by side (each takes 1-2 s to come up)."""
    plan = {
        "live": (LIVE_AT, (), None),
        "charity": (CHARITY_AT, (), SIGNING_SECRET),
        "later": (LATER_AT, (DATA / "xss-probe.yaml",), None),
    }
    started: dict[str, Site] = {}
    try:
        for name, (at, extra, secret) in plan.items():
            started[name] = start_site(at, campaigns_copy(tmp_path_factory.mktemp(name), *extra), secret)
        for site in started.values():
            wait_until_up(site)
        yield started
    finally:
        for site in started.values():
            site.stop()


@pytest.fixture(scope="package")
def live_site(sites) -> Site:
    return sites["live"]


@pytest.fixture(scope="package")
def charity_site(sites) -> Site:
    return sites["charity"]


@pytest.fixture(scope="package")
def later_site(sites) -> Site:
    return sites["later"]


@pytest.fixture(scope="package")
def charity_books(charity_site) -> dict[str, str]:
    """Three paid orders, a refund and a point donation for the live charity sale,
    through the signed webhooks; returns the campaign's books as its JSON reports them."""
    import json
    import urllib.request

    cid = "bazhong-pork-charity"
    sales = [
        ("BT-ORDER-0001", "PRK-3101", "68000.00"),
        ("BT-ORDER-0002", "PRK-3103", "88000.00"),
        ("BT-ORDER-0003", "SAU-3301", "49900.00"),
    ]
    for order_id, sku, amount in sales:
        status, body = charity_site.post_signed(
            "/api/sales",
            {
                "order_id": order_id,
                "campaign_id": cid,
                "sku": sku,
                "quantity": 1,
                "amount": amount,
                "paid_at": "2026-11-20T10:00:00+08:00",
            },
        )
        assert status in (200, 201), body
    status, body = charity_site.post_signed(
        "/api/refunds", {"refund_id": "BT-REFUND-0001", "order_id": "BT-ORDER-0003", "amount": "9900.00"}
    )
    assert status in (200, 201), body
    status, body = charity_site.post_signed(
        "/api/point-donations",
        {"donation_id": "BT-POINTS-0001", "campaign_id": cid, "member_id": "member-0001", "points": 250_000},
    )
    assert status in (200, 201), body
    with urllib.request.urlopen(charity_site.url(f"/api/campaigns/{cid}"), timeout=10) as response:
        return json.loads(response.read())["charity"]


@pytest.fixture(scope="package")
def books_site(charity_site, charity_books) -> Site:
    """The charity sale's site once its books hold the orders of :func:`charity_books`."""
    return charity_site


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        _unavailable(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page plus what it reported: console errors, uncaught errors, dialogs."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.page_errors + self.console_errors


@pytest.fixture
def open_tab(browser) -> Iterator[Callable[..., Tab]]:
    """``open_tab(width)`` -> a fresh context and page at that viewport width."""
    contexts = []

    def _open(width: int = 360, height: int | None = None, **options: Any) -> Tab:
        context = browser.new_context(
            viewport={"width": width, "height": height or (780 if width < 600 else 900)},
            device_scale_factor=1,
            **options,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        tab = Tab(page)

        def on_console(message: Any) -> None:
            if message.type == "error":
                # The browser logs the page's own 404/410 status as a failed load; that is the page under test.
                location = (message.location or {}).get("url", "")
                if "Failed to load resource" in message.text and location and location == page.url:
                    return
                tab.console_errors.append(f"{message.text} @ {location}")

        def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("console", on_console)
        page.on("pageerror", lambda error: tab.page_errors.append(str(error)))
        page.on("dialog", on_dialog)
        return tab

    yield _open
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    """Saves ``artifacts/screenshots/<name>.png`` with every lazy image loaded."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate(LOAD_ALL_IMAGES)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path
