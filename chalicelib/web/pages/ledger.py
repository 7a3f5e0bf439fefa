"""``GET /campaigns/{id}/ledger`` and ``GET /api/campaigns/{id}/ledger?cursor=C``: a charity sale's public ledger.

::

    {"entries": [{"at", "kind": "sale" | "refund" | "points", "ref", "amount"}], "next_cursor": C | null}

Newest first, ``PAGE_SIZE`` entries a page (:mod:`chalicelib.books.service`);
``at`` is ISO 8601 in the campaign's zone; ``ref`` is masked
(``ORD-****-7788``; a refund shows its order's ref); a refund's ``amount`` is
negative; member ids never appear. The amounts of all pages add up to the
campaign's ``raised``. Only charity sales have a ledger: any other campaign,
an unknown id, or a campaign before its teaser is 404. An ended campaign's
ledger stays public (200). A cursor is signed and bound to this route and
campaign (:mod:`chalicelib.web.cursors`); any other is 400 (``field: "cursor"``).

``Cache-Control``: at most 60 s (a sale adds an entry), never past the next
state change.
"""

from __future__ import annotations

from chalicelib.books.service import Books
from chalicelib.domain import window
from chalicelib.domain.ids import is_campaign_id
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.web.cursors import CursorSigner
from chalicelib.web.pages.errors import not_found
from chalicelib.web.pages.source import Source
from chalicelib.web.response import HTML, JSON, LIVE_TOTALS_MAX_AGE_S, Response, cache_control, json_text, may_serve_stale
from chalicelib.web.templates import render_page
from chalicelib.web.view import View

ROUTE = "ledger"  # what a cursor is bound to (the HTML page and its JSON twin share cursors)
UNKNOWN_MAX_AGE_S = 10  # a charity sale may be published, or reach its teaser, at any time


@may_serve_stale
def page(source: Source, view: View, books: Books, cursors: CursorSigner, campaign_id: str, cursor: str | None) -> Response:
    """The ledger page (``view.fmt == "html"``) or its JSON, from ``cursor`` (``None``: the newest entries).

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
    position = cursors.decode(ROUTE, campaign.id, cursor) if cursor else None
    found = books.ledger_page(campaign.id, position)
    next_cursor = None if found.next_position is None else cursors.encode(ROUTE, campaign.id, found.next_position)
    headers = cache_control(min(LIVE_TOTALS_MAX_AGE_S, window.max_age_s(campaign.window.next_change(at), at)))
    if view.fmt == "json":
        entries = [
            {
                "at": e.at.astimezone(campaign.zone).isoformat(timespec="seconds"),
                "kind": e.kind,
                "ref": e.ref,
                "amount": fen_to_yuan_str(e.amount_fen),
            }
            for e in found.entries
        ]
        return Response(200, json_text({"entries": entries, "next_cursor": next_cursor}), JSON, headers)
    body = render_page(
        "ledger.html",
        view.links,
        f"/campaigns/{campaign.id}/ledger",
        campaign=campaign,
        state=campaign.window.state_at(at),
        totals=books.totals(campaign.id),
        goal=campaign.charity.goal_fen,
        entries=found.entries,
        next_url=None if next_cursor is None else view.links.ledger(campaign.id, next_cursor),
        first_url=view.links.ledger(campaign.id) if cursor else None,
    )
    return Response(200, body, HTML, headers)
