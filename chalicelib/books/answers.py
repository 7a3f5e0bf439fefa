"""What the books answer a system route: a first write's 201, a replay's 200, a reused id's 409.

Idempotency (docs/donations.md): each write stores its answer with the ``fingerprint`` of
its request (:mod:`chalicelib.books.inputs`) in its idempotency item
(:class:`~chalicelib.store.items.Receipt`). The same id with the same body answers that
first answer again; the same id with another body is
:class:`~chalicelib.errors.IdempotencyConflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.errors import IdempotencyConflict
from chalicelib.store.items import Receipt


@dataclass(frozen=True)
class Outcome:
    """The answer of a system route: 201 and the new body, or 200 and the first answer's body.

    ``kind``: the campaign's kind on a sale's first write (the ``SalesRecorded`` metric's dimension).
    """

    status: int
    body: dict[str, Any]
    kind: str = ""


def replay(receipt: Receipt, fingerprint: str, field: str, ident: str) -> Outcome:
    """Same id + same body -> 200 with the first answer; same id + another body -> 409."""
    if receipt.fingerprint == fingerprint:
        return Outcome(200, receipt.response)
    raise IdempotencyConflict(f"{field} {ident!r} was already used with a different body", field=field)
