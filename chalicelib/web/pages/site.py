"""The consumer routes as functions of (source, instant, language, format, links).

``source`` is a :class:`~chalicelib.releases.catalog.StoreCatalog` (the handlers) or
a :class:`~chalicelib.releases.catalog.YamlCatalog` (``campaign preview``): the same
code renders both, so a preview is exactly the consumer's page. Each page says
when it was built from values served stale during an outage (:mod:`chalicelib.staleness`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Protocol, Sequence

from chalicelib import staleness
from chalicelib.books.totals import TotalsSource, no_totals
from chalicelib.domain.ids import is_campaign_id
from chalicelib.domain.model import Campaign
from chalicelib.homepage.job import StoredRotation
from chalicelib.web.page_cache import PageCache
from chalicelib.web.pages import common as pages
from chalicelib.web.pages.common import CatalogTimes, HomepageView, Links
from chalicelib.web.response import Response


class Source(Protocol):
    page_cache: PageCache | None

    def campaign(self, campaign_id: str) -> Campaign | None: ...
    def catalog(self) -> list[dict[str, Any]]: ...
    def rotation(self, at: datetime) -> dict[str, Any] | None: ...
    def stored_rotation(self, at: datetime) -> StoredRotation | None: ...


@staleness.flagged
def campaign(
    source: Source, campaign_id: str, at: datetime, lang: str, fmt: str, links: Links, totals: TotalsSource = no_totals
) -> Response:
    """``/campaigns/{id}`` and ``/api/campaigns/{id}``. An id that cannot exist is 404 with no read."""
    found = source.campaign(campaign_id) if is_campaign_id(campaign_id) else None
    return pages.campaign_page(found, campaign_id, at, lang, fmt, links, totals, source.page_cache)


@staleness.flagged
def home(source: Source, at: datetime, lang: str, fmt: str, links: Links, slots: int, rotation_minutes: int) -> Response:
    """``/`` and ``/api/homepage``: the stored rotation, filtered to picks live at ``at``."""
    stored = source.stored_rotation(at)
    catalog = source.catalog()
    view, due = _view_at(source.page_cache, stored, catalog, at, slots, rotation_minutes)
    next_rotation_s = None if due is None else int((due - at).total_seconds())
    rotation = None if stored is None else stored.doc
    return pages.homepage(rotation, view, catalog, at, lang, fmt, links, next_rotation_s, source.page_cache)


def _view_at(
    cache: PageCache | None,
    stored: StoredRotation | None,
    catalog: Sequence[Mapping[str, Any]],
    at: datetime,
    slots: int,
    rotation_minutes: int,
) -> tuple[HomepageView, datetime | None]:
    """The homepage's view at ``at`` (``stored.view(at, slots)`` and the live catalog),
    and when the next rotation is due (``None`` without a rotation).

    With a ``cache``, built once per (rotation, catalog) objects and span of
    instants between two boundaries of the catalog or of the rotation's slots
    and spares: a slot or a campaign is live from its start (inclusive) to its
    end (exclusive), so nothing the view holds changes inside a span.
    """

    def build() -> tuple[HomepageView, datetime | None]:
        if stored is None:
            return HomepageView.build([], CatalogTimes.parse(catalog), at), None
        every = stored.slots + stored.spares
        edges = [s.starts_at for s in every] + [s.ends_at for s in every if s.ends_at is not None]
        view = HomepageView.build(stored.view(at, slots), CatalogTimes.parse(catalog), at, edges)
        return view, stored.rotated_at + timedelta(minutes=rotation_minutes)

    if cache is None:
        return build()
    key = ("homepage-view", slots, rotation_minutes)
    return cache.get_or_make(key, (stored, catalog), build, valid=lambda kept: kept[0].holds(at))


@staleness.flagged
def charity(source: Source, at: datetime, lang: str, links: Links, totals: TotalsSource = no_totals) -> Response:
    """``/charity``: the public benefit channel."""
    return pages.charity_channel(source.catalog(), at, lang, links, totals)
