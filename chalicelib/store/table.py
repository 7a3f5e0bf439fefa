"""The one door to the table: every boto3 call, its error translation and its retries.

:class:`Table` wraps the low-level client of a ``boto3.resource("dynamodb").Table``
(``table.meta.client``, which (de)serializes plain Python values and is
thread-safe). The access patterns (:mod:`chalicelib.store.releases`,
:mod:`~chalicelib.store.rotations`, :mod:`~chalicelib.store.books`) build keys,
items and conditions (:mod:`chalicelib.store.conditions`, taken from here) and call
its methods; nothing else in the project calls boto3 for the table. Every call goes
through :func:`chalicelib.store.failures.translated_call`, so ``botocore``'s exceptions
are translated once (that module draws the tree of errors; :class:`ConditionFailed` and
:class:`RequestRefused` are taken from here too).

Deadlines (docs/resilience.md): inside a request begun by
:meth:`chalicelib.deadline.Deadlines.begin`, each call is given only the time left
(:mod:`chalicelib.store.calls`, on :mod:`chalicelib.store.cutoff`); a call with no time
left is not sent, the SDK's retries stop once the deadline has passed, and our own
backoff never sleeps past it.

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

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib import deadline
from chalicelib.errors import StoreUnavailable
from chalicelib.store.calls import call_within_deadline, watch_attempts
from chalicelib.store.conditions import Condition, absent, condition_kwargs

# Re-exported ("x as x"): the access patterns take their conditions from the door.
from chalicelib.store.conditions import absent_or_at as absent_or_at
from chalicelib.store.conditions import is_at as is_at
from chalicelib.store.cutoff import THREAD_CUTOFF, Cutoff
from chalicelib.store.failures import Cancelled, ConditionFailed, RequestRefused, translated_call
from chalicelib.store.keys import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, TTL_ATTRIBUTE

Item = dict[str, Any]
Action = dict[str, dict[str, Any]]  # {"Put": {...}} or {"Update": {...}}, without "TableName"

# Cancellation reasons of a transaction that another try may get past.
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})

BATCH_GET_KEYS = 100
BATCH_WRITE_REQUESTS = 25
TRANSACTION_ACTIONS = 100


# ------------------------------------------------------------------ transaction actions


def put_action(item: Mapping[str, Any], condition: Condition | None = None) -> Action:
    """A transaction's ``Put`` of ``item``, conditional when ``condition`` is given."""
    body: dict[str, Any] = {"Item": dict(item)}
    if condition is not None:
        body.update(condition_kwargs(condition))
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
    return {"Delete": {"Key": dict(key), **condition_kwargs(condition)}}


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
        watch_attempts(self._client)

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
        kwargs = {} if condition is None else condition_kwargs(condition)
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
            except Cancelled as exc:
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
        return call_within_deadline(method, self._cutoff, **kwargs)


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
        translated_call(
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
    translated_call(client.get_waiter("table_exists").wait, TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    translated_call(
        client.update_time_to_live,
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
    return dynamodb.Table(table_name)
