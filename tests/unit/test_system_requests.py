"""Bodies of the system routes: every refusal names its field (chalicelib/system_requests.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.errors import BadRequest, Unprocessable
from chalicelib.webhooks.requests import parse_money, parse_point_donation, parse_refund, parse_sale

SALE = {
    "order_id": "ORD-20261201-0001",
    "campaign_id": "bazhong-pork-charity",
    "sku": "PRK-3101",
    "quantity": 2,
    "amount": "136.00",
    "paid_at": "2026-12-01T10:00:00+08:00",
}


def raw(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def test_a_sale_parses_to_fen_and_utc():
    sale = parse_sale(raw(SALE))
    assert sale.amount_fen == 13600
    assert sale.quantity == 2
    assert sale.paid_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "fen"), [("12.50", 1250), ("12.5", 1250), ("12", 1200), ("0.01", 1), ("9999999999.99", 999999999999)]
)
def test_money_strings_become_exact_fen(text, fen):
    assert parse_money(text, "amount") == fen


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (12.5, "not the number"),
        (12, "not the number"),
        ("12.345", "more than 2 decimals"),
        ("-1", "negative"),
        ("1e3", "plain decimal"),
        ("0", "more than 0.00"),
        ("0.00", "more than 0.00"),
        (" 12", "plain decimal"),
        ("88.00\n", "plain decimal"),  # a regex "$" would let the newline through
        ("12.", "plain decimal"),
        ("+12", "plain decimal"),
        ("NaN", "plain decimal"),
        ("١٢", "plain decimal"),  # Arabic-Indic digits: Decimal() would take them
        (None, "money string"),
        (True, "money string"),
    ],
)
def test_bad_money_is_refused_naming_the_field(value, hint):
    with pytest.raises(Unprocessable) as caught:
        parse_sale(raw({**SALE, "amount": value}))
    assert caught.value.field == "amount"
    assert caught.value.STATUS_CODE == 422
    assert hint in str(caught.value)


def test_a_json_number_with_a_fraction_is_seen_as_a_number_not_a_float():
    with pytest.raises(Unprocessable, match="not the number 12.50"):
        parse_sale(
            b'{"order_id": "A", "campaign_id": "abc", "sku": "S", "quantity": 1, "amount": 12.50, "paid_at": "2026-12-01T10:00:00+08:00"}'
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1.0}, "quantity"),
        ({"quantity": "1"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"paid_at": "2026-12-01T10:00:00"}, "paid_at"),  # no offset
        ({"paid_at": "2026-12-01"}, "paid_at"),  # date only
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"order_id": ""}, "order_id"),
        ({"order_id": "x" * 129}, "order_id"),
        ({"order_id": "ORD\n1"}, "order_id"),
        ({"order_id": 42}, "order_id"),
        ({"campaign_id": "Bazhong!"}, "campaign_id"),
        ({"sku": None}, "sku"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_sale_fields_are_named(change, field):
    with pytest.raises(Unprocessable) as caught:
        parse_sale(raw({**SALE, **change}))
    assert caught.value.field == field


@pytest.mark.parametrize("missing", ["order_id", "campaign_id", "sku", "quantity", "amount", "paid_at"])
def test_missing_fields_are_named(missing):
    body = {k: v for k, v in SALE.items() if k != missing}
    with pytest.raises(Unprocessable, match=f"{missing} is missing") as caught:
        parse_sale(raw(body))
    assert caught.value.field == missing


@pytest.mark.parametrize(
    "body",
    [b"", b"   ", b"{", b"[1, 2]", b'"text"', b"\xff\xfe{}", b'{"amount": NaN}', b"\xef\xbb\xbf{}", b"x" * (16 * 1024 + 1)],
)
def test_malformed_bodies_are_400(body):
    with pytest.raises(BadRequest) as caught:
        parse_sale(body)
    assert caught.value.STATUS_CODE == 400


def test_a_duplicate_key_is_400_naming_it():
    with pytest.raises(BadRequest) as caught:
        parse_refund(b'{"refund_id": "R1", "order_id": "O1", "amount": "1.00", "amount": "2.00"}')
    assert caught.value.field == "amount"


def test_a_body_of_exactly_16_kib_is_read():
    body = raw({**SALE, "sku": "S"})
    padded = body[:-1] + b" " * (16 * 1024 - len(body)) + b"}"
    assert len(padded) == 16 * 1024
    assert parse_sale(padded).sku == "S"


def test_refund_and_points_parse():
    refund = parse_refund(raw({"refund_id": "RF-1", "order_id": "ORD-1", "amount": "50.00"}))
    assert (refund.refund_id, refund.order_id, refund.amount_fen) == ("RF-1", "ORD-1", 5000)
    points = parse_point_donation(
        raw({"donation_id": "PD-1", "campaign_id": "bazhong-pork-charity", "member_id": "M-9", "points": 250})
    )
    assert (points.points, points.member_id) == (250, "M-9")


@pytest.mark.parametrize("points", [0, -5, 2.5, "250", True, None, 10**13])
def test_points_must_be_a_positive_integer(points):
    with pytest.raises(Unprocessable) as caught:
        parse_point_donation(
            raw({"donation_id": "PD-1", "campaign_id": "bazhong-pork-charity", "member_id": "M-9", "points": points})
        )
    assert caught.value.field == "points"


def test_the_same_values_written_differently_are_the_same_body():
    a = parse_sale(raw(SALE))
    b = parse_sale(raw({**SALE, "amount": "136", "paid_at": "2026-12-01T02:00:00Z"}))
    c = parse_sale(raw({**SALE, "quantity": 3}))
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint
