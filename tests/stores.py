"""The access patterns on a boto3 table (moto's, or the embedded DynamoDB's), each behind its own door."""

from __future__ import annotations

from typing import Any

from chalicelib.store.books import BooksStore
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.rotations import RotationStore
from chalicelib.store.table import Table


def release_store(table: Any, **door: Any) -> ReleaseStore:
    """``door``: :class:`Table`'s ``sleep``/``rng``."""
    return ReleaseStore(Table(table, **door))


def rotation_store(table: Any, **door: Any) -> RotationStore:
    return RotationStore(Table(table, **door))


def books_store(table: Any, **door: Any) -> BooksStore:
    return BooksStore(Table(table, **door))


class Boto3Table:
    """Stands in for a boto3 resource ``Table``: what :class:`Table` takes of one (``name``, ``meta.client``)."""

    def __init__(self, client: Any, name: str = "t") -> None:
        self.name = name
        self.meta = type("Meta", (), {"client": client})()


class ScriptedClient:
    """Answers ``transact_write_items`` from a script of outcomes (moto never says TransactionConflict):
    ``None`` succeeds, a list of reason codes cancels the transaction with them."""

    def __init__(self, script: list[list[str] | None]) -> None:
        self.script = list(script)
        self.calls = 0

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        reasons = self.script.pop(0)
        if reasons is None:
            return {}
        error = {"Code": "TransactionCanceledException", "Message": "cancelled"}
        raise ClientError({"Error": error, "CancellationReasons": [{"Code": r} for r in reasons]}, "TransactWriteItems")
