"""The rotation history read back: gaps in the schedule.

Pure: the history documents (:func:`chalicelib.homepage.stored.rotation_doc`'s
shape, as :meth:`~chalicelib.store.rotations.RotationStore.rotation_history`
returns them) in, findings out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from chalicelib.domain.times import parse_stored

# A rotation that comes less than this late is not a gap: the scheduler's own jitter.
GAP_SLACK = timedelta(minutes=1)


def gaps(docs: Sequence[Mapping[str, Any]], rotation_minutes: int) -> list[tuple[int, int, float]]:
    """``(older rotation, newer rotation, minutes between them)`` for every two consecutive
    rotations of ``docs`` (any order) more than ``rotation_minutes`` (+ :data:`GAP_SLACK`) apart:
    the homepage ran past its last rotation's spans there (docs/runbook.md, "A stalled schedule")."""
    ordered = sorted(docs, key=lambda d: int(d["rotation"]))
    limit = timedelta(minutes=rotation_minutes) + GAP_SLACK
    out = []
    for older, newer in zip(ordered, ordered[1:], strict=False):
        apart = parse_stored(newer["rotated_at"]) - parse_stored(older["rotated_at"])
        if apart > limit:
            out.append((int(older["rotation"]), int(newer["rotation"]), apart.total_seconds() / 60))
    return out
