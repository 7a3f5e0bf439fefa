"""Standard Webhooks verification (chalicelib/signing.py) and signed cursors (chalicelib/cursors.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from campaign_tools.sign import ensure_local_secret, generate_secret, sign_headers
from chalicelib.clock import FixedClock
from chalicelib.errors import BadRequest, Unauthorized
from chalicelib.settings import Settings
from chalicelib.web.cursors import CursorSigner
from chalicelib.webhooks.signing import ClockedWebhook, SecretSource, WebhookVerifier, secret_key

# A wall clock far from the real one: proves the tolerance reads the injected clock.
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
SECRET = generate_secret()
BODY = '{"order_id": "ORD-1", "note": "巴中留守儿童"}'.encode()


def verifier(secret: str | None = SECRET, wall: datetime = WALL) -> WebhookVerifier:
    return WebhookVerifier(SecretSource(Settings(system_signing_secret=secret)), FixedClock(wall))


def test_the_standard_webhooks_reference_vector_signs_as_the_spec_says():
    # The specification's own example (standardwebhooks.com, "Verifying webhooks").
    headers = sign_headers(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        b'{"test": 2432232314}',
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        datetime.fromtimestamp(1614265330, tz=UTC),
    )
    assert headers == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    WebhookVerifier(
        SecretSource(Settings(system_signing_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")),
        FixedClock(datetime.fromtimestamp(1614265330 + 60, tz=UTC)),
    ).verify(b'{"test": 2432232314}', headers)


def test_a_signed_body_verifies_over_its_raw_bytes():
    headers = sign_headers(SECRET, BODY, "msg_1", WALL)
    verifier().verify(BODY, headers)
    verifier().verify(BODY, {k.upper(): v for k, v in headers.items()})  # header names are case-insensitive


def test_the_signature_is_an_hmac_over_id_timestamp_and_body():
    headers = sign_headers(SECRET, BODY, "msg_1", WALL)
    expected = hmac.new(
        secret_key(SECRET), b"msg_1." + headers["webhook-timestamp"].encode() + b"." + BODY, hashlib.sha256
    ).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected).decode()


def test_reserialized_json_does_not_verify():
    headers = sign_headers(SECRET, BODY, "msg_1", WALL)
    with pytest.raises(Unauthorized, match="bad signature"):
        verifier().verify(b'{"order_id":"ORD-1","note":"\\u5df4"}', headers)


@pytest.mark.parametrize("skew_s", [301, -301, 10**6])
def test_stale_or_future_stamps_are_refused_by_the_wall_clock(skew_s):
    headers = sign_headers(SECRET, BODY, "msg_1", WALL + timedelta(seconds=skew_s))
    with pytest.raises(Unauthorized, match="stale request"):
        verifier().verify(BODY, headers)


@pytest.mark.parametrize("skew_s", [300, -300, 0])
def test_stamps_within_five_minutes_pass(skew_s):
    verifier().verify(BODY, sign_headers(SECRET, BODY, "msg_1", WALL + timedelta(seconds=skew_s)))


def test_the_packages_own_timestamp_check_reads_the_injected_clock():
    # If a new standardwebhooks version stopped calling the overridden method, this would
    # fail: its own check would compare a 2031 stamp with the real clock.
    headers = sign_headers(SECRET, BODY, "msg_1", WALL)
    assert ClockedWebhook(SECRET, FixedClock(WALL)).verify(BODY.decode(), headers, json_parse=False) is None


def test_a_wrong_secret_is_refused():
    headers = sign_headers(generate_secret(), BODY, "msg_1", WALL)
    with pytest.raises(Unauthorized, match="bad signature"):
        verifier().verify(BODY, headers)


def test_no_secret_configured_refuses_every_request():
    with pytest.raises(Unauthorized, match="no signing secret"):
        verifier(secret=None).verify(BODY, sign_headers(SECRET, BODY, "msg_1", WALL))


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": None},
        {"webhook-id": None},
        {"webhook-timestamp": None},
        {"webhook-signature": ""},
        {"webhook-signature": "v1"},  # no comma: the package would raise ValueError
        {"webhook-signature": "v1,a,b"},
        {"webhook-signature": "v1,abc"},  # not valid base64 length: binascii.Error inside the package
        {"webhook-signature": "v1,é+/="},  # non-ASCII: b64decode raises ValueError
        {"webhook-signature": "v1,\u00e9\u00e9"},
        {"webhook-id": "msg_é"},
        {"webhook-id": "msg 1"},
        {"webhook-id": "x" * 257},
        {"webhook-timestamp": "١٧٩٥١٣٢٨٠٠"},  # Arabic-Indic digits: float() would accept them
        {"webhook-timestamp": "1795132800.5"},
        {"webhook-timestamp": "nan"},
        {"webhook-timestamp": "-1"},
        {"webhook-signature": "v2," + base64.b64encode(b"x" * 32).decode()},  # only unknown versions
    ],
)
def test_malformed_headers_are_401_never_500(change):
    headers = sign_headers(SECRET, BODY, "msg_1", WALL)
    for name, value in change.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    with pytest.raises(Unauthorized):
        verifier().verify(BODY, headers)


def test_one_good_signature_among_several_is_enough():
    headers = sign_headers(SECRET, BODY, "msg_1", WALL)
    other = sign_headers(generate_secret(), BODY, "msg_1", WALL)["webhook-signature"]
    headers["webhook-signature"] = f"{other} {headers['webhook-signature']}"
    verifier().verify(BODY, headers)


def test_a_body_that_is_not_utf8_is_401():
    headers = sign_headers(SECRET, b"{}", "msg_1", WALL)
    with pytest.raises(Unauthorized, match="not UTF-8"):
        verifier().verify(b"\xff{}", headers)


def test_secrets_are_whsec_base64_with_a_real_key():
    assert len(secret_key(generate_secret())) == 32
    for bad in ("whsec_", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            secret_key(bad)


def test_serve_generates_a_secret_only_when_none_is_set():
    settings, generated = ensure_local_secret(Settings())
    assert generated is not None and settings.system_signing_secret == generated and generated.startswith("whsec_")
    kept, none = ensure_local_secret(Settings(system_signing_secret=SECRET))
    assert none is None and kept.system_signing_secret == SECRET
    assert SECRET not in repr(kept)  # never printed by a log line that shows the settings


# ------------------------------------------------------------------ cursors


def signer(key: bytes = b"k" * 32) -> CursorSigner:
    return CursorSigner(lambda: key)


POSITION = "E#2026-12-01T02:00:00.000000Z#00ff00ff00ff00ff"


def test_a_cursor_round_trips_and_is_url_safe():
    cursor = signer().encode("ledger", "bazhong-pork-charity", POSITION)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert signer().decode("ledger", "bazhong-pork-charity", cursor) == POSITION


@pytest.mark.parametrize(
    "forge",
    [
        lambda c: signer().encode("ledger", "another-campaign", POSITION),  # another campaign's cursor
        lambda c: signer().encode("impact", "bazhong-pork-charity", POSITION),  # another route's cursor
        lambda c: signer(b"x" * 32).encode("ledger", "bazhong-pork-charity", POSITION),  # another key
        lambda c: base64.urlsafe_b64encode(b'{"k":"E#9999"}').decode().rstrip("=") + "." + c.split(".")[1],  # edited
        lambda c: c.replace(".", ""),
        lambda c: c + "+",
        lambda c: "x" * 600,
        lambda c: "eyJrIjoiRSM5In0",  # plain base64 of {"k": ...}, unsigned
    ],
)
def test_forged_or_foreign_cursors_are_refused(forge):
    cursor = signer().encode("ledger", "bazhong-pork-charity", POSITION)
    with pytest.raises(BadRequest) as caught:
        signer().decode("ledger", "bazhong-pork-charity", forge(cursor))
    assert caught.value.field == "cursor"
