"""``GET /campaigns/{id}`` and ``GET /api/campaigns/{id}``: one campaign at the request's instant.

=========  ======  ==================================================
state      status  shows
=========  ======  ==================================================
hidden     404     nothing (an unknown id too, and one that cannot be valid, with no read)
teaser     200     the countdown to the start, the products without prices
live       200     the products with prices, the countdown to the end
ended      410     a charity sale's final result
=========  ======  ==================================================

JSON (``body_json``): ``{"id", "kind", "state", "title", "summary", "timezone",
"teaser_from", "starts_at", "ends_at", "products": [...], "charity"?: {...},
"tourism"?: [...]}``; money is yuan text with 2 decimals, times ISO 8601 in the
campaign's zone; teaser and ended products carry no prices and no ``buy_url``.

``Cache-Control: public, max-age=N``: N is at most 300 and never past the
next state change; at most 60 while a charity sale is live (its totals move
with every sale); 10 for an unknown id (it may be published at any time).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from chalicelib.domain import window
from chalicelib.domain.buy_links import CAMPAIGN
from chalicelib.domain.ids import is_campaign_id
from chalicelib.domain.model import Campaign
from chalicelib.domain.money import fen_to_yuan_str, percent_str
from chalicelib.domain.totals import CharityFigures, CharityTotals, TotalsSource, charity_figures, no_totals
from chalicelib.web.assets import image_src
from chalicelib.web.pages.errors import not_found
from chalicelib.web.pages.source import Source, page_cache
from chalicelib.web.response import HTML, JSON, LIVE_TOTALS_MAX_AGE_S, Response, cache_control, json_text, may_serve_stale
from chalicelib.web.templates import remaining, render_page
from chalicelib.web.view import Links, View

_NO_LINKS = Links()  # no origin, no product template: no buy links
UNKNOWN_MAX_AGE_S = 10  # an unknown id may be published at any time (the release pointer is cached 5 s)


@may_serve_stale
def page(source: Source, view: View, campaign_id: str, totals: TotalsSource = no_totals) -> Response:
    """The campaign page (``view.fmt == "html"``) or its JSON, at ``view.at``.

    ``totals``: a charity sale's figures (:meth:`chalicelib.books.service.Books.totals`).
    Reads: the campaign (none for an id that cannot exist), and a charity
    sale's totals. With the source's page cache, the body is rendered once
    per (campaign object, state, view, totals) and kept for 60 s.
    """
    campaign = source.campaign(campaign_id) if is_campaign_id(campaign_id) else None
    if campaign is None:
        return not_found(view, f"no campaign {campaign_id!r}", UNKNOWN_MAX_AGE_S)
    at = view.at
    state = campaign.window.state_at(at)
    until = campaign.window.next_change(at)
    max_age = window.max_age_s(until, at)
    if state == window.HIDDEN:
        return not_found(view, f"no campaign {campaign_id!r}", max_age)
    charity_totals = totals(campaign.id) if campaign.charity is not None else None
    if charity_totals is not None and state == window.LIVE:
        max_age = min(max_age, LIVE_TOTALS_MAX_AGE_S)
    figures = None if charity_totals is None or campaign.charity is None else figures_of(campaign, charity_totals, at)
    if figures is not None and figures.next_change is not None:  # a pending donation becomes confirmed then
        max_age = min(max_age, window.max_age_s(figures.next_change, at))
    status, headers = window.STATUS[state], cache_control(max_age)
    cache = page_cache(source)
    key = view.cache_key("campaign", campaign.id, state, _figures(charity_totals), None if figures is None else figures.key())
    if view.fmt == "json":
        body = cache.body(
            key, campaign, lambda: json_text(body_json(campaign, state, view.lang, charity_totals, at=at, links=view.links))
        )
        return Response(status, body, JSON, headers, state)
    seconds_left = None if until is None else int((until - at).total_seconds())

    def render(countdown: Mapping[str, Any]) -> str:
        return render_page(
            "campaign.html",
            view.links,
            f"/campaigns/{campaign.id}",
            campaign=campaign,
            state=state,
            until=until,
            countdown=countdown,
            totals=charity_totals,
            figures=figures,
            structured_data=structured_data(campaign, view.lang, view.links) if state == window.LIVE else None,
        )

    text = "" if seconds_left is None else remaining(seconds_left, view.lang)
    return Response(status, cache.countdown_body(key, campaign, render, seconds_left, text), HTML, headers, state)


# Inside <script>, "</script>" or "<!--" in campaign text would end or change the element:
# the three characters are written as JSON escapes, which mean the same to a JSON parser.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def structured_data(campaign: Campaign, lang: str, links: Links) -> Markup:
    """The schema.org JSON-LD of a live campaign page in ``lang``: an ``ItemList`` of its picks, each a
    ``Product`` with an ``Offer`` (``price`` in yuan text, ``priceCurrency`` CNY, ``validFrom`` = the
    start, ``priceValidUntil`` = the end (exclusive; none for an open-ended store), ``url`` = the buy
    link, else the campaign page), escaped for a ``<script type="application/ld+json">`` element."""
    page_url = links.absolute(f"/campaigns/{campaign.id}")
    items = []
    for position, p in enumerate(campaign.products, start=1):
        offer: dict[str, Any] = {
            "@type": "Offer",
            "price": fen_to_yuan_str(p.price_fen),
            "priceCurrency": "CNY",
            "validFrom": _iso(campaign, campaign.starts_at),
            "url": links.buy(campaign.id, p.sku, p.url, CAMPAIGN) or page_url,
            "availability": "https://schema.org/InStock",
        }
        if campaign.ends_at is not None:
            offer["priceValidUntil"] = _iso(campaign, campaign.ends_at)
        product: dict[str, Any] = {"@type": "Product", "name": p.name.get(lang), "sku": p.sku}
        image = links.absolute_image(image_src(p.image))
        if image is not None:
            product["image"] = image
        product["brand"] = {"@type": "Organization", "name": p.merchant.name.get(lang)}
        product["offers"] = offer
        items.append({"@type": "ListItem", "position": position, "item": product})
    data = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": campaign.title.get(lang),
        "url": page_url,
        "numberOfItems": len(items),
        "itemListElement": items,
    }
    return Markup(json.dumps(data, ensure_ascii=False).translate(_SCRIPT_SAFE))  # noqa: S704 - escaped above


def _figures(totals: CharityTotals | None) -> tuple[int, int, int] | None:
    """The figures of ``totals`` a page shows, as a key part (ints hash in C; a dataclass in Python)."""
    return None if totals is None else (totals.raised_from_sales_fen, totals.raised_from_points_fen, totals.sales_fen)


def _iso(campaign: Campaign, at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(campaign.zone).isoformat()


def figures_of(campaign: Campaign, totals: CharityTotals, at: datetime) -> CharityFigures:
    """A charity sale's confirmed, pending, disbursed and balance at ``at`` (docs/donations.md)."""
    assert campaign.charity is not None
    return charity_figures(totals, at, campaign.charity.return_days, campaign.charity.disbursed_fen)


def disbursements_json(campaign: Campaign, lang: str) -> list[dict[str, Any]]:
    """``[{"at", "amount", "to", "receipt"}]``: the payouts of a charity sale, oldest first."""
    if campaign.charity is None:
        return []
    return [
        {"at": _iso(campaign, d.at), "amount": fen_to_yuan_str(d.amount_fen), "to": d.to.get(lang), "receipt": d.receipt}
        for d in campaign.charity.payouts_by_time
    ]


def body_json(
    campaign: Campaign,
    state: str,
    lang: str,
    totals: CharityTotals | None,
    *,
    at: datetime | None = None,
    links: Links | None = None,
) -> dict[str, Any]:
    """The ``/api/campaigns/{id}`` body in ``lang`` at ``state`` (teaser and ended: no prices).

    ``at``: the request's instant, from which a charity sale's ``confirmed``, ``pending`` and
    ``balance`` are computed (``None``: every donation counts as pending's complement, confirmed).

    A live product also has ``buy_url``: its buy link (``links.buy``,
    :mod:`chalicelib.domain.buy_links`), ``None`` without a product page; teaser and ended ones have none.
    """
    show_prices = state == window.LIVE
    products = []
    for p in campaign.products:
        item: dict[str, Any] = {
            "sku": p.sku,
            "name": p.name.get(lang),
            "merchant": {"id": p.merchant.id, "name": p.merchant.name.get(lang)},
            "county": {"code": p.county.code, "name": p.county.name.get(lang)},
            "endorsement": None if p.endorsement is None else {"by": p.endorsement.by.get(lang), "kind": p.endorsement.kind},
            "image": p.image,
        }
        if show_prices:
            item["price"] = fen_to_yuan_str(p.price_fen)
            item["list_price"] = None if p.list_price_fen is None else fen_to_yuan_str(p.list_price_fen)
            if p.donation_rate_percent is not None:
                item["donation_rate"] = percent_str(p.donation_rate_percent)
            item["buy_url"] = (links or _NO_LINKS).buy(campaign.id, p.sku, p.url, CAMPAIGN)
        products.append(item)
    body: dict[str, Any] = {
        "id": campaign.id,
        "kind": campaign.kind,
        "state": state,
        "title": campaign.title.get(lang),
        "summary": None if campaign.summary is None else campaign.summary.get(lang),
        "timezone": campaign.timezone,
        "teaser_from": _iso(campaign, campaign.teaser_from),
        "starts_at": _iso(campaign, campaign.starts_at),
        "ends_at": _iso(campaign, campaign.ends_at),
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
        f = figures_of(campaign, t, at) if at is not None else charity_figures(t, datetime.max.replace(tzinfo=UTC), 0, 0)
        body["charity"].update(
            {
                "confirmed": fen_to_yuan_str(f.confirmed_fen),
                "pending": fen_to_yuan_str(f.pending_fen),
                "disbursed": fen_to_yuan_str(c.disbursed_fen),
                "balance": fen_to_yuan_str(f.confirmed_fen - c.disbursed_fen),
                "return_days": c.return_days,
                "disbursements": disbursements_json(campaign, lang),
            }
        )
    if campaign.tourism:
        body["tourism"] = [
            {"name": s.name.get(lang), "summary": None if s.summary is None else s.summary.get(lang), "image": s.image}
            for s in campaign.tourism
        ]
    return body
