"""A campaign's time window: its state at an instant, and when that state changes.

States at the request's instant ``t`` (docs/architecture.md, "Campaign states"):

=========  =====================================================  ======
state      when                                                   status
=========  =====================================================  ======
hidden     t < teaser_from (or t < starts_at without a teaser)    404
teaser     teaser_from <= t < starts_at                           200
live       starts_at <= t < ends_at (``ends_at`` exclusive)       200
ended      t >= ends_at                                           410
=========  =====================================================  ======

All comparisons are between aware datetimes, so a campaign's time zone only
matters for display. This is the one home of "live at t": the campaign pages,
the homepage rotation, the catalog rows, the books and the validator all ask
a :class:`Window`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

HIDDEN = "hidden"
TEASER = "teaser"
LIVE = "live"
ENDED = "ended"

STATUS = {HIDDEN: 404, TEASER: 200, LIVE: 200, ENDED: 410}

# A page's Cache-Control max-age never passes 300 s, nor its next state change (docs/architecture.md).
MAX_AGE_CAP_S = 300


@dataclass(frozen=True)
class Window:
    """``teaser_from`` (optional) <= ``starts_at`` (inclusive) < ``ends_at`` (exclusive; ``None``: open-ended).

    Every instant is an aware ``datetime``.
    """

    starts_at: datetime
    ends_at: datetime | None = None
    teaser_from: datetime | None = None

    def live_at(self, at: datetime) -> bool:
        """``starts_at <= at < ends_at``."""
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)

    def state_at(self, at: datetime) -> str:
        """``hidden`` | ``teaser`` | ``live`` | ``ended`` at the aware instant ``at``."""
        if self.ends_at is not None and at >= self.ends_at:
            return ENDED
        if at >= self.starts_at:
            return LIVE
        if self.teaser_from is not None and at >= self.teaser_from:
            return TEASER
        return HIDDEN

    def overlaps(self, other: Window) -> bool:
        """Whether the two live spans share an instant (each ``[starts_at, ends_at)``)."""
        return (other.ends_at is None or self.starts_at < other.ends_at) and (
            self.ends_at is None or other.starts_at < self.ends_at
        )

    def visible_at(self, at: datetime) -> bool:
        """Whether a page exists at ``at`` (teaser, live or ended)."""
        return self.state_at(at) != HIDDEN

    def boundaries(self) -> tuple[datetime, ...]:
        """``teaser_from``, ``starts_at`` and ``ends_at``, those that are set, in order."""
        return tuple(b for b in (self.teaser_from, self.starts_at, self.ends_at) if b is not None)

    def next_change(self, at: datetime) -> datetime | None:
        """The first boundary strictly after ``at``, or ``None`` when the state is final."""
        later = [b for b in self.boundaries() if b > at]
        return min(later) if later else None


def max_age_s(until: datetime | None, at: datetime, cap_s: int = MAX_AGE_CAP_S) -> int:
    """Whole seconds a response made at ``at`` may be cached.

    Never past ``until`` (the next state change) and never over ``cap_s``
    (300 s). Rounded down, so a page is never served past its boundary by a
    cache; 0 when the change is under a second away.
    """
    if until is None:
        return cap_s
    remaining = (until - at).total_seconds()
    return max(0, min(cap_s, math.floor(remaining)))
