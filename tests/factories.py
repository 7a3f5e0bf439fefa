"""Campaigns built in code for tests (the real ones live in campaigns/)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.domain.model import Campaign, Charity, County, Endorsement, Homepage, Merchant, Pick, Text

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A local wall-clock time as the validator returns it: the instant, in UTC."""
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def pick(sku: str, price_fen: int = 3990, **kw) -> Pick:
    return Pick(
        sku=sku,
        name=Text({"zh-CN": f"商品 {sku}", "en": f"Product {sku}"}),
        price_fen=price_fen,
        merchant=Merchant("m-0042", Text({"zh-CN": "合作社", "en": "Cooperative"})),
        county=County("511902", Text({"zh-CN": "巴州区", "en": "Bazhou District"})),
        image="/static/placeholder.svg",
        **kw,
    )


def campaign(
    cid: str = "poverty-day-2026",
    kind: str = "featured",
    skus: tuple[str, ...] = ("EGG-0017", "POT-0101", "HEN-0201"),
    starts_at: datetime = local(2026, 10, 17),
    ends_at: datetime | None = local(2026, 10, 18),
    teaser_from: datetime | None = local(2026, 10, 10),
    weight: int | None = 3,
    pinned: tuple[str, ...] = (),
    charity: Charity | None = None,
    **kw,
) -> Campaign:
    return Campaign(
        id=cid,
        kind=kind,
        title=Text({"zh-CN": f"活动 {cid}", "en": f"Campaign {cid}"}),
        timezone="Asia/Shanghai",
        starts_at=starts_at,
        ends_at=ends_at,
        teaser_from=teaser_from,
        products=tuple(
            pick(s, endorsement=Endorsement(Text({"zh-CN": "县政府", "en": "County government"}), "government")) for s in skus
        ),
        homepage=None if weight is None else Homepage(weight, pinned),
        charity=charity,
        **kw,
    )


def charity_sale(cid: str = "bazhong-pork-charity", **kw) -> Campaign:
    defaults = {
        "skus": ("PORK-0001", "PORK-0002"),
        "starts_at": local(2026, 11, 15),
        "ends_at": local(2027, 3, 1),
        "teaser_from": local(2026, 11, 8),
        "weight": 2,
    }
    return campaign(
        cid,
        kind="charity_sale",
        charity=Charity(
            rate_percent=Decimal("5.45"),
            goal_fen=6_000_000,
            beneficiary=Text({"zh-CN": "巴中留守儿童", "en": "Left-behind children of Bazhong"}),
            partner=Text({"zh-CN": "巴中市人民政府", "en": "Bazhong Municipal Government"}),
            beneficiaries=23,
            points_per_yuan=100,
        ),
        **{**defaults, **kw},
    )
