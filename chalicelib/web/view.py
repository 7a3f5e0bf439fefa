"""The request as a page sees it: :class:`View` (instant, language, format, links).

Every page function takes ``(source, view, ...)``. A view carries what a
page depends on besides its source:

- ``at``: the request's instant (aware); every campaign's state is computed from it;
- ``lang``: ``zh-CN`` (default) or ``en`` (:func:`pick_lang`);
- ``fmt``: ``"html"`` or ``"json"``, by route (``/api/...`` is JSON);
- ``links``: :class:`Links`, the URLs under the request's path prefix, in its language.

:class:`chalicelib.web.http.Web` builds one per request from the Chalice
request; ``campaign preview`` and the tests build them with :meth:`View.of`.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from chalicelib.domain.buy_links import buy_url
from chalicelib.domain.model import DEFAULT_LANG, LANGS

FORMATS = ("html", "json")


def pick_lang(requested: str | None) -> str:
    """``zh-CN`` (default) or ``en``; anything else falls back to ``zh-CN``."""
    return requested if requested in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Links:
    """Builds URLs under ``prefix`` (``""`` locally and on a custom domain;
    ``"/api"`` on the raw execute-api URL) in the page's language ``lang``.

    ``origin``: where absolute URLs start, for share cards, canonical links
    and the sitemap (:meth:`absolute`): ``SITE_URL`` (``https://fupin.example``),
    or else the request's scheme, host and path prefix
    (``https://abc.execute-api.cn-north-1.amazonaws.com.cn/api``); ``""``
    when unknown (then they stay root-relative, under the prefix).
    ``product_url_template``: the stage's mall product page with ``{sku}``,
    for buy links (:meth:`buy`); ``None``: only a pick's own ``url``.
    """

    prefix: str = ""
    lang: str = DEFAULT_LANG
    origin: str = ""
    product_url_template: str | None = None

    def _q(self, path: str, lang: str | None = None) -> str:
        lang = self.lang if lang is None else lang
        url = f"{self.prefix}{path}"
        return url if lang == DEFAULT_LANG else f"{url}{'&' if '?' in url else '?'}lang={quote(lang)}"

    def home(self, lang: str | None = None) -> str:
        return self._q("/", lang)

    def campaign(self, campaign_id: str, lang: str | None = None) -> str:
        return self._q(f"/campaigns/{quote(campaign_id)}", lang)

    def charity(self) -> str:
        return self._q("/charity")

    def ledger(self, campaign_id: str, cursor: str | None = None) -> str:
        url = self._q(f"/campaigns/{quote(campaign_id)}/ledger")
        return url if cursor is None else f"{url}{'&' if '?' in url else '?'}cursor={quote(cursor)}"

    def impact(self) -> str:
        return self._q("/impact")

    def exposure(self, day: str, lang: str | None = None) -> str:
        """The homepage exposure of ``day`` (``YYYY-MM-DD``, Beijing time)."""
        return self._q(f"/homepage/exposure?date={quote(day)}", lang)

    def static(self, path: str) -> str:
        return f"{self.prefix}{path}" if path.startswith("/") else path

    def switch(self, path: str) -> str:
        other = "en" if self.lang == DEFAULT_LANG else DEFAULT_LANG
        return self._q(path, other)

    def absolute(self, path: str, lang: str | None = None) -> str:
        """The absolute URL of the page at ``path`` (a route's path, e.g. ``/charity``) in ``lang``
        (default: the links' own): :attr:`origin` then the path; root-relative without an origin."""
        lang = self.lang if lang is None else lang
        url = f"{self.origin or self.prefix}{path}"
        return url if lang == DEFAULT_LANG else f"{url}?lang={quote(lang)}"

    def absolute_image(self, src: str | None) -> str | None:
        """An image's absolute https URL (``src``: an https URL, or a ``/static/...`` path under the
        origin), or ``None`` when it has none (no origin, or an http one)."""
        if not src:
            return None
        url = src if "://" in src else f"{self.origin}{src}" if self.origin else ""
        return url if url.startswith("https://") else None

    def buy(self, campaign_id: str, sku: str, pick_url: str | None, medium: str, position: int | None = None) -> str | None:
        """The buy link of a pick of a live campaign (:func:`chalicelib.domain.buy_links.buy_url`), or ``None``."""
        return buy_url(sku, campaign_id, self.product_url_template, pick_url, medium=medium, position=position)


@functools.lru_cache(maxsize=64)
def links(prefix: str = "", lang: str = DEFAULT_LANG, origin: str = "", product_url_template: str | None = None) -> Links:
    """The :class:`Links` of a path prefix, language, origin and product template: one shared instance for each (it is frozen)."""
    return Links(prefix=prefix, lang=lang, origin=origin, product_url_template=product_url_template)


@dataclass(frozen=True)
class View:
    """The request's instant ``at``, language ``lang``, format ``fmt`` and ``links`` (in that language).

    ``key`` is what the view adds to the cache key of any body made for it
    (format, language, path prefix, origin), computed once: see :meth:`cache_key`.
    Raises ``ValueError`` for a format other than html/json, or links in another language.
    """

    at: datetime
    lang: str
    fmt: str
    links: Links
    key: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"no format {self.fmt!r}: html or json")
        if self.links.lang != self.lang:
            raise ValueError(f"links in {self.links.lang!r} for a view in {self.lang!r}")
        object.__setattr__(self, "key", (self.fmt, self.lang, self.links.prefix, self.links.origin))

    @classmethod
    def of(
        cls,
        at: datetime,
        lang: str = DEFAULT_LANG,
        fmt: str = "html",
        prefix: str = "",
        origin: str = "",
        product_url_template: str | None = None,
    ) -> View:
        """The view at ``at`` in ``lang`` and ``fmt``, its links under ``prefix`` (``""``: no stage prefix,
        as locally), absolute ones at ``origin``, buy links from ``product_url_template``."""
        return cls(at, lang, fmt, links(prefix, lang, origin, product_url_template))

    def cache_key(self, *parts: Hashable) -> tuple[Hashable, ...]:
        """The key of a body made for this view from ``parts`` (what else it depends on):
        ``parts`` then :attr:`key`. Keep the parts strings, numbers or tuples of them, which
        hash in C on every lookup (a dataclass's hash runs in Python)."""
        return (*parts, *self.key)
