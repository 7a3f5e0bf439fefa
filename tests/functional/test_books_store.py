"""The books' data layer against moto, plus the retries moto never provokes (stubbed)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from chalicelib.books.inputs import PointDonationRequest, RefundRequest, SaleRequest
from chalicelib.books.service import Books, BookSizes
from chalicelib.domain.model import County, Merchant, Text
from chalicelib.releases.catalog import StoreCatalog
from chalicelib.store.books import BooksStore, DuplicateId
from chalicelib.store.items import LedgerEntry
from chalicelib.store.keys import ledger_pk, totals_pk
from chalicelib.store.table import Table
from tests.factories import campaign, charity_sale, local
from tests.stores import Boto3Table, ScriptedClient, books_store, release_store, rotation_store

RECEIVED = local(2026, 12, 1, 12)


def pledged_charity():
    """The factory charity sale (5.45 %), its second pick pledged at 8 % by another merchant and county."""
    c = charity_sale()
    other = replace(
        c.products[1],
        donation_rate_percent=Decimal("8"),
        merchant=Merchant("m-0251", Text({"zh-CN": "通江合作社", "en": "Tongjiang Cooperative"})),
        county=County("511921", Text({"zh-CN": "通江县", "en": "Tongjiang County"})),
    )
    return replace(c, products=(c.products[0], other))


@pytest.fixture(autouse=True)
def item_rollback():
    """moto deep-copies the whole table per transaction (O(items)); snapshot only the named items.

    The patch is the local stack's (chalicelib/local_dynamodb.py, tested there); it changes the
    cost of moto's rollback, not its outcome.
    """
    from campaign_tools.local_dynamodb import install_item_rollback

    undo = install_item_rollback()
    yield
    undo()


@pytest.fixture
def books(table, publish):
    publish(pledged_charity(), campaign())
    catalog = StoreCatalog(release_store(table), rotation_store(table))
    nonces = iter(f"{i:016x}" for i in range(10**6))
    return Books(
        books_store(table),
        catalog.campaign,
        sizes=BookSizes(counter_shards=8, ledger_shards=4, page_size=7),
        nonce=lambda: next(nonces),
    )


def sale(
    order_id: str,
    amount_fen: int,
    sku: str = "PORK-0001",
    paid_at: datetime = local(2026, 12, 1, 10),
    cid: str = "bazhong-pork-charity",
):
    return SaleRequest(order_id, cid, sku, 1, amount_fen, paid_at.astimezone(UTC))


def half_up(fen: int, rate: str) -> int:
    return int((Decimal(fen) * Decimal(rate) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def all_ledger(books: Books, cid: str = "bazhong-pork-charity") -> list[LedgerEntry]:
    entries, position = [], None
    while True:
        page = books.ledger_page(cid, position)
        entries += page.entries
        if page.next_position is None:
            return entries
        position = page.next_position


def test_sharded_totals_and_the_merged_ledger_are_exact(books, table):
    # GIVEN 300 sales, 40 refunds and 20 point donations spread over 8 counter and 4 ledger shards
    rng = random.Random(7)
    expected_raised, expected_sales, orders = 0, 0, {}
    for i in range(300):
        sku = rng.choice(["PORK-0001", "PORK-0002"])
        amount = rng.randint(1, 50_000)
        paid_at = local(2026, 11, 15) + timedelta(minutes=rng.randint(0, 20_000))
        outcome = books.record_sale(sale(f"ORD-2026-{i:06d}", amount, sku, paid_at), RECEIVED)
        assert outcome.status == 201
        rate = "8" if sku == "PORK-0002" else "5.45"
        orders[f"ORD-2026-{i:06d}"] = (amount, rate)
        assert outcome.body["donation"] == f"{Decimal(half_up(amount, rate)) / 100:.2f}"
    refunded = {}
    for i in range(40):
        oid = f"ORD-2026-{rng.randrange(300):06d}"
        paid, _ = orders[oid]
        left = paid - refunded.get(oid, 0)
        if left == 0:
            continue
        amount = rng.randint(1, left)
        assert books.record_refund(RefundRequest(f"RF-{i}", oid, amount), RECEIVED + timedelta(minutes=i)).status == 201
        refunded[oid] = refunded.get(oid, 0) + amount
    points = 0
    for i in range(20):
        n = rng.randint(1, 10_000)
        books.record_points(PointDonationRequest(f"PD-{i}", "bazhong-pork-charity", f"M-{i}", n), RECEIVED)
        points += n * 100 // 100
    for oid, (paid, rate) in orders.items():
        expected_raised += half_up(paid - refunded.get(oid, 0), rate)
        expected_sales += paid - refunded.get(oid, 0)
    # THEN the shards sum to the independent figures, to the fen
    totals = books.totals("bazhong-pork-charity")
    assert (totals.raised_from_sales_fen, totals.raised_from_points_fen, totals.sales_fen) == (
        expected_raised,
        points,
        expected_sales,
    )
    used = [s for s in range(8) if table.get_item(Key={"PK": totals_pk("bazhong-pork-charity", s), "SK": "SUM"}).get("Item")]
    assert used == list(range(8))
    # AND the ledger, read page by page across its 4 shards, is newest first and sums to raised
    entries = all_ledger(books)
    assert sum(e.amount_fen for e in entries) == totals.raised_fen
    assert [e.position for e in entries] == sorted((e.position for e in entries), reverse=True)
    assert len({e.position for e in entries}) == len(entries)
    assert all(e.amount_fen != 0 for e in entries)
    for s in range(4):
        assert (
            table.query(
                KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": ledger_pk("bazhong-pork-charity", s)}
            )["Count"]
            > 0
        )
    # AND the split by county and merchant adds up to the sales
    b = books.books(["bazhong-pork-charity"])["bazhong-pork-charity"]
    assert sum(b.by_county.values()) == sum(b.by_merchant.values()) == expected_sales
    assert set(b.by_merchant) == {"m-0042", "m-0251"}


def test_a_replay_moves_nothing_and_a_changed_body_conflicts(books):
    first = books.record_sale(sale("ORD-2026-000001", 20000), RECEIVED)
    again = books.record_sale(sale("ORD-2026-000001", 20000), RECEIVED + timedelta(hours=1))
    assert (first.status, again.status, again.body) == (201, 200, first.body)
    from chalicelib.errors import IdempotencyConflict

    with pytest.raises(IdempotencyConflict):
        books.record_sale(sale("ORD-2026-000001", 20001), RECEIVED)
    assert books.totals("bazhong-pork-charity").raised_from_sales_fen == 1090  # 200.00 at 5.45 %, once
    assert len(all_ledger(books)) == 1


def test_requests_per_operation(books, table, counter):
    books.record_sale(sale("ORD-WARM-000000", 100), RECEIVED)  # warms the catalog cache
    counter.reset()
    books.record_sale(sale("ORD-2026-000001", 20000), RECEIVED)
    assert counter.calls == ["TransactWriteItems"]
    counter.reset()
    books.record_refund(RefundRequest("RF-1", "ORD-2026-000001", 5000), RECEIVED)
    assert counter.calls == ["BatchGetItem", "TransactWriteItems"]
    counter.reset()
    books.record_points(PointDonationRequest("PD-1", "bazhong-pork-charity", "M-1", 250), RECEIVED)
    assert counter.calls == ["TransactWriteItems"]
    counter.reset()
    books.record_sale(sale("ORD-2026-000001", 20000), RECEIVED)  # a replay
    assert counter.calls == ["TransactWriteItems", "GetItem"]
    counter.reset()
    books.books(["bazhong-pork-charity"])  # the writes above dropped the cached totals
    books.books(["bazhong-pork-charity"])
    assert counter.calls == ["BatchGetItem"]  # 8 shards in one BatchGetItem, then the in-container cache
    counter.reset()
    books.ledger_page("bazhong-pork-charity", None)
    assert counter.calls == ["Query"] * 4  # one per ledger shard


# ------------------------------------------------------------------ stubbed conflicts (the door's retries: test_table.py)


def test_a_failed_condition_is_an_answer_never_retried_even_beside_a_conflict():
    client = ScriptedClient([["ConditionalCheckFailed", "TransactionConflict"]])
    sleeps: list[float] = []
    store = BooksStore(Table(Boto3Table(client), sleep=sleeps.append, rng=lambda: 1.0))
    with pytest.raises(DuplicateId):
        store.put_point_donation({"PK": "POINTS#1", "SK": "POINTS"}, ("c", 1, {"points": 1}), None)
    assert (client.calls, sleeps) == (1, [])


def test_moto_reports_the_duplicate_as_a_condition_failure_at_index_0(books, table):
    # The real cancellation reasons (not a stub): the idempotency put is action 0.
    books.record_sale(sale("ORD-2026-000009", 500), RECEIVED)
    with pytest.raises(DuplicateId):
        order = books.store.get_order("ORD-2026-000009")
        books.store.put_sale(order, RECEIVED, ("bazhong-pork-charity", 0, {"orders": 1}), None)
    assert books.totals("bazhong-pork-charity").sales_fen == 500


def test_a_non_charity_sale_is_recorded_for_impact_without_a_ledger(books):
    outcome = books.record_sale(sale("ORD-FEAT-000001", 3990, "EGG-0017", local(2026, 10, 17, 9), "poverty-day-2026"), RECEIVED)
    assert outcome.status == 201 and outcome.body["donation"] == "0.00"
    b = books.books(["poverty-day-2026"])["poverty-day-2026"]
    assert (b.sales_fen, b.orders, b.raised_fen) == (3990, 1, 0)
    assert all_ledger(books, "poverty-day-2026") == []


def test_entries_of_zero_are_left_out(books):
    books.record_sale(sale("ORD-2026-000010", 1), RECEIVED)  # 0.01 at 5.45 % -> 0.00
    books.record_refund(RefundRequest("RF-10", "ORD-2026-000010", 1), RECEIVED)
    assert books.totals("bazhong-pork-charity").sales_fen == 0
    assert all_ledger(books) == []


def test_totals_are_cached_per_container_for_five_seconds_and_dropped_by_a_local_write(table, publish, counter):
    publish(pledged_charity())
    now = [1000.0]
    catalog = StoreCatalog(release_store(table), rotation_store(table))
    books = Books(books_store(table), catalog.campaign, sizes=BookSizes(counter_shards=8), monotonic=lambda: now[0])
    books.record_sale(sale("ORD-2026-000001", 10000), RECEIVED)
    counter.reset()
    assert books.totals("bazhong-pork-charity").raised_from_sales_fen == 545
    now[0] += 4.9
    books.totals("bazhong-pork-charity")
    assert counter.count("BatchGetItem") == 1  # served from the cache
    now[0] += 0.1
    books.totals("bazhong-pork-charity")
    assert counter.count("BatchGetItem") == 2  # 5 s later: read again
    books.record_sale(sale("ORD-2026-000002", 10000), RECEIVED)
    assert books.totals("bazhong-pork-charity").raised_from_sales_fen == 1090  # the write dropped the cache at once


def test_entries_of_one_instant_come_out_in_one_stable_order_across_pages(books):
    # GIVEN 20 sales paid at the same instant, spread over the 4 ledger shards, 7 entries a page
    for i in range(20):
        assert books.record_sale(sale(f"ORD-TIE-{i:03d}", 10_000 + i), RECEIVED).status == 201
    first, again = all_ledger(books), all_ledger(Books(books.store, books._campaigns, sizes=BookSizes(8, 4, 7)))
    # THEN every read pages through the same 20 entries in the same order, none twice, none lost
    assert [e.position for e in first] == [e.position for e in again]
    assert len({e.position for e in first}) == 20 and {e.at for e in first} == {sale("x", 1).paid_at}
    assert sorted(e.amount_fen for e in first) == sorted(half_up(10_000 + i, "5.45") for i in range(20))


def test_a_smaller_ledger_pool_reads_the_same_pages(books):
    # GIVEN 20 sales over the 4 ledger shards, 7 entries a page
    for i in range(20):
        assert books.record_sale(sale(f"ORD-POOL-{i:03d}", 10_000 + i), RECEIVED).status == 201
    expected = [e.position for e in all_ledger(books)]
    # THEN a store whose 4 shards' queries share 1 or 3 threads pages alike (the bench times 1 and 8 for 32 shards)
    for threads in (1, 3):
        store = BooksStore(books.store.table, ledger_threads=threads)
        assert [e.position for e in all_ledger(Books(store, books._campaigns, sizes=BookSizes(8, 4, 7)))] == expected
        assert store._pool_size == threads
    assert len(expected) == 20


def test_a_shard_holding_more_than_its_first_batch_is_refilled_once(books, table):
    from chalicelib.books.rules import shard_of
    from chalicelib.store.books import first_batch
    from tests.conftest import RequestCounter

    # GIVEN a ledger of 2 shards read 30 entries a page (a first batch of 17 each), where the
    # newest 25 entries are all on shard 0
    two = Books(books.store, books._campaigns, sizes=BookSizes(counter_shards=8, ledger_shards=2, page_size=30))
    ids = (f"ORD-REFILL-{i:04d}" for i in range(10_000))
    on = {0: [], 1: []}
    for order_id in ids:
        shard = shard_of(order_id, 2)
        if len(on[shard]) < (25 if shard == 0 else 15):
            on[shard].append(order_id)
        if len(on[0]) == 25 and len(on[1]) == 15:
            break
    for order_id in on[1] + on[0]:  # shard 1's first: the newest are shard 0's
        assert two.record_sale(sale(order_id, 10_000), RECEIVED).status == 201
    assert first_batch(30, 2) == 17
    counter = RequestCounter(table.meta.client)
    # WHEN the first page is read
    page = two.ledger_page("bazhong-pork-charity", None)
    # THEN it is shard 0's 25 then shard 1's newest 5, in 2 queries and one refill of shard 0
    assert counter.take() == ["Query", "Query", "Query"]
    assert len(page.entries) == 30 and page.next_position is not None
    assert [e.position for e in page.entries] == sorted((e.position for e in page.entries), reverse=True)
    assert len(all_ledger(two)) == 40


def test_the_first_batch_is_a_shards_share_with_room_never_more_than_the_page():
    from chalicelib.store.books import LEDGER_BATCH_MIN, first_batch

    assert first_batch(100, 32) == LEDGER_BATCH_MIN == 12  # the deployed page: 4 + 2 < 12
    assert first_batch(30, 2) == 17
    assert first_batch(7, 4) == 7
    assert first_batch(1_000, 32) == 34


def test_folding_to_fewer_counter_shards_keeps_every_fen(books, table):
    from chalicelib.books.rules import shard_of

    # GIVEN sales (pending at RECEIVED), a refund and a point donation on 8 counter shards
    for i in range(40):
        books.record_sale(sale(f"ORD-FOLD-{i:03d}", 1_000 * (i + 1), "PORK-0002" if i % 3 else "PORK-0001"), RECEIVED)
    books.record_refund(RefundRequest("RF-FOLD-1", "ORD-FOLD-007", 3_000), RECEIVED)
    books.record_points(PointDonationRequest("PD-FOLD-1", "bazhong-pork-charity", "M-1", 500), RECEIVED)
    cid = "bazhong-pork-charity"
    before = books.books([cid])[cid]
    # WHEN the count drops to 3: the readers miss shards 3..7 until they are folded
    fewer = Books(books.store, books._campaigns, sizes=BookSizes(counter_shards=3, ledger_shards=4, page_size=7))
    assert fewer.books([cid])[cid].sales_fen < before.sales_fen
    assert fewer.fold_counters([cid], 8, RECEIVED) == {cid: 5}
    # THEN every figure is back, to the fen, pending share and splits included
    after = fewer.books([cid])[cid]
    assert after == before
    assert after.by_window == {7: 41}  # 40 sales and a refund booked under the 7-day window, points not
    assert after.charity_totals().pending_fen(RECEIVED, 7) == before.charity_totals().pending_fen(RECEIVED, 7) > 0
    assert [s for s in range(8) if table.get_item(Key={"PK": totals_pk(cid, s), "SK": "SUM"}).get("Item")] == [0, 1, 2]
    # AND a second fold moves nothing
    assert fewer.fold_counters([cid], 8, RECEIVED) == {cid: 0}
    # AND a shard written between the fold's read and its transaction is not deleted (read again)
    again = Books(books.store, books._campaigns, sizes=BookSizes(counter_shards=8, ledger_shards=4, page_size=7))
    late = next(f"ORD-LATE-{i}" for i in range(1000) if shard_of(f"ORD-LATE-{i}", 8) == 5)
    later = next(f"ORD-LATER-{i}" for i in range(1000) if shard_of(f"ORD-LATER-{i}", 8) == 5)
    again.record_sale(sale(late, 10_000), RECEIVED)
    store, real_get = books.store, books.store.table.get
    writes = iter([lambda: again.record_sale(sale(later, 20_000), RECEIVED)])

    def get_then_write(key, consistent=False):
        item = real_get(key, consistent)
        next(writes, lambda: None)()  # the first read of the fold races an old deployment's sale
        return item

    store.table.get = get_then_write
    try:
        assert fewer.fold_counters([cid], 8, RECEIVED) == {cid: 1}
    finally:
        store.table.get = real_get
    assert fewer.books([cid])[cid].sales_fen == before.sales_fen + 30_000
