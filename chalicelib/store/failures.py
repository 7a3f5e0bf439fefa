"""What a failed DynamoDB call means: botocore's exceptions translated into the store's, once.

Only the door (:class:`chalicelib.store.table.Table`) calls boto3 for the table, and it
calls it through :func:`translated_call`, so ``botocore``'s exceptions are translated here
and nowhere else::

    chalicelib.errors.StoreUnavailable (503)   the table cannot serve us now: missing, throttled past
                                               the SDK's retries, a 5xx, the endpoint unreachable, or
                                               items left unprocessed after our own retries
    ConditionFailed                            a condition failed: an answer (a duplicate id, a moved
                                               pointer), never retried; ``indexes`` names the actions
    RequestRefused (a StoreUnavailable, 503)   any other refusal: a request we should not have sent or
                                               a missing permission; the answer names DynamoDB's code,
                                               ``detail`` keeps its message (logged, never shown)
    chalicelib.errors.OutcomeUnknown (503)     a write was sent and its answer was lost (a read timeout,
                                               a 5xx, the request's deadline): it may have been applied
                                               (raised by :mod:`chalicelib.store.calls`)

A cancelled transaction is :class:`Cancelled` with its reasons, for the door's retry policy
to judge; it never leaves the door.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError

from chalicelib.errors import StoreUnavailable

# Throttling that outlasted the SDK's retries, or a transaction still in flight: the table is there
# but cannot serve us now.
UNAVAILABLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "TransactionInProgressException"}
)


class ConditionFailed(Exception):
    """A condition failed. ``indexes``: the positions of the failed actions in a transaction
    (``[0]`` for a single conditional write)."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(indexes)
        self.indexes = indexes


class RequestRefused(StoreUnavailable):
    """DynamoDB refused a request for a reason no retry changes (a malformed request, a
    missing permission, bad credentials): a bug or a deployment problem, not an outage, but
    still a 503 with a reason to whoever asked (nothing was written). ``code`` is DynamoDB's
    error code (``"ValidationException"``); ``detail`` its message, which may name the role
    or the account, so it is logged and never put in an answer."""

    def __init__(self, message: str, code: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail


class Cancelled(Exception):
    """A transaction was cancelled. ``reasons``: DynamoDB's code for each action, in order
    (``"None"`` for an action that was not the cause)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(reasons)
        self.reasons = reasons


def translated_call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Call boto3 and translate its failures, once for the whole project (see the module docstring)."""
    try:
        return method(**kwargs)
    except ClientError as exc:
        raise _translated(exc) from exc
    except BotoCoreError as exc:  # endpoint unreachable, timeouts, no credentials
        raise StoreUnavailable(f"DynamoDB is unavailable: {exc.__class__.__name__}") from exc


def ambiguous(exc: StoreUnavailable) -> bool:
    """Whether the last attempt behind ``exc`` may have reached the table: a 5xx or no answer."""
    cause = exc.__cause__
    if isinstance(cause, ClientError):
        return int(cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500
    return isinstance(cause, HTTPClientError)  # a read timeout or a dropped connection, after the send


def _translated(exc: ClientError) -> Exception:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    if code == "ResourceNotFoundException":
        return StoreUnavailable(f"DynamoDB table is missing: {code}")
    if code in UNAVAILABLE_CODES or status >= 500:
        return StoreUnavailable(f"DynamoDB is unavailable: {code or status}")
    if code == "ConditionalCheckFailedException":
        return ConditionFailed([0])
    if code == "TransactionCanceledException":
        return Cancelled([str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []])
    return RequestRefused(f"DynamoDB refused {exc.operation_name}: {code}", code, str(error.get("Message", "")))
