"""The HTML of the consumer pages through the routes: security headers, hashed
assets, escaping, images, money and dates (the browser suite looks at the same
pages in Chromium: tests/browser)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest

from chalicelib.domain.model import Text
from chalicelib.web.assets import STATIC_DIR
from tests.factories import campaign, charity_sale, local
from tests.faults import DownStore

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def get(client, path):
    return client.http.get(path)


def html_of(response) -> str:
    return response.body.decode()


def assert_secure_html(response):
    h = response.headers
    assert h["Content-Type"] == "text/html; charset=utf-8"
    csp = h["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert h["X-Frame-Options"] == "DENY"


def test_every_html_page_carries_the_security_headers(client, publish, clock):
    publish(campaign(), charity_sale())
    clock.set(local(2026, 10, 17, 9))
    for path in ("/", "/?lang=en", "/campaigns/poverty-day-2026", "/charity", "/campaigns/nope", "/static/nope.css"):
        assert_secure_html(get(client, path))
    clock.set(local(2027, 3, 2))
    gone = get(client, "/campaigns/bazhong-pork-charity")
    assert gone.status_code == 410
    assert_secure_html(gone)


def test_json_and_static_responses_are_nosniff_without_a_page_policy(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    for path in ("/api/campaigns/poverty-day-2026", "/api/homepage", "/static/site.css", "/static/egg.svg"):
        response = get(client, path)
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_503_page_is_friendly_and_secure(client, services):
    services.catalog.releases = services.catalog.rotations = DownStore()
    response = get(client, "/campaigns/poverty-day-2026?lang=en")
    assert response.status_code == 503
    assert_secure_html(response)
    html = html_of(response)
    assert '<html lang="en">' in html and "Please wait a moment and reload the page." in html
    assert "DynamoDB" not in html and "Traceback" not in html


# ---------------------------------------------------------------- hashed assets


def digest(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:8]


def test_pages_link_the_stylesheet_and_script_by_content_hash(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    html = html_of(get(client, "/campaigns/poverty-day-2026"))
    css, js = f"/static/site.{digest('site.css')}.css", f"/static/countdown.{digest('countdown.js')}.js"
    assert f'<link rel="stylesheet" href="{css}">' in html
    assert f'<script src="{js}" defer></script>' in html
    # No inline executable script: the one script without a src is JSON-LD data (a live page).
    assert re.findall(r"<script[^>]*>", html) == ['<script type="application/ld+json">', f'<script src="{js}" defer>']
    assert " style=" not in html  # no inline style either (the CSP refuses both)


@pytest.mark.parametrize("name", ["site.css", "countdown.js"])
def test_hashed_assets_are_immutable_and_stale_hashes_404(client, name):
    stem, ext = name.rsplit(".", 1)
    fresh = get(client, f"/static/{stem}.{digest(name)}.{ext}")
    assert fresh.status_code == 200
    assert fresh.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fresh.body.decode() == (STATIC_DIR / name).read_text(encoding="utf-8")
    stale = get(client, f"/static/{stem}.00000000.{ext}")
    assert stale.status_code == 404
    plain = get(client, f"/static/{name}")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "public, max-age=300"


# ---------------------------------------------------------------- content


def hostile_campaign():
    c = charity_sale(starts_at=local(2026, 10, 16), teaser_from=None)
    products = tuple(replace(p, name=Text({"zh-CN": HOSTILE, "en": HOSTILE}), image="/static/not-there.svg") for p in c.products)
    return replace(c, title=Text({"zh-CN": HOSTILE, "en": HOSTILE}), summary=Text({"zh-CN": HOSTILE}), products=products)


@pytest.mark.parametrize("path", ["/campaigns/bazhong-pork-charity", "/", "/charity"])
def test_hostile_titles_and_names_are_escaped(client, publish, clock, path):
    publish(hostile_campaign())
    clock.set(local(2026, 10, 17, 9))
    html = html_of(get(client, path))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert len(re.findall(r'<script(?! type="application/ld\+json">)', html)) == 1  # JSON-LD aside: the script file


def test_missing_static_images_become_the_placeholder(client, publish, clock):
    publish(hostile_campaign())
    clock.set(local(2026, 10, 17, 9))
    html = html_of(get(client, "/campaigns/bazhong-pork-charity"))
    assert "not-there.svg" not in html
    images = re.findall(r"<img [^>]*>", html)
    assert images and all('src="/static/placeholder.svg"' in i for i in images)
    assert all('width="400" height="400" loading="lazy"' in i for i in images)


def test_prices_badges_and_dates_in_both_languages(client, publish, clock):
    c = campaign()
    c = replace(c, products=(replace(c.products[0], list_price_fen=4990),) + c.products[1:])
    publish(c)
    clock.set(local(2026, 10, 17, 9))
    zh = html_of(get(client, "/campaigns/poverty-day-2026"))
    assert '<span class="now">¥39.90</span> <s class="was"><span class="visually-hidden">原价 </span>¥49.90</s>' in zh
    assert '<span class="badge-key">脱贫县</span> 巴州区' in zh
    assert '<span class="badge-key">政府背书</span> 县政府' in zh
    assert "2026年10月17日 00:00 – 10月18日 00:00 (北京时间)" in zh
    assert '<p class="countdown" data-left="54000" data-lang="zh-CN">' in zh
    en = html_of(get(client, "/campaigns/poverty-day-2026?lang=en"))
    assert "17 Oct 2026, 00:00 – 18 Oct, 00:00 (Beijing time)" in en
    assert '<span class="badge-key">Poverty county</span> Bazhou District' in en
    assert '<a class="lang-switch" href="/campaigns/poverty-day-2026" hreflang="zh-CN">' in en


def test_teaser_shows_no_prices_and_ended_shows_no_products(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 12))
    teaser = html_of(get(client, "/campaigns/poverty-day-2026?lang=en"))
    assert "¥" not in teaser and "Prices are announced when the campaign starts" in teaser
    assert "Starts in" in teaser and 'class="chip state-chip state-teaser"' in teaser
    clock.set(local(2026, 10, 18))
    ended = get(client, "/campaigns/poverty-day-2026?lang=en")
    assert ended.status_code == 410
    assert 'class="product"' not in html_of(ended) and "This campaign has ended" in html_of(ended)


def test_charity_goal_is_an_aria_progressbar_with_two_segments(client, publish, clock):
    publish(charity_sale())
    clock.set(local(2026, 12, 1))
    html = html_of(get(client, "/campaigns/bazhong-pork-charity?lang=en"))
    assert 'role="progressbar" aria-label="Progress" aria-valuemin="0" aria-valuemax="60000.00" aria-valuenow="0.00"' in html
    assert 'class="goal-sales" x="0" y="0" width="0.00"' in html
    assert 'class="goal-points" x="0.00" y="0" width="0.00"' in html
    assert "Raised <strong>¥0.00</strong>" in html and "/ Goal ¥60,000.00" in html
