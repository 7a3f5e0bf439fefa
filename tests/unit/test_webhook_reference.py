"""Our webhook verdicts against the official ``standardwebhooks`` package, as the reference.

For a table of signature headers and secrets, our verifier accepts exactly what
``standardwebhooks.Webhook.verify`` accepts, on one frozen clock (time-machine
freezes the package's ``datetime.now`` and our real-clock stand-in alike), and a
refused stamp just past the tolerance is told as stale, not as a bad signature.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from standardwebhooks.webhooks import Webhook

from chalicelib.clock import system_clock
from chalicelib.errors import Unauthorized
from chalicelib.settings import Settings
from chalicelib.webhooks.signing import SecretSource, WebhookVerifier

NOW = datetime(2026, 12, 2, 9, 30, 0, 250_000, tzinfo=UTC)  # a quarter second past a whole second
KEY = secrets.token_bytes(32)
PADDED = "whsec_" + base64.b64encode(KEY[:31]).decode()  # 31 bytes: base64 ends with "="
UNPADDED = PADDED.rstrip("=")
OTHER = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
BODY = '{"order_id":"ORD-1","campaign_id":"bazhong-pork-charity","amount":"100.00"}'


def _sig(secret: str, stamp: int, msg_id: str = "msg_1", body: str = BODY) -> str:
    return Webhook(secret).sign(msg_id=msg_id, timestamp=datetime.fromtimestamp(stamp, tz=UTC), data=body)


def _case(secret_used: str, stamp_delta_s: int, signature: str | None = None) -> tuple[str, dict[str, str]]:
    stamp = int(NOW.timestamp()) + stamp_delta_s
    return secret_used, {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature if signature is not None else _sig(PADDED, stamp),
    }


def _v1(stamp_delta_s: int, secret: str = PADDED) -> str:
    return _sig(secret, int(NOW.timestamp()) + stamp_delta_s)


CASES = {
    "fresh v1": _case(PADDED, 0),
    "v1 beside a v1a token (the spec's own example)": _case(PADDED, 0, f"v1a,{base64.b64encode(b'x' * 32).decode()} {_v1(0)}"),
    "v1a token first, then v1": _case(PADDED, 0, f"{_v1(0)} v1a,c29tZXRoaW5nIGVsc2U="),
    "only a v1a token": _case(PADDED, 0, "v1a,c29tZXRoaW5nIGVsc2U="),
    "two v1 tokens, the second one right": _case(PADDED, 0, f"{_v1(0, OTHER)} {_v1(0)}"),
    "the secret without its base64 padding": _case(UNPADDED, 0),
    "signed with another secret": _case(PADDED, 0, _v1(0, OTHER)),
    "299 s old": _case(PADDED, -299),
    "300 s old, a quarter second past the tolerance": _case(PADDED, -300),
    "301 s old": _case(PADDED, -301),
    "300 s ahead": _case(PADDED, 300),
    "301 s ahead": _case(PADDED, 301),
}


def _reference_accepts(secret: str, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(BODY, headers, json_parse=False)
    except Exception:  # noqa: BLE001 - any refusal of the reference is a "no"
        return False
    return True


def _ours(secret: str, headers: dict[str, str]) -> str | None:
    verifier = WebhookVerifier(SecretSource(Settings(system_signing_secret=secret)), system_clock)
    try:
        verifier.verify(BODY.encode(), headers)
    except Unauthorized as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", sorted(CASES))
def test_our_verdict_is_the_official_librarys(name):
    secret, headers = CASES[name]
    with time_machine.travel(NOW, tick=False):
        reference = _reference_accepts(secret, headers)
        refusal = _ours(secret, headers)
    assert (refusal is None) == reference, (name, refusal)


@pytest.mark.parametrize("delta_s", [-301, -300, 301, 3600])
def test_a_stamp_past_the_tolerance_is_called_stale_not_a_bad_signature(delta_s):
    secret, headers = _case(PADDED, delta_s)
    with time_machine.travel(NOW, tick=False):
        refusal = _ours(secret, headers)
    assert refusal is not None and refusal.startswith("stale request"), refusal


def test_the_reference_refuses_what_we_call_stale_and_accepts_the_edge():
    with time_machine.travel(NOW, tick=False):
        assert not _reference_accepts(*_case(PADDED, -300))  # 300.25 s old
        assert _reference_accepts(*_case(PADDED, 300))  # 299.75 s ahead
    assert NOW.microsecond and timedelta(seconds=300) < NOW - datetime.fromtimestamp(int(NOW.timestamp()) - 300, tz=UTC)


def test_an_unpadded_secret_is_read_everywhere_a_secret_is_read():
    from campaign_tools.sign import ensure_local_secret, sign_headers
    from chalicelib.webhooks.signing import secret_key

    assert UNPADDED != PADDED and secret_key(UNPADDED) == secret_key(PADDED) == KEY[:31]
    assert ensure_local_secret(Settings(system_signing_secret=UNPADDED)) == (Settings(system_signing_secret=UNPADDED), None)
    at = datetime.fromtimestamp(int(NOW.timestamp()), tz=UTC)
    assert sign_headers(UNPADDED, BODY.encode(), "msg_1", at) == sign_headers(PADDED, BODY.encode(), "msg_1", at)
