"""A campaign's donation figures, as values (no I/O).

:class:`CampaignBooks` is what the counter shards add up to (the store sums
them, :mod:`chalicelib.store.books`); :class:`CharityTotals` is the part of it
a page shows, small and hashable, so it can be part of a rendered page's cache
key (:mod:`chalicelib.web.page_cache`). Amounts are integer fen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


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

    @property
    def raised_fen(self) -> int:
        return self.raised_sales_fen + self.raised_points_fen

    def charity_totals(self) -> CharityTotals:
        """The figures a page shows (hashable: part of the page cache's key)."""
        return CharityTotals(self.raised_sales_fen, self.raised_points_fen, self.sales_fen)


@dataclass(frozen=True)
class CharityTotals:
    """What a charity page shows of a campaign's books (:meth:`CampaignBooks.charity_totals`), integer fen.

    ``sales_fen`` is the gross paid amount of its orders net of refunds.
    """

    raised_from_sales_fen: int = 0
    raised_from_points_fen: int = 0
    sales_fen: int = 0

    @property
    def raised_fen(self) -> int:
        return self.raised_from_sales_fen + self.raised_from_points_fen


TotalsSource = Callable[[str], CharityTotals]


def no_totals(campaign_id: str) -> CharityTotals:
    """The totals of a stage with no sales recorded (previews from YAML)."""
    return CharityTotals()
