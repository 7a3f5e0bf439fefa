"""The books' items in the single table: keys, shapes, ``to_item``/``from_item``.

Same table as :mod:`chalicelib.store.releases` (whose docstring lists every item
type). Amounts are integer fen; no ``Decimal`` leaves ``from_item``::

    PK                          SK                       item
    ORDER#<order_id>            ORDER                    a recorded sale: paid, refunded, donation, rate, version,
                                                         fingerprint + first response (idempotency of /api/sales)
    REFUND#<refund_id>          REFUND                   a recorded refund (idempotency of /api/refunds)
    POINTS#<donation_id>        POINTS                   a recorded point donation (idempotency of /api/point-donations)
    TOTALS#<campaign>#<s:03d>   SUM                      counter shard s: ADD-only sums (sales_fen, orders, refunds,
                                                         raised_sales_fen, raised_points_fen, point_donations, points,
                                                         and 'P:["<county code>","<merchant id>"]' net sales)
    LEDGER#<campaign>#<l:02d>   E#<at UTC>#<nonce>       one public ledger entry (at, kind, masked ref, amount_fen)

The idempotency ids are scoped per route by their prefix (``ORDER#``,
``REFUND#``, ``POINTS#``). Keys come only from the functions here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from chalicelib.domain.money import parse_percent, percent_str
from chalicelib.domain.times import parse_stored

ORDER_SK = "ORDER"
REFUND_SK = "REFUND"
POINTS_SK = "POINTS"
TOTALS_SK = "SUM"
LEDGER_TOP = "E$"  # sorts after every "E#..." ledger key: the start of the newest-first walk
SPLIT_PREFIX = "P:"  # net sales per (county, merchant): 'P:["511902","m-0042"]'
COUNTERS = ("sales_fen", "orders", "refunds", "raised_sales_fen", "raised_points_fen", "point_donations", "points")


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def refund_pk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def points_pk(donation_id: str) -> str:
    return f"POINTS#{donation_id}"


def totals_pk(campaign_id: str, shard: int) -> str:
    return f"TOTALS#{campaign_id}#{shard:03d}"


def ledger_pk(campaign_id: str, shard: int) -> str:
    return f"LEDGER#{campaign_id}#{shard:02d}"


def ledger_sk(at: datetime, nonce: str) -> str:
    """``E#2026-11-20T02:00:00.000000Z#<nonce>``: fixed width, so text order is time order.

    The nonce (random hex) makes the key unique and names no order, so the
    key may appear (signed) in a public cursor.
    """
    return f"E#{at.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{nonce}"


def split_attribute(county_code: str, merchant_id: str) -> str:
    """The counter attribute of one (county, merchant) pair: one ADD per order serves both splits."""
    return SPLIT_PREFIX + json.dumps([county_code, merchant_id], ensure_ascii=False, separators=(",", ":"))


def split_of(attribute: str) -> tuple[str, str]:
    """Inverse of :func:`split_attribute`."""
    county, merchant = json.loads(attribute[len(SPLIT_PREFIX) :])
    return str(county), str(merchant)


def as_int(value: Any) -> int:
    """A DynamoDB number (``Decimal``) as ``int``; absent -> 0."""
    return int(Decimal(value)) if value is not None else 0


# ------------------------------------------------------------------ entities


@dataclass(frozen=True)
class Receipt:
    """What an idempotency item remembers: the body's fingerprint and the first answer."""

    fingerprint: str
    response: dict[str, Any]


@dataclass(frozen=True)
class OrderRecord:
    """A recorded sale. ``rate_percent`` is ``None`` for non-charity kinds (donation 0)."""

    order_id: str
    campaign_id: str
    sku: str
    quantity: int
    merchant_id: str
    county_code: str
    paid_fen: int
    paid_at: str
    rate_percent: Decimal | None
    donation_fen: int
    refunded_fen: int
    version: int
    receipt: Receipt

    def to_item(self, recorded_at: datetime) -> dict[str, Any]:
        return {
            "PK": order_pk(self.order_id),
            "SK": ORDER_SK,
            "order_id": self.order_id,
            "campaign_id": self.campaign_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "merchant_id": self.merchant_id,
            "county_code": self.county_code,
            "paid_fen": self.paid_fen,
            "paid_at": self.paid_at,
            "rate": "" if self.rate_percent is None else percent_str(self.rate_percent),
            "donation_fen": self.donation_fen,
            "refunded_fen": self.refunded_fen,
            "refund_count": 0,
            "version": self.version,
            "fingerprint": self.receipt.fingerprint,
            "response": json.dumps(self.receipt.response, ensure_ascii=False),
            "recorded_at": recorded_at.isoformat(),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "OrderRecord":
        rate = str(item.get("rate") or "")
        return cls(
            order_id=str(item["order_id"]),
            campaign_id=str(item["campaign_id"]),
            sku=str(item["sku"]),
            quantity=as_int(item.get("quantity")),
            merchant_id=str(item.get("merchant_id", "")),
            county_code=str(item.get("county_code", "")),
            paid_fen=as_int(item["paid_fen"]),
            paid_at=str(item["paid_at"]),
            rate_percent=parse_percent(rate) if rate else None,
            donation_fen=as_int(item["donation_fen"]),
            refunded_fen=as_int(item["refunded_fen"]),
            version=as_int(item["version"]),
            receipt=Receipt(str(item["fingerprint"]), json.loads(item["response"])),
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One public ledger line. ``amount_fen`` < 0 for a refund; ``ref`` is already masked."""

    at: datetime
    kind: str  # sale | refund | points
    ref: str
    amount_fen: int
    position: str = ""  # the sort key; the cursor after this entry

    def to_item(self, campaign_id: str, shard: int, nonce: str, source: str) -> dict[str, Any]:
        return {
            "PK": ledger_pk(campaign_id, shard),
            "SK": ledger_sk(self.at, nonce),
            "at": self.at.astimezone(timezone.utc).isoformat(),
            "kind": self.kind,
            "ref": self.ref,
            "amount_fen": self.amount_fen,
            "source": source,  # private: which idempotency item wrote it (audit); never shown
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "LedgerEntry":
        return cls(
            at=parse_stored(str(item["at"])),
            kind=str(item["kind"]),
            ref=str(item["ref"]),
            amount_fen=as_int(item["amount_fen"]),
            position=str(item["SK"]),
        )


def receipt_item(pk: str, sk: str, receipt: Receipt, received_at: datetime, **attributes: Any) -> dict[str, Any]:
    """An idempotency item (``REFUND#``/``POINTS#``): the request's values, fingerprint and first answer."""
    return {
        "PK": pk,
        "SK": sk,
        **attributes,
        "fingerprint": receipt.fingerprint,
        "response": json.dumps(receipt.response, ensure_ascii=False),
        "received_at": received_at.isoformat(),
    }
