"""Stored instants: aware ISO 8601 text in documents and items, aware ``datetime`` in code.

Every time the platform stores is written by :func:`to_stored` (ISO 8601 with
its offset) and read back by :func:`parse_stored`, which refuses a naive
result: a time without an offset is a bug, never "local time" here.
"""

from __future__ import annotations

from datetime import datetime


def to_stored(at: datetime) -> str:
    """An aware instant as ISO 8601 text with its offset. Raises ``ValueError`` for a naive one."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: instants are aware")
    return at.isoformat()


def parse_stored(text: str) -> datetime:
    """ISO 8601 text with an offset -> aware ``datetime``. Raises ``ValueError`` when naive or malformed."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"naive datetime in stored data: {text!r}")
    return parsed


def parse_stored_or_none(text: str | None) -> datetime | None:
    """:func:`parse_stored`, with ``None`` for ``None`` (an optional instant: ``ends_at``, ``teaser_from``)."""
    return None if text is None else parse_stored(text)


def stored_or_none(at: datetime | None) -> str | None:
    """:func:`to_stored`, with ``None`` for ``None``."""
    return None if at is None else to_stored(at)
