"""The rotation history read back: gaps in the schedule, and the rotations of one day.

Pure: the history documents (:func:`chalicelib.homepage.stored.rotation_doc`'s
shape, as :meth:`~chalicelib.store.rotations.RotationStore.rotation_history`
returns them) in, findings out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
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


def day_history(
    read_from: Callable[[int], tuple[list[dict[str, Any]], bool]],
    current: Mapping[str, Any],
    start: datetime,
    end: datetime,
    rotation_minutes: int,
) -> list[dict[str, Any]]:
    """The rotation documents that were in force during ``[start, end)``, oldest first: the one
    in force at ``start`` (if the history still has it) and every one written before ``end``.

    ``read_from(n)``: one page of the history from rotation ``n`` on, oldest first, and whether
    more follow (:meth:`~chalicelib.store.rotations.RotationStore.rotations_from`); ``current``:
    the live rotation document. Rotation numbers grow by one a rotation, so the first page is
    read from an estimate (the number at ``start`` if the schedule kept its period, a little
    less); when that page begins after ``start`` (more rotations than the schedule's ran since,
    by hand), it steps back a day of rotations at a time. About one page for a day.
    """
    number, at = int(current["rotation"]), parse_stored(current["rotated_at"])
    if at < start:
        return [dict(current)]
    per_day = int(timedelta(days=1) / timedelta(minutes=rotation_minutes))
    first = max(1, number - int((at - start) / timedelta(minutes=rotation_minutes)) - 2)
    for _ in range(30):
        docs, more = read_from(first)
        if first == 1 or not docs or int(docs[0]["rotation"]) > first or parse_stored(docs[0]["rotated_at"]) <= start:
            break  # from the first rotation, from the oldest the TTL kept, or from before the day
        first = max(1, first - per_day)
    out: list[dict[str, Any]] = []
    while True:
        for doc in docs:
            if parse_stored(doc["rotated_at"]) >= end:
                return out
            if parse_stored(doc["rotated_at"]) <= start:
                out = [doc]  # the latest one in force at the day's start
            else:
                out.append(doc)
        if not more or not docs:
            return out
        docs, more = read_from(int(docs[-1]["rotation"]) + 1)
