"""The return-window buckets of a charity sale's counter shards (docs/donations.md, "The arithmetic").

A sale's donation is pending while its order may still be returned. Each counter write of a
charity sale or of its refund ADDs its donation (or minus its reversal) to the bucket of the
order's paid second while the order is pending, REMOVEs the buckets whose window has closed,
and counts itself under the window it was booked with (``W:<days>``, which a publish checks:
chalicelib.releases.book_checks).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.totals import DAY_S, paid_second
from chalicelib.store.items import paid_attribute, window_attribute

SWEEP_S = 60  # buckets of closed return windows each counter write removes (docs/donations.md)


def window_deltas(paid_at: datetime, fen: int, received_at: datetime, return_days: int) -> dict[str, int | None]:
    """The counter changes that keep a sale's donation in its return window (docs/donations.md).

    ``fen`` (a donation, or a negative reversal) is ADDed to the bucket of the order's paid
    second while that order is pending at ``received_at``; once it is confirmed nothing needs
    a bucket (confirmed = raised - pending). The :data:`SWEEP_S` buckets whose window closed
    in the seconds before ``received_at`` are REMOVEd (``None``): no reader counts them, and
    no writer targets them again, so the item holds about one bucket a pending second. The
    write is counted under its window (``W:<return_days>``), which a publish checks.
    """
    horizon = return_days * DAY_S
    out: dict[str, int | None] = {window_attribute(return_days): 1}
    last_closed = int(received_at.timestamp() // 1) - horizon
    for paid in range(last_closed - SWEEP_S + 1, last_closed + 1):
        out[paid_attribute(paid)] = None
    paid = paid_second(paid_at)
    if fen and paid + horizon > received_at.timestamp():
        out[paid_attribute(paid)] = fen
    return out
