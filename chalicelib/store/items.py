"""The table's entities as values, each with ``to_item``/``from_item`` (no I/O).

Keys come from :mod:`chalicelib.store.keys` (whose docstring lists every item
type). Documents are stored as JSON text (``doc``, ``entry``, ``manifest``,
``catalog``, ``response``: :func:`item_json`), so no number ever passes
through ``float`` and no DynamoDB ``Decimal`` reaches a response. Amounts are
integer fen; no ``Decimal`` leaves a ``from_item`` except a donation rate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.money import parse_percent, percent_str
from chalicelib.domain.times import parse_stored
from chalicelib.store.keys import (
    CURRENT_SK,
    HOMEPAGE_PREFIX,
    LIVE_RELEASE_KEY,
    RELEASE_PK,
    ROTATION_PK,
    TTL_ATTRIBUTE,
    head_key,
    history_sk,
    homepage_key,
    ledger_pk,
    ledger_sk,
    order_key,
    parse_homepage_sk,
)

Item = dict[str, Any]

SPLIT_PREFIX = "P:"  # net sales per (county, merchant): 'P:["511902","m-0042"]'
PAID_PREFIX = "Q:"  # sale donations by the paid second of their orders, while inside the return window: 'Q:1796083200'
WINDOW_PREFIX = "W:"  # charity sale and refund writes by the return window (days) they were booked under: 'W:7'
COUNTERS = ("sales_fen", "orders", "refunds", "raised_sales_fen", "raised_points_fen", "point_donations", "points")


def item_json(value: Any) -> str:
    """Canonical JSON text (sorted keys, no spaces, UTF-8 kept) for a stored document."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# DynamoDB's item size limit, in bytes: attribute names and values both count. Documented as
# "400 KB" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html);
# the service takes up to 400 KiB, the embedded DynamoDB (moto) 405,000 B: the smallest reading is kept.
MAX_ITEM_BYTES = 400_000


def item_bytes(item: Mapping[str, Any]) -> int:
    """The stored size of ``item`` (strings, numbers, booleans, ``None``), in bytes, as DynamoDB
    counts it against :data:`MAX_ITEM_BYTES`: each name and string as UTF-8, a number as at most
    21 bytes (one byte per two significant digits, plus one), a boolean or null as 1.
    Raises ``TypeError`` on another type (no item of this module holds one)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, bool) or value is None:
            size += 1
        elif isinstance(value, int | Decimal):
            size += min(21, len(str(abs(value)).replace(".", "").strip("0") or "0") // 2 + 2)
        else:
            raise TypeError(f"{name}: no size rule for {type(value).__name__}")
    return size


def as_int(value: Any) -> int:
    """A DynamoDB number (``Decimal``) as ``int``; absent -> 0."""
    return int(Decimal(value)) if value is not None else 0


# ------------------------------------------------------------------ releases and campaigns


@dataclass(frozen=True)
class Release:
    """A published set of campaigns (``RELEASE/CURRENT`` and ``RELEASE/R#<n>``).

    ``manifest``: campaign id -> content digest of its document.
    ``catalog``: one compact summary per campaign (id, kind, title, windows,
    charity headline) for the homepage list and ``/charity``.
    """

    number: int
    manifest: Mapping[str, str]
    catalog: Sequence[Mapping[str, Any]]
    published_at: str
    published_by: str = ""
    commit: str = ""
    previous: int = 0

    def to_item(self, sk: str) -> Item:
        """The item under ``RELEASE/<sk>`` (``CURRENT`` or :func:`~chalicelib.store.keys.release_sk`)."""
        return {
            "PK": RELEASE_PK,
            "SK": sk,
            "release": self.number,
            "previous": self.previous,
            "manifest": item_json(dict(self.manifest)),
            "catalog": item_json(list(self.catalog)),
            "published_at": self.published_at,
            "published_by": self.published_by,
            "commit": self.commit,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Release:
        return cls(
            number=int(item["release"]),
            previous=int(item.get("previous", 0)),
            manifest=json.loads(item["manifest"]),
            catalog=json.loads(item["catalog"]),
            published_at=str(item.get("published_at", "")),
            published_by=str(item.get("published_by", "")),
            commit=str(item.get("commit", "")),
        )


def live_release_item(number: int) -> Item:
    """``ROTATION/CURRENT#LIVE``: the live release's number, where the rotation's one ``Query`` finds it."""
    return {**LIVE_RELEASE_KEY, "release": number}


def doc_item(key: Mapping[str, str], doc: Any, **attributes: Any) -> Item:
    """An item holding a document as JSON text in ``doc`` (a campaign version, a rotation)."""
    return {**key, "doc": item_json(doc), **attributes}


def doc_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The document of a :func:`doc_item`."""
    return json.loads(item["doc"])


@dataclass(frozen=True)
class CampaignHead:
    """``CAMPAIGN#<id>/HEAD``: the campaign's newest published document and its digest.

    A read shortcut, never the truth: a reader uses ``doc`` only when
    ``digest`` equals the digest the live release's manifest names.
    """

    digest: str
    doc: Mapping[str, Any]

    def to_item(self, campaign_id: str) -> Item:
        return doc_item(head_key(campaign_id), self.doc, digest=self.digest)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> CampaignHead:
        return cls(digest=str(item["digest"]), doc=doc_of(item))


def homepage_item(release: int, campaign_id: str, entry: Mapping[str, Any]) -> Item:
    """One homepage campaign of ``release`` (publishing's ``homepage_entry`` shape, as JSON text)."""
    return {**homepage_key(release, campaign_id), "entry": item_json(entry)}


def entry_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The homepage entry of a :func:`homepage_item`."""
    return json.loads(item["entry"])


# ------------------------------------------------------------------ the rotation


def rotation_item(doc: Mapping[str, Any]) -> Item:
    """``ROTATION/CURRENT``: the live rotation document and its number."""
    return doc_item({"PK": ROTATION_PK, "SK": CURRENT_SK}, doc, rotation=int(doc["rotation"]))


def history_item(doc: Mapping[str, Any], expires_at_epoch_s: int) -> Item:
    """``ROTATION/H#<n>``: a copy of rotation ``n``, deleted by TTL at ``expires_at_epoch_s``."""
    number = int(doc["rotation"])
    return doc_item({"PK": ROTATION_PK, "SK": history_sk(number)}, doc, rotation=number, **{TTL_ATTRIBUTE: expires_at_epoch_s})


def expired(item: Mapping[str, Any], now_epoch_s: int) -> bool:
    """Whether ``item`` is past its TTL (DynamoDB deletes it later, by days sometimes)."""
    return int(item.get(TTL_ATTRIBUTE, 0)) <= now_epoch_s


@dataclass(frozen=True)
class RotationInputs:
    """What one rotation reads (:meth:`~chalicelib.store.rotations.RotationStore.get_rotation_inputs`).

    ``release``: the live release's number, ``None`` before the first publish.
    ``rotation``: the previous rotation document, ``None`` before the first.
    ``entries``: the live release's homepage campaigns (publishing's ``homepage_entry`` shape).
    """

    release: int | None
    rotation: dict[str, Any] | None
    entries: list[dict[str, Any]]

    @classmethod
    def from_items(cls, items: Iterable[Mapping[str, Any]]) -> RotationInputs:
        """From the ``ROTATION`` items whose ``SK`` begins with ``CURRENT``: the rotation, the
        live release's number and the homepage campaigns of every kept release (the live one's kept)."""
        rotation, live = None, None
        by_release: dict[int, list[dict[str, Any]]] = {}
        for item in items:
            sk = item["SK"]
            if sk == CURRENT_SK:
                rotation = doc_of(item)
            elif sk == LIVE_RELEASE_KEY["SK"]:
                live = int(item["release"])
            elif sk.startswith(HOMEPAGE_PREFIX):
                release, _ = parse_homepage_sk(sk)
                by_release.setdefault(release, []).append(entry_of(item))
        return cls(live, rotation, by_release.get(live, []) if live is not None else [])


# ------------------------------------------------------------------ the books


@dataclass(frozen=True)
class Receipt:
    """What an idempotency item remembers: the body's fingerprint and the first answer."""

    fingerprint: str
    response: dict[str, Any]

    def to_attributes(self) -> Item:
        return {"fingerprint": self.fingerprint, "response": json.dumps(self.response, ensure_ascii=False)}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Receipt:
        """The receipt of any idempotency item (``ORDER#``, ``REFUND#``, ``POINTS#``)."""
        return cls(str(item["fingerprint"]), json.loads(item["response"]))


def receipt_item(pk: str, sk: str, receipt: Receipt, received_at: datetime, **attributes: Any) -> Item:
    """An idempotency item (``REFUND#``/``POINTS#``): the request's values, fingerprint and first answer."""
    return {"PK": pk, "SK": sk, **attributes, **receipt.to_attributes(), "received_at": received_at.isoformat()}


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
    ref: str = ""  # the public (masked, keyed) reference its ledger entries show
    # its refunds, oldest first: {"at": ISO UTC, "amount_fen", "reversed_fen"} (written with each refund)
    refunds: tuple[Mapping[str, Any], ...] = ()

    def to_item(self, recorded_at: datetime) -> Item:
        return {
            **order_key(self.order_id),
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
            "ref": self.ref,
            **self.receipt.to_attributes(),
            "recorded_at": recorded_at.isoformat(),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> OrderRecord:
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
            receipt=Receipt.from_item(item),
            ref=str(item.get("ref", "")),
            refunds=tuple(json.loads(item["refunds"])) if item.get("refunds") else (),
        )


@dataclass(frozen=True)
class LedgerEntry:
    """One public ledger line. ``amount_fen`` < 0 for a refund; ``ref`` is already masked."""

    at: datetime
    kind: str  # sale | refund | points
    ref: str
    amount_fen: int
    position: str = ""  # the sort key; the cursor after this entry

    # What a page shows; the private audit attribute ("source") is never read back.
    PUBLIC_ATTRIBUTES = ("PK", "SK", "at", "kind", "ref", "amount_fen")

    def to_item(self, campaign_id: str, shard: int, nonce: str, source: str) -> Item:
        return {
            "PK": ledger_pk(campaign_id, shard),
            "SK": ledger_sk(self.at, nonce),
            "at": self.at.astimezone(UTC).isoformat(),
            "kind": self.kind,
            "ref": self.ref,
            "amount_fen": self.amount_fen,
            "source": source,  # private: which idempotency item wrote it (audit); never shown
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LedgerEntry:
        return cls(
            at=parse_stored(str(item["at"])),
            kind=str(item["kind"]),
            ref=str(item["ref"]),
            amount_fen=as_int(item["amount_fen"]),
            position=str(item["SK"]),
        )


def split_attribute(county_code: str, merchant_id: str) -> str:
    """The counter attribute of one (county, merchant) pair: one ADD per order serves both splits."""
    return SPLIT_PREFIX + json.dumps([county_code, merchant_id], ensure_ascii=False, separators=(",", ":"))


def split_of(attribute: str) -> tuple[str, str]:
    """Inverse of :func:`split_attribute`."""
    county, merchant = json.loads(attribute[len(SPLIT_PREFIX) :])
    return str(county), str(merchant)


def paid_attribute(paid_s: int) -> str:
    """The counter attribute of the sale donations paid in second ``paid_s`` (Unix epoch): ``Q:<paid_s>``."""
    return f"{PAID_PREFIX}{paid_s}"


def paid_of(attribute: str) -> int:
    """Inverse of :func:`paid_attribute`."""
    return int(attribute[len(PAID_PREFIX) :])


def window_attribute(return_days: int) -> str:
    """The counter attribute counting the writes booked under a ``return_days`` window: ``W:<days>``."""
    return f"{WINDOW_PREFIX}{return_days}"


def window_of(attribute: str) -> int:
    """Inverse of :func:`window_attribute`."""
    return int(attribute[len(WINDOW_PREFIX) :])
