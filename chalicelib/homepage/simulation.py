"""The rotation with no I/O: ``campaign rotate --simulate`` and ``campaign preview --homepage``.

The same pure engine and spans as the scheduled rotation
(:func:`chalicelib.homepage.spans.stored_plan`), run every ``minutes`` over an interval,
each rotation shown as the homepage would show it at its own instant and at the
first instant of each of its spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.homepage.engine import HomepageEntry, RotationResult, RotationState, Slot
from chalicelib.homepage.spans import Span, span_at, stored_plan


def _slots_json(slots: Sequence[Slot]) -> list[dict[str, Any]]:
    return [{"position": s.position, "campaign_id": s.pick.campaign_id, "sku": s.pick.sku, "pinned": s.pinned} for s in slots]


@dataclass(frozen=True)
class SimulatedRotation:
    """One simulated rotation: its number, instant, its spans and the slots shown at its instant."""

    rotation: int
    at: datetime
    spans: tuple[Span, ...]
    slots: int
    entries: tuple[HomepageEntry, ...] = ()  # trimmed, as the rotation would store them

    @property
    def result(self) -> RotationResult:
        """The engine's result at the rotation's own instant (its first span)."""
        return self.spans[0].result

    @property
    def view(self) -> tuple[Slot, ...]:
        """The slots the homepage shows at :attr:`at`."""
        return tuple(self.spans[0].view(self.at, self.slots))

    def view_at(self, at: datetime) -> list[Slot]:
        """The slots the homepage shows at ``at`` (in this rotation's interval, or after it if the schedule stalled)."""
        return span_at(self.spans, at).view(at, self.slots)

    def to_json(self) -> dict[str, Any]:
        """The shape ``campaign rotate --simulate --json`` prints: ``{"rotation", "at", "slots": [...],
        "spans": [{"from", "slots": [...]}]}``; ``spans`` are the layouts from each start or end of a
        homepage campaign before the next rotation (empty when none falls in between)."""
        return {
            "rotation": self.rotation,
            "at": self.at.isoformat(),
            "slots": _slots_json(self.view),
            "spans": [{"from": s.starts.isoformat(), "slots": _slots_json(s.view(s.starts, self.slots))} for s in self.spans[1:]],
        }


def simulate(
    entries: Sequence[HomepageEntry], start: datetime, end: datetime, slots: int, minutes: int
) -> list[SimulatedRotation]:
    """The rotations that would run every ``minutes`` at ``start <= at < end``.

    Starts at rotation 1 with no history; each rotation carries its spans up
    to the next one, as the scheduled rotation does. Writes nothing.
    """
    out: list[SimulatedRotation] = []
    state = RotationState()
    at, number = start, 1
    step = timedelta(minutes=minutes)
    while at < end:
        spans, kept = stored_plan(entries, slots, state, number, at, at + step)
        state = spans[-1].result.state
        out.append(SimulatedRotation(number, at, spans, slots, tuple(kept)))
        at += step
        number += 1
    return out
