"""The studio's fairness chart: one day of homepage rotations, each campaign's appearances against its quota.

The rotations are those of ``campaign rotate --simulate --from <day 00:00> --to <next
day 00:00>`` (:func:`chalicelib.homepage.simulation.simulate`, the scheduled
rotation's engine): rotation 1 at the day's first instant in the chosen zone, one
every ``ROTATION_MINUTES``, each shown as the homepage would show it then.

The quota rule is the rotation's own (docs/architecture.md, "Homepage rotation"):
counted from the rotation at which the live set last changed (a *segment*), a
campaign's unpinned appearances after those rotations stay within ±1 of
``house × weight / Σweight``, where ``house`` is every unpinned appearance handed
out in the segment (``R × free slots`` when the free slots stay the same). The
counts here are read from the simulated homepage (what ``--simulate`` prints), the
quotas are exact fractions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction

from chalicelib.domain.model import Campaign
from chalicelib.homepage.simulation import SimulatedRotation, simulate
from chalicelib.homepage.stored import entries_from_campaigns


@dataclass(frozen=True)
class Share:
    """One campaign in one segment: its ``weight``, unpinned ``appearances`` and exact ``quota``."""

    campaign_id: str
    weight: int
    appearances: int
    quota: Fraction

    @property
    def within(self) -> bool:
        """Strictly within ±1 of the quota (the rotation's bound)."""
        return abs(self.appearances - self.quota) < 1


@dataclass(frozen=True)
class Segment:
    """Rotations ``first``..``last`` (numbers) over one live set, and each campaign's share of them."""

    first: int
    last: int
    first_at: datetime
    last_at: datetime
    free_seats: int
    shares: tuple[Share, ...]

    @property
    def rotations(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class RotationLine:
    """One rotation: its number, instant, and per campaign ``(shown now, so far in the segment, quota so far)``."""

    rotation: int
    at: datetime
    counts: tuple[tuple[str, int, int, Fraction], ...]


@dataclass(frozen=True)
class DayChart:
    """The day's segments and rotation lines, and the simulated rotations themselves (``runs``)."""

    day: date
    start: datetime
    end: datetime
    slots: int
    minutes: int
    runs: tuple[SimulatedRotation, ...]
    segments: tuple[Segment, ...]
    lines: tuple[RotationLine, ...]

    @property
    def scale(self) -> Fraction:
        """The largest figure a bar shows (appearances or quota + 1), at least 1."""
        figures = [max(Fraction(s.appearances), s.quota + 1) for seg in self.segments for s in seg.shares]
        return max(figures, default=Fraction(1))


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in ``zone`` (aware)."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def day_chart(campaigns: Sequence[Campaign], day: date, zone: tzinfo, slots: int, minutes: int) -> DayChart:
    """The fairness figures of ``day`` in ``zone`` for ``slots`` homepage slots, a rotation every ``minutes``."""
    start, end = day_bounds(day, zone)
    entries = entries_from_campaigns(campaigns)
    weights = {e.campaign_id: e.weight for e in entries}
    runs = simulate(entries, start, end, slots, minutes)
    segments: list[Segment] = []
    lines: list[RotationLine] = []
    current: list[SimulatedRotation] = []
    so_far: dict[str, int] = {}

    def close() -> None:
        if not current:
            return
        ids = sorted(so_far)
        house = sum(so_far.values())
        total = sum(weights[c] for c in ids)
        shares = tuple(Share(c, weights[c], so_far[c], Fraction(house * weights[c], total)) for c in ids)
        segments.append(Segment(current[0].rotation, current[-1].rotation, current[0].at, current[-1].at, house, shares))

    for run in runs:
        state = run.result.state
        if not state.live_key:  # no campaign with unpinned picks is live: nothing to share
            close()
            current, so_far = [], {}
            continue
        if current and current[-1].result.state.base_rotation != state.base_rotation:
            close()
            current, so_far = [], {}
        if not current:
            so_far = {c: 0 for c in state.seats}
        current.append(run)
        shown = {c: 0 for c in so_far}
        for slot in run.view:
            if not slot.pinned and slot.pick.campaign_id in shown:
                shown[slot.pick.campaign_id] += 1
        for c, n in shown.items():
            so_far[c] += n
        house = sum(so_far.values())
        total = sum(weights[c] for c in so_far)
        counts = tuple((c, shown[c], so_far[c], Fraction(house * weights[c], total)) for c in sorted(so_far))
        lines.append(RotationLine(run.rotation, run.at, counts))
    close()
    return DayChart(day, start, end, slots, minutes, tuple(runs), tuple(segments), tuple(lines))
