"""Homepage exposure for one day: per campaign and per county, slot appearances and minutes shown,
against the quota. Pure: the day's rotations (parsed, oldest first) in, figures out.

Each rotation shows from its ``rotated_at`` to the next one's (the last: to ``now``); in
between, :meth:`~chalicelib.homepage.stored.StoredRotation.view` gives the slots of every
stretch between two of its edges (span starts and campaign windows, so a stalled
schedule's tail is counted as shown: live picks only). For each stretch:

- an *appearance* is one slot shown for the stretch (pinned ones apart); *minutes* are
  the stretch's length for each slot;
- the *quota* is the engine's exact share of the free slots,
  ``free × weight / Σweight`` over the campaigns on the homepage with unpinned picks
  (``free``: the slots after the pins), in appearances and in minutes. The engine keeps
  every campaign within ±1 appearance of it from the step at which the live set last
  changed (docs/architecture.md, "Homepage rotation"), where it has enough picks;
- a county's figures are its picks' appearances and minutes, and as its quota each
  campaign's quota split by the county's share of the campaign's unpinned picks (picks
  take their turns in order, so that is what fair turns give it).

Stretches are cut at the day's ends, so an appearance across midnight counts on both days.
Rotations written before rotations carried their entries have no weights: their slots count,
their quota does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.homepage.stored import StoredRotation

UNKNOWN_COUNTY = ""  # a pick whose campaign the live release no longer has


@dataclass
class Exposure:
    """The figures of one campaign or county: unpinned appearances and minutes, their quota,
    and pinned appearances and minutes apart (pins are not rotated, so they have no quota)."""

    appearances: int = 0
    minutes: float = 0.0
    quota_appearances: float = 0.0
    quota_minutes: float = 0.0
    pinned_appearances: int = 0
    pinned_minutes: float = 0.0

    def to_json(self) -> dict[str, float | int]:
        """Minutes and quotas rounded to 0.01."""
        return {
            "appearances": self.appearances,
            "minutes": round(self.minutes, 2),
            "quota_appearances": round(self.quota_appearances, 2),
            "quota_minutes": round(self.quota_minutes, 2),
            "pinned_appearances": self.pinned_appearances,
            "pinned_minutes": round(self.pinned_minutes, 2),
        }


@dataclass
class DayExposure:
    """``campaigns`` and ``counties`` (county code -> figures; :data:`UNKNOWN_COUNTY` for picks
    of campaigns no longer published); ``covered_minutes``: how much of the day the history
    covers (less than the day before the first rotation, past ``now``, or past the history's TTL)."""

    start: datetime
    end: datetime
    rotations: list[int] = field(default_factory=list)
    covered_minutes: float = 0.0
    campaigns: dict[str, Exposure] = field(default_factory=dict)
    counties: dict[str, Exposure] = field(default_factory=dict)


def day_exposure(
    rotations: Sequence[StoredRotation],
    start: datetime,
    end: datetime,
    now: datetime,
    slots: int,
    counties: Mapping[str, Mapping[str, str]],
) -> DayExposure:
    """The figures of ``[start, end)`` (aware instants; the day in Asia/Shanghai) up to ``now``.

    ``rotations``: oldest first, the one in force at ``start`` included; ``slots``:
    ``HOMEPAGE_SLOTS``; ``counties``: campaign id -> SKU -> county code, from the live
    release (a campaign's unpinned picks in it give the county shares of its quota).
    """
    day = DayExposure(start, end)
    for i, rotation in enumerate(rotations):
        shown_until = rotations[i + 1].rotated_at if i + 1 < len(rotations) else now
        lo, hi = max(rotation.rotated_at, start), min(shown_until, end, now)
        if lo >= hi:
            continue
        day.rotations.append(int(rotation.doc["rotation"]))
        cuts = sorted({lo, hi, *(e for e in rotation.edges() if lo < e < hi)})
        for a, b in zip(cuts, cuts[1:], strict=False):
            _stretch(day, rotation, a, (b - a).total_seconds() / 60, slots, counties)
    return day


def _stretch(
    day: DayExposure,
    rotation: StoredRotation,
    at: datetime,
    minutes: float,
    slots: int,
    counties: Mapping[str, Mapping[str, str]],
) -> None:
    """Add one stretch of ``minutes`` from ``at``, during which the view does not change."""
    day.covered_minutes += minutes
    shown = rotation.view(at, slots)
    for slot in shown:
        cid, sku = slot.pick.campaign_id, slot.pick.sku
        for figures in (
            day.campaigns.setdefault(cid, Exposure()),
            day.counties.setdefault(_county(counties, cid, sku), Exposure()),
        ):
            if slot.pinned:
                figures.pinned_appearances += 1
                figures.pinned_minutes += minutes
            else:
                figures.appearances += 1
                figures.minutes += minutes
    rotating = [e for e in rotation.entries if e.live_at(at) and e.unpinned]
    total_weight = sum(e.weight for e in rotating)
    free = min(slots, rotation.slot_count or slots) - sum(1 for s in shown if s.pinned)
    if not total_weight or free <= 0:
        return
    for e in rotating:
        quota = free * e.weight / total_weight
        figures = day.campaigns.setdefault(e.campaign_id, Exposure())
        figures.quota_appearances += quota
        figures.quota_minutes += quota * minutes
        for code, share in _county_shares(counties, e.campaign_id, e.pinned).items():
            county = day.counties.setdefault(code, Exposure())
            county.quota_appearances += quota * share
            county.quota_minutes += quota * minutes * share


def _county(counties: Mapping[str, Mapping[str, str]], campaign_id: str, sku: str) -> str:
    return counties.get(campaign_id, {}).get(sku, UNKNOWN_COUNTY)


def _county_shares(counties: Mapping[str, Mapping[str, str]], campaign_id: str, pinned: Sequence[str]) -> dict[str, float]:
    """County code -> its share of the campaign's unpinned picks (all of it unknown when it is gone)."""
    codes = [code for sku, code in counties.get(campaign_id, {}).items() if sku not in set(pinned)]
    if not codes:
        return {UNKNOWN_COUNTY: 1.0}
    out: dict[str, float] = {}
    for code in codes:
        out[code] = out.get(code, 0.0) + 1 / len(codes)
    return out
