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

from chalicelib.errors import RotationConflict
from chalicelib.homepage.engine import RotationState, rotate
from chalicelib.homepage.stored import entry_from_doc, rotation_doc
from chalicelib.store.rotations import RotationStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RotationOutcome:
    """What one run did: ``written`` False means another run won the race."""

    rotation: int
    written: bool
    slots: int
    message: str


def run_rotation(store: RotationStore, at: datetime, slots: int, history_days: int = 30) -> RotationOutcome:
    """Run one rotation at the aware instant ``at`` (``ROTATION_MINUTES`` apart).

    Reads: one strongly consistent ``Query`` (and its pages) of the previous
    rotation, the live release's number and its homepage campaigns
    (:meth:`~chalicelib.store.rotations.RotationStore.get_rotation_inputs`). Writes one
    transaction of two items (the rotation and its history, TTL
    ``history_days``), conditional on the previous rotation number, so of
    two concurrent runs one writes and the other returns ``written=False``.
    """
    inputs = store.get_rotation_inputs()
    live = [e for e in (entry_from_doc(d) for d in inputs.entries) if e.live_at(at)]
    previous_doc = inputs.rotation
    previous_number = None if previous_doc is None else int(previous_doc["rotation"])
    previous_state = RotationState.from_doc(None if previous_doc is None else previous_doc.get("state"))
    number = (previous_number or 0) + 1
    result = rotate(live, slots, previous_state, number)
    expires = int((at + timedelta(days=history_days)).timestamp())
    doc = rotation_doc(result, at, inputs.release)
    try:
        store.put_rotation(doc, previous_number, expires)
    except RotationConflict as exc:
        log.info("rotation %s not written: %s", number, exc)
        return RotationOutcome(number, False, 0, f"rotation {number} was written by another run; nothing to do")
    return RotationOutcome(number, True, len(result.slots), f"rotation {number}: {len(result.slots)} slots")
