"""The donation books as a service: record sales, refunds and point donations; read totals and the ledger.

The rules (with worked examples) are in :mod:`chalicelib.books.rules`, the refusals (422)
in :mod:`~chalicelib.books.checks`, the answers (201, 200, 409) in
:mod:`~chalicelib.books.answers`; "find my order" is :mod:`~chalicelib.books.orders`, the
counter fold :mod:`~chalicelib.books.fold`, the in-container cache :mod:`~chalicelib.books.cache`;
the items and the transactions are in :mod:`chalicelib.store.items` and :mod:`chalicelib.store.books`.

Each sale, refund or point donation is one DynamoDB transaction that writes
its idempotency item (``ORDER#``/``REFUND#``/``POINTS#``, first write wins),
ADDs to one of ``counter_shards`` counter items (chosen by a hash of the id,
so a replay hits the same shard) and puts its ledger entry (left out when
0.00) in one of ``ledger_shards`` ledger partitions. So at every instant
``raised == sum of the ledger``. Idempotency: the same id and the same body
answer 200 with the first answer's body; the same id with another body is
409; a replay cancels its transaction, so it never moves a total.

Times: a sale's ledger ``at`` is its ``paid_at``; a refund's or a point
donation's is the time of receipt on the campaign clock (``received_at``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.books.answers import Outcome, replay
from chalicelib.books.cache import CampaignCache
from chalicelib.books.checks import check_points, check_sale
from chalicelib.books.fold import fold_campaign_counters
from chalicelib.books.inputs import PointDonationRequest, RefundRequest, SaleRequest
from chalicelib.books.orders import FoundOrder, lookup_order, order_ref, with_refund
from chalicelib.books.pending import window_deltas
from chalicelib.books.rules import RefundTooLarge, apply_refund, points_value_fen, public_ref, sale_donation_fen, shard_of
from chalicelib.domain.model import DEFAULT_RETURN_DAYS, Campaign
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.domain.times import parse_stored
from chalicelib.domain.totals import CampaignBooks, CharityTotals
from chalicelib.errors import NotFound, StoreUnavailable, Unprocessable
from chalicelib.store.along import ReadAlong
from chalicelib.store.books import BooksStore, DuplicateId, StaleOrder, counter_keys, sum_counters
from chalicelib.store.items import LedgerEntry, OrderRecord, Receipt, receipt_item, split_attribute
from chalicelib.store.keys import POINTS_SK, REFUND_SK, order_pk, points_pk, refund_pk

# 98 = BatchGetItem's 100 keys less the release pointer and the campaign's head: a cold charity
# page is one request (docs/donations.md, "Hot keys and shard counts"). A change of this count
# folds the old shards first (`campaign fold-counters`): readers sum shards 0..N-1 only.
COUNTER_SHARDS = 98
LEDGER_SHARDS = 32  # may grow, never shrink: readers merge shards 0..N-1
PAGE_SIZE = 100
REFUND_ATTEMPTS = 8


@dataclass(frozen=True)
class BookSizes:
    """How the books spread over the table: counter shards, ledger shards, entries a ledger page.

    Shard counts may grow between deployments, never shrink (readers sum shards
    ``0..N-1``); the arithmetic is in ``docs/donations.md``. Tests pass small ones to
    :func:`chalicelib.wiring.build`.
    """

    counter_shards: int = COUNTER_SHARDS
    ledger_shards: int = LEDGER_SHARDS
    page_size: int = PAGE_SIZE


# ------------------------------------------------------------------ the service


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    next_position: str | None


class Books:
    """Records sales, refunds and point donations; reads totals and the ledger.

    Parameters
    ----------
    store:
        the data layer (:class:`~chalicelib.store.books.BooksStore`).
    campaigns:
        ``campaign_id -> Campaign | None`` from the live release (the catalog).
    sizes:
        shards and page size (:class:`BookSizes`, ``docs/donations.md``); tests use small ones.
    monotonic, cache_ttl_s:
        the in-container cache of totals and of each ledger's first page.
    nonce:
        the random part of a ledger key (injected for tests).
    ref_key:
        the key of the digest in public references (:func:`~chalicelib.books.rules.public_ref`);
        the wiring derives it from the stage's signing secret. Default: a random key of this process.
    """

    def __init__(
        self,
        store: BooksStore,
        campaigns: Callable[[str], Campaign | None],
        *,
        sizes: BookSizes = BookSizes(),
        monotonic: Callable[[], float] = time.monotonic,
        cache_ttl_s: float = 5.0,
        nonce: Callable[[], str] = lambda: secrets.token_hex(8),
        ref_key: Callable[[], bytes] | None = None,
    ) -> None:
        self.store = store
        self._campaigns = campaigns
        self.counter_shards = sizes.counter_shards
        self.ledger_shards = sizes.ledger_shards
        self.page_size = sizes.page_size
        self._cache = CampaignCache(monotonic, cache_ttl_s)
        self._nonce = nonce
        fallback = secrets.token_bytes(32)
        self._ref_key = ref_key or (lambda: fallback)

    # ---------------------------------------------------------- writes

    def record_sale(self, req: SaleRequest, received_at: datetime) -> Outcome:
        """``POST /api/sales``. 201 new, 200 replay; raises Unprocessable (422), IdempotencyConflict (409)."""
        campaign = self._campaigns(req.campaign_id)
        try:
            pick = check_sale(campaign, req, received_at)
        except Unprocessable:
            existing = self.store.get_order(req.order_id)  # a replay still answers after a re-publish
            if existing is not None:
                return replay(existing.receipt, req.fingerprint, "order_id", req.order_id)
            raise
        assert campaign is not None
        rate = campaign.donation_rate_percent(req.sku)
        donation = sale_donation_fen(req.amount_fen, rate)
        ref = public_ref(req.order_id, self._ref_key())
        response = {
            "order_id": req.order_id,
            "campaign_id": campaign.id,
            "donation": fen_to_yuan_str(donation),
            "status": "recorded",
        }
        order = OrderRecord(
            order_id=req.order_id,
            campaign_id=campaign.id,
            sku=req.sku,
            quantity=req.quantity,
            merchant_id=pick.merchant.id,
            county_code=pick.county.code,
            paid_fen=req.amount_fen,
            paid_at=req.paid_at.isoformat(),
            rate_percent=rate,
            donation_fen=donation,
            refunded_fen=0,
            version=0,
            receipt=Receipt(req.fingerprint, response),
            ref=ref,
        )
        deltas: dict[str, int | None] = {
            "sales_fen": req.amount_fen,
            "orders": 1,
            "raised_sales_fen": donation,
            split_attribute(pick.county.code, pick.merchant.id): req.amount_fen,
        }
        if campaign.charity is not None:
            deltas.update(window_deltas(req.paid_at, donation, received_at, campaign.charity.return_days))
        ledger = self._ledger_item(
            campaign.id, req.order_id, order_pk(req.order_id), LedgerEntry(req.paid_at, "sale", ref, donation)
        )
        try:
            self.store.put_sale(order, received_at, (campaign.id, shard_of(req.order_id, self.counter_shards), deltas), ledger)
        except DuplicateId:
            return replay(self._must(self.store.get_order(req.order_id)).receipt, req.fingerprint, "order_id", req.order_id)
        self._cache.invalidate(campaign.id)
        return Outcome(201, response, campaign.kind)

    def record_refund(self, req: RefundRequest, received_at: datetime) -> Outcome:
        """``POST /api/refunds``. Raises NotFound (404, unknown order), Unprocessable (422, more than
        is left), IdempotencyConflict (409). Retries when another refund of the order lands first."""
        for _ in range(REFUND_ATTEMPTS):
            order, receipt = self.store.get_order_and_refund(req.order_id, req.refund_id)
            if receipt is not None:
                return replay(receipt, req.fingerprint, "refund_id", req.refund_id)
            if order is None:
                raise NotFound(f"no order {req.order_id!r} is recorded", field="order_id")
            try:
                math = apply_refund(order.paid_fen, order.refunded_fen, order.donation_fen, req.amount_fen, order.rate_percent)
            except RefundTooLarge as exc:
                raise Unprocessable(
                    f"amount: {fen_to_yuan_str(req.amount_fen)} is more than the {fen_to_yuan_str(exc.left_fen)} "
                    f"left to refund on order {req.order_id!r}",
                    field="amount",
                ) from None
            response = {
                "refund_id": req.refund_id,
                "order_id": req.order_id,
                "donation_reversed": fen_to_yuan_str(math.reversal_fen),
            }
            item = receipt_item(
                refund_pk(req.refund_id),
                REFUND_SK,
                Receipt(req.fingerprint, response),
                received_at,
                order_id=req.order_id,
                campaign_id=order.campaign_id,
                amount_fen=req.amount_fen,
                reversed_fen=math.reversal_fen,
            )
            deltas: dict[str, int | None] = {
                "sales_fen": -req.amount_fen,
                "refunds": 1,
                "raised_sales_fen": -math.reversal_fen,
                split_attribute(order.county_code, order.merchant_id): -req.amount_fen,
            }
            if order.rate_percent is not None:  # a charity sale's order: the reversal leaves its window's bucket
                days = self._return_days(order.campaign_id)
                deltas.update(window_deltas(parse_stored(order.paid_at), -math.reversal_fen, received_at, days))
            entry = LedgerEntry(received_at, "refund", order_ref(order, self._ref_key), -math.reversal_fen)
            ledger = self._ledger_item(order.campaign_id, req.refund_id, refund_pk(req.refund_id), entry)
            totals = (order.campaign_id, shard_of(req.refund_id, self.counter_shards), deltas)
            try:
                refunds = with_refund(order, received_at, req.amount_fen, math.reversal_fen)
                self.store.put_refund(item, order, math.refunded_fen, math.donation_fen, totals, ledger, refunds)
            except (DuplicateId, StaleOrder):
                continue  # read both again: a replay answers from the receipt; a rival refund changes what is left
            self._cache.invalidate(order.campaign_id)
            return Outcome(201, response)
        raise StoreUnavailable(f"order {req.order_id!r} kept changing under this refund; retry it")

    def record_points(self, req: PointDonationRequest, received_at: datetime) -> Outcome:
        """``POST /api/point-donations``. Raises Unprocessable (422: not a live charity sale with
        ``points_per_yuan``), IdempotencyConflict (409)."""
        campaign = self._campaigns(req.campaign_id)
        try:
            points_per_yuan = check_points(campaign, req, received_at)
        except Unprocessable:
            existing = self.store.get_receipt(points_pk(req.donation_id), POINTS_SK)
            if existing is not None:
                return replay(existing, req.fingerprint, "donation_id", req.donation_id)
            raise
        assert campaign is not None
        amount = points_value_fen(req.points, points_per_yuan)
        response = {"donation_id": req.donation_id, "amount": fen_to_yuan_str(amount)}
        item = receipt_item(
            points_pk(req.donation_id),
            POINTS_SK,
            Receipt(req.fingerprint, response),
            received_at,
            campaign_id=campaign.id,
            member_id=req.member_id,
            points=req.points,
            amount_fen=amount,
        )
        deltas = {"raised_points_fen": amount, "point_donations": 1, "points": req.points}
        entry = LedgerEntry(received_at, "points", public_ref(req.donation_id, self._ref_key()), amount)
        ledger = self._ledger_item(campaign.id, req.donation_id, points_pk(req.donation_id), entry)
        try:
            self.store.put_point_donation(item, (campaign.id, shard_of(req.donation_id, self.counter_shards), deltas), ledger)
        except DuplicateId:
            receipt = self._must(self.store.get_receipt(points_pk(req.donation_id), POINTS_SK))
            return replay(receipt, req.fingerprint, "donation_id", req.donation_id)
        self._cache.invalidate(campaign.id)
        return Outcome(201, response)

    # ---------------------------------------------------------- reads

    def totals(self, campaign_id: str) -> CharityTotals:
        """The page figures of a campaign (a :data:`~chalicelib.domain.totals.TotalsSource`), cached."""
        books = self.books([campaign_id])[campaign_id]
        return books.charity_totals()

    def totals_of(self, campaign_ids: Sequence[str]) -> Mapping[str, CharityTotals]:
        """:meth:`totals` of several campaigns, their uncached shards read together (100 keys a request)."""
        return {cid: books.charity_totals() for cid, books in self.books(campaign_ids).items()}

    def read_along(self, campaign_ids: Sequence[str]) -> ReadAlong | None:
        """The counter shards of ``campaign_ids`` whose books are not cached, to be read in another
        access pattern's ``BatchGetItem`` (the campaign page's pointer and head: one request);
        ``None`` when all are cached. Taking the items caches the books as :meth:`books` would."""
        _, missing = self._uncached(campaign_ids)
        if not missing:
            return None
        keep = self._keeper(missing)
        return ReadAlong(counter_keys(missing, self.counter_shards), lambda found: keep(sum_counters(found, missing)))

    def books(self, campaign_ids: Sequence[str]) -> Mapping[str, CampaignBooks]:
        """Each campaign's summed counters; cached ``cache_ttl_s`` per container, dropped by local writes."""
        out, missing = self._uncached(campaign_ids)
        if missing:
            keep = self._keeper(missing)
            try:
                fetched = self.store.get_campaign_books(missing, self.counter_shards)
            except StoreUnavailable as exc:
                out.update(self._cache.stale([("books", cid) for cid in missing], exc))
                return out
            keep(fetched)
            out.update(fetched)
        return out

    def _keeper(self, campaign_ids: Sequence[str]) -> Callable[[Mapping[str, CampaignBooks]], None]:
        """Caches books read from now on for ``campaign_ids``, unless a write in this container
        lands before they are kept (the cache's generation, taken here, before the read)."""
        generations = {cid: self._cache.generation(cid) for cid in campaign_ids}

        def keep(read: Mapping[str, CampaignBooks]) -> None:
            for cid, books in read.items():
                self._cache.put(("books", cid), cid, generations[cid], books)

        return keep

    def _uncached(self, campaign_ids: Sequence[str]) -> tuple[dict[str, CampaignBooks], list[str]]:
        """The cached books of ``campaign_ids`` (each id once, in order), and the ids whose books are not cached."""
        cached: dict[str, CampaignBooks] = {}
        missing: list[str] = []
        for cid in dict.fromkeys(campaign_ids):
            hit = self._cache.get(("books", cid))
            if hit is None:
                missing.append(cid)
            else:
                cached[cid] = hit
        return cached, missing

    def ledger_page(self, campaign_id: str, position: str | None) -> LedgerPage:
        """``page_size`` entries older than ``position`` (newest first); the first page is cached."""
        key = ("ledger", campaign_id)
        if position is None:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        generation = self._cache.generation(campaign_id)
        try:
            entries, more = self.store.query_ledger(campaign_id, position, self.page_size, self.ledger_shards)
        except StoreUnavailable as exc:
            if position is not None:
                raise  # later pages are not kept: a 503
            return self._cache.stale([key], exc)[campaign_id]
        page = LedgerPage(entries, entries[-1].position if more and entries else None)
        if position is None:
            self._cache.put(key, campaign_id, generation, page)
        return page

    def find_order(self, campaign_id: str, order_id: str) -> FoundOrder | None:
        """One order of ``campaign_id`` with its ledger entries ("find my order"); ``None`` when
        no such order is recorded, or it belongs to another campaign (the same answer: a 404).

        One eventually consistent ``GetItem``; the entries are made from the order (its
        refunds are kept on it), so they equal its ledger lines without reading the ledger.
        """
        return lookup_order(self.store, campaign_id, order_id, self._ref_key)

    def fold_counters(self, campaign_ids: Sequence[str], old_shards: int, at: datetime) -> dict[str, int]:
        """Fold the counter shards ``counter_shards..old_shards-1`` of each campaign into shard
        ``s mod counter_shards`` (docs/donations.md, "Changing the counter shard count"), so the
        readers' sum of shards ``0..counter_shards-1`` keeps every sale. ``at``: the stage's clock
        (return-window buckets already closed then are dropped). Idempotent: a second run moves
        nothing. Returns ``campaign id -> shards folded``. Raises ``StoreUnavailable`` when a
        shard keeps changing (an old deployment still writing to it: run it again later).
        """
        folded: dict[str, int] = {}
        for cid in campaign_ids:
            folded[cid] = fold_campaign_counters(self.store, cid, self._campaigns(cid), self.counter_shards, old_shards, at)
            self._cache.invalidate(cid)
        return folded

    # ---------------------------------------------------------- helpers

    def _return_days(self, campaign_id: str) -> int:
        """The return window of a published charity sale; the default for one no longer published."""
        campaign = self._campaigns(campaign_id)
        return DEFAULT_RETURN_DAYS if campaign is None or campaign.charity is None else campaign.charity.return_days

    def _ledger_item(self, campaign_id: str, ident: str, source: str, entry: LedgerEntry) -> dict[str, Any] | None:
        """The ledger item of ``entry``, or ``None`` for a 0.00 entry (entries of 0.00 are left out of the ledger)."""
        if entry.amount_fen == 0:
            return None
        return entry.to_item(campaign_id, shard_of(ident, self.ledger_shards), self._nonce(), source)

    @staticmethod
    def _must(value: Any) -> Any:
        if value is None:  # a condition failed on an item a consistent read cannot see: never expected
            raise StoreUnavailable("the store answered inconsistently; retry the request")
        return value
