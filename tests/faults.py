"""A fault-injecting wrapper around a boto3 DynamoDB client, at its HTTP layer.

:class:`DynamoFaults` sits where botocore sends each HTTP attempt (the client's
``before-send`` event), so everything above it is the real SDK: the
``standard`` retry mode, its retry quota and backoff, the error parsing, and
our code. A scripted fault answers one attempt; every other attempt goes on
to moto (in-process under ``mock_aws``, or over HTTP to a moto server).

Faults (each one HTTP attempt):

=====================  ======  =======================================================
name                   status  what DynamoDB would send
=====================  ======  =======================================================
``throughput``         400     ``ProvisionedThroughputExceededException``
``throttling``         400     ``ThrottlingException``
``internal``           500     ``InternalServerError``
``unavailable``        503     ``ServiceUnavailable``
``applied-then-500``   500     the request IS applied (sent to moto), then a 500 is
                               answered: the ambiguous write a lost response makes
``connection``         --      ``EndpointConnectionError`` (nothing reached the table)
``access-denied``      400     ``AccessDeniedException`` (a role without the grant)
``validation``         400     ``ValidationException``
``missing-table``      400     ``ResourceNotFoundException``
=====================  ======  =======================================================

``always("*", fault)`` fails every operation.

:class:`HangingCutoff` stands in for the door's cut-off at the request's
deadline (:mod:`chalicelib.store.cutoff`): DynamoDB "hangs until the deadline"
on a fake monotonic clock, so a test sees the time each call was given
without timing anything.

Backoff: botocore sleeps between attempts. :func:`no_backoff` records the
delays the SDK computes and answers 0 s instead, so tests never sleep.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict, deque
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

ERRORS = {
    "throughput": (
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    "throttling": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "internal": (500, "InternalServerError", "Internal server error"),
    "unavailable": (503, "ServiceUnavailable", "Service unavailable"),
    "applied-then-500": (500, "InternalServerError", "Internal server error"),
    "access-denied": (
        400,
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/api/x is not authorized to perform: dynamodb:GetItem",
    ),
    "validation": (400, "ValidationException", "One or more parameter values were invalid"),
    "missing-table": (400, "ResourceNotFoundException", "Requested resource not found"),
}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any):
        yield self._body


def error_response(url: str, fault: str, request_id: str) -> AWSResponse:
    status, code, message = ERRORS[fault]
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
    headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.0", "Content-Length": str(len(body))}
    return AWSResponse(url, status, headers, _Raw(body))


def _operation(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1]


class DynamoFaults:
    """Scripted faults for one boto3 DynamoDB client (and every resource/table built on it).

    ``fail(op, *faults)`` queues faults for the next attempts of operation
    ``op`` (``"GetItem"``, ``"TransactWriteItems"``, ...); ``always(op, fault)``
    fails every attempt until ``clear()``. ``attempts`` lists every HTTP
    attempt as ``(operation, fault or None)``.
    """

    def __init__(self, client: Any) -> None:
        from moto.core.models import botocore_stubber

        self._moto = botocore_stubber
        self._lock = threading.Lock()
        self._queued: dict[str, deque[str]] = defaultdict(deque)
        self._always: dict[str, str] = {}
        self.attempts: list[tuple[str, str | None]] = []
        self._n = 0
        events = client.meta.events
        # moto's in-process stub also answers ``before-send``; it must not run for a faulted
        # attempt (it would apply the write), so this client reaches moto through us.
        events.unregister("before-send", self._moto)
        events.register("before-send.dynamodb", self._before_send)

    def fail(self, operation: str, *faults: str) -> DynamoFaults:
        with self._lock:
            for fault in faults:
                assert fault in ERRORS or fault == "connection", fault
                self._queued[operation].append(fault)
        return self

    def always(self, operation: str, fault: str) -> DynamoFaults:
        with self._lock:
            self._always[operation] = fault
        return self

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()
            self._always.clear()

    def count(self, operation: str, fault: str | None = "any") -> int:
        """Attempts of ``operation``: all (``"any"``), the clean ones (``None``) or those of ``fault``."""
        return sum(1 for op, f in self.attempts if op == operation and (fault == "any" or f == fault))

    def _next_fault(self, operation: str) -> str | None:
        with self._lock:
            queue = self._queued.get(operation)
            fault = queue.popleft() if queue else self._always.get(operation, self._always.get("*"))
            self.attempts.append((operation, fault))
            self._n += 1
            return fault

    def _before_send(self, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        operation = _operation(event_name)
        fault = self._next_fault(operation)
        if fault == "connection":
            raise EndpointConnectionError(endpoint_url=request.url)
        if fault == "applied-then-500":
            self._moto(event_name, request=request, **kwargs)  # the table changes; the answer is lost
        if fault is not None:
            return error_response(request.url, fault, f"FAULT-{self._n:04d}")
        return self._moto(event_name, request=request, **kwargs)  # None outside mock_aws: a real send


class BackoffRecorder:
    """What :func:`no_backoff` installs: the delays botocore computed, by operation."""

    def __init__(self) -> None:
        self.delays: list[float] = []


def no_backoff(monkeypatch) -> BackoffRecorder:
    """Make botocore's standard-mode backoff 0 s (so no test sleeps), recording what it computed."""
    from botocore.retries import standard

    recorder = BackoffRecorder()
    original = standard.ExponentialBackoff.delay_amount

    def delay_amount(self, context):
        recorder.delays.append(original(self, context))
        return 0.0

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)
    return recorder


class DownStore:
    """A store during an outage: any method, called with anything, raises ``StoreUnavailable``."""

    def __getattr__(self, name: str) -> Any:
        from chalicelib.errors import StoreUnavailable

        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("DynamoDB is unavailable: EndpointConnectionError")

        return fail


class Monotonic:
    """A monotonic clock (seconds) that moves only when told: ``advance(s)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class HangingCutoff:
    """The door's cut-off (``chalicelib.store.cutoff.Cutoff``) over a DynamoDB that may hang.

    ``given`` lists ``(operation, seconds)``: the time each call was given (what
    was left of its request's deadline). The operations in ``hang`` hang until
    the deadline: the ``monotonic`` clock moves on by the time given, and the
    call times out after it was sent. With ``lands=True`` the hung call is
    applied first (the write reached the table; its answer never came back).
    Other calls answer after ``takes[operation]`` seconds (0 when not given), or
    hang like them when that is not less than the time given.
    """

    def __init__(self, monotonic: Monotonic, hang: set[str] | None = None, lands: bool = False) -> None:
        self.monotonic = monotonic
        self.hang = set() if hang is None else hang
        self.lands = lands
        self.given: list[tuple[str, float]] = []
        self.takes: dict[str, float] = {}

    def run(self, call: Any, timeout_s: float, operation: str) -> Any:
        from chalicelib.store.cutoff import CallTimedOut

        self.given.append((operation, round(timeout_s, 6)))
        takes = self.takes.get(operation, 0.0)
        if operation not in self.hang and "*" not in self.hang and takes < timeout_s:
            self.monotonic.advance(takes)
            return call()
        if self.lands:
            call()
        self.monotonic.advance(timeout_s)
        raise CallTimedOut(started=True)
