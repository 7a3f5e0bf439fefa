"""The books balance under concurrent signed webhooks, against the real local stack.

`campaign serve` runs in a subprocess on free loopback ports (the embedded
DynamoDB is moto's server), with SYSTEM_SIGNING_SECRET in its environment.
8 threads send 250 signed requests each: new sales, ~10 % duplicates of
requests already sent by any thread (so some race their original), ~5 %
partial or full refunds of acknowledged orders, and a few point donations.
Afterwards the campaign's raised total, the sum of every page of its public
ledger, and the sum this test computes on its own from what it sent agree
to the fen.

The signatures are made with the official `standardwebhooks` package, as the
order system would, with the real wall clock (the server checks the real
clock even though `--at` moved its campaign clock).
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest
from standardwebhooks.webhooks import Webhook

from tests.local_stack import LocalStack

pytestmark = pytest.mark.server

SECRET = "whsec_" + "bG9hZC10ZXN0LXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"
CAMPAIGN = "bazhong-pork-charity"
THREADS, PER_THREAD = 8, 250
WINDOW_START = datetime(2026, 11, 15, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def signed_stack(tmp_path):
    stack = LocalStack(tmp_path, "2026-12-01T09:00+08:00", SECRET).start()
    yield {"port": stack.port, "lines": stack.lines}
    stack.stop()


class Sender:
    """One keep-alive connection per thread; signs each body with the official library."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.webhook = Webhook(SECRET)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, json.loads(response.read() or b"null")
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, body: bytes, msg_id: str) -> tuple[int, dict]:
        now = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.webhook.sign(msg_id, now, body.decode("utf-8")),
        }
        return self.request("POST", path, body, headers)


def half_up_fen(net_fen: int, rate: Decimal) -> int:
    return int((Decimal(net_fen) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_concurrent_sales_refunds_replays_and_points_balance_to_the_fen(signed_stack):
    port = signed_stack["port"]
    first = Sender(port)
    status, campaign = first.request("GET", f"/api/campaigns/{CAMPAIGN}?lang=en")
    assert status == 200 and campaign["state"] == "live"
    base_rate = Decimal(campaign["charity"]["rate"].rstrip("%"))
    rates = {p["sku"]: Decimal(p.get("donation_rate", campaign["charity"]["rate"]).rstrip("%")) for p in campaign["products"]}
    assert rates["PRK-3103"] == Decimal("8") and base_rate == Decimal("5.45")
    points_per_yuan = campaign["charity"]["points_per_yuan"]

    lock = threading.Lock()
    sent: list[tuple[str, bytes, str]] = []  # (path, exact body, id) of every first send, for replays
    orders: dict[str, tuple[int, Decimal]] = {}  # acknowledged orders: id -> (paid fen, rate)
    refunded: dict[str, int] = defaultdict(int)  # fen reserved for refunds per order
    points: dict[str, int] = {}  # donation id -> points
    answers: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
    failures: list[str] = []

    def worker(n: int) -> None:
        rng = random.Random(1000 + n)
        sender = Sender(port)
        for i in range(PER_THREAD):
            roll = rng.random()
            with lock:
                can_replay, can_refund = bool(sent), [o for o in orders if orders[o][0] > refunded[o]]
            if roll < 0.10 and can_replay:
                with lock:
                    path, body, ident = rng.choice(sent)
            elif roll < 0.15 and can_refund:
                oid = rng.choice(can_refund)
                with lock:
                    left = orders[oid][0] - refunded[oid]
                    if left <= 0:
                        continue
                    amount = left if rng.random() < 0.3 else rng.randint(1, left)
                    refunded[oid] += amount  # reserved before sending: the test never over-refunds
                ident = f"RF-{n}-{i:04d}"
                path = "/api/refunds"
                body = json.dumps({"refund_id": ident, "order_id": oid, "amount": f"{Decimal(amount) / 100:.2f}"}).encode()
                with lock:
                    sent.append((path, body, ident))
            elif roll < 0.18:
                ident = f"PD-{n}-{i:04d}-2026"
                n_points = rng.randint(1, 5000)
                path = "/api/point-donations"
                body = json.dumps(
                    {"donation_id": ident, "campaign_id": CAMPAIGN, "member_id": f"M-{rng.randint(1, 99)}", "points": n_points}
                ).encode()
                with lock:
                    points[ident] = n_points
                    sent.append((path, body, ident))
            else:
                ident = f"ORD-{n}{i:04d}-{rng.randint(1000, 9999)}"
                sku = rng.choice(sorted(rates))
                amount = rng.randint(1, 50_000)
                paid_at = WINDOW_START + timedelta(seconds=rng.randint(0, 16 * 86400))  # up to the stack's clock
                path = "/api/sales"
                body = json.dumps(
                    {
                        "order_id": ident,
                        "campaign_id": CAMPAIGN,
                        "sku": sku,
                        "quantity": rng.randint(1, 3),
                        "amount": f"{Decimal(amount) / 100:.2f}",
                        "paid_at": paid_at.isoformat(),
                    },
                    ensure_ascii=False,
                ).encode()
                with lock:
                    sent.append((path, body, ident))
            status, answer = sender.post(path, body, f"msg_{n}_{i}")
            with lock:
                answers[(path, ident)].append((status, answer))
                if status not in (200, 201):
                    failures.append(f"{path} {ident}: {status} {answer}")
                elif path == "/api/sales" and ident not in orders:
                    payload = json.loads(body)
                    orders[ident] = (int(Decimal(payload["amount"]) * 100), rates[payload["sku"]])

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert failures == []

    # Idempotency: each id was answered 201 exactly once; every other answer repeats it with 200.
    replays = 0
    for key, got in answers.items():
        assert [s for s, _ in got].count(201) == 1, (key, got)
        assert all(body == got[0][1] for _, body in got), (key, got)
        replays += len(got) - 1
    assert replays >= THREADS * PER_THREAD * 0.05
    assert sum(1 for path, _ in answers if path == "/api/refunds") >= THREADS * PER_THREAD * 0.03

    # The test's own books, from what it sent.
    expected_sales = sum(half_up_fen(paid - refunded[o], rate) for o, (paid, rate) in orders.items())
    expected_points = sum(
        int((Decimal(p) * 100 / points_per_yuan).to_integral_value(rounding=ROUND_FLOOR)) for p in points.values()
    )
    expected_net = sum(paid - refunded[o] for o, (paid, _) in orders.items())

    status, data = first.request("GET", f"/api/campaigns/{CAMPAIGN}")
    charity = data["charity"]
    assert charity["raised_from_sales"] == f"{Decimal(expected_sales) / 100:.2f}"
    assert charity["raised_from_points"] == f"{Decimal(expected_points) / 100:.2f}"
    assert charity["raised"] == f"{Decimal(expected_sales + expected_points) / 100:.2f}"
    assert charity["sales"] == f"{Decimal(expected_net) / 100:.2f}"

    ledger_fen, entries, cursor, pages = 0, 0, None, 0
    while True:
        path = f"/api/campaigns/{CAMPAIGN}/ledger" + (f"?cursor={cursor}" if cursor else "")
        status, page = first.request("GET", path)
        assert status == 200, page
        pages += 1
        for entry in page["entries"]:
            ledger_fen += int(Decimal(entry["amount"]) * 100)
            assert "****" in entry["ref"] and "M-" not in json.dumps(entry)
        entries += len(page["entries"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert ledger_fen == expected_sales + expected_points
    assert pages > 1 and entries > len(orders) * 0.9
    print(
        f"\n{THREADS * PER_THREAD} requests in {elapsed:.1f} s; {len(orders)} orders, {replays} replays, "
        f"{sum(1 for p, _ in answers if p == '/api/refunds')} refunds, {len(points)} point donations; "
        f"ledger {entries} entries in {pages} pages; raised {charity['raised']}"
    )
