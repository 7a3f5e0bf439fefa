"""The state of a campaign at an instant, and how long that state lasts.

States (the brief, "Campaign states at the request's instant t"):

=========  =====================================================  ======
state      when                                                   status
=========  =====================================================  ======
hidden     t < teaser_from (or t < starts_at without a teaser)    404
teaser     teaser_from <= t < starts_at                           200
live       starts_at <= t < ends_at (``ends_at`` exclusive)       200
ended      t >= ends_at                                           410
=========  =====================================================  ======

All comparisons are between aware datetimes, so a campaign's time zone only
matters for display.
"""
from __future__ import annotations

import math
from datetime import datetime

from chalicelib.domain.model import Campaign

HIDDEN = "hidden"
TEASER = "teaser"
LIVE = "live"
ENDED = "ended"

STATUS = {HIDDEN: 404, TEASER: 200, LIVE: 200, ENDED: 410}

MAX_AGE_CAP_S = 300  # the brief: "nor longer than 300"


def state_at(campaign: Campaign, at: datetime) -> str:
    """``hidden`` | ``teaser`` | ``live`` | ``ended`` at the aware instant ``at``."""
    if campaign.ends_at is not None and at >= campaign.ends_at:
        return ENDED
    if at >= campaign.starts_at:
        return LIVE
    if campaign.teaser_from is not None and at >= campaign.teaser_from:
        return TEASER
    return HIDDEN


def is_live(campaign: Campaign, at: datetime) -> bool:
    return state_at(campaign, at) == LIVE


def next_change(campaign: Campaign, at: datetime) -> datetime | None:
    """The first boundary strictly after ``at``, or ``None`` when the state is final."""
    first = None
    for boundary in (campaign.teaser_from, campaign.starts_at, campaign.ends_at):
        if boundary is not None and boundary > at and (first is None or boundary < first):
            first = boundary
    return first


def max_age_s(until: datetime | None, at: datetime, cap_s: int = MAX_AGE_CAP_S) -> int:
    """Whole seconds a response made at ``at`` may be cached.

    Never past ``until`` (the next state change) and never over ``cap_s``
    (300 s, the brief). Rounded down, so a page is never served past its
    boundary by a cache; 0 when the change is under a second away.
    """
    if until is None:
        return cap_s
    remaining = (until - at).total_seconds()
    return max(0, min(cap_s, math.floor(remaining)))
