"""Find my order: one recorded order, with the ledger lines it made, read from the order alone.

An order item keeps its refunds (``refunds``: JSON text, one ``{"at", "amount_fen",
"reversed_fen"}`` a refund, oldest first), so its ledger lines are made from it without
reading the ledger (docs/donations.md, "Find my order"). :func:`with_refund` writes that list
and :meth:`FoundOrder.entries` reads it. The item itself: :class:`chalicelib.store.items.OrderRecord`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.books.rules import public_ref
from chalicelib.domain.times import parse_stored
from chalicelib.store.books import BooksStore
from chalicelib.store.items import LedgerEntry, OrderRecord


@dataclass(frozen=True)
class FoundOrder:
    """An order found by its id: the record and the reference its ledger lines show."""

    order: OrderRecord
    ref: str

    @property
    def paid_at(self) -> datetime:
        return parse_stored(self.order.paid_at)

    @property
    def first_donation_fen(self) -> int:
        """The donation the sale recorded: today's donation and every reversal since."""
        return self.order.donation_fen + sum(int(r["reversed_fen"]) for r in self.order.refunds)

    def entries(self) -> list[LedgerEntry]:
        """Its ledger lines, newest first: the refunds that reversed something, then the sale (0.00 lines are left out)."""
        lines = [LedgerEntry(self.paid_at, "sale", self.ref, self.first_donation_fen)] if self.first_donation_fen else []
        lines += [
            LedgerEntry(parse_stored(str(r["at"])), "refund", self.ref, -int(r["reversed_fen"]))
            for r in self.order.refunds
            if int(r["reversed_fen"])
        ]
        return sorted(lines, key=lambda e: e.at, reverse=True)


def lookup_order(store: BooksStore, campaign_id: str, order_id: str, ref_key: Callable[[], bytes]) -> FoundOrder | None:
    """One order of ``campaign_id`` with its ledger entries; ``None`` when no such order is
    recorded, or it belongs to another campaign (the same answer: a 404).

    One eventually consistent ``GetItem`` (:meth:`BooksStore.find_order
    <chalicelib.store.books.BooksStore.find_order>`). ``ref_key``: the key of the public
    reference (:func:`~chalicelib.books.rules.public_ref`). Raises ``StoreUnavailable``.
    """
    order = store.find_order(order_id)
    if order is None or order.campaign_id != campaign_id:
        return None
    return FoundOrder(order, order_ref(order, ref_key))


def order_ref(order: OrderRecord, ref_key: Callable[[], bytes]) -> str:
    """The reference the order's entries show: the one stored with it, else (older orders) made
    now with ``ref_key()`` (asked for only then: it may read the signing secret)."""
    return order.ref or public_ref(order.order_id, ref_key())


def with_refund(order: OrderRecord, at: datetime, amount_fen: int, reversed_fen: int) -> list[Mapping[str, Any]]:
    """The order's refunds with one more last: ``amount_fen`` refunded at ``at`` (stored in UTC),
    reversing ``reversed_fen`` of its donation (integer fen)."""
    return [*order.refunds, {"at": at.astimezone(UTC).isoformat(), "amount_fen": amount_fen, "reversed_fen": reversed_fen}]
