"""The cut-off of one DynamoDB call at the request's deadline (docs/resilience.md).

botocore's ``connect_timeout``, ``read_timeout`` and retry attempts are set per
client, so they cannot shrink to what a request has left. :class:`ThreadCutoff`
runs the call on a worker thread and waits at most the time left: the caller
answers at its deadline whatever the SDK is doing (a socket that never
answers, a backoff sleep, a third attempt). The worker finishes on its own,
within the client's own limits (:func:`chalicelib.wiring.dynamodb_resource`),
and :class:`chalicelib.store.table.Table` stops its further attempts once the
deadline has passed.

A call still queued when the time is up is cancelled, so it is never sent:
:class:`CallTimedOut` says whether it had started.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import threading
from collections.abc import Callable
from typing import Any, Protocol


class CallTimedOut(Exception):
    """The call did not finish in the time it was given. ``started``: it was sent (or being sent)
    when the time ran out; ``False``: it was still queued and was never sent."""

    def __init__(self, started: bool) -> None:
        super().__init__("started" if started else "never sent")
        self.started = started


class Cutoff(Protocol):
    """Runs ``call()`` (boto3's ``operation``, ``"get_item"``) and returns its result, or raises
    :class:`CallTimedOut` after ``timeout_s`` seconds."""

    def run(self, call: Callable[[], Any], timeout_s: float, operation: str) -> Any: ...


class ThreadCutoff:
    """:class:`Cutoff` on a pool of at most ``workers`` threads (made on first use, shared by the container)."""

    def __init__(self, workers: int = 64) -> None:
        self._workers = workers
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(self._workers, thread_name_prefix="dynamodb-call")
        return self._pool

    def run(self, call: Callable[[], Any], timeout_s: float, operation: str = "") -> Any:
        future = self._executor().submit(contextvars.copy_context().run, call)
        try:
            return future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            raise CallTimedOut(started=not future.cancel()) from None


THREAD_CUTOFF = ThreadCutoff()  # the container's: one pool for every table door
