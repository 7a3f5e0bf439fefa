"""Standard Webhooks signatures on the system routes, and the secret behind them.

The order system and the loyalty system sign each request as the Standard
Webhooks specification says (docs/donations.md, "A request, step by step")::

    webhook-id:        msg_2KWPBgLlAfxdpx2AI54pPJ85f4W      (any id of the sender's)
    webhook-timestamp: 1795400000                          (unix seconds)
    webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">

keyed with the stage's secret ``whsec_<base64 key>``. Verification is done by
the ``standardwebhooks`` package (pinned 1.1.0) over the RAW request bytes,
never over re-serialized JSON. Before the package sees them, the headers are
checked for shape (ASCII, lengths, a decimal timestamp), because the package
raises ``ValueError``/``binascii.Error`` on some malformed headers and
``float()`` accepts non-ASCII digits: every such case is a 401, never a 500.

The 5-minute tolerance uses the REAL wall clock (``wall_clock``), never the
campaign clock that ``campaign serve --at`` shifts.

Where the secret comes from (:class:`SecretSource`), per container, lazily:

1. ``SYSTEM_SIGNING_SECRET`` (settings) -- local runs and tests;
2. else the SSM SecureString named by ``SIGNING_SECRET_PARAMETER`` --
   deployed stages; one ``GetParameter`` per container (cached; a missing
   parameter is retried after ``retry_after_s``);
3. else none: every system request is 401 ("No secret, no entry").

Errors: :class:`~chalicelib.errors.Unauthorized` (401) for every refusal, with
the reason as its message; :class:`~chalicelib.errors.StoreUnavailable`
(503) when SSM cannot be reached.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from chalicelib.clock import Clock
from chalicelib.errors import Unauthorized
from chalicelib.settings import Settings
from chalicelib.store.parameters import SecureParameters, default_ssm_client

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 300  # a stamp more than 5 minutes from the real wall clock is refused
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_ID = re.compile(r"^[\x21-\x7e]{1,256}\Z")  # printable ASCII, no spaces
_TIMESTAMP = re.compile(r"^[0-9]{1,12}\Z")  # unix seconds, ASCII digits only
_SIGNATURE = re.compile(r"^[\x20-\x7e]{1,4096}\Z")
# "<version>,<base64>": v1 is checked; tokens of other versions (the spec's own example carries v1a) are skipped.
_TOKEN = re.compile(r"^v[0-9A-Za-z]+,[A-Za-z0-9+/]*={0,2}\Z")


def secret_key(secret: str) -> bytes:
    """The key bytes of ``whsec_<base64>``. Raises ``ValueError`` when malformed or empty."""
    body = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    # Unpadded base64 is accepted, as the standardwebhooks package pads it itself.
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the signing secret is not whsec_<base64>") from None
    if len(key) < 16:
        raise ValueError("the signing secret's key is shorter than 16 bytes")
    return key


class SecretSource:
    """The stage's signing secret, resolved once per container (see the module doc).

    Parameters
    ----------
    settings:
        ``system_signing_secret`` and ``signing_secret_parameter`` are read.
    ssm_client:
        zero-argument factory of a boto3 SSM client; created on first use
        only (tests hand in a moto client).
    monotonic:
        clock for the retry of a missing parameter (seconds).
    """

    def __init__(
        self,
        settings: Settings,
        ssm_client: Callable[[], Any] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        retry_after_s: float = 60.0,
    ) -> None:
        self._settings = settings
        self._parameters = SecureParameters(ssm_client or (lambda: default_ssm_client(settings.region)))
        self._monotonic = monotonic
        self._retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._resolved = False
        self._secret: str | None = None
        self._missing_since: float | None = None
        self._fallback_key = secrets.token_bytes(32)

    def secret(self) -> str | None:
        """The ``whsec_`` secret, or ``None`` when none is configured (then every system request is 401)."""
        if self._settings.system_signing_secret:
            return self._settings.system_signing_secret
        if not self._settings.signing_secret_parameter:
            return None
        with self._lock:
            if self._resolved:
                return self._secret
            if self._missing_since is not None and self._monotonic() - self._missing_since < self._retry_after_s:
                return None
            self._secret = self._fetch(self._settings.signing_secret_parameter)
            self._resolved = self._secret is not None
            self._missing_since = None if self._resolved else self._monotonic()
            return self._secret

    def derived_key(self, purpose: bytes) -> bytes:
        """A key for ``purpose`` (e.g. ledger cursors) derived from the secret: HMAC(key, purpose).

        Stable across containers of a stage. With no secret, a random key of
        this process (cursors then only work within it; no entries exist anyway).
        """
        secret = self.secret()
        base = self._fallback_key if secret is None else secret_key(secret)
        return hmac.new(base, purpose, hashlib.sha256).digest()

    def _fetch(self, name: str) -> str | None:
        value = self._parameters.get(name)
        if value is None:
            log.error("signing secret parameter %s unusable; system requests get 401", name)
            return None
        try:
            secret_key(value)
        except ValueError as exc:
            log.error("signing secret parameter %s: %s; system requests get 401", name, exc)
            return None
        return value


def stamp_skew(stamp_s: int, now: datetime, tolerance_s: int) -> float | None:
    """Seconds the unix stamp ``stamp_s`` lies from ``now`` when outside ± ``tolerance_s``
    (negative: too old), or ``None`` within it.

    The package's own rule, to the microsecond of ``now``: a stamp is refused when
    ``stamp < now - tolerance`` or ``stamp > now + tolerance``; one second past the
    tolerance is stale, never "bad signature".
    """
    skew_s = stamp_s - now.timestamp()
    return skew_s if abs(skew_s) > tolerance_s else None


class ClockedWebhook(Webhook):
    """``standardwebhooks.Webhook`` whose timestamp check reads an injected wall clock.

    The package's ``verify`` calls its private ``__verify_timestamp`` (name-
    mangled to ``_Webhook__verify_timestamp``), which reads ``datetime.now``;
    this override keeps its rule (reject outside +/- 5 minutes) with our
    clock, so tests need no sleeping or patching. Pinned to
    ``standardwebhooks==1.1.0``; ``tests/unit/test_signing.py`` fails if a
    new version stops calling it.
    """

    def __init__(self, secret: str, wall_clock: Clock, tolerance_s: int = TOLERANCE_S) -> None:
        super().__init__(secret)
        self._wall_clock = wall_clock
        self._tolerance_s = tolerance_s

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:  # noqa: N802 - the package's name
        from standardwebhooks.webhooks import WebhookVerificationError

        try:
            stamp_s = int(timestamp_header)
            skew = stamp_skew(stamp_s, self._wall_clock(), self._tolerance_s)
            if skew is not None:
                raise WebhookVerificationError(f"Message timestamp too {'old' if skew < 0 else 'new'}")
            return datetime.fromtimestamp(stamp_s, tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise WebhookVerificationError("Invalid Signature Headers") from None


class WebhookVerifier:
    """Checks a system request; raises :class:`Unauthorized` (401) with the reason, or returns.

    Parameters
    ----------
    secrets:
        where the secret comes from (:class:`SecretSource`).
    wall_clock:
        the REAL clock (UTC), never the campaign clock.
    """

    def __init__(self, secrets: SecretSource, wall_clock: Clock, tolerance_s: int = TOLERANCE_S) -> None:
        self._secrets = secrets
        self._wall_clock = wall_clock
        self._tolerance_s = tolerance_s

    def verify(self, raw_body: bytes, headers: Mapping[str, str]) -> None:
        """Verify ``raw_body`` (the exact request bytes) against the three headers."""
        lowered = {str(k).lower(): v for k, v in headers.items()}
        missing = [h for h in HEADERS if not lowered.get(h)]
        if missing:
            raise Unauthorized(f"unsigned request: missing header(s) {', '.join(missing)}")
        msg_id, stamp, signature = (str(lowered[h]) for h in HEADERS)
        if not _ID.match(msg_id):
            raise Unauthorized("malformed webhook-id header: 1-256 printable ASCII characters expected")
        if not _TIMESTAMP.match(stamp):
            raise Unauthorized("malformed webhook-timestamp header: unix seconds in ASCII digits expected")
        if not _SIGNATURE.match(signature) or not all(_TOKEN.match(t) for t in signature.split(" ")):
            raise Unauthorized('malformed webhook-signature header: "v1,<base64>" tokens separated by spaces expected')
        skew = stamp_skew(int(stamp), self._wall_clock(), self._tolerance_s)
        if skew is not None:
            raise Unauthorized(
                f"stale request: webhook-timestamp is {skew:+.0f} s from the server's clock "
                f"(tolerance {self._tolerance_s} s); sign it again"
            )
        secret = self._secrets.secret()
        if secret is None:
            raise Unauthorized("no signing secret is configured on this stage; every system request is refused")
        try:
            text = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            # Standard Webhooks signs text, and the signature is checked before the body is read: a
            # body that is not UTF-8 cannot be authenticated, signed or not (docs/donations.md).
            raise Unauthorized(
                "the body is not UTF-8, so its signature cannot be checked (a system request is UTF-8 JSON)"
            ) from None
        try:
            ClockedWebhook(secret, self._wall_clock, self._tolerance_s).verify(
                text, {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature}, json_parse=False
            )
        except Exception:  # noqa: BLE001 - WebhookVerificationError, binascii.Error, ValueError: all a 401
            raise Unauthorized("bad signature: no v1 signature matches the body with this stage's secret") from None
