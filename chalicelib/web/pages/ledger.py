"""``GET /campaigns/{id}/ledger`` and ``GET /api/campaigns/{id}/ledger?cursor=C``: a charity sale's public ledger.

::

    {"entries": [{"at", "kind": "sale" | "refund" | "points", "ref", "amount", "state"}], "next_cursor": C | null}

``state`` is ``pending`` for a sale whose order is still inside the campaign's return window
at the request's instant, else ``confirmed`` (a refund's and a point donation's line are
confirmed). ``?order=ORDER_ID`` ("find my order") answers that order alone::

    {"ref", "donation", "refunded", "state", "entries": [...]}

(``donation``: what the order gives after its refunds; ``refunded``: the money refunded on it);
an unknown id and another campaign's order are the same 404. Lookups are rate-limited per
client (:mod:`chalicelib.web.limits`, 429 with ``Retry-After``) and cacheable.

Newest first, ``PAGE_SIZE`` entries a page (:mod:`chalicelib.books.service`);
``at`` is ISO 8601 in the campaign's zone; ``ref`` is masked
(``ORD-****-7788``; a refund shows its order's ref); a refund's ``amount`` is
negative; member ids never appear. The amounts of all pages add up to the
campaign's ``raised``. Only charity sales have a ledger: any other campaign,
an unknown id, or a campaign before its teaser is 404. An ended campaign's
ledger stays public (200). A cursor is signed and bound to this route and
campaign (:mod:`chalicelib.web.cursors`); any other is 400 (``field: "cursor"``).

``Cache-Control``: at most 60 s (a sale adds an entry), never past the next
state change, nor past the next instant a pending donation becomes confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib.books.orders import FoundOrder
from chalicelib.books.service import Books
from chalicelib.domain import window
from chalicelib.domain.ids import is_campaign_id
from chalicelib.domain.model import Campaign
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.domain.totals import confirms_at, is_pending
from chalicelib.store.items import LedgerEntry
from chalicelib.web.cursors import CursorSigner
from chalicelib.web.limits import LookupLimiter
from chalicelib.web.pages.campaign import figures_of
from chalicelib.web.pages.errors import error_page, not_found
from chalicelib.web.pages.source import Source
from chalicelib.web.response import HTML, JSON, LIVE_TOTALS_MAX_AGE_S, Response, cache_control, json_text, may_serve_stale
from chalicelib.web.templates import render_page
from chalicelib.web.view import View

ROUTE = "ledger"  # what a cursor is bound to (the HTML page and its JSON twin share cursors)
UNKNOWN_MAX_AGE_S = 10  # a charity sale may be published, or reach its teaser, at any time
ORDER_MAX_AGE_S = 60  # an order's lookup, found or not (a sale may be recorded at any time: at most this late)
MAX_ORDER_ID = 128  # longer ids are never recorded (docs/openapi.yaml): a 404 without a read


def entry_state(entry: LedgerEntry, at: datetime, return_days: int) -> str:
    """``pending`` for a sale line still inside its order's return window at ``at``, else ``confirmed``."""
    return "pending" if entry.kind == "sale" and is_pending(entry.at, at, return_days) else "confirmed"


def entry_json(campaign: Campaign, entry: LedgerEntry, at: datetime) -> dict[str, Any]:
    assert campaign.charity is not None
    return {
        "at": entry.at.astimezone(campaign.zone).isoformat(timespec="seconds"),
        "kind": entry.kind,
        "ref": entry.ref,
        "amount": fen_to_yuan_str(entry.amount_fen),
        "state": entry_state(entry, at, campaign.charity.return_days),
    }


@may_serve_stale
def page(
    source: Source,
    view: View,
    books: Books,
    cursors: CursorSigner,
    campaign_id: str,
    cursor: str | None,
    order: str | None = None,
    limiter: LookupLimiter | None = None,
    client: str = "",
) -> Response:
    """The ledger page (``view.fmt == "html"``) or its JSON, from ``cursor`` (``None``: the newest entries),
    or with ``order`` the lookup of that order (``limiter`` counts the lookups of ``client``).

    Reads: the campaign, the ledger page (its shards' ``Query``s, the first
    page cached) and, for HTML, the totals. Raises ``BadRequest`` for a
    cursor not made for this ledger.
    """
    at = view.at
    campaign = source.campaign(campaign_id) if is_campaign_id(campaign_id) else None
    if campaign is None or campaign.charity is None or campaign.window.state_at(at) == window.HIDDEN:
        # a hidden charity sale's ledger appears at its teaser: never cache the 404 past it
        max_age = UNKNOWN_MAX_AGE_S
        if campaign is not None:
            max_age = min(max_age, window.max_age_s(campaign.window.next_change(at), at))
        return not_found(view, f"no charity sale {campaign_id!r} has a ledger", max_age)
    assert campaign.charity is not None
    if order is not None and order.strip():
        return _order_page(campaign, view, books, order.strip(), limiter, client)
    days = campaign.charity.return_days
    position = cursors.decode(ROUTE, campaign.id, cursor) if cursor else None
    found = books.ledger_page(campaign.id, position)
    next_cursor = None if found.next_position is None else cursors.encode(ROUTE, campaign.id, found.next_position)
    max_age = min(LIVE_TOTALS_MAX_AGE_S, window.max_age_s(campaign.window.next_change(at), at))
    pending = [confirms_at(e.at, days) for e in found.entries if entry_state(e, at, days) == "pending"]
    if pending:  # a line's state changes then
        max_age = min(max_age, window.max_age_s(min(pending), at))
    if view.fmt == "json":
        entries = [entry_json(campaign, e, at) for e in found.entries]
        return Response(200, json_text({"entries": entries, "next_cursor": next_cursor}), JSON, cache_control(max_age))
    totals = books.totals(campaign.id)
    figures = figures_of(campaign, totals, at)
    if figures.next_change is not None:
        max_age = min(max_age, window.max_age_s(figures.next_change, at))
    body = _html(
        campaign,
        view,
        found.entries,
        totals=totals,
        figures=figures,
        next_url=None if next_cursor is None else view.links.ledger(campaign.id, next_cursor),
        first_url=view.links.ledger(campaign.id) if cursor else None,
    )
    return Response(200, body, HTML, cache_control(max_age))


def _html(campaign: Campaign, view: View, entries: Sequence[LedgerEntry], **page: Any) -> str:
    """``ledger.html`` of ``entries`` at ``view.at``: a ledger page, or one order's lines
    (``page``: what differs, among ``totals``, ``figures``, ``found``, ``order``, ``missing``, ``next_url``,
    ``first_url``)."""
    assert campaign.charity is not None
    at, days = view.at, campaign.charity.return_days
    return render_page(
        "ledger.html",
        view.links,
        f"/campaigns/{campaign.id}/ledger",
        campaign=campaign,
        state=campaign.window.state_at(at),
        goal=campaign.charity.goal_fen,
        entries=[(e, entry_state(e, at, days)) for e in entries],
        **{"totals": None, "figures": None, "found": None, "order": "", "missing": False, "next_url": None, "first_url": None}
        | page,
    )


def _order_page(
    campaign: Campaign, view: View, books: Books, order_id: str, limiter: LookupLimiter | None, client: str
) -> Response:
    """ "Find my order": the order's donation, refunds and state, or 404 (unknown, or another campaign's)."""
    assert campaign.charity is not None
    wait = 0 if limiter is None else limiter.allow(client)
    if wait:
        page = error_page(429, "too_many_requests", f"too many order lookups; try again in {wait} s", view.fmt, view.links)
        return Response(429, page.body, page.content_type, {**page.headers, "Retry-After": str(wait)})
    found = books.find_order(campaign.id, order_id) if len(order_id) <= MAX_ORDER_ID else None
    if found is None:  # an unknown id and another campaign's order: the same answer
        if view.fmt == "html":  # the form again, with the id asked for, to correct it
            first = view.links.ledger(campaign.id)
            body = _html(campaign, view, [], order=order_id[:MAX_ORDER_ID], missing=True, first_url=first)
            return Response(404, body, HTML, cache_control(ORDER_MAX_AGE_S))
        named = (
            repr(order_id) if len(order_id) <= MAX_ORDER_ID else f"id of {len(order_id):,} characters (at most {MAX_ORDER_ID})"
        )
        return not_found(view, f"no order {named} is in the ledger of {campaign.id!r}", ORDER_MAX_AGE_S)
    at, days = view.at, campaign.charity.return_days
    state = order_state(found, at, days)
    max_age = ORDER_MAX_AGE_S
    if state == "pending":
        max_age = min(max_age, window.max_age_s(confirms_at(found.paid_at, days), at))
    headers = cache_control(max_age)
    if view.fmt == "json":
        return Response(200, json_text(order_json(campaign, found, at)), JSON, headers)
    summary = {
        "ref": found.ref,
        "donation_fen": found.order.donation_fen,
        "refunded_fen": found.order.refunded_fen,
        "state": state,
    }
    body = _html(campaign, view, found.entries(), found=summary, order=order_id, first_url=view.links.ledger(campaign.id))
    return Response(200, body, HTML, headers)


def order_state(found: FoundOrder, at: datetime, return_days: int) -> str:
    """``pending`` while the order is inside its return window at ``at`` (docs/donations.md), else ``confirmed``."""
    return "pending" if is_pending(found.paid_at, at, return_days) else "confirmed"


def order_json(campaign: Campaign, found: FoundOrder, at: datetime) -> dict[str, Any]:
    """``{"ref", "donation", "refunded", "state", "entries"}`` of a found order at ``at``."""
    assert campaign.charity is not None
    return {
        "ref": found.ref,
        "donation": fen_to_yuan_str(found.order.donation_fen),
        "refunded": fen_to_yuan_str(found.order.refunded_fen),
        "state": order_state(found, at, campaign.charity.return_days),
        "entries": [entry_json(campaign, e, at) for e in found.entries()],
    }
