"""The campaign model: frozen values with no I/O.

Money is integer fen (1 yuan = 100 fen) and rates ``Decimal`` percent
(:mod:`chalicelib.domain.money`). Times are aware ``datetime`` values
(:mod:`chalicelib.domain.times`); the campaign's own IANA ``timezone`` is
kept for display, and its window is :attr:`Campaign.window`.

The document codec (``campaign_to_doc`` / ``campaign_from_doc``) turns a
campaign into plain JSON values (money as ``"39.90"`` strings, times as ISO
8601 with offset) for DynamoDB and back. It never goes through ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.money import fen_to_yuan_str, parse_percent, parse_yuan, percent_str
from chalicelib.domain.times import parse_stored, parse_stored_or_none, stored_or_none
from chalicelib.domain.window import Window

DEFAULT_LANG = "zh-CN"
LANGS = ("zh-CN", "en")
KINDS = ("featured", "charity_sale", "regional_store")
ENDORSEMENT_KINDS = ("government", "association")


@dataclass(frozen=True)
class Text:
    """A text in several languages: ``{"zh-CN": ..., "en": ...}``.

    ``get(lang)`` falls back to zh-CN (a missing translation falls back to
    zh-CN), then to any language present.
    """

    values: Mapping[str, str]

    def get(self, lang: str) -> str:
        if lang in self.values:
            return self.values[lang]
        if DEFAULT_LANG in self.values:
            return self.values[DEFAULT_LANG]
        return next(iter(self.values.values()), "")

    def to_doc(self) -> dict[str, str]:
        return dict(self.values)

    @classmethod
    def from_doc(cls, doc: Mapping[str, str] | None) -> Text | None:
        return None if doc is None else cls(dict(doc))


@dataclass(frozen=True)
class Merchant:
    id: str
    name: Text


@dataclass(frozen=True)
class County:
    code: str
    name: Text


@dataclass(frozen=True)
class Endorsement:
    by: Text
    kind: str  # government | association


@dataclass(frozen=True)
class Pick:
    """One product pick of a campaign. Prices are integer fen (CNY)."""

    sku: str
    name: Text
    price_fen: int
    merchant: Merchant
    county: County
    image: str
    list_price_fen: int | None = None
    endorsement: Endorsement | None = None
    donation_rate_percent: Decimal | None = None
    # The mall's product page of this pick (https), instead of the stage's template
    # (chalicelib.domain.buy_links); None: the template's.
    url: str | None = None


@dataclass(frozen=True)
class Homepage:
    weight: int
    pinned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disbursement:
    """Money paid out to the cause: ``at`` (aware), ``amount_fen``, the recipient ``to`` and an https ``receipt`` URL."""

    at: datetime
    amount_fen: int
    to: Text
    receipt: str


DEFAULT_RETURN_DAYS = 7  # China's seven-day no-reason return rule (docs/donations.md, "Pending, then confirmed")
MAX_RETURN_DAYS = 365  # a longer window would keep donations pending past any campaign's year (docs/yaml.md)


@dataclass(frozen=True)
class Charity:
    rate_percent: Decimal
    goal_fen: int
    beneficiary: Text
    partner: Text
    beneficiaries: int | None = None
    points_per_yuan: int | None = None
    return_days: int = DEFAULT_RETURN_DAYS
    disbursements: tuple[Disbursement, ...] = ()

    @property
    def disbursed_fen(self) -> int:
        """The sum of the disbursements (fen)."""
        return sum(d.amount_fen for d in self.disbursements)

    @property
    def payouts_by_time(self) -> tuple[Disbursement, ...]:
        """The disbursements oldest first (those of one instant in the YAML's order), as pages list them."""
        return tuple(sorted(self.disbursements, key=lambda d: d.at))


@dataclass(frozen=True)
class Sight:
    name: Text
    summary: Text | None = None
    image: str | None = None


@dataclass(frozen=True)
class Campaign:
    """One campaign, as one YAML file describes it.

    ``teaser_from`` < ``starts_at`` < ``ends_at`` (``ends_at`` exclusive, and
    ``None`` only for a long-running regional store).
    """

    id: str
    kind: str
    title: Text
    timezone: str
    starts_at: datetime
    ends_at: datetime | None
    products: tuple[Pick, ...]
    summary: Text | None = None
    teaser_from: datetime | None = None
    homepage: Homepage | None = None
    charity: Charity | None = None
    tourism: tuple[Sight, ...] = ()

    @property
    def window(self) -> Window:
        """When the campaign is teased, live and ended (:mod:`chalicelib.domain.window`)."""
        return Window(self.starts_at, self.ends_at, self.teaser_from)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def pick(self, sku: str) -> Pick | None:
        for pick in self.products:
            if pick.sku == sku:
                return pick
        return None

    def donation_rate_percent(self, sku: str) -> Decimal | None:
        """The rate for an order of ``sku``: the pick's own pledge, else the campaign's.

        ``None`` when the campaign is not a charity sale (the donation is 0).
        """
        if self.charity is None:
            return None
        pick = self.pick(sku)
        if pick is not None and pick.donation_rate_percent is not None:
            return pick.donation_rate_percent
        return self.charity.rate_percent


# ---------------------------------------------------------------- document codec


def _text(value: Text | None) -> dict[str, str] | None:
    return None if value is None else value.to_doc()


def _money(fen: int | None) -> str | None:
    return None if fen is None else fen_to_yuan_str(fen)


def _parse_money(text: str | None) -> int | None:
    return None if text is None else parse_yuan(text)


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else percent_str(value)


def _parse_rate(text: str | None) -> Decimal | None:
    return None if text is None else parse_percent(text)


def campaign_to_doc(campaign: Campaign) -> dict[str, Any]:
    """The campaign as plain JSON values (no floats), stable for hashing."""
    products = []
    for pick in campaign.products:
        products.append(
            {
                "sku": pick.sku,
                "name": pick.name.to_doc(),
                "price": _money(pick.price_fen),
                "list_price": _money(pick.list_price_fen),
                "merchant": {"id": pick.merchant.id, "name": pick.merchant.name.to_doc()},
                "county": {"code": pick.county.code, "name": pick.county.name.to_doc()},
                "endorsement": None
                if pick.endorsement is None
                else {"by": pick.endorsement.by.to_doc(), "kind": pick.endorsement.kind},
                "image": pick.image,
                "donation_rate": _rate(pick.donation_rate_percent),
                # Only when set, so that documents without one keep their digest.
                **({"url": pick.url} if pick.url is not None else {}),
            }
        )
    charity = campaign.charity
    return {
        "id": campaign.id,
        "kind": campaign.kind,
        "title": campaign.title.to_doc(),
        "summary": _text(campaign.summary),
        "timezone": campaign.timezone,
        "teaser_from": stored_or_none(campaign.teaser_from),
        "starts_at": stored_or_none(campaign.starts_at),
        "ends_at": stored_or_none(campaign.ends_at),
        "homepage": None
        if campaign.homepage is None
        else {"weight": campaign.homepage.weight, "pinned": list(campaign.homepage.pinned)},
        "products": products,
        "charity": None
        if charity is None
        else {
            "rate": percent_str(charity.rate_percent),
            "goal": fen_to_yuan_str(charity.goal_fen),
            "beneficiary": charity.beneficiary.to_doc(),
            "beneficiaries": charity.beneficiaries,
            "partner": charity.partner.to_doc(),
            "points_per_yuan": charity.points_per_yuan,
            **_charity_books_doc(charity),
        },
        "tourism": [{"name": s.name.to_doc(), "summary": _text(s.summary), "image": s.image} for s in campaign.tourism],
    }


def campaign_from_doc(doc: Mapping[str, Any]) -> Campaign:
    """Inverse of :func:`campaign_to_doc`. Raises ``KeyError``/``ValueError`` on a bad doc."""
    products = []
    for p in doc["products"]:
        endorsement = p.get("endorsement")
        products.append(
            Pick(
                sku=p["sku"],
                name=Text(p["name"]),
                price_fen=parse_yuan(p["price"]),
                list_price_fen=_parse_money(p.get("list_price")),
                merchant=Merchant(p["merchant"]["id"], Text(p["merchant"]["name"])),
                county=County(p["county"]["code"], Text(p["county"]["name"])),
                endorsement=None if endorsement is None else Endorsement(Text(endorsement["by"]), endorsement["kind"]),
                image=p["image"],
                donation_rate_percent=_parse_rate(p.get("donation_rate")),
                url=p.get("url"),
            )
        )
    home = doc.get("homepage")
    charity = doc.get("charity")
    return Campaign(
        id=doc["id"],
        kind=doc["kind"],
        title=Text(doc["title"]),
        summary=Text.from_doc(doc.get("summary")),
        timezone=doc["timezone"],
        teaser_from=parse_stored_or_none(doc.get("teaser_from")),
        starts_at=parse_stored(doc["starts_at"]),
        ends_at=parse_stored_or_none(doc.get("ends_at")),
        homepage=None if home is None else Homepage(int(home["weight"]), tuple(home["pinned"])),
        products=tuple(products),
        charity=None
        if charity is None
        else Charity(
            rate_percent=parse_percent(charity["rate"]),
            goal_fen=parse_yuan(charity["goal"]),
            beneficiary=Text(charity["beneficiary"]),
            beneficiaries=charity.get("beneficiaries"),
            partner=Text(charity["partner"]),
            points_per_yuan=charity.get("points_per_yuan"),
            return_days=int(charity.get("return_days", DEFAULT_RETURN_DAYS)),
            disbursements=tuple(_disbursement_from_doc(d) for d in charity.get("disbursements") or ()),
        ),
        tourism=tuple(Sight(Text(s["name"]), Text.from_doc(s.get("summary")), s.get("image")) for s in doc.get("tourism") or ()),
    )


def _charity_books_doc(charity: Charity) -> dict[str, Any]:
    """The return window and the payouts, written only when set, so older documents keep their digest."""
    doc: dict[str, Any] = {}
    if charity.return_days != DEFAULT_RETURN_DAYS:
        doc["return_days"] = charity.return_days
    if charity.disbursements:
        doc["disbursements"] = [
            {"at": d.at.isoformat(), "amount": fen_to_yuan_str(d.amount_fen), "to": d.to.to_doc(), "receipt": d.receipt}
            for d in charity.disbursements
        ]
    return doc


def _disbursement_from_doc(doc: Mapping[str, Any]) -> Disbursement:
    return Disbursement(parse_stored(doc["at"]), parse_yuan(doc["amount"]), Text(doc["to"]), str(doc["receipt"]))


__all__ = [
    "Campaign",
    "Charity",
    "County",
    "Disbursement",
    "Endorsement",
    "Homepage",
    "Merchant",
    "Pick",
    "Sight",
    "Text",
    "campaign_from_doc",
    "campaign_to_doc",
]
