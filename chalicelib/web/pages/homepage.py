"""``GET /`` and ``GET /api/homepage``: the rotation's slots shown at the request's instant, then the live campaigns.

JSON: ``{"rotation": n, "rotated_at": ..., "slots": [{"position", "campaign_id",
"sku", "name", "price", "pinned", "image", "url", "buy_url"}]}``.

The stored rotation (:class:`chalicelib.homepage.stored.StoredRotation`) holds
the layout of every span up to the next scheduled rotation (a span begins at
each start or end of a homepage campaign); a request shows its span's slots,
only picks whose campaign is live at its instant (:meth:`StoredRotation.view`),
so a campaign is on the homepage from its start, and never shows a pick of a
campaign that is not live, even when rotations stop. ``Cache-Control``: never
past the next boundary of any campaign or shown slot, nor past the next
rotation, nor 300 s.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import window
from chalicelib.domain.buy_links import HOMEPAGE
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.domain.times import parse_stored, parse_stored_or_none
from chalicelib.domain.window import Window
from chalicelib.homepage.engine import Slot
from chalicelib.homepage.stored import StoredRotation
from chalicelib.web.page_cache import PageCache
from chalicelib.web.pages.source import Source, page_cache
from chalicelib.web.response import HTML, JSON, Response, cache_control, json_text, may_serve_stale
from chalicelib.web.templates import render_page
from chalicelib.web.view import Links, View


@dataclass(frozen=True)
class CatalogTimes:
    """A catalog's instants, parsed (ISO 8601 text -> aware datetimes) once per homepage view.

    ``rows``: ``(entry, its live window)`` in catalog order; ``boundaries``:
    every ``teaser_from``, ``starts_at`` and ``ends_at``, sorted.
    """

    rows: tuple[tuple[Mapping[str, Any], Window], ...]
    boundaries: tuple[datetime, ...]

    @classmethod
    def parse(cls, catalog: Sequence[Mapping[str, Any]]) -> CatalogTimes:
        rows = tuple(
            (entry, Window(parse_stored(entry["starts_at"]), parse_stored_or_none(entry.get("ends_at")))) for entry in catalog
        )
        instants = (parse_stored_or_none(entry.get(key)) for entry in catalog for key in ("teaser_from", "starts_at", "ends_at"))
        return cls(rows, tuple(sorted(b for b in instants if b is not None)))

    def live(self, at: datetime) -> list[Mapping[str, Any]]:
        """The entries live at ``at`` (:meth:`Window.live_at`), in catalog order."""
        return [entry for entry, window in self.rows if window.live_at(at)]

    def next_change(self, at: datetime) -> datetime | None:
        """The first boundary strictly after ``at``, or ``None``."""
        i = bisect_right(self.boundaries, at)
        return self.boundaries[i] if i < len(self.boundaries) else None


@dataclass(frozen=True)
class HomepageView:
    """What the homepage shows at an instant, and the instants that show the same.

    ``slots``: the slots shown (picks live at the instant); ``live``: the
    catalog entries live at the instant; ``ident``: what the bodies show of
    them, as two texts (each slot's position, campaign, SKU and pinned flag;
    the live campaign ids), for the bodies' cache keys; ``cache_until``: the
    page must not be cached past it (the next boundary of any catalog entry,
    or the end of a shown slot; ``None``: none). Every instant ``t`` with
    ``since <= t < until`` (``None``: unbounded) has the same view, so it can
    be kept for them.
    """

    slots: tuple[Slot, ...]
    live: tuple[Mapping[str, Any], ...]
    ident: tuple[str, str]
    cache_until: datetime | None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def build(
        cls, slots: Sequence[Slot], times: CatalogTimes, at: datetime, slot_boundaries: Iterable[datetime] = ()
    ) -> HomepageView:
        """The view at ``at`` of ``slots`` (already the ones shown at ``at``).

        ``slot_boundaries``: every start and end of the slots and spares the
        shown ones were chosen from, so that ``since``/``until`` also bound
        the choice; without them only the catalog's boundaries bound it.
        """
        live = tuple(times.live(at))
        ends = [s.ends_at for s in slots if s.ends_at is not None]
        limits = [d for d in (times.next_change(at), min(ends) if ends else None) if d is not None]
        boundaries = sorted({*times.boundaries, *slot_boundaries})
        i = bisect_right(boundaries, at)
        return cls(
            slots=tuple(slots),
            live=live,
            ident=(
                json.dumps([(s.position, s.pick.campaign_id, s.pick.sku, s.pinned) for s in slots]),
                json.dumps([e["id"] for e in live]),
            ),
            cache_until=min(limits) if limits else None,
            since=boundaries[i - 1] if i else None,
            until=boundaries[i] if i < len(boundaries) else None,
        )

    def holds(self, at: datetime) -> bool:
        """Whether ``at`` shows this same view."""
        return (self.since is None or self.since <= at) and (self.until is None or at < self.until)


@may_serve_stale
def page(source: Source, view: View, slots: int, rotation_minutes: int) -> Response:
    """The homepage (``view.fmt == "html"``) or its JSON at ``view.at``: at most ``slots`` slots.

    ``rotation_minutes``: the schedule's period, so that the page is not
    cached past the next rotation. Reads: the rotation and the catalog (one
    ``BatchGetItem`` in a cold container, none warm). With the source's page
    cache, the view is kept between boundaries and each body is rendered
    once per (rotation, catalog, shown picks, live campaigns, view).
    """
    at = view.at
    stored = source.stored_rotation(at)
    catalog = source.catalog()
    cache = page_cache(source)
    shown, due = _view_at(cache, stored, catalog, at, slots, rotation_minutes)
    # max_age_s grows with its boundary: the earliest boundary gives the smallest max-age.
    max_age = window.max_age_s(shown.cache_until, at)
    if due is not None:
        max_age = min(max_age, max(0, int((due - at).total_seconds())))
    headers = cache_control(max_age)
    rotation = None if stored is None else stored.doc
    anchor = (rotation, catalog)
    if view.fmt == "json":

        def make_json() -> str:
            return json_text(
                {
                    "rotation": None if rotation is None else rotation["rotation"],
                    "rotated_at": None if rotation is None else rotation["rotated_at"],
                    "slots": [slot_json(s, view.lang, view.links) for s in shown.slots],
                }
            )

        return Response(200, cache.body(view.cache_key("homepage", shown.ident[0]), anchor, make_json), JSON, headers)

    def make_html() -> str:
        return render_page("home.html", view.links, "/", slots=list(shown.slots), live=list(shown.live))

    return Response(200, cache.body(view.cache_key("homepage", *shown.ident), anchor, make_html), HTML, headers)


def slot_json(slot: Slot, lang: str, links: Links) -> dict[str, Any]:
    """One slot of ``/api/homepage`` (``url``: its campaign page; ``buy_url``: the pick's buy link,
    :func:`chalicelib.domain.buy_links.buy_url`, or ``None`` without a product page)."""
    return {
        "position": slot.position,
        "campaign_id": slot.pick.campaign_id,
        "sku": slot.pick.sku,
        "name": slot.pick.name.get(lang),
        "price": fen_to_yuan_str(slot.pick.price_fen),
        "pinned": slot.pinned,
        "image": slot.pick.image,
        "url": links.campaign(slot.pick.campaign_id),
        "buy_url": links.buy(slot.pick.campaign_id, slot.pick.sku, slot.pick.url, HOMEPAGE, slot.position),
    }


def _view_at(
    cache: PageCache,
    stored: StoredRotation | None,
    catalog: Sequence[Mapping[str, Any]],
    at: datetime,
    slots: int,
    rotation_minutes: int,
) -> tuple[HomepageView, datetime | None]:
    """The homepage's view at ``at`` (``stored.view(at, slots)`` and the live catalog),
    and when the next rotation is due (``None`` without a rotation).

    Kept in ``cache`` once per (rotation, catalog) objects and span of
    instants between two boundaries of the catalog or of the rotation's slots
    and spares: a slot or a campaign is live from its start (inclusive) to its
    end (exclusive), so nothing the view holds changes inside a span.
    """

    def build() -> tuple[HomepageView, datetime | None]:
        if stored is None:
            return HomepageView.build([], CatalogTimes.parse(catalog), at), None
        shown = HomepageView.build(stored.view(at, slots), CatalogTimes.parse(catalog), at, stored.edges())
        return shown, stored.rotated_at + timedelta(minutes=rotation_minutes)

    key = ("homepage-view", slots, rotation_minutes)
    return cache.get_or_make(key, (stored, catalog), build, valid=lambda kept: kept[0].holds(at))
