"""``GET /sitemap.xml`` and ``GET /robots.txt``: what search engines may crawl at the request's instant.

The sitemap (https://www.sitemaps.org/protocol.html, with Google's
``xhtml:link`` language alternates) lists the pages visible at ``view.at``:

- the channels ``/``, ``/charity`` and ``/impact``;
- every campaign in its teaser or live state (:meth:`chalicelib.domain.window.Window.state_at`;
  ended ones answer 410, hidden ones 404, so neither is listed);
- the ledger of every live charity sale.

Each page appears once per language (zh-CN, then en), and each entry names
both languages and ``x-default`` (zh-CN) as alternates. URLs are absolute
(:meth:`chalicelib.web.view.Links.absolute`: ``SITE_URL``, else the request's
host and path prefix). ``Cache-Control``: never past the next boundary of any
campaign of the catalog (the next change of the list), nor 300 s.

robots.txt allows every page, keeps crawlers off the JSON twins under
``/api/``, and names the sitemap.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from html import escape

from chalicelib.domain import window
from chalicelib.domain.model import DEFAULT_LANG, LANGS
from chalicelib.domain.times import parse_stored, parse_stored_or_none
from chalicelib.web.pages.source import Source
from chalicelib.web.response import Response, cache_control, may_serve_stale
from chalicelib.web.view import Links, View

XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
CHANNELS = ("/", "/charity", "/impact")
ROBOTS_MAX_AGE_S = window.MAX_AGE_CAP_S


def visible_paths(source: Source, view: View) -> tuple[list[str], int]:
    """The paths of the pages visible at ``view.at``, in order (channels, then each campaign and its
    live ledger, in catalog order), and the seconds until that list next changes (at most 300)."""
    at = view.at
    paths = list(CHANNELS)
    boundaries: list[datetime] = []
    for entry in source.catalog():
        starts_at, ends_at = parse_stored(entry["starts_at"]), parse_stored_or_none(entry.get("ends_at"))
        shown = window.Window(starts_at, ends_at, parse_stored_or_none(entry.get("teaser_from")))
        boundaries.extend(b for b in shown.boundaries() if b > at)
        state = shown.state_at(at)
        if state in (window.TEASER, window.LIVE):
            paths.append(f"/campaigns/{entry['id']}")
        if state == window.LIVE and entry.get("charity") is not None:
            paths.append(f"/campaigns/{entry['id']}/ledger")
    return paths, window.max_age_s(min(boundaries) if boundaries else None, at)


def _entries(paths: list[str], links: Links) -> Iterator[str]:
    for path in paths:
        alternates = "".join(
            f'<xhtml:link rel="alternate" hreflang="{lang}" href="{escape(links.absolute(path, lang))}"/>' for lang in LANGS
        )
        default = f'<xhtml:link rel="alternate" hreflang="x-default" href="{escape(links.absolute(path, DEFAULT_LANG))}"/>'
        for lang in LANGS:
            loc = escape(links.absolute(path, lang))  # XML text: & < > escaped (html.escape; xml.sax reads the environment)
            yield f"<url><loc>{loc}</loc>{alternates}{default}</url>"


@may_serve_stale
def sitemap(source: Source, view: View) -> Response:
    """The sitemap at ``view.at`` (XML). Reads: the catalog (cached with the release pointer)."""
    paths, max_age = visible_paths(source, view)
    body = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
            *_entries(paths, view.links),
            "</urlset>",
            "",
        ]
    )
    return Response(200, body, XML, cache_control(max_age))


def robots(view: View) -> Response:
    """robots.txt: everything but the ``/api/`` twins, and where the sitemap is."""
    prefix = view.links.prefix
    body = f"User-agent: *\nAllow: /\nDisallow: {prefix}/api/\nSitemap: {view.links.absolute('/sitemap.xml', DEFAULT_LANG)}\n"
    return Response(200, body, TEXT, cache_control(ROBOTS_MAX_AGE_S))
