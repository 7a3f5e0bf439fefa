"""What the browser tests measure in a page, as JavaScript run by ``page.evaluate``.

Playwright evaluates these through the DevTools protocol, so the pages' CSP
(no inline script) does not apply to them; it does apply to the pages.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

# The layout facts of the page: language, overflow, headings, images.
LAYOUT = """
() => {
  const de = document.documentElement;
  const describe = (e) => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  return {
    lang: de.getAttribute('lang'),
    scrollWidth: de.scrollWidth,
    clientWidth: de.clientWidth,
    overflowing: Array.from(document.querySelectorAll('body *'))
      .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > de.clientWidth + 0.5)
      .slice(0, 5).map(describe),
    headings: Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).map((h) => Number(h.tagName[1])),
    images: Array.from(document.images).map((i) => ({
      src: i.getAttribute('src'), alt: i.getAttribute('alt'), width: i.getAttribute('width'),
      height: i.getAttribute('height'), loading: i.getAttribute('loading'), inFrame: !!i.closest('.pic'),
    })),
    // Executable scripts only; JSON-LD data blocks (never run) are counted apart, and have no src.
    scripts: Array.from(document.scripts).filter((s) => s.type !== 'application/ld+json').map((s) => s.getAttribute('src')),
    dataBlocks: Array.from(document.scripts).filter((s) => s.type === 'application/ld+json').map((s) => s.getAttribute('src')),
    inlineStyles: document.querySelectorAll('[style]').length,
    inlineHandlers: Array.from(document.querySelectorAll('*')).filter((e) => Array.from(e.attributes).some((a) => a.name.startsWith('on'))).length,
    switchText: (document.querySelector('.lang-switch [lang]') || {}).textContent || null,
  };
}
"""

# Every visible text run whose colour contrast against its background is below
# WCAG AA (4.5:1, or 3:1 for large text: 24 px, or 18.66 px bold). The
# background is the nearest opaque background-color up the tree (a gradient
# counts as its ancestors' colour, which the gradients here stay close to).
CONTRAST = """
() => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null; const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a >= 0.99) return c; }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const bad = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || !el.getClientRects().length) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;  // visually hidden text (screen readers only)
    const fg = parse(style.color), bg = background(el);
    const l1 = lum(fg), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) bad.push({text: n.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100, need: need, color: style.color, background: 'rgb(' + bg.r + ',' + bg.g + ',' + bg.b + ')'});
  }
  return bad;
}
"""

# The focused element and whether its focus is visible (an outline of 2 px or more, or a box shadow).
FOCUS = """
() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {
    tag: e.tagName.toLowerCase(), cls: e.className || '', text: (e.textContent || '').trim().slice(0, 40),
    href: e.getAttribute('href'), outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0,
    boxShadow: s.boxShadow, inHeader: !!e.closest('header'), visible: e.getClientRects().length > 0 && e.getBoundingClientRect().top >= 0,
  };
}
"""

# Turns lazy images eager and resolves once every image has loaded or failed
# (a promise through page.evaluate: wait_for_function would need 'unsafe-eval',
# which the pages' CSP refuses).
LOAD_ALL_IMAGES = """
() => Promise.all(Array.from(document.images).map((i) => {
  if (i.loading === 'lazy') i.loading = 'eager';
  return i.complete ? null : new Promise((done) => { i.addEventListener('load', done); i.addEventListener('error', done); });
}))
"""


def check_page(tab: Any, response: Any, expected_status: int, lang: str) -> None:
    """The checks every page passes (see tests/browser/test_pages.py)."""
    page = tab.page
    assert response.status == expected_status
    headers = response.headers
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"

    facts = page.evaluate(LAYOUT)
    assert facts["lang"] == lang
    assert facts["scrollWidth"] <= facts["clientWidth"], f"horizontal overflow by {facts['overflowing']}"
    assert facts["switchText"] == ("English" if lang == "zh-CN" else "中文")
    headings = facts["headings"]
    assert headings.count(1) == 1 and headings[0] == 1, headings
    assert all(b <= a + 1 for a, b in itertools.pairwise(headings)), f"a heading level is skipped: {headings}"
    for image in facts["images"]:
        assert image["width"] and image["height"] and image["loading"] == "lazy" and image["inFrame"], image
        assert image["alt"] is not None, image
    assert len(facts["scripts"]) == 1 and re.search(r"/static/countdown\.[0-9a-f]{8}\.js$", facts["scripts"][0])
    assert facts["dataBlocks"] in ([], [None])  # at most one JSON-LD block (live campaign pages), with no src
    assert facts["inlineStyles"] == 0 and facts["inlineHandlers"] == 0

    low = page.evaluate(CONTRAST)
    assert low == [], f"text below WCAG AA contrast: {low}"
    page.evaluate(LOAD_ALL_IMAGES)
    broken = page.evaluate(
        "Array.from(document.images).filter(function (i) { return !i.naturalWidth; }).map(function (i) { return i.src; })"
    )
    assert broken == []
    assert tab.errors == [] and tab.dialogs == []
