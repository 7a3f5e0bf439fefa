"""The signing secret from SSM Parameter Store (moto), once per container, and `campaign sign`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from campaign_tools.sign import generate_secret, sign_headers
from chalicelib import wiring
from chalicelib.clock import FixedClock
from chalicelib.errors import StoreUnavailable, Unauthorized
from chalicelib.settings import Settings
from chalicelib.webhooks.signing import SecretSource, WebhookVerifier
from tests.conftest import TABLE
from tests.factories import charity_sale, local

PARAMETER = "/campaign-platform/dev/signing-secret"
SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


class Ssm:
    """A factory of one moto SSM client that counts clients made and GetParameter calls."""

    def __init__(self):
        self.clients = 0
        self.gets = 0

    def __call__(self):
        import boto3

        self.clients += 1
        client = boto3.client("ssm", region_name="us-east-1")
        client.meta.events.register("before-call.ssm.GetParameter", self._count)
        return client

    def _count(self, **kwargs):
        self.gets += 1


@pytest.fixture
def ssm(aws_env):
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("ssm", region_name="us-east-1").put_parameter(Name=PARAMETER, Value=SECRET, Type="SecureString")
        yield Ssm()


def test_the_secret_is_fetched_lazily_and_once_per_container(ssm):
    source = SecretSource(Settings(stage="dev", signing_secret_parameter=PARAMETER), ssm)
    assert (ssm.clients, ssm.gets) == (0, 0)  # nothing at construction (cold start stays cheap)
    assert source.secret() == SECRET
    assert source.secret() == SECRET
    assert (ssm.clients, ssm.gets) == (1, 1)


def test_the_environment_secret_wins_and_ssm_is_never_touched(ssm):
    other = generate_secret()
    source = SecretSource(Settings(signing_secret_parameter=PARAMETER, system_signing_secret=other), ssm)
    assert source.secret() == other and ssm.clients == 0


def test_a_missing_parameter_is_no_secret_and_is_retried_after_a_while(ssm):
    now = [100.0]
    source = SecretSource(Settings(signing_secret_parameter="/nope"), ssm, monotonic=lambda: now[0], retry_after_s=60)
    assert source.secret() is None
    now[0] += 59
    assert source.secret() is None and ssm.gets == 1
    now[0] += 2
    assert source.secret() is None and ssm.gets == 2
    verifier = WebhookVerifier(source, FixedClock(WALL))
    with pytest.raises(Unauthorized, match="no signing secret"):
        verifier.verify(b"{}", sign_headers(SECRET, b"{}", "msg_1", WALL))


def test_a_malformed_parameter_value_is_no_secret(ssm):
    import boto3

    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/bad", Value="not-a-secret!", Type="SecureString")
    assert SecretSource(Settings(signing_secret_parameter="/bad"), ssm).secret() is None


def test_an_unreachable_ssm_is_a_503_not_a_401():
    from botocore.exceptions import EndpointConnectionError

    class Down:
        def get_parameter(self, **kwargs):
            raise EndpointConnectionError(endpoint_url="https://ssm.example")

    with pytest.raises(StoreUnavailable):
        SecretSource(Settings(signing_secret_parameter=PARAMETER), lambda: Down()).secret()


def test_a_deployed_stage_verifies_with_the_parameter_through_the_route(ssm, table, clock, publish):
    from chalice.test import Client

    from app import app
    from tests.conftest import ROOT

    svc = wiring.build(
        Settings(stage="dev", table_name=TABLE, signing_secret_parameter=PARAMETER),
        clock,
        table,
        wall_clock=FixedClock(WALL),
        ssm_client=ssm,
    )
    wiring.configure(svc)
    try:
        publish(charity_sale())
        clock.set(local(2026, 12, 1))
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            for i in range(3):
                body = json.dumps(
                    {"donation_id": f"PD-{i}", "campaign_id": "bazhong-pork-charity", "member_id": "M", "points": 100}
                ).encode()
                response = client.http.post(
                    "/api/point-donations", headers=sign_headers(SECRET, body, f"msg_{i}", WALL), body=body
                )
                assert response.status_code == 201, response.body
            cursor_page = client.http.get("/api/campaigns/bazhong-pork-charity/ledger")
            assert cursor_page.status_code == 200
        assert (ssm.clients, ssm.gets) == (1, 1)
    finally:
        wiring.configure(None)


# ------------------------------------------------------------------ campaign sign


def run_sign(capsys, monkeypatch, argv, stdin=None):
    import io
    import sys

    from campaign_tools.cli import main

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(["sign", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def headers_of(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.strip().splitlines())


def test_campaign_sign_prints_headers_that_verify(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SYSTEM_SIGNING_SECRET", SECRET)
    body = '{"refund_id": "RF-1", "order_id": "订单-1", "amount": "1.00"}\n'.encode()
    path = tmp_path / "refund.json"
    path.write_bytes(body)
    code, out, _ = run_sign(capsys, monkeypatch, [str(path), "--id", "msg_7", "--timestamp", str(int(WALL.timestamp()))])
    assert code == 0
    headers = headers_of(out)
    assert headers == sign_headers(SECRET, body, "msg_7", WALL)  # every byte, the final newline too
    WebhookVerifier(SecretSource(Settings(system_signing_secret=SECRET)), FixedClock(WALL)).verify(body, headers)
    code, out, _ = run_sign(capsys, monkeypatch, ["--id", "msg_7", "--timestamp", str(int(WALL.timestamp()))], stdin=body)
    assert headers_of(out) == headers


def test_campaign_sign_takes_a_body_and_a_secret_and_prints_curl(capsys, monkeypatch):
    monkeypatch.delenv("SYSTEM_SIGNING_SECRET", raising=False)
    code, out, err = run_sign(capsys, monkeypatch, ["--body", "{}"])
    assert code == 1 and "no signing secret" in err
    code, out, _ = run_sign(
        capsys, monkeypatch, ["--body", '{"a": "巴中"}', "--secret", SECRET, "--curl", "http://127.0.0.1:8000/api/sales"]
    )
    assert code == 0
    assert out.startswith(
        "curl -sS -X POST http://127.0.0.1:8000/api/sales -H 'content-type: application/json' -H 'webhook-id: msg_"
    )
    assert '--data-binary \'{"a": "巴中"}\'' in out
    code, _, err = run_sign(capsys, monkeypatch, ["--body", "{}", "--secret", "whsec_!!"])
    assert code == 1 and "whsec_" in err
