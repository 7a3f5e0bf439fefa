"""The public ledger and the impact page, HTML and JSON (pure: values in, response out).

``GET /campaigns/{id}/ledger`` and ``GET /api/campaigns/{id}/ledger?cursor=C``
(the brief)::

    {"entries": [{"at", "kind": "sale" | "refund" | "points", "ref", "amount"}], "next_cursor": C | null}

Newest first, ``PAGE_SIZE`` entries a page; ``at`` is ISO 8601 in the
campaign's zone; ``ref`` is masked (``ORD-****-7788``; a refund shows its
order's ref); a refund's ``amount`` is negative; member ids never appear.
The amounts of all pages add up to the campaign's ``raised``. Only charity
sales have a ledger: any other campaign, an unknown id, or a campaign before
its teaser is 404. An ended campaign's ledger stays public (200). A cursor
is signed and bound to this route and campaign (:mod:`chalicelib.web.cursors`);
any other is 400 (``field: "cursor"``).

``GET /impact`` and ``GET /api/impact``: the recorded sales (paid, net of
refunds) of every published campaign that is visible at ``at``, by county
and by merchant, and the charity totals::

    {"campaigns": [{"id", "kind", "title", "state", "sales", "orders",
                    "counties": [{"code", "name", "sales"}], "merchants": [{"id", "name", "sales"}],
                    "charity": {"goal", "raised", "raised_from_sales", "raised_from_points"} | null}],
     "counties": [...], "merchants": [...]        (all campaigns together, largest first)
     "charity": {"raised", "raised_from_sales", "raised_from_points", "sales", "campaigns"}}

Cache-Control: ``max-age`` at most 60 s (totals move with each sale), and
never past the campaign's next state change.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping, Protocol

from chalicelib import staleness
from chalicelib.books.service import Books
from chalicelib.books.totals import CampaignBooks
from chalicelib.domain import window
from chalicelib.domain.ids import is_campaign_id
from chalicelib.domain.model import Campaign, Text
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.web.cursors import CursorSigner
from chalicelib.web.pages.common import LIVE_TOTALS_MAX_AGE_S, Links, error_response
from chalicelib.web.response import HTML, JSON, Response, cache_control
from chalicelib.web.templates import render
from chalicelib.web.words import words

LEDGER_ROUTE = "ledger"  # what a cursor is bound to (the HTML page and its JSON twin share cursors)

class Source(Protocol):
    def campaign(self, campaign_id: str) -> Campaign | None: ...
    def catalog(self) -> list[dict[str, Any]]: ...


def _max_age(campaign: Campaign, at: datetime) -> int:
    return min(LIVE_TOTALS_MAX_AGE_S, window.max_age_s(campaign.window.next_change(at), at))


@staleness.flagged
def ledger(
    source: Source,
    books: Books,
    cursors: CursorSigner,
    campaign_id: str,
    cursor: str | None,
    at: datetime,
    lang: str,
    fmt: str,
    links: Links,
) -> Response:
    """The ledger page (``fmt="html"``) or its JSON twin. Raises ``BadRequest`` for a foreign cursor.

    During an outage, a first page and totals read within 10 minutes are served stale
    (:mod:`chalicelib.staleness`)."""
    campaign = source.campaign(campaign_id) if is_campaign_id(campaign_id) else None
    if campaign is None or campaign.charity is None or campaign.window.state_at(at) == window.HIDDEN:
        # a hidden charity sale's ledger appears at its teaser: never cache the 404 past it
        max_age = 10 if campaign is None else min(10, window.max_age_s(campaign.window.next_change(at), at))
        return error_response(404, "not_found", f"no charity sale {campaign_id!r} has a ledger", fmt, lang, links, max_age)
    position = cursors.decode(LEDGER_ROUTE, campaign.id, cursor) if cursor else None
    page = books.ledger_page(campaign.id, position)
    next_cursor = None if page.next_position is None else cursors.encode(LEDGER_ROUTE, campaign.id, page.next_position)
    entries = [
        {
            "at": e.at.astimezone(campaign.zone).isoformat(timespec="seconds"),
            "kind": e.kind,
            "ref": e.ref,
            "amount": fen_to_yuan_str(e.amount_fen),
        }
        for e in page.entries
    ]
    headers = cache_control(_max_age(campaign, at))
    if fmt == "json":
        return Response(200, json.dumps({"entries": entries, "next_cursor": next_cursor}, ensure_ascii=False), JSON, headers)
    totals = books.totals(campaign.id)
    body = render(
        "ledger.html",
        lang=lang,
        L=words(lang),
        links=links,
        path=f"/campaigns/{campaign.id}/ledger",
        campaign=campaign,
        state=campaign.window.state_at(at),
        totals=totals,
        goal=campaign.charity.goal_fen,
        entries=page.entries,
        next_url=None if next_cursor is None else links.ledger(campaign.id, next_cursor),
        first_url=links.ledger(campaign.id) if cursor else None,
    )
    return Response(200, body, HTML, headers)


def _named(amounts: Mapping[str, int], names: Mapping[str, Text], lang: str, key: str) -> list[dict[str, Any]]:
    rows = [
        {key: code, "name": names[code].get(lang) if code in names else code, "sales_fen": fen}
        for code, fen in amounts.items()
        if fen
    ]
    return sorted(rows, key=lambda r: (-r["sales_fen"], r[key]))


def impact_figures(source: Source, books: Books, at: datetime, lang: str) -> dict[str, Any]:
    """The impact figures as plain values (fen as ``*_fen`` ints), for both formats."""
    campaigns, everyone = [], []
    for entry in source.catalog():
        campaign = source.campaign(entry["id"])
        if campaign is not None:
            everyone.append(campaign)  # a hidden campaign's teaser changes the page too
            if campaign.window.state_at(at) != window.HIDDEN:
                campaigns.append(campaign)
    sums = books.books([c.id for c in campaigns]) if campaigns else {}
    county_names: dict[str, Text] = {}
    merchant_names: dict[str, Text] = {}
    all_counties: dict[str, int] = {}
    all_merchants: dict[str, int] = {}
    charity = {"raised_fen": 0, "raised_from_sales_fen": 0, "raised_from_points_fen": 0, "sales_fen": 0, "campaigns": 0}
    rows = []
    for campaign in campaigns:
        b: CampaignBooks = sums.get(campaign.id, CampaignBooks())
        for pick in campaign.products:
            county_names.setdefault(pick.county.code, pick.county.name)
            merchant_names.setdefault(pick.merchant.id, pick.merchant.name)
        for code, fen in b.by_county.items():
            all_counties[code] = all_counties.get(code, 0) + fen
        for mid, fen in b.by_merchant.items():
            all_merchants[mid] = all_merchants.get(mid, 0) + fen
        row: dict[str, Any] = {
            "campaign": campaign,
            "state": campaign.window.state_at(at),
            "sales_fen": b.sales_fen,
            "orders": b.orders,
            "counties": _named(b.by_county, county_names, lang, "code"),
            "merchants": _named(b.by_merchant, merchant_names, lang, "id"),
            "charity": None,
        }
        if campaign.charity is not None:
            row["charity"] = {
                "goal_fen": campaign.charity.goal_fen,
                "raised_fen": b.raised_fen,
                "raised_from_sales_fen": b.raised_sales_fen,
                "raised_from_points_fen": b.raised_points_fen,
            }
            charity["raised_fen"] += b.raised_fen
            charity["raised_from_sales_fen"] += b.raised_sales_fen
            charity["raised_from_points_fen"] += b.raised_points_fen
            charity["sales_fen"] += b.sales_fen
            charity["campaigns"] += 1
        rows.append(row)
    return {
        "campaigns": rows,
        "counties": _named(all_counties, county_names, lang, "code"),
        "merchants": _named(all_merchants, merchant_names, lang, "id"),
        "charity": charity,
        "max_age": min([LIVE_TOTALS_MAX_AGE_S] + [window.max_age_s(c.window.next_change(at), at) for c in everyone]),
    }


def _money_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: (fen_to_yuan_str(v) if k == "sales_fen" else v) for k, v in r.items()} for r in rows]


def _impact_json(figures: dict[str, Any], lang: str) -> dict[str, Any]:
    def renamed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{("sales" if k == "sales_fen" else k): v for k, v in r.items()} for r in _money_rows(rows)]

    campaigns = []
    for row in figures["campaigns"]:
        c = row["charity"]
        campaigns.append(
            {
                "id": row["campaign"].id,
                "kind": row["campaign"].kind,
                "title": row["campaign"].title.get(lang),
                "state": row["state"],
                "sales": fen_to_yuan_str(row["sales_fen"]),
                "orders": row["orders"],
                "counties": renamed(row["counties"]),
                "merchants": renamed(row["merchants"]),
                "charity": None
                if c is None
                else {k.removesuffix("_fen"): fen_to_yuan_str(v) for k, v in c.items() if k.endswith("_fen")},
            }
        )
    ch = figures["charity"]
    return {
        "campaigns": campaigns,
        "counties": renamed(figures["counties"]),
        "merchants": renamed(figures["merchants"]),
        "charity": {**{k.removesuffix("_fen"): fen_to_yuan_str(v) for k, v in ch.items() if k.endswith("_fen")}, "campaigns": ch["campaigns"]},
    }


@staleness.flagged
def impact(source: Source, books: Books, at: datetime, lang: str, fmt: str, links: Links) -> Response:
    """``GET /impact`` (``fmt="html"``) or ``GET /api/impact`` (``fmt="json"``); served stale
    during an outage from totals read within 10 minutes (:mod:`chalicelib.staleness`)."""
    figures = impact_figures(source, books, at, lang)
    headers = cache_control(figures["max_age"])
    if fmt == "json":
        return Response(200, json.dumps(_impact_json(figures, lang), ensure_ascii=False), JSON, headers)
    body = render("impact.html", lang=lang, L=words(lang), links=links, path="/impact", figures=figures)
    return Response(200, body, HTML, headers)
