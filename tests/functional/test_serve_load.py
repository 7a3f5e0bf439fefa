"""`campaign serve`'s real local server under 64 concurrent clients, signed webhooks included."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from campaign_tools.sign import generate_secret, sign_headers
from tests.conftest import ROOT

pytestmark = pytest.mark.server

CLIENTS = 64
SECRET = generate_secret()


@pytest.fixture
def served(monkeypatch):
    """The local stack in this process (moto's server, the publish, chalice's local server), both on port 0."""
    from campaign_tools.serve import LocalStack
    from chalicelib import wiring

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYSTEM_SIGNING_SECRET", SECRET)
    stack = LocalStack(
        str(ROOT / "campaigns"), "127.0.0.1", 0, 0, datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    )
    with contextlib.redirect_stdout(io.StringIO()):
        stack.start()
    server = threading.Thread(target=stack.http.server.serve_forever, name="local-server", daemon=True)
    server.start()
    try:
        yield stack
    finally:
        stack.http.server.shutdown()
        stack.stop()
        wiring.configure(None)


def _sale(i: int) -> bytes:
    body = {
        "order_id": f"ORD-LOAD64-{i:04d}",
        "campaign_id": "bazhong-pork-charity",
        "sku": "PRK-3101",
        "quantity": 1,
        "amount": "68.00",
        "paid_at": "2026-12-01T10:00:00+08:00",
    }
    return json.dumps(body).encode()


def test_64_concurrent_clients_are_all_answered_and_none_is_reset(served):
    """Every client connects at the same moment (a barrier), on a connection of its own: half
    ask for a page, half send a signed sale. All 64 are answered; none is refused or reset."""
    start = threading.Barrier(CLIENTS)
    answers: dict[int, tuple[int, bytes]] = {}
    failures: dict[int, str] = {}

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        try:
            start.wait()
            if i % 2:
                body = _sale(i)
                headers = {"content-type": "application/json", **sign_headers(SECRET, body)}
                conn.request("POST", "/api/sales", body=body, headers=headers)
            else:
                conn.request("GET", "/api/campaigns/store-leishan")
            response = conn.getresponse()
            answers[i] = (response.status, response.read())
        except OSError as exc:  # ConnectionResetError, ConnectionRefusedError, BrokenPipeError, timeouts
            failures[i] = repr(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    with contextlib.redirect_stderr(io.StringIO()):  # the local server's access line per request
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == {}
    statuses = sorted({status for status, _ in answers.values()})
    assert len(answers) == CLIENTS and statuses == [200, 201]
    sales = {json.loads(body)["order_id"] for i, (status, body) in answers.items() if i % 2}
    assert sales == {f"ORD-LOAD64-{i:04d}" for i in range(1, CLIENTS, 2)}
    pages = {json.loads(body)["id"] for i, (_, body) in answers.items() if not i % 2}
    assert pages == {"store-leishan"}
