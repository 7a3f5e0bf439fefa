"""Clocks. A clock is any zero-argument callable returning an aware UTC datetime.

- :func:`system_clock`: the real wall clock (UTC).
- :class:`FixedClock`: frozen at one instant; tests move it with ``set``/``advance``.
- :class:`ShiftedClock`: starts at a chosen instant and runs on in real time
  (``campaign serve --at`` / ``make run AT=...``: the local stage only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset -> aware UTC datetime.

    Raises ``ValueError`` for text that is not ISO 8601 or has no offset
    (a command line TIME is ISO 8601 with an offset, README "The CLI"). ``Z`` is accepted.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time; write e.g. 2026-10-17T09:00+08:00") from None
    if value.tzinfo is None or value.utcoffset() is None:
        example = value.isoformat(timespec="minutes") + "+08:00"
        raise ValueError(f"{text!r} has no UTC offset; write e.g. {example}")
    return value.astimezone(UTC)


class FixedClock:
    """A clock that stays where it is put."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._at += delta


class ShiftedClock:
    """Starts at ``start`` and runs on at the pace of ``base`` (the real clock)."""

    def __init__(self, start: datetime, base: Clock = system_clock) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start.astimezone(UTC) - base()
        self._base = base

    def __call__(self) -> datetime:
        return self._base() + self._offset
