"""The donation rules: exact, in integer fen, with no I/O.

Money is integer fen throughout; rates are ``Decimal`` percent; rounding is
named where it happens.

The rules (docs/donations.md), with worked examples
-------------------------------------------------------------

**Sale.** Every campaign kind records its sales (for the impact figures). A
charity sale's order donates ``round_half_up(amount x rate)`` to the fen,
where ``rate`` is the product's own ``donation_rate`` if it has one, else the
campaign's ``charity.rate``; other kinds donate ``0.00``.

- 12.50 at 1 % -> 0.125 -> **0.13**
- 200.00 at 5 % -> **10.00**
- 88.00 of PRK-3103 (its merchant pledges 8 %, the campaign 5.45 %) -> **7.04**

A sale is refused (422) unless its campaign is in the live release, its SKU
is one of that campaign's products, and ``starts_at <= paid_at < ends_at``
(:mod:`chalicelib.books.checks`).

**Refund.** After any refunds, an order's donation is always
``round_half_up((paid - refunded) x rate)``; a refund reverses the
difference between the donation before and after it. So the reversals of an
order add up to at most its first donation, and a full refund leaves 0.

- 200.00 at 5 % (10.00), refund 50.00 -> 150.00 x 5 % = 7.50: reversal **2.50**
  (the ledger shows -2.50), once, however often the refund is replayed;
  then refund 150.00 -> 0.00: reversal **7.50**; total reversed 10.00.
- 12.50 at 1 % (0.13), refund 0.50 -> 12.00 x 1 % = 0.12: reversal 0.01.
- 12.50 at 1 %, refund 12.40 -> 0.10 x 1 % = 0.001 -> 0.00: reversal 0.13.

A refund of more than ``paid - refunded`` is 422; of an unknown order, 404.

**Point donation.** Worth ``points / points_per_yuan`` yuan rounded DOWN to
the fen: ``fen = points x 100 // points_per_yuan``. The campaign must be a
live charity sale with ``points_per_yuan`` (else 422).

- 250 points at 100 points/yuan -> **2.50**; 199 points at 1000/yuan -> 0.199 -> **0.19**.

**Books balance.** Each sale, refund or point donation is one DynamoDB
transaction that writes its idempotency item, ADDs to one counter shard and
puts its ledger entry (if not 0.00), so at every instant
``raised == sum of the ledger``. The service that applies these
rules is :mod:`chalicelib.books.service`; the capacity plan is ``docs/donations.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.domain.money import donation_fen


def sale_donation_fen(amount_fen: int, rate_percent: Decimal | None) -> int:
    """An order's donation: ``round_half_up(amount x rate)``; 0 without a rate (non-charity kinds).

    >>> sale_donation_fen(1250, Decimal("1")), sale_donation_fen(20000, Decimal("5")), sale_donation_fen(20000, None)
    (13, 1000, 0)
    """
    return 0 if rate_percent is None else donation_fen(amount_fen, rate_percent)


class RefundTooLarge(ValueError):
    def __init__(self, left_fen: int) -> None:
        super().__init__(left_fen)
        self.left_fen = left_fen


@dataclass(frozen=True)
class RefundMath:
    """An order after a refund: ``refunded_fen``, ``donation_fen`` and the ``reversal_fen`` (>= 0)."""

    refunded_fen: int
    donation_fen: int
    reversal_fen: int


def apply_refund(
    paid_fen: int, refunded_fen: int, donation_now_fen: int, refund_fen: int, rate_percent: Decimal | None
) -> RefundMath:
    """Refund ``refund_fen`` on an order; raises :class:`RefundTooLarge` past ``paid - refunded``.

    >>> apply_refund(20000, 0, 1000, 5000, Decimal("5"))
    RefundMath(refunded_fen=5000, donation_fen=750, reversal_fen=250)
    """
    left = paid_fen - refunded_fen
    if refund_fen > left:
        raise RefundTooLarge(left)
    refunded = refunded_fen + refund_fen
    donation = sale_donation_fen(paid_fen - refunded, rate_percent)
    return RefundMath(refunded, donation, donation_now_fen - donation)


def points_value_fen(points: int, points_per_yuan: int) -> int:
    """``points / points_per_yuan`` yuan rounded down to the fen.

    >>> points_value_fen(250, 100), points_value_fen(199, 1000)
    (250, 19)
    """
    return points * 100 // points_per_yuan


def shard_of(ident: str, shards: int) -> int:
    """A stable shard in ``[0, shards)`` from the id's SHA-256, so a replay hits the same shard."""
    return int.from_bytes(hashlib.sha256(ident.encode("utf-8")).digest()[:8], "big") % shards


_HEAD = re.compile(r"^[A-Za-z]{1,6}[-_]")


def mask_ref(ref: str) -> str:
    """A public reference that does not give the id away.

    Keeps a short letter prefix and, when at least 6 characters stay hidden,
    the last 4: ``ORD-20261120-7788`` -> ``ORD-****-7788``;
    ``1234567890`` -> ``****7890``; ``ORD-7788`` -> ``ORD-****``.
    """
    head = _HEAD.match(ref)
    prefix = head.group(0) if head else ""
    rest = ref[len(prefix) :]
    if len(rest) < 10:
        return prefix + "****"
    separator = rest[-5] if rest[-5] in "-_" else ""
    return f"{prefix}****{separator}{rest[-4:]}"


REF_DIGEST_CHARS = 10  # hex characters of the keyed digest: 40 bits (docs/donations.md, "Find my order")


def public_ref(ident: str, key: bytes) -> str:
    """The masked reference a ledger shows for ``ident``, distinct per id: :func:`mask_ref` and a keyed digest.

    ``ORD-20261120-7788`` -> ``ORD-****-7788-3f9a0c1b2d`` (the digest: the first 10 hex
    characters of HMAC-SHA256(``key``, id)). Without the key the digest tells nothing of
    the hidden characters, so it cannot be used to guess them; the key is derived from the
    stage's signing secret, so every container of a stage shows the same reference.
    """
    digest = hmac.new(key, ident.encode("utf-8"), hashlib.sha256).hexdigest()[:REF_DIGEST_CHARS]
    return f"{mask_ref(ident)}-{digest}"
