"""The local stack's clock offset, shared by ``campaign serve --at`` and the other ``campaign`` commands.

``campaign serve --at T`` runs its clock ahead of (or behind) the real one;
it records by how much in the table (``LOCAL/CLOCK``, see
:mod:`chalicelib.store.keys`), so that ``campaign rotate/publish --stage local``
from another terminal use the same time. Deployed stages never hold this item.
"""

from __future__ import annotations

from chalicelib.store.keys import LOCAL_CLOCK_KEY
from chalicelib.store.table import Table


def put_local_clock_offset_s(table: Table, offset_s: float) -> None:
    """Record how far the local stack's clock runs ahead of the real one (seconds; one ``PutItem``)."""
    table.put({**LOCAL_CLOCK_KEY, "offset_ms": int(offset_s * 1000)})


def get_local_clock_offset_s(table: Table) -> float:
    """The recorded offset of the local stack's clock, seconds (0 when none; one consistent ``GetItem``)."""
    item = table.get(LOCAL_CLOCK_KEY, True)
    return 0.0 if item is None else int(item["offset_ms"]) / 1000
