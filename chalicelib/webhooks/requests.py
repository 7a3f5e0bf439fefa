"""The bodies of the system routes: raw bytes -> validated request values (no I/O).

The bodies (docs/openapi.yaml)::

    POST /api/sales           {"order_id", "campaign_id", "sku", "quantity", "amount", "paid_at"}
    POST /api/refunds         {"refund_id", "order_id", "amount"}
    POST /api/point-donations {"donation_id", "campaign_id", "member_id", "points"}

Rules (each refusal names the field; nothing is written):

- the body is at most 16 KiB of UTF-8 JSON holding one object, with no
  duplicate keys -- else :class:`~chalicelib.errors.BadRequest` (400);
- every field is present, no other field is, and each has its type -- else
  :class:`~chalicelib.errors.Unprocessable` (422, ``field``);
- money is a JSON STRING of a plain decimal with at most 2 decimals
  (``"12.50"``, ``"12.5"``, ``"12"``); ``12.5`` as a JSON number, ``"12.345"``,
  ``"-1"``, ``"1e3"``, ``" 12"`` and ``"0"`` are refused (amounts are > 0);
- ``quantity`` and ``points`` are JSON integers >= 1 (not ``1.0``, not ``true``);
- ``paid_at`` is ISO 8601 date and time WITH an offset (``2026-11-20T10:00:00+08:00``).

Amounts become integer fen at once (:func:`parse_money`); no float ever holds one.

Each request has a ``fingerprint``: SHA-256 of its normalized values. Two
bodies with the same id are "the same body" when their fingerprints match,
so ``"12.5"`` and ``"12.50"``, or the same instant written in two offsets,
are the same body; any other difference is a different body (409).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.books.inputs import PointDonationRequest, RefundRequest, SaleRequest
from chalicelib.domain.ids import is_campaign_id
from chalicelib.errors import BadRequest, Unprocessable

MAX_BODY_BYTES = 16 * 1024
MAX_ID_CHARS = 128
MAX_QUANTITY = 1_000_000
MAX_POINTS = 10**12
_MONEY = re.compile(r"^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?\Z")  # at most 9,999,999,999.99 yuan


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BadRequest(f"{key!r} appears twice in the body", field=key)
        out[key] = value
    return out


def parse_object(raw: bytes, fields: tuple[str, ...]) -> dict[str, Any]:
    """``raw`` -> a dict with exactly ``fields``. JSON numbers with a fraction become ``Decimal``."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest(f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} (16 KiB) are accepted")
    if not raw.strip():
        raise BadRequest("the body is empty; send a JSON object")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except BadRequest:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"the body is not valid UTF-8 JSON: {str(exc)[:120]}") from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object")
    for name in fields:
        if name not in value:
            raise Unprocessable(f"{name} is missing", field=name)
    for name in value:
        if name not in fields:
            raise Unprocessable(f"{name!r} is not a field of this request; the fields are {', '.join(fields)}", field=name)
    return value


def parse_money(value: Any, field: str) -> int:
    """A money string -> integer fen, > 0. ``"12.50"`` -> 1250.

    Raises ``Unprocessable(field=field)`` for a JSON number, a non-decimal,
    more than 2 decimals, a sign, or zero.
    """
    if not isinstance(value, str):
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            raise Unprocessable(f'{field}: money is a JSON string like "12.50", not the number {value}', field=field)
        raise Unprocessable(f'{field}: expected a money string like "12.50"', field=field)
    if not _MONEY.match(value):
        if re.match(r"^[0-9]+\.[0-9]{3,}$", value):
            raise Unprocessable(f"{field}: {value!r} has more than 2 decimals", field=field)
        if value.startswith("-"):
            raise Unprocessable(f"{field}: {value!r} is negative; amounts are more than 0.00", field=field)
        raise Unprocessable(f'{field}: {value!r} is not a plain decimal like "12.50" (no exponent, sign or spaces)', field=field)
    fen = int(Decimal(value) * 100)
    if fen <= 0:
        raise Unprocessable(f"{field}: {value!r} must be more than 0.00", field=field)
    return fen


def _identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise Unprocessable(f"{field}: expected a non-empty string", field=field)
    if len(value) > MAX_ID_CHARS or not value.isprintable() or value != value.strip():
        raise Unprocessable(f"{field}: at most {MAX_ID_CHARS} printable characters, without surrounding spaces", field=field)
    return value


def _campaign_id(value: Any, field: str = "campaign_id") -> str:
    if not isinstance(value, str) or not is_campaign_id(value):
        raise Unprocessable(f"{field}: no such campaign (ids are [a-z0-9-]{{3,64}})", field=field)
    return value


def _count(value: Any, field: str, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unprocessable(f"{field}: expected a whole JSON number >= 1, like 3", field=field)
    if not 1 <= value <= upper:
        raise Unprocessable(f"{field}: {value} is not between 1 and {upper}", field=field)
    return value


def _instant(value: Any, field: str) -> datetime:
    example = "2026-11-20T10:00:00+08:00"
    if not isinstance(value, str) or "T" not in value.upper() or len(value) > 40:
        raise Unprocessable(f"{field}: expected an ISO 8601 date and time with an offset, like {example}", field=field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"{field}: {value!r} is not ISO 8601; write e.g. {example}", field=field) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Unprocessable(f"{field}: {value!r} has no UTC offset; write e.g. {example}", field=field)
    return parsed.astimezone(UTC)


SALE_FIELDS = ("order_id", "campaign_id", "sku", "quantity", "amount", "paid_at")
REFUND_FIELDS = ("refund_id", "order_id", "amount")
POINT_FIELDS = ("donation_id", "campaign_id", "member_id", "points")


def parse_sale(raw: bytes) -> SaleRequest:
    """``POST /api/sales`` body -> :class:`SaleRequest` (400/422 as the module doc says)."""
    body = parse_object(raw, SALE_FIELDS)
    return SaleRequest(
        order_id=_identifier(body["order_id"], "order_id"),
        campaign_id=_campaign_id(body["campaign_id"]),
        sku=_identifier(body["sku"], "sku"),
        quantity=_count(body["quantity"], "quantity", MAX_QUANTITY),
        amount_fen=parse_money(body["amount"], "amount"),
        paid_at=_instant(body["paid_at"], "paid_at"),
    )


def parse_refund(raw: bytes) -> RefundRequest:
    """``POST /api/refunds`` body -> :class:`RefundRequest`."""
    body = parse_object(raw, REFUND_FIELDS)
    return RefundRequest(
        refund_id=_identifier(body["refund_id"], "refund_id"),
        order_id=_identifier(body["order_id"], "order_id"),
        amount_fen=parse_money(body["amount"], "amount"),
    )


def parse_point_donation(raw: bytes) -> PointDonationRequest:
    """``POST /api/point-donations`` body -> :class:`PointDonationRequest`."""
    body = parse_object(raw, POINT_FIELDS)
    return PointDonationRequest(
        donation_id=_identifier(body["donation_id"], "donation_id"),
        campaign_id=_campaign_id(body["campaign_id"]),
        member_id=_identifier(body["member_id"], "member_id"),
        points=_count(body["points"], "points", MAX_POINTS),
    )
