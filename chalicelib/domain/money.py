"""Money and rates: integer fen inside, ``Decimal`` text at the edges, never ``float``.

1 yuan = 100 fen (CNY). A rate is ``Decimal`` percent (``Decimal("5.5")`` is
5.5 %), written ``"5.5%"``. Rounding is named where it happens: a donation
rounds half up to the fen (docs/donations.md), a share of a goal rounds down
to 0.1 %.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

_CENT = Decimal("0.01")


def yuan_to_fen(amount: Decimal) -> int:
    """``Decimal("39.90")`` -> ``3990``. Raises ``ValueError`` past 2 decimals."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimals")
    return int(fen)


def parse_yuan(text: str) -> int:
    """Stored money text -> fen: ``"39.90"`` -> ``3990``.

    Raises ``ValueError`` for text that is not a decimal or has more than 2 decimals.
    """
    try:
        return yuan_to_fen(Decimal(text))
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of money") from None


def fen_to_yuan_str(fen: int) -> str:
    """``3990`` -> ``"39.90"``; ``-250`` -> ``"-2.50"`` (exactly 2 decimals)."""
    return str((Decimal(fen) / 100).quantize(_CENT))


def percent_str(rate_percent: Decimal) -> str:
    """``Decimal("5.50")`` -> ``"5.5%"``; ``Decimal("8")`` -> ``"8%"``."""
    text = format(rate_percent.normalize(), "f")
    return f"{text}%"


def parse_percent(text: str) -> Decimal:
    """``"5.5%"`` -> ``Decimal("5.5")``. Raises ``ValueError`` when not ``N%``."""
    stripped = text.strip()
    if not stripped.endswith("%"):
        raise ValueError(f"{text!r} is not a percentage like 5.5%")
    try:
        return Decimal(stripped[:-1].strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a percentage like 5.5%") from None


def donation_fen(amount_fen: int, rate_percent: Decimal) -> int:
    """``amount × rate`` rounded half up to the fen (docs/donations.md).

    >>> donation_fen(1250, Decimal("1"))     # 12.50 at 1 % -> 0.13
    13
    """
    exact = Decimal(amount_fen) * rate_percent / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of_goal(raised_fen: int, goal_fen: int) -> Decimal:
    """Raised as a percent of the goal, rounded down to 0.1, NOT capped: past the goal it passes 100.

    A goal of 0 or less (refused by the validator) gives 0.

    >>> percent_of_goal(7_500_000, 6_000_000)
    Decimal('125')
    >>> percent_of_goal(1, 3)
    Decimal('33.3')
    """
    if goal_fen <= 0:
        return Decimal(0)
    share = Decimal(max(0, raised_fen) * 100) / Decimal(goal_fen)
    return share.quantize(Decimal("0.1"), ROUND_DOWN).normalize()
