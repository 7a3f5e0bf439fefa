"""Standard Webhooks headers for any body bytes, as a sender would make them.

``chalicelib.signing.sign_headers`` signs text (the package's ``sign`` takes
``str``); a hostile sender can sign bytes that are not UTF-8 too, so tests of
such bodies compute the same HMAC by hand.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timezone

from chalicelib.signing import secret_key, sign_headers


def sign_any(secret: str, raw: bytes, msg_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
    """The three ``webhook-*`` headers for ``raw`` (the package's own signature whenever it can sign)."""
    try:
        return sign_headers(secret, raw, msg_id, at)
    except UnicodeDecodeError:
        msg_id = msg_id or "msg_" + secrets.token_hex(12)
        stamp = str(int((at or datetime.now(timezone.utc)).timestamp()))
        mac = hmac.new(secret_key(secret), f"{msg_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
        return {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": "v1," + base64.b64encode(mac).decode()}
