"""The rotation with no I/O: ``campaign rotate --simulate`` and ``campaign preview --homepage``.

The same pure engine as the scheduled rotation (:func:`chalicelib.homepage.engine.rotate`),
run every ``minutes`` over an interval, each rotation shown as the homepage would show it at
its own instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.homepage.engine import HomepageEntry, RotationResult, RotationState, Slot, homepage_view, rotate


@dataclass(frozen=True)
class SimulatedRotation:
    """One simulated rotation: its number, instant, the engine's result and the slots shown then."""

    rotation: int
    at: datetime
    result: RotationResult
    view: tuple[Slot, ...]

    def to_json(self) -> dict[str, Any]:
        """The shape ``campaign rotate --simulate --json`` prints: ``{"rotation", "at", "slots": [...]}``."""
        return {
            "rotation": self.rotation,
            "at": self.at.isoformat(),
            "slots": [
                {"position": s.position, "campaign_id": s.pick.campaign_id, "sku": s.pick.sku, "pinned": s.pinned}
                for s in self.view
            ],
        }


def simulate(
    entries: Sequence[HomepageEntry], start: datetime, end: datetime, slots: int, minutes: int
) -> list[SimulatedRotation]:
    """The rotations that would run every ``minutes`` at ``start <= at < end``.

    Starts at rotation 1 with no history; each rotation is shown as the
    homepage would show it at its own instant. Writes nothing.
    """
    out: list[SimulatedRotation] = []
    state = RotationState()
    at, number = start, 1
    step = timedelta(minutes=minutes)
    while at < end:
        live = [e for e in entries if e.live_at(at)]
        result = rotate(live, slots, state, number)
        state = result.state
        view = tuple(homepage_view(result.slots, result.spares, at, slots))
        out.append(SimulatedRotation(number, at, result, view))
        at += step
        number += 1
    return out
