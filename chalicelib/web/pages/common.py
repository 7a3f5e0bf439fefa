"""Consumer pages and their JSON twins, from domain values to a response.

Every function here is pure: it takes the campaign (or catalog), the
request's instant ``at`` (aware), the language, and a :class:`Links` that
knows the path prefix, and returns a :class:`Response` (status,
headers, body). The Chalice handlers (via :mod:`chalicelib.web.http`) and
``campaign preview`` both call these, so a preview is the consumer's page.

Cache-Control (the brief): ``max-age`` is never longer than the seconds to
the page's next state change, nor than 300 s.
"""
from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from chalicelib.books.totals import CharityTotals, TotalsSource, no_totals
from chalicelib.domain import window
from chalicelib.domain.model import DEFAULT_LANG, LANGS, Campaign, Text
from chalicelib.domain.money import fen_to_yuan_str, percent_str
from chalicelib.domain.times import parse_stored, parse_stored_or_none
from chalicelib.domain.window import Window
from chalicelib.homepage.engine import Slot
from chalicelib.web.page_cache import COUNTDOWN_TOKENS, CountdownBody, PageCache
from chalicelib.web.response import HTML, JSON, NO_STORE, Response, cache_control, json_text
from chalicelib.web.templates import remaining, render
from chalicelib.web.words import error_title, words

UNKNOWN_MAX_AGE_S = 10  # an unknown id may be published at any time (the release pointer is cached 5 s)
LIVE_TOTALS_MAX_AGE_S = 60  # donation totals move with every sale

def pick_lang(requested: str | None) -> str:
    """``zh-CN`` (default) or ``en``; anything else falls back to ``zh-CN``."""
    return requested if requested in LANGS else DEFAULT_LANG


@dataclass(frozen=True)
class Links:
    """Builds URLs under ``prefix`` (``""`` locally and on a custom domain;
    ``"/api"`` on the raw execute-api URL) in the page's language.

    The cache keys of the pages take its two fields, not the object (a
    dataclass's hash runs in Python): a new field must join them.
    """

    prefix: str = ""
    lang: str = DEFAULT_LANG

    def _q(self, path: str, lang: str | None = None) -> str:
        lang = self.lang if lang is None else lang
        url = f"{self.prefix}{path}"
        return url if lang == DEFAULT_LANG else f"{url}?lang={quote(lang)}"

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

    def static(self, path: str) -> str:
        return f"{self.prefix}{path}" if path.startswith("/") else path

    def switch(self, path: str) -> str:
        other = "en" if self.lang == DEFAULT_LANG else DEFAULT_LANG
        return self._q(path, other)


def error_response(
    status: int, code: str, message: str, fmt: str, lang: str, links: Links, max_age_s: int = 0, field: str | None = None
) -> Response:
    """An HTML or JSON error page (never a traceback). JSON: ``{"error", "field"?, "message"}``,
    with ``field`` (the request field at fault) only when there is one."""
    headers = cache_control(max_age_s) if max_age_s else NO_STORE
    if fmt == "json":
        fields = {"error": code, "message": message} if field is None else {"error": code, "field": field, "message": message}
        return Response(status, json_text(fields), JSON, headers)
    body = render(
        "error.html", lang=lang, L=words(lang), links=links, path="/", status=status, title=error_title(code, lang), message=message
    )
    return Response(status, body, HTML, headers)


def _iso(at: datetime | None, campaign: Campaign) -> str | None:
    return None if at is None else at.astimezone(campaign.zone).isoformat()


def campaign_json(campaign: Campaign, state: str, lang: str, totals: CharityTotals | None) -> dict[str, Any]:
    """The ``/api/campaigns/{id}`` body (the brief's shape; teaser and ended carry no prices)."""
    show_prices = state == window.LIVE
    products = []
    for p in campaign.products:
        item: dict[str, Any] = {
            "sku": p.sku,
            "name": p.name.get(lang),
            "merchant": {"id": p.merchant.id, "name": p.merchant.name.get(lang)},
            "county": {"code": p.county.code, "name": p.county.name.get(lang)},
            "endorsement": None
            if p.endorsement is None
            else {"by": p.endorsement.by.get(lang), "kind": p.endorsement.kind},
            "image": p.image,
        }
        if show_prices:
            item["price"] = fen_to_yuan_str(p.price_fen)
            item["list_price"] = None if p.list_price_fen is None else fen_to_yuan_str(p.list_price_fen)
            if p.donation_rate_percent is not None:
                item["donation_rate"] = percent_str(p.donation_rate_percent)
        products.append(item)
    body: dict[str, Any] = {
        "id": campaign.id,
        "kind": campaign.kind,
        "state": state,
        "title": campaign.title.get(lang),
        "summary": None if campaign.summary is None else campaign.summary.get(lang),
        "timezone": campaign.timezone,
        "teaser_from": _iso(campaign.teaser_from, campaign),
        "starts_at": _iso(campaign.starts_at, campaign),
        "ends_at": _iso(campaign.ends_at, campaign),
        "products": products,
    }
    if campaign.charity is not None:
        c, t = campaign.charity, totals or CharityTotals()
        body["charity"] = {
            "rate": percent_str(c.rate_percent),
            "goal": fen_to_yuan_str(c.goal_fen),
            "raised": fen_to_yuan_str(t.raised_fen),
            "raised_from_sales": fen_to_yuan_str(t.raised_from_sales_fen),
            "raised_from_points": fen_to_yuan_str(t.raised_from_points_fen),
            "sales": fen_to_yuan_str(t.sales_fen),
            "beneficiary": c.beneficiary.get(lang),
            "beneficiaries": c.beneficiaries,
            "partner": c.partner.get(lang),
            "points_per_yuan": c.points_per_yuan,
        }
    if campaign.tourism:
        body["tourism"] = [
            {"name": s.name.get(lang), "summary": None if s.summary is None else s.summary.get(lang), "image": s.image}
            for s in campaign.tourism
        ]
    return body


def campaign_page(
    campaign: Campaign | None,
    campaign_id: str,
    at: datetime,
    lang: str,
    fmt: str,
    links: Links,
    totals: TotalsSource = no_totals,
    cache: PageCache | None = None,
) -> Response:
    """``GET /campaigns/{id}`` (``fmt="html"``) or ``/api/campaigns/{id}`` (``fmt="json"``).

    404 for an unknown id or before the teaser; 200 teaser and live; 410
    ended (with a charity sale's final result). With a ``cache``, the body is
    rendered once per (campaign, state, language, totals) and reused.
    """
    if campaign is None:
        return error_response(404, "not_found", f"no campaign {campaign_id!r}", fmt, lang, links, UNKNOWN_MAX_AGE_S)
    state = campaign.window.state_at(at)
    until = campaign.window.next_change(at)
    max_age = window.max_age_s(until, at)
    if state == window.HIDDEN:
        return error_response(404, "not_found", f"no campaign {campaign_id!r}", fmt, lang, links, max_age)
    campaign_totals = totals(campaign.id) if campaign.charity is not None else None
    if campaign_totals is not None and state == window.LIVE:
        max_age = min(max_age, LIVE_TOTALS_MAX_AGE_S)
    status = window.STATUS[state]
    headers = cache_control(max_age)
    # links as its two fields: a Links in the key would hash in Python on every lookup
    key = ("campaign", fmt, campaign.id, lang, links.prefix, links.lang, state, campaign_totals)
    if fmt == "json":
        body = _cached(cache, key, campaign, lambda: json_text(campaign_json(campaign, state, lang, campaign_totals)))
        return Response(status, body, JSON, headers, state)
    seconds_left = None if until is None else int((until - at).total_seconds())
    countdown_text = "" if seconds_left is None else remaining(seconds_left, lang)

    def render_page(countdown: Mapping[str, Any]) -> str:
        return render(
            "campaign.html",
            lang=lang,
            L=words(lang),
            links=links,
            path=f"/campaigns/{campaign.id}",
            campaign=campaign,
            state=state,
            until=until,
            seconds_left=seconds_left,
            countdown=countdown,
            totals=campaign_totals,
        )

    if cache is None:
        body = render_page({"left": seconds_left, "text": countdown_text})
    else:
        template = cache.get_or_make(key, campaign, lambda: CountdownBody(render_page(COUNTDOWN_TOKENS)))
        body = template.fill(seconds_left, countdown_text)
    return Response(status, body, HTML, headers, state)


def _cached(cache: PageCache | None, key: Any, anchor: object, make: Callable[[], str]) -> str:
    return make() if cache is None else cache.get_or_render(key, anchor, make)


@dataclass(frozen=True)
class CatalogTimes:
    """A catalog's instants, parsed (ISO 8601 text -> aware datetimes) once per homepage view.

    ``rows``: ``(entry, its live window)`` in catalog order; ``boundaries``:
    every ``teaser_from``, ``starts_at`` and ``ends_at``, sorted.
    """

    rows: tuple[tuple[Mapping[str, Any], Window], ...]
    boundaries: tuple[datetime, ...]

    @classmethod
    def parse(cls, catalog: Sequence[Mapping[str, Any]]) -> "CatalogTimes":
        rows = tuple((entry, Window(parse_stored(entry["starts_at"]), parse_stored_or_none(entry.get("ends_at")))) for entry in catalog)
        instants = (parse_stored_or_none(entry.get(key)) for entry in catalog for key in ("teaser_from", "starts_at", "ends_at"))
        return cls(rows, tuple(sorted(b for b in instants if b is not None)))

    def live(self, at: datetime) -> list[Mapping[str, Any]]:
        """The entries live at ``at`` (:meth:`Window.live_at`), in catalog order."""
        return [entry for entry, window in self.rows if window.live_at(at)]

    def next_change(self, at: datetime) -> datetime | None:
        """The first boundary strictly after ``at``, or ``None``."""
        i = bisect_right(self.boundaries, at)
        return self.boundaries[i] if i < len(self.boundaries) else None


def _live_catalog(catalog: Sequence[Mapping[str, Any]], at: datetime) -> list[Mapping[str, Any]]:
    return CatalogTimes.parse(catalog).live(at)


def _catalog_max_age(catalog: Sequence[Mapping[str, Any]], at: datetime) -> int:
    return window.max_age_s(CatalogTimes.parse(catalog).next_change(at), at)


def slot_json(slot: Slot, lang: str, links: Links) -> dict[str, Any]:
    return {
        "position": slot.position,
        "campaign_id": slot.pick.campaign_id,
        "sku": slot.pick.sku,
        "name": slot.pick.name.get(lang),
        "price": fen_to_yuan_str(slot.pick.price_fen),
        "pinned": slot.pinned,
        "image": slot.pick.image,
        "url": links.campaign(slot.pick.campaign_id),
    }


@dataclass(frozen=True)
class HomepageView:
    """What the homepage shows at an instant, and the instants that show the same.

    ``slots``: the slots shown (picks live at the instant); ``live``: the
    catalog entries live at the instant; ``ident``: what the bodies depend on
    besides the route, language and links, as two JSON texts (each slot's
    position, campaign, SKU and pinned flag; the live campaign ids), part of
    their cache keys (a string keeps its hash; a tuple of tuples is hashed
    again on every lookup); ``cache_until``: the page must not be cached
    past it (the next boundary of any catalog entry, or the end of a shown
    slot; ``None``: none). Every instant ``t`` with ``since <= t < until``
    (``None``: unbounded) has the same view, so it can be kept for them.
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
    ) -> "HomepageView":
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


def homepage(
    rotation: Mapping[str, Any] | None,
    view: HomepageView | Sequence[Slot],
    catalog: Sequence[Mapping[str, Any]],
    at: datetime,
    lang: str,
    fmt: str,
    links: Links,
    next_rotation_s: int | None = None,
    cache: PageCache | None = None,
) -> Response:
    """``GET /`` or ``/api/homepage``: the slots shown at ``at``, then the live campaigns.

    ``view``: the slots shown at ``at`` (already filtered to picks whose
    campaign is live then), or their :class:`HomepageView` (what the
    handlers pass, kept between boundaries). With a ``cache``, the body is
    rendered once per (rotation, shown picks, live campaigns, language).
    """
    if not isinstance(view, HomepageView):
        view = HomepageView.build(view, CatalogTimes.parse(catalog), at)
    # max_age_s grows with its boundary: the earliest boundary gives the smallest max-age.
    max_age = window.max_age_s(view.cache_until, at)
    if next_rotation_s is not None:
        max_age = min(max_age, max(0, next_rotation_s))
    headers = cache_control(max_age)
    slots = view.slots
    anchor = (rotation, catalog)
    if fmt == "json":

        def make_json() -> str:
            return json_text(
                {
                    "rotation": None if rotation is None else rotation["rotation"],
                    "rotated_at": None if rotation is None else rotation["rotated_at"],
                    "slots": [slot_json(s, lang, links) for s in slots],
                }
            )

        key = ("homepage", "json", lang, links.prefix, links.lang, view.ident[0])
        return Response(200, _cached(cache, key, anchor, make_json), JSON, headers)
    live = view.live

    def make_html() -> str:
        return render("home.html", lang=lang, L=words(lang), links=links, path="/", slots=list(slots), live=list(live))

    key = ("homepage", "html", lang, links.prefix, links.lang, *view.ident)
    return Response(200, _cached(cache, key, anchor, make_html), HTML, headers)


def charity_channel(
    catalog: Sequence[Mapping[str, Any]], at: datetime, lang: str, links: Links, totals: TotalsSource = no_totals
) -> Response:
    """``GET /charity``: the live charity campaigns with their progress toward the goal."""
    rows = []
    for entry in _live_catalog(catalog, at):
        if entry.get("charity") is None:
            continue
        from decimal import Decimal

        from chalicelib.domain.money import yuan_to_fen

        goal = yuan_to_fen(Decimal(entry["charity"]["goal"]))
        t = totals(entry["id"])
        rows.append({"entry": entry, "goal": goal, "totals": t})
    max_age = min(_catalog_max_age(catalog, at), LIVE_TOTALS_MAX_AGE_S if rows else window.MAX_AGE_CAP_S)
    html = render("charity.html", lang=lang, L=words(lang), links=links, path="/charity", rows=rows)
    return Response(200, html, HTML, cache_control(max_age))
