"""The donation books: sales, refunds, point donations, totals and the ledger, one method per access pattern.

Keys and item types: :mod:`chalicelib.store.keys`; shapes: :mod:`chalicelib.store.items`;
every call goes through :class:`chalicelib.store.table.Table`, which also
retries conflicting transactions (see its module docstring). The capacity
plan is in ``docs/donations.md``.

Every write of a sale, refund or point donation is ONE ``TransactWriteItems``
whose first action puts the idempotency item with
``attribute_not_exists(PK)`` -- a replay cancels the whole transaction, so
it can never move a total -- and whose other actions touch other items
(one action per item: DynamoDB refuses two, even though moto accepts them;
:meth:`Table.transact <chalicelib.store.table.Table.transact>` asserts it).
A failed condition is an answer (:class:`DuplicateId`, :class:`StaleOrder`),
never retried. Nothing here returns a raw item.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from chalicelib.domain.totals import CampaignBooks
from chalicelib.store.items import (
    COUNTERS,
    PAID_PREFIX,
    SPLIT_PREFIX,
    WINDOW_PREFIX,
    LedgerEntry,
    OrderRecord,
    Receipt,
    as_int,
    item_json,
    paid_of,
    split_of,
    window_of,
)
from chalicelib.store.keys import (
    LEDGER_TOP,
    TOTALS_PREFIX,
    Key,
    ledger_pk,
    order_key,
    order_pk,
    parse_totals_pk,
    refund_key,
    refund_pk,
    totals_key,
)
from chalicelib.store.table import Action, Condition, ConditionFailed, Table, delete_action, is_at, put_new, update_action

# (campaign id, counter shard, {attribute: delta}); a delta of None REMOVEs the attribute (a
# return-window bucket whose window has passed: docs/donations.md)
Totals = tuple[str, int, Mapping[str, int | None]]
_J = TypeVar("_J")
_R = TypeVar("_R")

# ------------------------------------------------------------------ the answers a write can get


class DuplicateId(Exception):
    """The idempotency item already exists (a replay, or an id reused with another body)."""


class StaleOrder(Exception):
    """The order changed (another refund) between our read and our write."""


# ------------------------------------------------------------------ the store


class BooksStore:
    """The books' access patterns on ``table`` (:class:`~chalicelib.store.table.Table`).

    ``ledger_threads``: the threads that query the ledger's shards; ``None`` (the default) is
    one a shard, so a round of queries costs one round trip. A smaller pool queues the rest:
    ``ceil(shards / ledger_threads)`` round trips a round (``make bench`` times 8, the count
    before, and 1).

    Every method raises :class:`~chalicelib.errors.StoreUnavailable` when the
    table cannot answer (after the door's retries).
    """

    def __init__(self, table: Table, ledger_threads: int | None = None) -> None:
        self.table = table
        self._ledger_threads = ledger_threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self._pool_lock = threading.Lock()

    # ---------------------------------------------------------- writes (one transaction each)

    def put_sale(self, order: OrderRecord, recorded_at: datetime, totals: Totals, ledger: dict[str, Any] | None) -> None:
        """Record a sale: put ``ORDER#id`` if absent + ADD to one counter shard (+ one ledger entry).

        ``totals`` is ``(campaign_id, shard, {attribute: delta})``; ``ledger`` a
        :meth:`LedgerEntry.to_item <chalicelib.store.items.LedgerEntry.to_item>`
        (``None`` for a 0.00 entry). Raises :class:`DuplicateId` when the order
        is already recorded.
        """
        try:
            self._write_with_totals(put_new(order.to_item(recorded_at)), [], totals, ledger)
        except ConditionFailed as exc:
            raise DuplicateId(order.order_id) from exc

    def put_refund(
        self,
        refund_item: dict[str, Any],
        order: OrderRecord,
        new_refunded_fen: int,
        new_donation_fen: int,
        totals: Totals,
        ledger: dict[str, Any] | None,
        refunds: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Record a refund: put ``REFUND#id`` if absent + update the order if its version is unchanged
        + ADD to one counter shard (+ one ledger entry).

        ``refunds``: the order's refunds with this one last, kept on the order (JSON text) for
        "find my order"; the version condition makes the list exact.

        Raises :class:`DuplicateId` (refund id exists) or :class:`StaleOrder`
        (another refund moved the order first: read it again and recompute).
        """
        update = update_action(
            order_key(order.order_id),
            "SET #refunded = :refunded, #donation = :donation, #version = :next, #refunds = :refunds ADD #count :one",
            {
                "#version": "version",
                "#refunded": "refunded_fen",
                "#donation": "donation_fen",
                "#count": "refund_count",
                "#refunds": "refunds",
            },
            {
                ":next": order.version + 1,
                ":refunded": new_refunded_fen,
                ":donation": new_donation_fen,
                ":one": 1,
                ":refunds": item_json(list(refunds)),
            },
            # Only if no other refund landed since we read the order (optimistic lock).
            condition=is_at("version", order.version),
        )
        try:
            self._write_with_totals(put_new(refund_item), [update], totals, ledger)
        except ConditionFailed as exc:
            if 0 in exc.indexes:
                raise DuplicateId(refund_item["PK"]) from exc
            raise StaleOrder(order.order_id) from exc

    def put_point_donation(self, item: dict[str, Any], totals: Totals, ledger: dict[str, Any] | None) -> None:
        """Record a point donation: put ``POINTS#id`` if absent + ADD to one counter shard (+ one ledger entry).

        Raises :class:`DuplicateId` when the donation is already recorded.
        """
        try:
            self._write_with_totals(put_new(item), [], totals, ledger)
        except ConditionFailed as exc:
            raise DuplicateId(item["PK"]) from exc

    def _write_with_totals(self, receipt: Action, others: list[Action], totals: Totals, ledger: dict[str, Any] | None) -> None:
        """One transaction: the idempotency put first (index 0), ``others``, the counter ADD, the ledger entry.

        Raises ``ConditionFailed`` with the indexes of the failed actions.
        """
        actions = [receipt, *others, _add(*totals)]
        if ledger is not None:
            actions.append(put_new(ledger))  # a ledger key is written once
        self.table.transact(actions)

    # ---------------------------------------------------------- reads

    def get_order(self, order_id: str) -> OrderRecord | None:
        """``GetItem ORDER#id`` (strongly consistent)."""
        item = self.table.get(order_key(order_id), True)
        return None if item is None else OrderRecord.from_item(item)

    def find_order(self, order_id: str) -> OrderRecord | None:
        """``GetItem ORDER#id``, eventually consistent (a public page's read: "find my order")."""
        item = self.table.get(order_key(order_id), False)
        return None if item is None else OrderRecord.from_item(item)

    def get_receipt(self, pk: str, sk: str) -> Receipt | None:
        """``GetItem`` of an idempotency item (``REFUND#``/``POINTS#``), strongly consistent."""
        item = self.table.get({"PK": pk, "SK": sk}, True)
        return None if item is None else Receipt.from_item(item)

    def get_order_and_refund(self, order_id: str, refund_id: str) -> tuple[OrderRecord | None, Receipt | None]:
        """One ``BatchGetItem`` (strongly consistent: a refund must see the latest order) of
        ``ORDER#order_id`` and ``REFUND#refund_id``."""
        items = {item["PK"]: item for item in self.table.batch_get([order_key(order_id), refund_key(refund_id)], consistent=True)}
        order = items.get(order_pk(order_id))
        refund = items.get(refund_pk(refund_id))
        return (
            None if order is None else OrderRecord.from_item(order),
            None if refund is None else Receipt.from_item(refund),
        )

    def get_campaign_books(self, campaign_ids: Sequence[str], shards: int) -> dict[str, CampaignBooks]:
        """Sum each campaign's ``shards`` counter items: ``BatchGetItem`` of 100 keys a request, so
        ``ceil(len(ids) * shards / 100)`` requests. Eventually consistent (a page read: it converges
        within about a second of the last write, at half the cost). Amounts in fen."""
        return sum_counters(self.table.batch_get(counter_keys(campaign_ids, shards), consistent=False), campaign_ids)

    def fold_counter_shard(self, campaign_id: str, source: int, target: int, closed_until_s: int) -> bool:
        """Move counter shard ``source`` into shard ``target`` (a change of the shard count:
        docs/donations.md, "Changing the counter shard count"); ``False`` when ``source`` is absent.

        One strongly consistent ``GetItem``, then one transaction: ADD every counter, split and
        return-window bucket of ``source`` to ``target`` (buckets of a paid second at or before
        ``closed_until_s``, epoch seconds, are closed and dropped) and delete ``source`` if its
        ``orders``, ``refunds`` and ``point_donations`` are unchanged (every write moves one of
        them). Raises :class:`StaleOrder` when a write landed on ``source`` in between: fold again.
        """
        item = self.table.get(totals_key(campaign_id, source), True)
        if item is None:
            return False
        deltas = {
            name: as_int(value)
            for name, value in item.items()
            if name in COUNTERS
            or name.startswith((SPLIT_PREFIX, WINDOW_PREFIX))
            or (name.startswith(PAID_PREFIX) and paid_of(name) > closed_until_s)
        }
        counts = ("orders", "refunds", "point_donations")
        unchanged = Condition(
            " AND ".join(f"#{n} = :{n}" if n in item else f"attribute_not_exists(#{n})" for n in counts),
            {f"#{n}": n for n in counts},
            {f":{n}": item[n] for n in counts if n in item},
        )
        actions = [delete_action(totals_key(campaign_id, source), unchanged)]
        if any(deltas.values()):
            actions.append(_add(campaign_id, target, deltas))
        try:
            self.table.transact(actions)
        except ConditionFailed as exc:
            raise StaleOrder(f"counter shard {source} of {campaign_id!r}") from exc
        return True

    def query_ledger(self, campaign_id: str, before: str | None, limit: int, shards: int) -> tuple[list[LedgerEntry], bool]:
        """The newest ``limit`` entries older than position ``before`` (all when ``None``), and
        whether older ones may exist.

        A k-way merge of the ledger shards, newest first. Each shard is read
        by ``Query`` (``SK < bound``, newest first, eventually consistent) in
        a first batch of :func:`first_batch` entries, all shards at once (a thread each);
        a shard whose batch runs out before the page is full is read once
        more from where it stopped (``ExclusiveStartKey``), for all the page
        still needs (a round trip of its own). A page of 100 over 32 shards reads
        up to 384 small items in 32 queries, and a refill is rare (docs/donations.md).
        """
        batch = first_batch(limit, shards)
        heads: list[list[dict[str, Any]]] = [[] for _ in range(shards)]
        resume: list[dict[str, Any] | None] = [None] * shards
        open_ = [True] * shards  # the shard may hold more entries past what we hold
        bound = before or LEDGER_TOP

        def read(job: tuple[int, int]) -> tuple[int, list[dict[str, Any]], dict[str, Any] | None]:
            shard, count = job
            page = self.table.query(
                ledger_pk(campaign_id, shard),
                below=bound,
                newest_first=True,
                limit=count,
                attributes=LedgerEntry.PUBLIC_ATTRIBUTES,
                consistent=False,  # a page read, like the totals it must add up to
                start=resume[shard],
            )
            return shard, page.items, page.next_key

        out: list[dict[str, Any]] = []
        first = True
        while len(out) < limit:
            # A refill asks for all the page still needs, so a shard is refilled at most once a page.
            count = batch if first else max(batch, limit - len(out))
            empty = [(s, count) for s in range(shards) if not heads[s] and open_[s]]
            jobs = self._submit(read, empty, shards)
            for shard, items, last in (job.result() for job in jobs):
                heads[shard], resume[shard], open_[shard] = items, last, bool(last)
            first = False
            candidates = [s for s in range(shards) if heads[s]]
            if not candidates:
                break
            newest = max(candidates, key=lambda s: str(heads[s][0]["SK"]))
            out.append(heads[newest].pop(0))
        more = any(heads) or any(open_)
        return [LedgerEntry.from_item(i) for i in out], more

    def _submit(self, read: Callable[[_J], _R], jobs: Sequence[_J], shards: int) -> list[Future[_R]]:
        """``read(job)`` of each job on the ledger query pool, each in a copy of the request's
        context (it keeps the request's deadline).

        The pool is made on first use (no threads at import or cold start) with one thread a
        shard (or ``ledger_threads``), so every round of queries is issued at once and costs one round trip's latency.
        A larger shard count replaces it; the old pool is shut down without waiting (the
        queries already given to it still run, then its threads end). Jobs are handed over
        under the lock, so none goes to a pool already shut down.
        """
        threads = shards if self._ledger_threads is None else self._ledger_threads
        with self._pool_lock:
            if self._pool is None or self._pool_size < threads:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool, self._pool_size = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ledger-query"), threads
            return [self._pool.submit(contextvars.copy_context().run, read, job) for job in jobs]


# The least a shard's first ledger batch asks for. A Query is billed per 4 KB of the items it reads,
# and an entry is about 200 B: 12 (2.4 KB, room for longer ids) are one read unit, so a Query of 12
# costs the 0.5 RCU (eventually consistent) one of 6 does (docs/donations.md, the ledger's reads).
LEDGER_BATCH_MIN = 12


def first_batch(limit: int, shards: int) -> int:
    """Entries a page of ``limit`` asks of each of ``shards`` ledger shards in its first round.

    A shard's share, ``ceil(limit / shards)``, plus room for chance (entries are spread over the
    shards by a hash of their id, so a shard may hold more than its share of the newest), and at
    least :data:`LEDGER_BATCH_MIN`; never more than ``limit``. For 100 over 32 shards: 12, where
    a shard holds more than 12 of the newest 100 on about 1 page in 2,000 (binomial, p = 1/32).
    """
    share = -(-limit // shards)
    return min(limit, max(share + 2, LEDGER_BATCH_MIN))


def counter_keys(campaign_ids: Sequence[str], shards: int) -> list[Key]:
    """The keys of each campaign's counter shards ``0..shards-1``, campaign by campaign."""
    return [totals_key(cid, s) for cid in campaign_ids for s in range(shards)]


def sum_counters(items: Sequence[Mapping[str, Any]], campaign_ids: Sequence[str]) -> dict[str, CampaignBooks]:
    """Each of ``campaign_ids``' books: the sum of its counter shard items among ``items`` (other items
    are ignored; a campaign with none has zero books). Amounts in fen."""
    sums: dict[str, dict[str, Any]] = {
        cid: {"c": {}, "m": {}, "q": {}, "w": {}, **{k: 0 for k in COUNTERS}} for cid in campaign_ids
    }
    for item in items:
        pk = str(item["PK"])
        if not pk.startswith(TOTALS_PREFIX):
            continue
        acc = sums.get(parse_totals_pk(pk)[0])
        if acc is None:
            continue
        for name, value in item.items():
            if name in COUNTERS:
                acc[name] += as_int(value)
            elif name.startswith(SPLIT_PREFIX):
                county, merchant = split_of(name)
                acc["c"][county] = acc["c"].get(county, 0) + as_int(value)
                acc["m"][merchant] = acc["m"].get(merchant, 0) + as_int(value)
            elif name.startswith(PAID_PREFIX):
                paid = paid_of(name)
                acc["q"][paid] = acc["q"].get(paid, 0) + as_int(value)
            elif name.startswith(WINDOW_PREFIX):
                days = window_of(name)
                acc["w"][days] = acc["w"].get(days, 0) + as_int(value)
    return {
        cid: CampaignBooks(
            **{k: acc[k] for k in COUNTERS}, by_county=acc["c"], by_merchant=acc["m"], by_paid_s=acc["q"], by_window=acc["w"]
        )
        for cid, acc in sums.items()
    }


def _add(campaign_id: str, shard: int, deltas: Mapping[str, int | None]) -> Action:
    """The ``Update`` of one counter shard: ADD each non-zero delta, REMOVE each attribute whose delta is ``None``."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts, removed = [], []
    for i, (name, delta) in enumerate(sorted(deltas.items())):
        if delta is None:
            names[f"#r{i}"] = name
            removed.append(f"#r{i}")
        elif delta:
            names[f"#a{i}"] = name
            values[f":v{i}"] = int(delta)
            parts.append(f"#a{i} :v{i}")
    assert parts, "a counter update adds something"
    # ADD creates the item and the attributes on first use; counters are never SET.
    expression = "ADD " + ", ".join(parts) + (" REMOVE " + ", ".join(removed) if removed else "")
    return update_action(totals_key(campaign_id, shard), expression, names, values)
