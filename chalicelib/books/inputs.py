"""What the books record, as values: a sale, a refund and a point donation as the sending systems report them.

:mod:`chalicelib.webhooks.requests` makes them from a signed request's body (and refuses
what it cannot make); :class:`chalicelib.books.service.Books` records them. Each has a
``fingerprint``, the digest of its values, which tells a replay (same id, same body: the
first answer again) from a conflict (same id, another body: 409).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


def _fingerprint(kind: str, values: dict[str, Any]) -> str:
    text = json.dumps([kind, values], sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SaleRequest:
    """A paid order line. ``amount_fen``: what was paid (integer fen); ``paid_at``: aware UTC."""

    order_id: str
    campaign_id: str
    sku: str
    quantity: int
    amount_fen: int
    paid_at: datetime

    @property
    def fingerprint(self) -> str:
        return _fingerprint("sale", {**asdict(self), "paid_at": self.paid_at.isoformat(timespec="microseconds")})


@dataclass(frozen=True)
class RefundRequest:
    """A refund of ``amount_fen`` (integer fen, > 0) on order ``order_id``."""

    refund_id: str
    order_id: str
    amount_fen: int

    @property
    def fingerprint(self) -> str:
        return _fingerprint("refund", asdict(self))


@dataclass(frozen=True)
class PointDonationRequest:
    """``points`` loyalty points donated by ``member_id`` (kept private; never shown)."""

    donation_id: str
    campaign_id: str
    member_id: str
    points: int

    @property
    def fingerprint(self) -> str:
        return _fingerprint("points", asdict(self))
