"""DynamoDB access for the donation books: one method per access pattern.

Keys: :mod:`chalicelib.store.keys`; item shapes: :mod:`chalicelib.store.items`.

Every write of a sale, refund or point donation is ONE ``TransactWriteItems``
whose first action puts the idempotency item with
``attribute_not_exists(PK)`` -- a replay cancels the whole transaction, so
it can never move a total -- and whose other actions touch other items
(one action per item: DynamoDB refuses two, even though moto accepts them;
:meth:`BooksStore._transact` asserts it). Cancellation reasons are told
apart: ``ConditionalCheckFailed`` is an answer (duplicate id, or an order
changed under a refund) and is never retried here; ``TransactionConflict``
(another transaction held one of the items: hot counter shards) and
throttling are retried with full-jitter exponential backoff, at most
``TRANSACT_ATTEMPTS`` times, then :class:`StoreUnavailable` (503).

``ClientError`` is translated here and nowhere else. Nothing here returns a
raw item.
"""
from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.books.totals import CampaignBooks
from chalicelib.errors import StoreUnavailable
from chalicelib.store.items import COUNTERS, SPLIT_PREFIX, LedgerEntry, OrderRecord, Receipt, as_int, split_of
from chalicelib.store.keys import LEDGER_TOP, ORDER_SK, REFUND_SK, TOTALS_SK, ledger_pk, order_pk, refund_pk, totals_pk
from chalicelib.store.releases import batch_get_items

RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}

# ------------------------------------------------------------------ internal outcomes


class DuplicateId(Exception):
    """The idempotency item already exists (a replay, or an id reused with another body)."""


class StaleOrder(Exception):
    """The order changed (another refund) between our read and our write."""


class _ConditionFailed(Exception):
    def __init__(self, indexes: list[int]) -> None:
        super().__init__(indexes)
        self.indexes = indexes


# ------------------------------------------------------------------ the store


class BooksStore:
    """The books' access patterns on the table.

    Parameters
    ----------
    table:
        a ``boto3.resource("dynamodb").Table``; its low-level (thread-safe)
        client does the work.
    sleep, rng:
        injected for the backoff, so tests never sleep.
    """

    TRANSACT_ATTEMPTS = 8
    BACKOFF_BASE_S = 0.01
    BACKOFF_CAP_S = 0.5

    def __init__(self, table: Any, sleep: Callable[[float], None] = time.sleep, rng: Callable[[], float] = random.random) -> None:
        self._client = table.meta.client
        self._table = table.name
        self._sleep = sleep
        self._rng = rng
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # ---------------------------------------------------------- writes (one transaction each)

    def put_sale(self, order: OrderRecord, recorded_at: datetime, totals: tuple[str, int, Mapping[str, int]], ledger: dict[str, Any] | None) -> None:
        """Record a sale: put ``ORDER#id`` if absent + ADD to one counter shard (+ one ledger entry).

        ``totals`` is ``(campaign_id, shard, {attribute: delta})``. Raises
        :class:`DuplicateId` when the order is already recorded.
        """
        actions = [self._put_new(order.to_item(recorded_at)), self._add(*totals)]
        if ledger is not None:
            actions.append(self._put_new(ledger))
        try:
            self._transact(actions)
        except _ConditionFailed as exc:
            raise DuplicateId(order.order_id) from exc

    def put_refund(
        self,
        refund_item: dict[str, Any],
        order: OrderRecord,
        new_refunded_fen: int,
        new_donation_fen: int,
        totals: tuple[str, int, Mapping[str, int]],
        ledger: dict[str, Any] | None,
    ) -> None:
        """Record a refund: put ``REFUND#id`` if absent + update the order if its version is unchanged
        + ADD to one counter shard (+ one ledger entry).

        Raises :class:`DuplicateId` (refund id exists) or :class:`StaleOrder`
        (another refund moved the order first: read it again and recompute).
        """
        update = {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": order_pk(order.order_id), "SK": ORDER_SK},
                # Only if no other refund landed since we read the order (optimistic lock).
                "ConditionExpression": "#version = :seen",
                "UpdateExpression": "SET #refunded = :refunded, #donation = :donation, #version = :next ADD #count :one",
                "ExpressionAttributeNames": {
                    "#version": "version",
                    "#refunded": "refunded_fen",
                    "#donation": "donation_fen",
                    "#count": "refund_count",
                },
                "ExpressionAttributeValues": {
                    ":seen": order.version,
                    ":next": order.version + 1,
                    ":refunded": new_refunded_fen,
                    ":donation": new_donation_fen,
                    ":one": 1,
                },
            }
        }
        actions = [self._put_new(refund_item), update, self._add(*totals)]
        if ledger is not None:
            actions.append(self._put_new(ledger))
        try:
            self._transact(actions)
        except _ConditionFailed as exc:
            if 0 in exc.indexes:
                raise DuplicateId(refund_item["PK"]) from exc
            raise StaleOrder(order.order_id) from exc

    def put_point_donation(self, item: dict[str, Any], totals: tuple[str, int, Mapping[str, int]], ledger: dict[str, Any] | None) -> None:
        """Record a point donation: put ``POINTS#id`` if absent + ADD to one counter shard (+ one ledger entry)."""
        actions = [self._put_new(item), self._add(*totals)]
        if ledger is not None:
            actions.append(self._put_new(ledger))
        try:
            self._transact(actions)
        except _ConditionFailed as exc:
            raise DuplicateId(item["PK"]) from exc

    # ---------------------------------------------------------- reads

    def get_order(self, order_id: str) -> OrderRecord | None:
        """``GetItem ORDER#id`` (strongly consistent)."""
        item = self._get(order_pk(order_id), ORDER_SK)
        return None if item is None else OrderRecord.from_item(item)

    def get_receipt(self, pk: str, sk: str) -> Receipt | None:
        """``GetItem`` of an idempotency item (``REFUND#``/``POINTS#``), strongly consistent."""
        item = self._get(pk, sk)
        return None if item is None else Receipt(str(item["fingerprint"]), json.loads(item["response"]))

    def get_order_and_refund(self, order_id: str, refund_id: str) -> tuple[OrderRecord | None, Receipt | None]:
        """One ``BatchGetItem`` (strongly consistent: a refund must see the latest order) of
        ``ORDER#order_id`` and ``REFUND#refund_id``."""
        keys = [{"PK": order_pk(order_id), "SK": ORDER_SK}, {"PK": refund_pk(refund_id), "SK": REFUND_SK}]
        items = {item["PK"]: item for item in self._batch_get(keys)}
        order = items.get(order_pk(order_id))
        refund = items.get(refund_pk(refund_id))
        return (
            None if order is None else OrderRecord.from_item(order),
            None if refund is None else Receipt(str(refund["fingerprint"]), json.loads(refund["response"])),
        )

    def get_campaign_books(self, campaign_ids: Sequence[str], shards: int) -> dict[str, CampaignBooks]:
        """Sum each campaign's ``shards`` counter items: ``BatchGetItem`` of 100 keys a request, so
        ``ceil(len(ids) * shards / 100)`` requests. Eventually consistent (a page read: it converges
        within about a second of the last write, at half the cost)."""
        keys = [{"PK": totals_pk(cid, s), "SK": TOTALS_SK} for cid in campaign_ids for s in range(shards)]
        sums: dict[str, dict[str, Any]] = {cid: {"c": {}, "m": {}, **{k: 0 for k in COUNTERS}} for cid in campaign_ids}
        for item in self._batch_get(keys, consistent=False):
            acc = sums[str(item["PK"]).split("#")[1]]
            for name, value in item.items():
                if name in COUNTERS:
                    acc[name] += as_int(value)
                elif name.startswith(SPLIT_PREFIX):
                    county, merchant = split_of(name)
                    acc["c"][county] = acc["c"].get(county, 0) + as_int(value)
                    acc["m"][merchant] = acc["m"].get(merchant, 0) + as_int(value)
        return {
            cid: CampaignBooks(**{k: acc[k] for k in COUNTERS}, by_county=acc["c"], by_merchant=acc["m"])
            for cid, acc in sums.items()
        }

    def query_ledger(self, campaign_id: str, before: str | None, limit: int, shards: int) -> tuple[list[LedgerEntry], bool]:
        """The newest ``limit`` entries older than position ``before`` (all when ``None``), and
        whether older ones may exist.

        A k-way merge of the ledger shards, newest first. Each shard is read
        by ``Query`` (``SK < bound``, newest first, eventually consistent) in
        small batches of ``ceil(limit / shards) + 2``, all shards in parallel;
        a shard whose batch runs out before the page is full is read once
        more from where it stopped (``ExclusiveStartKey``), for all the page
        still needs. A page of 100 over 32 shards reads about 200 items in 32
        queries, plus a few refills.
        """
        batch = -(-limit // shards) + 2
        heads: list[list[dict[str, Any]]] = [[] for _ in range(shards)]
        resume: list[dict[str, Any] | None] = [None] * shards
        open_ = [True] * shards  # the shard may hold more entries past what we hold
        bound = before or LEDGER_TOP

        def read(job: tuple[int, int]) -> tuple[int, list[dict[str, Any]], dict[str, Any] | None]:
            shard, count = job
            kwargs: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "#pk = :pk AND #sk < :before",
                # What a page shows; the private audit attribute ("source") is not read.
                "ProjectionExpression": "#pk, #sk, #at, #kind, #ref, #amount",
                "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK", "#at": "at", "#kind": "kind", "#ref": "ref", "#amount": "amount_fen"},
                "ExpressionAttributeValues": {":pk": ledger_pk(campaign_id, shard), ":before": bound},
                "ScanIndexForward": False,
                "Limit": count,
                "ConsistentRead": False,  # a page read, like the totals it must add up to
            }
            if resume[shard] is not None:
                kwargs["ExclusiveStartKey"] = resume[shard]
            response = self._call(self._client.query, **kwargs)
            return shard, response.get("Items", []), response.get("LastEvaluatedKey")

        with self._pool_lock:
            if self._pool is None:  # created on first use: no threads at import or cold start
                self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ledger-query")
        out: list[dict[str, Any]] = []
        first = True
        while len(out) < limit:
            # A refill asks for all the page still needs, so a shard is refilled at most once a page.
            count = batch if first else max(batch, limit - len(out))
            empty = [(s, count) for s in range(shards) if not heads[s] and open_[s]]
            for shard, items, last in self._pool.map(read, empty):
                heads[shard], resume[shard], open_[shard] = items, last, bool(last)
            first = False
            candidates = [s for s in range(shards) if heads[s]]
            if not candidates:
                break
            newest = max(candidates, key=lambda s: str(heads[s][0]["SK"]))
            out.append(heads[newest].pop(0))
        more = any(heads) or any(open_)
        return [LedgerEntry.from_item(i) for i in out], more

    # ---------------------------------------------------------- plumbing

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": item,
                # First write wins: an id (or a ledger key) is written once.
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": "PK"},
            }
        }

    def _add(self, campaign_id: str, shard: int, deltas: Mapping[str, int]) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        for i, (name, delta) in enumerate(sorted(deltas.items())):
            if delta:
                names[f"#a{i}"] = name
                values[f":v{i}"] = int(delta)
                parts.append(f"#a{i} :v{i}")
        assert parts, "a counter update adds something"
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"PK": totals_pk(campaign_id, shard), "SK": TOTALS_SK},
                # ADD creates the item and the attributes on first use; counters are never SET.
                "UpdateExpression": "ADD " + ", ".join(parts),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        """``TransactWriteItems``, retrying conflicts; raises ``_ConditionFailed`` with the failed indexes."""
        keys = [(a[op].get("Key") or {"PK": a[op]["Item"]["PK"], "SK": a[op]["Item"]["SK"]}) for a in actions for op in a]
        assert len({(k["PK"], k["SK"]) for k in keys}) == len(keys), "one action per item per transaction"
        for attempt in range(self.TRANSACT_ATTEMPTS):
            try:
                self._call(self._client.transact_write_items, TransactItems=actions)
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in ("InternalServerError", "TransactionInProgressException"):
                    raise StoreUnavailable(f"DynamoDB could not write: {code}") from exc
                if code != "TransactionCanceledException":
                    raise  # a request DynamoDB refuses is our bug: a 500, logged
                reasons = [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []]
                failed = [i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
                if failed:
                    raise _ConditionFailed(failed) from exc
                if not any(code in RETRYABLE_REASONS for code in reasons):
                    raise StoreUnavailable(f"DynamoDB cancelled the write: {', '.join(reasons) or 'no reason'}") from exc
            self._sleep(self.backoff_s(attempt))
        raise StoreUnavailable("DynamoDB kept reporting transaction conflicts; retry the request")

    def backoff_s(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)) seconds."""
        return self._rng() * min(self.BACKOFF_CAP_S, self.BACKOFF_BASE_S * 2**attempt)

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._call(self._client.get_item, TableName=self._table, Key={"PK": pk, "SK": sk}, ConsistentRead=True)
        return response.get("Item")

    def _batch_get(self, keys: list[dict[str, str]], consistent: bool = True) -> Iterable[dict[str, Any]]:
        """Found items of ``keys`` (100 a request); unprocessed keys are retried with :meth:`backoff_s`."""
        return batch_get_items(self._call, self._client, self._table, keys, consistent, self.TRANSACT_ATTEMPTS, self._pause)

    def _pause(self, attempt: int) -> None:
        self._sleep(self.backoff_s(attempt))

    @staticmethod
    def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
        """Call boto3; a missing table or an unreachable endpoint is ``StoreUnavailable``."""
        try:
            return method(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ResourceNotFoundException", "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded") or int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0) >= 500:
                raise StoreUnavailable(f"DynamoDB: {code}") from exc
            raise
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB is unavailable: {exc.__class__.__name__}") from exc
