"""A campaign's donation figures, as values (no I/O).

:class:`CampaignBooks` is what the counter shards add up to (the store sums
them, :mod:`chalicelib.store.books`); :class:`CharityTotals` is the part of it
a page shows, small and hashable, so it can be part of a rendered page's cache
key (:mod:`chalicelib.web.page_cache`). Amounts are integer fen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

DAY_S = 86_400


@dataclass(frozen=True)
class CampaignBooks:
    """A campaign's counters summed over its shards (integer fen and counts).

    ``sales_fen`` is the paid amount of its orders net of refunds;
    ``by_county``/``by_merchant`` split it by county code and merchant id.
    """

    sales_fen: int = 0
    orders: int = 0
    refunds: int = 0
    raised_sales_fen: int = 0
    raised_points_fen: int = 0
    point_donations: int = 0
    points: int = 0
    by_county: dict[str, int] = field(default_factory=dict)
    by_merchant: dict[str, int] = field(default_factory=dict)
    # the part of raised_sales_fen that may still be pending, by the paid second of its orders
    by_paid_s: dict[int, int] = field(default_factory=dict)
    # the charity writes (sales and refunds) by the return window, in days, they were booked under
    by_window: dict[int, int] = field(default_factory=dict)

    @property
    def raised_fen(self) -> int:
        return self.raised_sales_fen + self.raised_points_fen

    def charity_totals(self) -> CharityTotals:
        """The figures a page shows (hashable: part of the page cache's key)."""
        buckets = tuple(sorted((k, v) for k, v in self.by_paid_s.items() if v))
        return CharityTotals(self.raised_sales_fen, self.raised_points_fen, self.sales_fen, buckets)


@dataclass(frozen=True)
class CharityTotals:
    """What a charity page shows of a campaign's books (:meth:`CampaignBooks.charity_totals`), integer fen.

    ``sales_fen`` is the gross paid amount of its orders net of refunds.
    """

    raised_from_sales_fen: int = 0
    raised_from_points_fen: int = 0
    sales_fen: int = 0
    # (paid second, fen): the sale donations that may still be pending, sorted (:func:`paid_second`)
    by_paid_s: tuple[tuple[int, int], ...] = ()

    @property
    def raised_fen(self) -> int:
        return self.raised_from_sales_fen + self.raised_from_points_fen

    def pending_fen(self, at: datetime, return_days: int) -> int:
        """The donations still inside the return window at ``at`` (fen): orders paid in the last ``return_days``."""
        return pending_of(self.by_paid_s, at, return_days)

    def confirmed_fen(self, at: datetime, return_days: int) -> int:
        """``raised - pending`` at ``at`` (fen): sale donations past the window, and every point donation."""
        return self.raised_fen - self.pending_fen(at, return_days)

    def next_confirmation(self, at: datetime, return_days: int) -> datetime | None:
        """The first instant after ``at`` at which a pending donation becomes confirmed (``None``: none pending)."""
        now = _epoch(at)
        later = [k + return_days * DAY_S for k, v in self.by_paid_s if v and k + return_days * DAY_S > now]
        return None if not later else datetime.fromtimestamp(min(later), UTC)


TotalsSource = Callable[[str], CharityTotals]
# Several campaigns' totals at once (their shards read together: ``campaign id -> CharityTotals``).
TotalsOf = Callable[[Sequence[str]], Mapping[str, CharityTotals]]


# ------------------------------------------------------------------ pending, then confirmed (docs/donations.md)


def _epoch(at: datetime) -> float:
    return at.timestamp()


def paid_second(paid_at: datetime) -> int:
    """The whole second (Unix epoch) from which an order's return window is counted: ``paid_at`` rounded UP.

    A ``paid_at`` of 10:00:00 counts from 10:00:00; one of 10:00:00.2 from 10:00:01, so a
    donation is never confirmed before its window has passed (docs/donations.md).
    """
    return math.ceil(paid_at.timestamp())


def confirms_at(paid_at: datetime, return_days: int) -> datetime:
    """The instant a sale's donation stops being pending: :func:`paid_second` + ``return_days`` days (UTC)."""
    return datetime.fromtimestamp(paid_second(paid_at), UTC) + timedelta(days=return_days)


def is_pending(paid_at: datetime, at: datetime, return_days: int) -> bool:
    """Whether a sale paid at ``paid_at`` is still inside its return window at ``at``."""
    return at < confirms_at(paid_at, return_days)


def pending_of(by_paid_s: Iterable[tuple[int, int]] | Mapping[int, int], at: datetime, return_days: int) -> int:
    """The sum (fen) of the buckets whose paid second is within ``return_days`` before ``at``."""
    items = by_paid_s.items() if isinstance(by_paid_s, Mapping) else by_paid_s
    now = _epoch(at)
    return sum(v for k, v in items if k + return_days * DAY_S > now)


def no_totals(campaign_id: str) -> CharityTotals:
    """The totals of a stage with no sales recorded (previews from YAML)."""
    return CharityTotals()


def no_totals_of(campaign_ids: Sequence[str]) -> Mapping[str, CharityTotals]:
    """:func:`no_totals` of several campaigns."""
    return {cid: CharityTotals() for cid in campaign_ids}


@dataclass(frozen=True)
class CharityFigures:
    """A charity sale's books at one instant, in fen (docs/donations.md, "Pending, then confirmed").

    ``raised = confirmed + pending`` (= the sum of the ledger); ``balance = confirmed - disbursed``;
    ``next_change``: the next instant a pending donation becomes confirmed (``None``: none pending).
    """

    raised_fen: int
    confirmed_fen: int
    pending_fen: int
    disbursed_fen: int
    next_change: datetime | None

    @property
    def balance_fen(self) -> int:
        return self.confirmed_fen - self.disbursed_fen

    def key(self) -> tuple[int, int, int]:
        """What a rendered page depends on (part of a page cache key)."""
        return (self.confirmed_fen, self.pending_fen, self.disbursed_fen)


def charity_figures(totals: CharityTotals, at: datetime, return_days: int, disbursed_fen: int) -> CharityFigures:
    """The figures of ``totals`` at the aware instant ``at`` with a ``return_days`` window."""
    pending = totals.pending_fen(at, return_days)
    return CharityFigures(
        raised_fen=totals.raised_fen,
        confirmed_fen=totals.raised_fen - pending,
        pending_fen=pending,
        disbursed_fen=disbursed_fen,
        next_change=totals.next_confirmation(at, return_days),
    )
