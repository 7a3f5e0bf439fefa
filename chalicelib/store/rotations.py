"""The homepage rotation: its inputs, the live rotation and its history, one method per access pattern.

Keys and item types: :mod:`chalicelib.store.keys`; shapes: :mod:`chalicelib.store.items`;
every call goes through :class:`chalicelib.store.table.Table`.

A rotation is one ``Query`` (``ROTATION``, ``SK`` beginning ``CURRENT``: the
previous rotation, the live release's number and the homepage campaigns of
the kept releases, of which it keeps the live one's) plus one two-item
transaction. Nothing scans.

Raises :class:`~chalicelib.errors.StoreUnavailable` (every method) and
:class:`~chalicelib.errors.RotationConflict` when another rotation won the race.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.errors import RotationConflict
from chalicelib.store.items import RotationInputs, doc_of, expired, history_item, rotation_item
from chalicelib.store.keys import CURRENT_SK, HISTORY_PREFIX, ROTATION_KEY, ROTATION_PK, history_sk
from chalicelib.store.table import ConditionFailed, Table, absent_or_at, put_action, put_new


class RotationStore:
    """The rotation's access patterns on ``table`` (:class:`~chalicelib.store.table.Table`)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get_rotation(self, consistent: bool = False) -> dict[str, Any] | None:
        """``GetItem ROTATION/CURRENT``: the live rotation document, or ``None`` before the first."""
        item = self.table.get(ROTATION_KEY, consistent)
        return None if item is None else doc_of(item)

    def get_rotation_inputs(self) -> RotationInputs:
        """What a rotation reads, in one strongly consistent ``Query`` (and its pages):
        ``ROTATION`` items whose ``SK`` begins with ``CURRENT``.

        That is the previous rotation, the live release's number and the
        homepage campaigns of every kept release; the live release's are kept.
        Reads grow with the kept releases (at most ``Publisher.KEEP_RELEASES``).
        """
        page = self.table.query(ROTATION_PK, CURRENT_SK, consistent=True, all_pages=True)
        return RotationInputs.from_items(page.items)

    def put_rotation(self, doc: Mapping[str, Any], expected: int | None, expires_at_epoch_s: int) -> None:
        """Write rotation ``doc["rotation"]`` and its history item (TTL ``expires_at_epoch_s``,
        epoch seconds) in one transaction.

        Raises ``RotationConflict`` when another run wrote first.
        """
        number = int(doc["rotation"])
        # ROTATION/CURRENT is absent (the first rotation) or still at rotation ``expected``, the one
        # this run read; and the history item of this number must not exist yet. Of two runs, one wins.
        current = put_action(rotation_item(doc), absent_or_at("rotation", expected))
        try:
            self.table.transact([current, put_new(history_item(doc, expires_at_epoch_s))])
        except ConditionFailed as exc:
            raise RotationConflict(f"rotation {number} was already written by another run") from exc

    def rotation_history(self, limit: int = 10, now_epoch_s: int | None = None) -> list[dict[str, Any]]:
        """The last ``limit`` rotation documents, newest first (one ``Query`` of ``H#`` items).

        Items past their TTL at ``now_epoch_s`` are left out even if DynamoDB has
        not deleted them yet (TTL deletion can lag by days).
        """
        page = self.table.query(ROTATION_PK, HISTORY_PREFIX, newest_first=True, limit=limit)
        return [doc_of(i) for i in page.items if now_epoch_s is None or not expired(i, now_epoch_s)]

    def rotations_from(self, first: int, limit: int = 100, now_epoch_s: int | None = None) -> tuple[list[dict[str, Any]], bool]:
        """The history from rotation ``first`` on, oldest first: one ``Query`` page of at most ``limit``
        items, and whether more follow. Items past their TTL at ``now_epoch_s`` are left out."""
        start = None if first <= 1 else {"PK": ROTATION_PK, "SK": history_sk(first - 1)}
        page = self.table.query(ROTATION_PK, HISTORY_PREFIX, limit=limit, start=start)
        docs = [doc_of(i) for i in page.items if now_epoch_s is None or not expired(i, now_epoch_s)]
        return docs, page.next_key is not None
