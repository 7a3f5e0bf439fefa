"""Signed pagination cursors: opaque, URL-safe, bound to a route and a campaign.

A cursor is ``<payload>.<tag>``, both unpadded URL-safe base64 (``A-Z a-z
0-9 - _``, so it survives a query string untouched; ``+`` would turn into a
space). ``payload`` is compact JSON ``{"k": <position>}``; ``tag`` is the
first 16 bytes of ``HMAC-SHA256(key, route NUL campaign NUL payload)``.

So a cursor made for one campaign's ledger is refused on another campaign
or another route, and an edited or hand-made one is refused: a plain
base64 ``LastEvaluatedKey`` could otherwise be forged to read other
partitions (FACTS, "Pagination cursors"). The position inside is a ledger
sort key (time + random nonce, see :mod:`chalicelib.store.books`): it names
no order id, so signing (not encrypting) is enough.

Errors: :class:`~chalicelib.errors.BadRequest` (400, ``field="cursor"``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable

from chalicelib.errors import BadRequest

MAX_CURSOR_CHARS = 512
TAG_BYTES = 16
_CHARS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\Z")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorSigner:
    """Makes and checks cursors with a server key.

    ``key`` is a zero-argument callable so the key can come lazily from the
    signing secret (:meth:`chalicelib.webhooks.signing.SecretSource.derived_key`).
    """

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key

    def _tag(self, route: str, campaign_id: str, payload: bytes) -> bytes:
        message = route.encode() + b"\0" + campaign_id.encode() + b"\0" + payload
        return hmac.new(self._key(), message, hashlib.sha256).digest()[:TAG_BYTES]

    def encode(self, route: str, campaign_id: str, position: str) -> str:
        """``position`` (a sort key) -> cursor for ``route`` and ``campaign_id``."""
        payload = json.dumps({"k": position}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._tag(route, campaign_id, payload))}"

    def decode(self, route: str, campaign_id: str, cursor: str) -> str:
        """Cursor -> position. Raises ``BadRequest(field="cursor")`` unless it was made by
        :meth:`encode` with this key, route and campaign."""
        if len(cursor) > MAX_CURSOR_CHARS or not _CHARS.match(cursor):
            raise BadRequest("the cursor is not one this server made", field="cursor")
        payload_text, tag_text = cursor.split(".")
        try:
            payload, tag = _unb64(payload_text), _unb64(tag_text)
        except (binascii.Error, ValueError):
            raise BadRequest("the cursor is not one this server made", field="cursor") from None
        if not hmac.compare_digest(tag, self._tag(route, campaign_id, payload)):
            raise BadRequest("the cursor is not valid for this page (edited, or made for another campaign)", field="cursor")
        try:
            position = json.loads(payload)["k"]
        except (ValueError, KeyError, TypeError):
            raise BadRequest("the cursor is not one this server made", field="cursor") from None
        if not isinstance(position, str):
            raise BadRequest("the cursor is not one this server made", field="cursor")
        return position
