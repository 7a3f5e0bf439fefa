"""Signing system requests as a sender would: ``campaign sign``, ``campaign serve``'s secret, tests.

The runtime only verifies (:mod:`chalicelib.webhooks.signing`); this is the
other side of the Standard Webhooks exchange, through the same
``standardwebhooks`` package.
"""

from __future__ import annotations

import base64
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from chalicelib.clock import Clock, system_clock
from chalicelib.settings import Settings, SettingsError
from chalicelib.webhooks.signing import SECRET_PREFIX, secret_key


def generate_secret() -> str:
    """A fresh ``whsec_`` secret with a 32-byte key (``campaign serve`` without one)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def ensure_local_secret(settings: Settings) -> tuple[Settings, str | None]:
    """Settings with a signing secret for the local stack.

    Returns ``(settings, generated)``: ``generated`` is the new secret when
    the environment had none (``campaign serve`` prints it), else ``None``.
    Raises ``SettingsError`` when the given secret is not ``whsec_<base64>``.
    """
    if settings.system_signing_secret:
        try:
            secret_key(settings.system_signing_secret)
        except ValueError as exc:
            raise SettingsError(f"SYSTEM_SIGNING_SECRET: {exc}; unset it to have one made for this run") from None
        return settings, None
    generated = generate_secret()
    return replace(settings, system_signing_secret=generated), generated


def sign_headers(
    secret: str, body: bytes, msg_id: str | None = None, at: datetime | None = None, clock: Clock = system_clock
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with the package's ``sign``.

    ``at`` defaults to ``clock()`` (UTC); ``msg_id`` to a random ``msg_...``. Raises
    ``ValueError`` when the secret is malformed or the body is not UTF-8 (the
    package signs text).

    >>> h = sign_headers(generate_secret(), b'{}', "msg_1", datetime(2026, 11, 20, tzinfo=UTC))
    >>> h["webhook-timestamp"], h["webhook-signature"][:3]
    ('1795132800', 'v1,')
    """
    secret_key(secret)
    at = (at or clock()).astimezone(UTC)
    msg_id = msg_id or "msg_" + secrets.token_hex(12)
    text = body.decode("utf-8")
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=text)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


def curl_command(url: str, headers: Mapping[str, str], body: bytes, body_file: str | None = None) -> str:
    """A shell command that POSTs exactly ``body`` (``--data-binary`` keeps every byte) with ``headers``."""
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url), "-H", shlex.quote("content-type: application/json")]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    data = f"@{body_file}" if body_file else body.decode("utf-8")
    parts += ["--data-binary", shlex.quote(data)]
    return " ".join(parts)


def signed_output(
    body: bytes, secret: str | None, msg_id: str | None, timestamp_s: int | None, curl_url: str | None, body_file: str | None
) -> str:
    """What ``campaign sign`` prints: the three ``name: value`` header lines, or a curl command.

    Raises ``ValueError`` (no secret, a malformed secret, a body that is not UTF-8).
    """
    if not secret:
        raise ValueError("no signing secret: set SYSTEM_SIGNING_SECRET (campaign serve prints it) or pass --secret")
    at = None if timestamp_s is None else datetime.fromtimestamp(timestamp_s, tz=UTC)
    try:
        headers = sign_headers(secret, body, msg_id, at)
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8 text") from None
    if curl_url:
        return curl_command(curl_url, headers, body, body_file)
    return "\n".join(f"{name}: {value}" for name, value in headers.items())
