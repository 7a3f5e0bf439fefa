"""The money rules of the donation books (chalicelib/donation_rules.py), exact to the fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.books.rules import (
    RefundTooLarge,
    apply_refund,
    mask_ref,
    points_value_fen,
    sale_donation_fen,
    shard_of,
)


def half_up(net_fen: int, rate: Decimal) -> int:
    """The rule written independently: yuan x rate/100, rounded half up to the fen."""
    yuan = Decimal(net_fen) / 100 * rate / 100
    return int(yuan.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


@pytest.mark.parametrize(
    ("amount_fen", "rate", "expected_fen"),
    [
        (1250, Decimal("1"), 13),  # 12.50 at 1 % = 0.125 -> 0.13 (half up, not half even)
        (20000, Decimal("5"), 1000),  # 200.00 at 5 % = 10.00
        (8800, Decimal("8"), 704),  # a merchant's own 8 % pledge on 88.00
        (6800, Decimal("5.45"), 371),  # 68.00 at 5.45 % = 3.706 -> 3.71
        (110_000_000, Decimal("5.45"), 5_995_000),  # the product's own example: 1.1 M yuan of pork -> 59,950.00
        (1, Decimal("5.45"), 0),  # 0.01 at 5.45 % rounds to 0.00
        (10, Decimal("5"), 1),  # 0.10 at 5 % = 0.005 -> 0.01
    ],
)
def test_sale_donation_rounds_half_up_per_order(amount_fen, rate, expected_fen):
    assert sale_donation_fen(amount_fen, rate) == expected_fen
    assert half_up(amount_fen, rate) == expected_fen


def test_non_charity_sales_donate_nothing():
    assert sale_donation_fen(20000, None) == 0


def test_the_briefs_refund_example_reverses_2_50_then_the_rest():
    # 200.00 at 5 % donates 10.00; a 50.00 refund leaves 150.00 -> 7.50, so 2.50 is reversed.
    first = apply_refund(20000, 0, 1000, 5000, Decimal("5"))
    assert (first.refunded_fen, first.donation_fen, first.reversal_fen) == (5000, 750, 250)
    # Refunding the remaining 150.00 reverses the last 7.50: a full refund leaves 0.
    rest = apply_refund(20000, first.refunded_fen, first.donation_fen, 15000, Decimal("5"))
    assert (rest.refunded_fen, rest.donation_fen, rest.reversal_fen) == (20000, 0, 750)


def test_small_refunds_reverse_by_the_rounded_difference():
    assert apply_refund(1250, 0, 13, 50, Decimal("1")).reversal_fen == 1  # 12.00 -> 0.12
    assert apply_refund(1250, 0, 13, 1240, Decimal("1")).reversal_fen == 13  # 0.10 -> 0.001 -> 0.00
    assert apply_refund(1250, 0, 13, 1, Decimal("1")).reversal_fen == 1  # 12.49 -> 0.1249 -> 0.12


def test_refunding_more_than_is_left_is_refused_with_what_is_left():
    with pytest.raises(RefundTooLarge) as caught:
        apply_refund(20000, 5000, 750, 15001, Decimal("5"))
    assert caught.value.left_fen == 15000


def test_a_refund_on_a_non_charity_order_reverses_nothing():
    math = apply_refund(3990, 0, 0, 1000, None)
    assert (math.refunded_fen, math.donation_fen, math.reversal_fen) == (1000, 0, 0)


@settings(max_examples=300, deadline=None)
@given(
    paid_fen=st.integers(min_value=1, max_value=10**9),
    rate=st.sampled_from(
        [Decimal("0.01"), Decimal("1"), Decimal("5"), Decimal("5.45"), Decimal("8"), Decimal("33.3"), Decimal("100")]
    ),
    cuts=st.lists(st.integers(min_value=1, max_value=10**9), max_size=12),
)
def test_after_any_partial_refunds_the_donation_follows_the_net_amount(paid_fen, rate, cuts):
    """Invariant: donation == half_up((paid - refunded) x rate), reversals are >= 0 and their
    sum never exceeds (and after a full refund equals) the original donation."""
    original = sale_donation_fen(paid_fen, rate)
    refunded, donation, reversed_total = 0, original, 0
    for cut in cuts:
        amount = min(cut, paid_fen - refunded)
        if amount == 0:
            with pytest.raises(RefundTooLarge):
                apply_refund(paid_fen, refunded, donation, 1, rate)
            break
        math = apply_refund(paid_fen, refunded, donation, amount, rate)
        assert math.reversal_fen >= 0
        refunded, donation = math.refunded_fen, math.donation_fen
        reversed_total += math.reversal_fen
        assert donation == half_up(paid_fen - refunded, rate)
        assert reversed_total == original - donation <= original
    if refunded == paid_fen:
        assert donation == 0 and reversed_total == original


@pytest.mark.parametrize(
    ("points", "per_yuan", "fen"),
    [(250, 100, 250), (100, 100, 100), (199, 1000, 19), (99, 100, 99), (1, 1000, 0), (12345, 7, 176357)],
)
def test_points_are_worth_points_over_rate_rounded_down(points, per_yuan, fen):
    assert points_value_fen(points, per_yuan) == fen
    assert fen == int((Decimal(points) / per_yuan * 100).to_integral_value(rounding="ROUND_FLOOR"))


@pytest.mark.parametrize(
    ("ref", "masked"),
    [
        ("ORD-20261120-7788", "ORD-****-7788"),
        ("1234567890", "****7890"),
        ("ORD-7788", "ORD-****"),
        ("PD_2026112000001234", "PD_****1234"),
        ("x", "****"),
    ],
)
def test_refs_are_masked(ref, masked):
    assert mask_ref(ref) == masked


def test_shards_are_stable_and_spread():
    assert shard_of("ORD-1", 256) == shard_of("ORD-1", 256)  # a replay hits the same shard
    used = {shard_of(f"ORD-{i}", 16) for i in range(400)}
    assert used == set(range(16))
