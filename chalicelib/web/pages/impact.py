"""``GET /impact`` and ``GET /api/impact``: recorded sales by county and by merchant, and the charity totals.

The recorded sales (paid, net of refunds) of every published campaign that is
visible at the request's instant::

    {"campaigns": [{"id", "kind", "title", "state", "sales", "orders",
                    "counties": [{"code", "name", "sales"}], "merchants": [{"id", "name", "sales"}],
                    "charity": {"goal", "raised", "raised_from_sales", "raised_from_points"} | null}],
     "counties": [...], "merchants": [...]        (all campaigns together, largest first)
     "charity": {"raised", "raised_from_sales", "raised_from_points", "sales", "campaigns"}}

The HTML page draws each charity sale's percent of its goal with the goal bar
(:func:`chalicelib.web.templates.goal_bar`), as the campaign page does.
``Cache-Control``: at most 60 s (totals move with each sale), and never past
any campaign's next state change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.books.service import Books
from chalicelib.domain import window
from chalicelib.domain.model import Text
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.domain.totals import CampaignBooks
from chalicelib.web.pages.source import Source
from chalicelib.web.response import HTML, JSON, LIVE_TOTALS_MAX_AGE_S, Response, cache_control, json_text, may_serve_stale
from chalicelib.web.templates import render_page
from chalicelib.web.view import View


@may_serve_stale
def page(source: Source, view: View, books: Books) -> Response:
    """The impact page (``view.fmt == "html"``) or its JSON at ``view.at``.

    Reads: every campaign of the catalog, and the books of the visible ones
    (their counter shards, in ``BatchGetItem``s).
    """
    shown = figures(source, view, books)
    headers = cache_control(shown["max_age"])
    if view.fmt == "json":
        return Response(200, json_text(_impact_json(shown, view.lang)), JSON, headers)
    return Response(200, render_page("impact.html", view.links, "/impact", figures=shown), HTML, headers)


def figures(source: Source, view: View, books: Books) -> dict[str, Any]:
    """The impact figures at ``view.at`` in ``view.lang``, as plain values (fen as ``*_fen`` ints), for both formats.

    ``{"campaigns": [row], "counties", "merchants", "charity", "max_age"}``; a
    row holds its ``campaign``, ``state``, ``sales_fen``, ``orders``,
    ``counties``, ``merchants`` and ``charity`` (``goal_fen``, ``raised_fen``,
    ``raised_from_sales_fen``, ``raised_from_points_fen``; ``None`` for a
    campaign that is not a charity sale).
    """
    at, lang = view.at, view.lang
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


def _named(amounts: Mapping[str, int], names: Mapping[str, Text], lang: str, key: str) -> list[dict[str, Any]]:
    rows = [
        {key: code, "name": names[code].get(lang) if code in names else code, "sales_fen": fen}
        for code, fen in amounts.items()
        if fen
    ]
    return sorted(rows, key=lambda r: (-r["sales_fen"], r[key]))


def _impact_json(shown: dict[str, Any], lang: str) -> dict[str, Any]:
    def renamed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``sales_fen`` as ``sales``, in yuan text; the other keys as they are."""
        return [{k: v for k, v in r.items() if k != "sales_fen"} | {"sales": fen_to_yuan_str(r["sales_fen"])} for r in rows]

    def yuan(fen_values: Mapping[str, Any]) -> dict[str, str]:
        return {k.removesuffix("_fen"): fen_to_yuan_str(v) for k, v in fen_values.items() if k.endswith("_fen")}

    campaigns = []
    for row in shown["campaigns"]:
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
                "charity": None if row["charity"] is None else yuan(row["charity"]),
            }
        )
    charity = shown["charity"]
    return {
        "campaigns": campaigns,
        "counties": renamed(shown["counties"]),
        "merchants": renamed(shown["merchants"]),
        "charity": {**yuan(charity), "campaigns": charity["campaigns"]},
    }
