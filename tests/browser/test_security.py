"""Hostile campaign text is inert, in the HTML and in the browser; images never break a page.

The stack at 2027-10-12 carries ``tests/browser/data/xss-probe.yaml``: a live
charity sale whose title, summary, product names, merchant, county,
endorsement, beneficiary, partner and even a SKU are ``<script>``,
``"><img onerror>``, ``<svg onload>``, ``<iframe>`` and ``<style>`` payloads.
"""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips, or fails under CI, with the reason
    expect = None

from tests.browser.checks import LAYOUT, LOAD_ALL_IMAGES
from tests.browser.conftest import screenshot

REMOTE_IMAGE_HOST = "img.example.invalid"  # the probe's https image; the test makes it fail
PAYLOAD_TAGS = ("<script>alert", "<img src=x", "<svg onload", "<iframe", "<style>", "<b onmouseover", "</li><script>")
INJECTED = "iframe, style, svg[onload], img[src='x'], b[onmouseover], main script, [onerror], [onload], [onmouseover]"
PAGES = ["/campaigns/xss-probe", "/", "/charity"]


@pytest.mark.parametrize("path", PAGES)
def test_hostile_text_is_escaped_in_the_html(later_site, browser, path):
    context = browser.new_context()
    try:
        for lang in ("zh-CN", "en"):
            response = context.request.get(later_site.url(path, lang))
            html = response.text()
            assert response.status == 200
            assert "alert(" in html  # the probe is on the page ...
            for tag in PAYLOAD_TAGS:
                assert tag not in html, tag  # ... but never as markup
            # ours: the hashed countdown.js, and on a live campaign its JSON-LD data block (escaped)
            assert html.count("<script") - html.count('<script type="application/ld+json">') == 1
            assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
            assert response.headers["content-security-policy"].startswith("default-src 'self'")
    finally:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_hostile_text_is_inert_in_the_browser(later_site, open_tab, path):
    tab = open_tab(360)
    page = tab.page
    failed_images = []
    page.route(f"https://{REMOTE_IMAGE_HOST}/**", lambda route: (failed_images.append(route.request.url), route.abort()))
    for lang in ("zh-CN", "en"):
        page.goto(later_site.url(path, lang))
        page.evaluate(LOAD_ALL_IMAGES)
        page.mouse.move(100, 300)  # a hover would fire an onmouseover, were there one
        assert tab.dialogs == []
        assert page.locator(INJECTED).count() == 0
        facts = page.evaluate(LAYOUT)
        assert facts["inlineHandlers"] == 0 and facts["inlineStyles"] == 0
        assert len(facts["scripts"]) == 1 and "/static/countdown." in facts["scripts"][0]
        assert facts["scrollWidth"] <= facts["clientWidth"]
        expect(page.locator("body")).to_be_visible()  # the partner's <style>body{display:none}</style> is text
        expect(page.get_by_text("<script>alert('title')</script>", exact=False).first).to_be_visible()
        # the only errors are the remote image this test made fail
        others = [e for e in tab.errors if REMOTE_IMAGE_HOST not in e and "net::ERR_FAILED" not in e]
        assert others == []
        tab.console_errors.clear()
    if path == "/campaigns/xss-probe":
        assert failed_images  # the browser did try the probe's https image, and the page survived it
        screenshot(page, "xss-probe-360-en")


def test_missing_and_failing_images_show_the_placeholder(later_site, open_tab):
    tab = open_tab(360)
    page = tab.page
    page.route(f"https://{REMOTE_IMAGE_HOST}/**", lambda route: route.abort())
    page.goto(later_site.url("/campaigns/xss-probe", "en"))
    page.evaluate(LOAD_ALL_IMAGES)
    images = page.locator(".products img")
    # a /static/ file that does not exist: the server links the placeholder instead
    first = images.nth(0)
    assert first.get_attribute("src") == "/static/placeholder.svg"
    assert first.evaluate("(i) => i.naturalWidth") > 0
    assert first.get_attribute("alt") == "\"><img src=x onerror=alert('name')>"
    # an https image that fails: the frame keeps its square and shows the placeholder behind it
    second = images.nth(1)
    assert second.get_attribute("src").startswith(f"https://{REMOTE_IMAGE_HOST}/")
    assert second.evaluate("(i) => i.complete && i.naturalWidth === 0")
    frame = page.locator(".products .pic").nth(1).bounding_box()
    assert frame["height"] == pytest.approx(frame["width"], abs=1)
    background = page.locator(".products .pic").nth(1).evaluate("(e) => getComputedStyle(e).backgroundImage")
    assert "placeholder.svg" in background
    page.locator(".products h2").evaluate("(h) => h.scrollIntoView()")
    screenshot(page, "missing-images-360-en", full_page=False)
