"""One call of the door within the request's deadline (docs/resilience.md), and what a lost answer means.

Inside a request begun by :meth:`chalicelib.deadline.Deadlines.begin`, each boto3 call of
:class:`chalicelib.store.table.Table` is given only the time left, through the door's
:class:`~chalicelib.store.cutoff.Cutoff`; a call with no time left is not sent, and the
SDK's retries stop once the deadline has passed (:func:`watch_attempts`: botocore's
``needs-retry`` event). Outside a request (the ``campaign`` command) there is no deadline.

A write that may have reached the table without a clear answer (a 5xx, a read timeout, a
dropped connection, the deadline while it was being sent) is
:class:`~chalicelib.errors.OutcomeUnknown`: it may have been applied. Other failures are
translated by :mod:`chalicelib.store.failures`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError
from botocore.exceptions import ConnectionError as NotConnected

from chalicelib import deadline
from chalicelib.errors import OutcomeUnknown, StoreUnavailable
from chalicelib.store.cutoff import CallTimedOut, Cutoff
from chalicelib.store.failures import RequestRefused, ambiguous, translated_call

# The boto3 operations that write; a write whose answer was lost may have been applied.
WRITE_OPERATIONS = frozenset({"put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items"})


class _DeadlinePassed(BotoCoreError):
    fmt = "the request's deadline passed before DynamoDB answered"


class _CallState:
    """One call of the door: its deadline, and whether an attempt of it may have reached the
    table without a clear answer (a 5xx, a read timeout, a dropped connection)."""

    __slots__ = ("limit", "ambiguous")

    def __init__(self, limit: deadline.Deadline | None) -> None:
        self.limit = limit
        self.ambiguous = False


_call_state: contextvars.ContextVar[_CallState | None] = contextvars.ContextVar("dynamodb_call", default=None)


def watch_attempts(client: Any) -> None:
    """Hook :func:`_on_attempt` into ``client``'s events (a stub without ``meta.events`` is left alone)."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is not None:
        events.register("needs-retry.dynamodb", _on_attempt, unique_id="campaign-platform-call-state")


def _on_attempt(response: Any = None, caught_exception: Any = None, **_: Any) -> None:
    """botocore's ``needs-retry`` event, after each HTTP attempt: note an ambiguous one, and stop
    the SDK's retries once the request's deadline has passed (nobody waits for them)."""
    state = _call_state.get()
    if state is None:
        return
    status = int(getattr(response[0], "status_code", 0) or 0) if response else 0
    if caught_exception is not None and not isinstance(caught_exception, NotConnected):
        state.ambiguous = True  # sent, then no answer: a read timeout or a dropped connection
    elif status >= 500:
        state.ambiguous = True
    failed = caught_exception is not None or status >= 400
    if failed and state.limit is not None and state.limit.remaining_s() <= 0:
        raise _DeadlinePassed()


def call_within_deadline(method: Callable[..., Any], cutoff: Cutoff, **kwargs: Any) -> Any:
    """``method(**kwargs)`` (a boto3 client method) within the request's deadline, on ``cutoff``.

    Raises what :func:`~chalicelib.store.failures.translated_call` raises;
    ``StoreUnavailable`` when the deadline passed before the call was sent or before a read
    was answered; ``OutcomeUnknown`` when a write was sent and its answer was lost.
    """
    operation = getattr(method, "__name__", "")
    write = operation in WRITE_OPERATIONS
    state = _CallState(deadline.current())

    def attempt() -> Any:
        token = _call_state.set(state)
        try:
            return translated_call(method, **kwargs)
        finally:
            _call_state.reset(token)

    try:
        if state.limit is None:
            return attempt()
        left = state.limit.remaining_s()
        if left <= 0:
            raise StoreUnavailable("DynamoDB is unavailable: the request's deadline passed; nothing was sent")
        return cutoff.run(attempt, left, operation)
    except CallTimedOut as exc:
        if not exc.started:
            raise StoreUnavailable("DynamoDB is unavailable: the request's deadline passed; nothing was sent") from None
        if write:
            raise OutcomeUnknown(
                "DynamoDB did not answer before the request's deadline: the write may have been applied"
            ) from None
        raise StoreUnavailable("DynamoDB is unavailable: no answer before the request's deadline") from None
    except StoreUnavailable as exc:
        if write and not isinstance(exc, (OutcomeUnknown, RequestRefused)) and (state.ambiguous or ambiguous(exc)):
            raise OutcomeUnknown(f"{exc}; the write may have been applied") from exc
        raise
