"""The rotation job: read the release's homepage campaigns, run the pure engine, write one rotation.

The scheduled function ``rotate_homepage`` and ``campaign rotate`` both call
:func:`run_rotation`. The engine is :mod:`chalicelib.homepage.engine`; the
stored shapes are :mod:`chalicelib.homepage.stored`; the same engine with no
I/O is :mod:`chalicelib.homepage.simulation`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import Clock
from chalicelib.errors import RotationConflict
from chalicelib.homepage.engine import RotationState
from chalicelib.homepage.spans import stored_plan
from chalicelib.homepage.stored import entry_from_doc, rotation_doc
from chalicelib.observability import Observability
from chalicelib.store.rotations import RotationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RotationOutcome:
    """What one run did: ``written`` False means another run won the race."""

    rotation: int
    written: bool
    slots: int
    message: str

    def as_json(self) -> dict[str, Any]:
        """What the scheduled function returns: ``{"rotation", "written", "message"}``."""
        return {"rotation": self.rotation, "written": self.written, "message": self.message}


class RotationJob:
    """The scheduled rotation of one stage: :func:`run_rotation` at the stage's clock, counted.

    Each run is recorded in the ``Rotations``/``RotationSlots`` metrics as
    ``written``, ``lost`` (another run won) or ``failed`` (the error is raised on).
    ``rotate_homepage``, ``campaign rotate`` and ``campaign serve``'s timer run it.
    """

    def __init__(
        self,
        store: RotationStore,
        clock: Clock,
        slots: int,
        history_days: int,
        observability: Observability,
        minutes: int = 15,
    ) -> None:
        self.store = store
        self.clock = clock
        self.slots = slots
        self.history_days = history_days
        self.observability = observability
        self.minutes = minutes

    def run(self, at: datetime | None = None) -> RotationOutcome:
        """One rotation at ``at`` (default: the clock's now). Raises what the store raises."""
        try:
            at = self.clock() if at is None else at
            outcome = run_rotation(self.store, at, self.slots, self.history_days, self.minutes)
        except Exception:
            self.observability.rotation("failed")
            raise
        self.observability.rotation("written" if outcome.written else "lost", outcome.slots)
        return outcome


def run_rotation(store: RotationStore, at: datetime, slots: int, history_days: int = 30, minutes: int = 15) -> RotationOutcome:
    """Run one rotation at the aware instant ``at`` (``minutes``, ``ROTATION_MINUTES``, apart).

    Lays out every span up to the next scheduled rotation (``at + minutes``): one
    from ``at``, and one from each start or end of a homepage campaign before it
    (:func:`chalicelib.homepage.spans.stored_plan`), so that a request shows a campaign from
    its start and not from the next rotation.

    Reads: one strongly consistent ``Query`` (and its pages) of the previous
    rotation, the live release's number and its homepage campaigns
    (:meth:`~chalicelib.store.rotations.RotationStore.get_rotation_inputs`). Writes one
    transaction of two items (the rotation and its history, TTL
    ``history_days``), conditional on the previous rotation number, so of
    two concurrent runs one writes and the other returns ``written=False``.
    """
    inputs = store.get_rotation_inputs()
    entries = [entry_from_doc(d) for d in inputs.entries]
    previous_doc = inputs.rotation
    previous_number = None if previous_doc is None else int(previous_doc["rotation"])
    previous_state = RotationState.from_doc(None if previous_doc is None else previous_doc.get("state"))
    number = (previous_number or 0) + 1
    spans, kept = stored_plan(entries, slots, previous_state, number, at, at + timedelta(minutes=minutes))
    expires = int((at + timedelta(days=history_days)).timestamp())
    doc = rotation_doc(spans, inputs.release, kept, slots)
    shown = len(spans[0].result.slots)
    try:
        store.put_rotation(doc, previous_number, expires)
    except RotationConflict as exc:
        log.info("rotation %s not written: %s", number, exc)
        return RotationOutcome(number, False, 0, f"rotation {number} was written by another run; nothing to do")
    more = f", {len(spans) - 1} more span(s) before {doc['until']}" if len(spans) > 1 else ""
    return RotationOutcome(number, True, shown, f"rotation {number}: {shown} slots{more}")
