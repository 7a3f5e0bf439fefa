"""The one door to the table: every boto3 call, its error translation and its retries.

:class:`Table` wraps the low-level client of a ``boto3.resource("dynamodb").Table``
(``table.meta.client``, which (de)serializes plain Python values and is
thread-safe). The access patterns (:mod:`chalicelib.store.releases`,
:mod:`~chalicelib.store.rotations`, :mod:`~chalicelib.store.books`) build keys,
items and conditions and call its methods; nothing else in the project calls
boto3 for the table, and ``botocore``'s exceptions are translated here and
nowhere else::

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

Deadlines (docs/resilience.md): inside a request begun by
:meth:`chalicelib.deadline.Deadlines.begin`, each call is given only the time
left (:mod:`chalicelib.store.cutoff`); a call with no time left is not sent,
the SDK's retries stop once the deadline has passed, and our own backoff never
sleeps past it.

Retries: the SDK retries each HTTP request (standard mode, see
:func:`chalicelib.wiring.dynamodb_resource`). On top of that, one policy
here -- full-jitter exponential backoff, ``sleep`` and ``rng`` injected,
at most :attr:`Table.ATTEMPTS` tries -- covers what the SDK cannot see:
``UnprocessedKeys`` of a ``BatchGetItem``, ``UnprocessedItems`` of a
``BatchWriteItem``, and transactions cancelled by a conflict with another
transaction or by throttling.

Limits kept here (DynamoDB refuses more, even where moto accepts it): 100
keys per ``BatchGetItem``, 25 requests per ``BatchWriteItem``, 100 actions
per transaction and one action per item in a transaction.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NotConnected

from chalicelib import deadline
from chalicelib.errors import OutcomeUnknown, StoreUnavailable
from chalicelib.store.cutoff import THREAD_CUTOFF, CallTimedOut, Cutoff
from chalicelib.store.keys import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, TTL_ATTRIBUTE

Item = dict[str, Any]
Action = dict[str, dict[str, Any]]  # {"Put": {...}} or {"Update": {...}}, without "TableName"

# Throttling that outlasted the SDK's retries, or a transaction still in flight: the table is there
# but cannot serve us now.
UNAVAILABLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "TransactionInProgressException"}
)
# Cancellation reasons of a transaction that another try may get past.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})

BATCH_GET_KEYS = 100
BATCH_WRITE_REQUESTS = 25
TRANSACTION_ACTIONS = 100


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


class _Cancelled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(reasons)
        self.reasons = reasons


# ------------------------------------------------------------------ conditions and transaction actions


class Condition(NamedTuple):
    """A condition expression with its placeholders; unpacks as ``(condition, names, values)``."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]


def absent() -> Condition:
    """The item does not exist yet: ``attribute_not_exists(PK)`` (every item has a ``PK``)."""
    return Condition("attribute_not_exists(#pk)", {"#pk": "PK"}, {})


def is_at(attr: str, expected: Any) -> Condition:
    """The item exists and its ``attr`` equals ``expected`` (an optimistic lock)."""
    assert attr.isidentifier(), attr
    return Condition(f"#{attr} = :expected", {f"#{attr}": attr}, {":expected": expected})


def absent_or_at(attr: str, expected: Any | None) -> Condition:
    """:func:`absent` when ``expected`` is ``None``, else :func:`is_at`: "nobody wrote it since
    we read it" for an item that may not exist yet (the release pointer, the rotation)."""
    return absent() if expected is None else is_at(attr, expected)


def put_action(item: Mapping[str, Any], condition: Condition | None = None) -> Action:
    """A transaction's ``Put`` of ``item``, conditional when ``condition`` is given."""
    body: dict[str, Any] = {"Item": dict(item)}
    if condition is not None:
        body.update(_condition_kwargs(condition))
    return {"Put": body}


def put_new(item: Mapping[str, Any]) -> Action:
    """A ``Put`` that only creates: first write wins (an id, a ledger key, a history item is written once)."""
    return put_action(item, absent())


def update_action(
    key: Mapping[str, str],
    expression: str,
    names: Mapping[str, str],
    values: Mapping[str, Any],
    condition: Condition | None = None,
) -> Action:
    """A transaction's ``Update`` of ``key`` (``expression`` with its placeholders), conditional
    when ``condition`` is given; the two may share a placeholder that means the same thing."""
    body: dict[str, Any] = {
        "Key": dict(key),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": dict(names),
        "ExpressionAttributeValues": dict(values),
    }
    if condition is not None:
        body["ConditionExpression"] = condition.expression
        _merge(body["ExpressionAttributeNames"], condition.names)
        _merge(body["ExpressionAttributeValues"], condition.values)
    return {"Update": body}


def delete_action(key: Mapping[str, str], condition: Condition) -> Action:
    """A transaction's ``Delete`` of ``key``, only if ``condition`` holds."""
    return {"Delete": {"Key": dict(key), **_condition_kwargs(condition)}}


def _condition_kwargs(condition: Condition) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"ConditionExpression": condition.expression, "ExpressionAttributeNames": dict(condition.names)}
    if condition.values:
        kwargs["ExpressionAttributeValues"] = dict(condition.values)
    return kwargs


def _merge(into: dict[str, Any], more: Mapping[str, Any]) -> None:
    for placeholder, value in more.items():
        assert into.get(placeholder, value) == value, f"placeholder {placeholder} means two things"
        into[placeholder] = value


def _action_key(action: Action) -> tuple[str, str]:
    ((_, body),) = action.items()
    key = body.get("Key") or body["Item"]
    return str(key["PK"]), str(key["SK"])


# ------------------------------------------------------------------ the door


@dataclass(frozen=True)
class Page:
    """What a :meth:`Table.query` returns: the items, and where the next page starts (``None``: no more)."""

    items: list[Item]
    next_key: dict[str, Any] | None


class Table:
    """The table, by access primitive; see the module docstring for errors and retries.

    Parameters
    ----------
    table:
        a ``boto3.resource("dynamodb").Table`` (real or moto), or anything with
        ``.name`` and ``.meta.client``.
    sleep, rng:
        the backoff's ``time.sleep`` and ``random.random``, injected so tests never sleep.

    Examples
    --------
    On a deployed stage (needs AWS credentials, so not run as a doctest)::

        door = Table(boto3.resource("dynamodb").Table("campaign-platform-dev"))
        door.get(RELEASE_KEY)  # chalicelib.store.keys
        # {'PK': 'RELEASE', 'SK': 'CURRENT', 'release': Decimal('7'), ...}
    """

    ATTEMPTS = 8  # tries of one batch chunk or one transaction, the first included
    BACKOFF_BASE_S = 0.01
    BACKOFF_CAP_S = 0.5

    def __init__(
        self,
        table: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        cutoff: Cutoff = THREAD_CUTOFF,
    ) -> None:
        self._client = table.meta.client
        self.name: str = table.name
        self._sleep = sleep
        self._rng = rng
        self._cutoff = cutoff
        events = getattr(getattr(self._client, "meta", None), "events", None)
        if events is not None:
            events.register("needs-retry.dynamodb", _on_attempt, unique_id="campaign-platform-call-state")

    @property
    def client(self) -> Any:
        """The low-level client, for botocore event hooks only (request counters, fault injection)."""
        return self._client

    # ---------------------------------------------------------- single items

    def get(self, key: Mapping[str, str], consistent: bool = False) -> Item | None:
        """``GetItem`` of ``key`` (``{"PK", "SK"}``): the item, or ``None``. Raises ``StoreUnavailable``."""
        response = self._call(self._client.get_item, TableName=self.name, Key=dict(key), ConsistentRead=consistent)
        return response.get("Item")

    def put(self, item: Mapping[str, Any], condition: Condition | None = None) -> None:
        """``PutItem`` (replacing any item under its key unless ``condition`` says otherwise).

        Raises ``ConditionFailed([0])`` when ``condition`` fails, ``StoreUnavailable``.
        """
        kwargs = {} if condition is None else _condition_kwargs(condition)
        self._call(self._client.put_item, TableName=self.name, Item=dict(item), **kwargs)

    def delete(self, key: Mapping[str, str]) -> None:
        """``DeleteItem`` of ``key`` (nothing happens when it does not exist). Raises ``StoreUnavailable``."""
        self._call(self._client.delete_item, TableName=self.name, Key=dict(key))

    # ---------------------------------------------------------- queries

    def query(
        self,
        pk: str,
        prefix: str | None = None,
        *,
        below: str | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        keys_only: bool = False,
        attributes: Sequence[str] = (),
        consistent: bool = False,
        start: Mapping[str, Any] | None = None,
        all_pages: bool = False,
    ) -> Page:
        """``Query`` partition ``pk``: the ``SK``s beginning with ``prefix``, or below ``below``, or all.

        ``newest_first`` reads in descending ``SK`` order; ``limit`` is each
        request's ``Limit`` (items evaluated); ``keys_only`` or ``attributes``
        project the items; ``start`` resumes after a ``Page.next_key``;
        ``all_pages`` follows ``LastEvaluatedKey`` to the end (one request
        per page). Raises ``StoreUnavailable``.
        """
        if prefix is not None and below is not None:
            raise ValueError("a query takes a prefix or an upper bound, not both")
        names = {"#pk": "PK"}
        values: dict[str, Any] = {":pk": pk}
        condition = "#pk = :pk"
        if prefix is not None:
            names["#sk"], values[":prefix"] = "SK", prefix
            condition += " AND begins_with(#sk, :prefix)"
        elif below is not None:
            names["#sk"], values[":below"] = "SK", below
            condition += " AND #sk < :below"
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "ConsistentRead": consistent,
        }
        projection = ("PK", "SK") if keys_only else tuple(attributes)
        if projection:
            placeholders = {"PK": "#pk", "SK": "#sk"}
            parts = []
            for i, attribute in enumerate(projection):
                placeholder = placeholders.get(attribute, f"#p{i}")
                names[placeholder] = attribute
                parts.append(placeholder)
            kwargs["ProjectionExpression"] = ", ".join(parts)
        if limit is not None:
            kwargs["Limit"] = limit
        if start:
            kwargs["ExclusiveStartKey"] = dict(start)
        items: list[Item] = []
        while True:
            response = self._call(self._client.query, **kwargs)
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey") or None
            if last is None or not all_pages:
                return Page(items, last)
            kwargs["ExclusiveStartKey"] = last

    # ---------------------------------------------------------- batches

    def batch_get(self, keys: Sequence[Mapping[str, str]], consistent: bool = False) -> list[Item]:
        """Every item found under ``keys`` (``{"PK", "SK"}``), in no particular order: ``BatchGetItem``
        of 100 keys a request, ``UnprocessedKeys`` asked for again after the backoff.

        Raises ``StoreUnavailable`` when keys are still unread after :attr:`ATTEMPTS` tries.
        """
        out: list[Item] = []
        for start in range(0, len(keys), BATCH_GET_KEYS):
            pending = [dict(k) for k in keys[start : start + BATCH_GET_KEYS]]
            for attempt in range(self.ATTEMPTS):
                if attempt:
                    self._pause(attempt - 1)
                response = self._call(
                    self._client.batch_get_item, RequestItems={self.name: {"Keys": pending, "ConsistentRead": consistent}}
                )
                out.extend(response.get("Responses", {}).get(self.name, []))
                pending = (response.get("UnprocessedKeys") or {}).get(self.name, {}).get("Keys", [])
                if not pending:
                    break
            else:
                raise StoreUnavailable("DynamoDB left keys unread after retries")
        return out

    def batch_write(
        self,
        puts: Iterable[Mapping[str, Any]] = (),
        deletes: Iterable[Mapping[str, str]] = (),
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """``BatchWriteItem``: put ``puts`` and delete the keys ``deletes``, 25 requests at a time,
        ``UnprocessedItems`` sent again after the backoff; ``progress(n)`` after each chunk of ``n``.

        Unconditional (a batch takes no condition), and a key may appear once
        in all. Raises ``StoreUnavailable`` naming the keys still unwritten
        after :attr:`ATTEMPTS` tries (the chunks before were written).
        """
        requests = [{"PutRequest": {"Item": dict(i)}} for i in puts]
        requests += [{"DeleteRequest": {"Key": dict(k)}} for k in deletes]
        for start in range(0, len(requests), BATCH_WRITE_REQUESTS):
            chunk = requests[start : start + BATCH_WRITE_REQUESTS]
            pending = chunk
            for attempt in range(self.ATTEMPTS):
                if attempt:
                    self._pause(attempt - 1)
                response = self._call(self._client.batch_write_item, RequestItems={self.name: pending})
                pending = (response.get("UnprocessedItems") or {}).get(self.name, [])
                if not pending:
                    break
            else:
                keys = ", ".join(_request_key(r) for r in pending)
                raise StoreUnavailable(f"DynamoDB left items unwritten after retries: {keys}")
            if progress is not None:
                progress(len(chunk))

    # ---------------------------------------------------------- transactions

    def transact(self, actions: Sequence[Action]) -> None:
        """``TransactWriteItems`` of ``actions`` (:func:`put_action`, :func:`put_new`,
        :func:`update_action`): all or nothing.

        A cancellation whose reasons include ``ConditionalCheckFailed`` raises
        ``ConditionFailed`` with those actions' indexes at once (an answer:
        retrying cannot change it). One caused only by a conflicting
        transaction or throttling is tried again after the backoff, at most
        :attr:`ATTEMPTS` tries, then ``StoreUnavailable``; any other
        cancellation is ``StoreUnavailable`` at once.
        """
        keys = [_action_key(a) for a in actions]
        assert len(set(keys)) == len(keys), "one action per item per transaction"
        assert len(actions) <= TRANSACTION_ACTIONS, "at most 100 actions per transaction"
        items = [{op: {"TableName": self.name, **body}} for action in actions for op, body in action.items()]
        for attempt in range(self.ATTEMPTS):
            if attempt:
                self._pause(attempt - 1)
            try:
                self._call(self._client.transact_write_items, TransactItems=items)
                return
            except _Cancelled as exc:
                failed = [i for i, reason in enumerate(exc.reasons) if reason == "ConditionalCheckFailed"]
                if failed:
                    raise ConditionFailed(failed) from exc
                if not any(reason in RETRYABLE_REASONS for reason in exc.reasons):
                    raise StoreUnavailable(f"DynamoDB cancelled the write: {', '.join(exc.reasons) or 'no reason'}") from exc
        raise StoreUnavailable("DynamoDB kept reporting transaction conflicts; retry the request")

    # ---------------------------------------------------------- the policy

    def backoff_s(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)) seconds before retry ``attempt + 1``."""
        return self._rng() * min(self.BACKOFF_CAP_S, self.BACKOFF_BASE_S * 2**attempt)

    def _pause(self, attempt: int) -> None:
        delay = self.backoff_s(attempt)
        limit = deadline.current()
        if limit is not None and delay >= limit.remaining_s():
            raise StoreUnavailable("DynamoDB is unavailable: no time left before the request's deadline for another try")
        self._sleep(delay)

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """One boto3 call within the request's deadline (none outside a request); see the module docstring."""
        operation = getattr(method, "__name__", "")
        write = operation in WRITE_OPERATIONS
        state = _CallState(deadline.current())

        def attempt() -> Any:
            token = _call_state.set(state)
            try:
                return _call(method, **kwargs)
            finally:
                _call_state.reset(token)

        try:
            if state.limit is None:
                return attempt()
            left = state.limit.remaining_s()
            if left <= 0:
                raise StoreUnavailable("DynamoDB is unavailable: the request's deadline passed; nothing was sent")
            return self._cutoff.run(attempt, left, operation)
        except CallTimedOut as exc:
            if not exc.started:
                raise StoreUnavailable("DynamoDB is unavailable: the request's deadline passed; nothing was sent") from None
            if write:
                raise OutcomeUnknown(
                    "DynamoDB did not answer before the request's deadline: the write may have been applied"
                ) from None
            raise StoreUnavailable("DynamoDB is unavailable: no answer before the request's deadline") from None
        except StoreUnavailable as exc:
            if write and not isinstance(exc, (OutcomeUnknown, RequestRefused)) and (state.ambiguous or _ambiguous(exc)):
                raise OutcomeUnknown(f"{exc}; the write may have been applied") from exc
            raise


def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Call boto3 and translate its failures, once for the whole project (see the module docstring)."""
    try:
        return method(**kwargs)
    except ClientError as exc:
        raise _translated(exc) from exc
    except BotoCoreError as exc:  # endpoint unreachable, timeouts, no credentials
        raise StoreUnavailable(f"DynamoDB is unavailable: {exc.__class__.__name__}") from exc


def _ambiguous(exc: StoreUnavailable) -> bool:
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
        return _Cancelled([str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []])
    return RequestRefused(f"DynamoDB refused {exc.operation_name}: {code}", code, str(error.get("Message", "")))


def _request_key(request: Mapping[str, Any]) -> str:
    body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
    return f"{body.get('PK')}/{body.get('SK')}"


def create_table(dynamodb: Any, table_name: str) -> Any:
    """Create the table (on-demand, key :data:`~chalicelib.store.keys.KEY_SCHEMA`, TTL on
    :data:`~chalicelib.store.keys.TTL_ATTRIBUTE`) for the local stage and tests; an existing
    table is reused. Returns the ``boto3`` resource's ``Table`` (wrap it in :class:`Table`).

    Deployed stages get the same table from the packaged CloudFormation
    template (``tools/package.py``). Raises ``StoreUnavailable`` (the endpoint is down).
    """
    client = dynamodb.meta.client
    try:
        _call(
            client.create_table,
            TableName=table_name,
            KeySchema=KEY_SCHEMA,
            AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
            BillingMode="PAY_PER_REQUEST",
        )
    except RequestRefused as exc:
        if exc.code != "ResourceInUseException":
            raise
        return dynamodb.Table(table_name)
    _call(client.get_waiter("table_exists").wait, TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    _call(
        client.update_time_to_live,
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
    return dynamodb.Table(table_name)
