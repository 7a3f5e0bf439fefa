"""The embedded DynamoDB of ``campaign serve``: moto's server, made safe for concurrent transactions.

Local stage only; never imported by the Lambda handlers.

Two things about moto 5.2.5's server matter once many requests arrive at once
(the donation webhooks under load), and both are measured here:

1. **It is not atomic across requests.** The server runs each request on its
   own thread with no lock around the backend, so two conditional writes of
   the same new key can both pass ``attribute_not_exists`` (check, then
   act), and a cancelled transaction rolls back by restoring a snapshot of
   the whole table taken at its start, wiping writes that other threads
   committed meanwhile. DynamoDB has neither problem. :class:`SerializedApp`
   runs one request at a time, which makes each request atomic, as
   DynamoDB's are.
2. **``TransactWriteItems`` deep-copies every table it touches, once per
   action**, so a transaction costs O(items in the table): 11 ms with an
   empty table, 137 ms at 1,000 items, 734 ms at 5,000. :func:`install_item_rollback`
   replaces that snapshot with one of the items the transaction names
   (restored if the transaction fails): the same outcome, at O(actions). It
   is only correct because requests are serialized (1.).
3. **``Query`` sorts the whole table**: moto's ``Table.query`` walks
   ``all_items()``, which sorts every item of the table, then keeps the
   partition asked for -- O(n log n) per query, 53 ms for a 50-item page
   at 2,000 items. :func:`install_item_rollback` makes a base-table query
   walk only its partition (what DynamoDB reads). Index queries are untouched.

Everything else is moto's own code, unchanged. :func:`install_item_rollback`
installs 2. and 3. together (tests use it on the in-process moto too).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any

_installed = threading.Lock()
_original: Callable[..., Any] | None = None
_querying = threading.local()  # the partition a query on this thread reads (in-process moto runs queries in parallel)


class SerializedApp:
    """A WSGI app that runs ``app`` for one request at a time (each response read in full under the lock)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            result = self._app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class _TablesAsIs:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: tables are not copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def install_item_rollback() -> Callable[[], None]:
    """Patch moto's ``transact_write_items`` to snapshot only the named items, and base-table
    queries to read only their partition. Returns an undo.

    Idempotent: a second call while installed changes nothing.
    """
    global _original
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    backend = models.DynamoDBBackend
    with _installed:
        if _original is not None:
            return lambda: None
        original = backend.transact_write_items
        _original = original

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            saved = []
            for action in transact_items:
                try:
                    _, op = next(iter(action.items()))
                    table = self.tables[op["TableName"]]
                    key = op.get("Key") or {
                        a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a and a in op["Item"]
                    }
                    hash_key, range_key = self.get_keys_value(table, key)
                except Exception:  # noqa: BLE001 - a malformed action: moto's own code reports it below
                    continue
                saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
            try:
                original(self, transact_items)
            except BaseException:
                for table, hash_key, range_key, before in reversed(saved):
                    _restore(table, hash_key, range_key, before)
                raise

        original_query = Table.query
        original_all_items = Table.all_items

        def query(self: Any, *args: Any, **kwargs: Any) -> Any:
            hash_key = args[0] if args else kwargs.get("hash_key")
            index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
            if index_name is not None or hash_key is None or not self.range_key_attr:
                return original_query(self, *args, **kwargs)
            _querying.partition = (self, hash_key)
            try:
                return original_query(self, *args, **kwargs)
            finally:
                _querying.partition = None

        def all_items(self: Any) -> list[Any]:
            table, hash_key = getattr(_querying, "partition", None) or (None, None)
            if table is None or table is not self:
                return original_all_items(self)
            partition = table.items.get(hash_key, {})
            return sorted(partition.values(), key=lambda item: item.range_key)

        backend.transact_write_items = transact_write_items  # type: ignore[method-assign]  # moto's own method, patched for the local stack; undo() puts it back
        # moto deep-copies every table for a transaction; this stand-in copies only the items written.
        models.copy = _TablesAsIs(Table)  # type: ignore[assignment]  # a stand-in module object for moto's copy
        Table.query = query  # type: ignore[method-assign]  # moto's own method, patched for the local stack; undo() puts it back
        Table.all_items = all_items  # type: ignore[method-assign]  # moto's own method, patched for the local stack; undo() puts it back

    def undo() -> None:
        global _original
        with _installed:
            backend.transact_write_items = original  # type: ignore[method-assign]  # moto's own method, patched for the local stack; undo() puts it back
            models.copy = copy
            Table.query = original_query  # type: ignore[method-assign]  # moto's own method, patched for the local stack; undo() puts it back
            Table.all_items = original_all_items  # type: ignore[method-assign]  # moto's own method, patched for the local stack; undo() puts it back
            _original = None

    return undo


def _restore(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    """Put the item back as it was (``None``: it did not exist)."""
    if before is None:
        table.delete_item(hash_key, range_key)
    elif range_key is not None:
        table.items[hash_key][range_key] = before
    else:
        table.items[hash_key] = before


class EmbeddedDynamoDB:
    """moto's server on ``host:port`` (0: any free port), serialized, with item rollback."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._undo: Callable[[], None] | None = None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        self._undo = install_item_rollback()
        app = SerializedApp(DomainDispatcherApplication(create_backend_app))
        # TCP_NODELAY: a response's headers and body leave in separate sends, and Nagle's
        # algorithm would hold the body for the client's delayed ACK (~40 ms a call).
        handler = type("QuickMotoRequestHandler", (MotoRequestHandler,), {"disable_nagle_algorithm": True})
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-dynamodb", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._undo is not None:
            self._undo()
