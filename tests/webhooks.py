"""Standard Webhooks headers for any body bytes, as a sender would make them.

``chalicelib.webhooks.signing.sign_headers`` signs text (the package's ``sign`` takes
``str``); a hostile sender can sign bytes that are not UTF-8 too, so tests of
such bodies compute the same HMAC by hand.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from campaign_tools.local_dynamodb import install_item_rollback
from campaign_tools.sign import sign_headers
from chalicelib import wiring
from chalicelib.books.service import BookSizes
from chalicelib.clock import FixedClock
from chalicelib.settings import Settings
from chalicelib.webhooks.signing import secret_key
from tests.conftest import TABLE


def sign_any(secret: str, raw: bytes, msg_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
    """The three ``webhook-*`` headers for ``raw`` (the package's own signature whenever it can sign)."""
    try:
        return sign_headers(secret, raw, msg_id, at)
    except UnicodeDecodeError:
        msg_id = msg_id or "msg_" + secrets.token_hex(12)
        stamp = str(int((at or datetime.now(UTC)).timestamp()))
        mac = hmac.new(secret_key(secret), f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
        return {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": "v1," + base64.b64encode(mac).decode()}


@contextlib.contextmanager
def webhook_services(
    table: Any, clock: Any, secret: str, wall: datetime, page_size: int | None = 2, **build: Any
) -> Iterator[wiring.Services]:
    """The app's services, configured, for tests of the signed routes: ``secret`` to sign
     with, the real-clock stand-in fixed at ``wall``, small books (4 counter shards, 3 ledger
    shards, ``page_size`` entries a ledger page; ``None`` keeps the default), a store that
     never sleeps between retries, and moto's
     per-item transaction rollback (``campaign_tools.local_dynamodb``). ``build``: more of
     ``wiring.build``'s keywords (a ``cutoff``, a ``monotonic``). Undone on exit."""
    undo = install_item_rollback()
    sizes = BookSizes(counter_shards=4, ledger_shards=3, **({} if page_size is None else {"page_size": page_size}))
    settings = Settings(table_name=TABLE, system_signing_secret=secret)
    svc = wiring.build(settings, clock, table, wall_clock=FixedClock(wall), book_sizes=sizes, sleep=lambda s: None, **build)
    wiring.configure(svc)
    try:
        yield svc
    finally:
        wiring.configure(None)
        undo()
