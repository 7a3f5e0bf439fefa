"""Every request within a deadline (chalicelib.deadline, docs/resilience.md), through the real app.

DynamoDB "hangs until the deadline" (:class:`tests.faults.HangingCutoff`): the
door gives each call what is left of its request's deadline, and the fake
monotonic clock moves on by that much. So the tests see the time each call
was given and the answer, and nothing is timed. Refusals are DynamoDB's own
error responses at the SDK's HTTP layer (:class:`tests.faults.DynamoFaults`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from campaign_tools.sign import generate_secret, sign_headers
from chalicelib import wiring
from chalicelib.deadline import BUDGETS_S, RESERVE_S, Deadlines
from chalicelib.releases.publishing import Publisher
from chalicelib.settings import Settings
from chalicelib.store.table import create_table
from tests.conftest import TABLE
from tests.factories import campaign, charity_sale, local
from tests.faults import DynamoFaults, HangingCutoff, Monotonic, no_backoff
from tests.stores import release_store
from tests.webhooks import webhook_services

SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
CID = "bazhong-pork-charity"
PAGE, SYSTEM = BUDGETS_S["page"], BUDGETS_S["system"]
SALE = {
    "order_id": "ORD-20261201-0001",
    "campaign_id": CID,
    "sku": "PORK-0001",
    "quantity": 1,
    "amount": "200.00",
    "paid_at": "2026-12-01T10:00:00+08:00",
}
RECORDED = {"order_id": "ORD-20261201-0001", "campaign_id": CID, "donation": "10.90", "status": "recorded"}


@pytest.fixture
def stage_table(aws_env, monkeypatch):
    from moto import mock_aws

    no_backoff(monkeypatch)
    with mock_aws():
        yield create_table(wiring.dynamodb_resource(Settings(table_name=TABLE)), TABLE)


@pytest.fixture
def mono():
    return Monotonic()


@pytest.fixture
def cutoff(mono):
    return HangingCutoff(mono)


@pytest.fixture
def services(stage_table, clock, cutoff, mono):
    with webhook_services(stage_table, clock, SECRET, WALL, page_size=None, cutoff=cutoff, monotonic=mono) as svc:
        svc.catalog._monotonic = mono  # the catalog's TTLs on the same fake clock
        yield svc


@pytest.fixture
def published(stage_table, clock):
    Publisher(release_store(stage_table), clock).publish([campaign(), charity_sale()])


def _json(response):
    return json.loads(response.body)


def _post(client, body):
    data = json.dumps(body).encode()
    headers = {**sign_headers(SECRET, data, None, WALL), "content-type": "application/json"}
    return client.http.post("/api/sales", headers=headers, body=data)


# ------------------------------------------------------------------ the deadline itself


class _Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.mark.parametrize(
    ("kind", "remaining_ms", "local_limit_s", "expected_s"),
    [
        ("page", None, None, 0.8),  # no context: the budget
        ("page", 9_000, None, 0.8),  # plenty of time left: the budget
        ("page", 1_200, None, 0.7),  # less: what the function has left, minus the reserve
        ("system", 10_000, None, 4.0),
        ("system", 3_000, None, 2.5),
        ("system", 900_000, 10, 4.0),  # chalice local's 900 s, capped by the local setting
        ("system", 900_000, 3, 2.5),
        ("rotation", 60_000, None, 45.0),
        ("rotation", 20_000, None, 19.5),
        ("page", 300, None, 0.0),  # under the reserve: no time for DynamoDB at all
    ],
)
def test_a_deadline_is_the_budget_cut_to_the_functions_remaining_time(kind, remaining_ms, local_limit_s, expected_s):
    mono = Monotonic(50.0)
    context = None if remaining_ms is None else _Context(remaining_ms)
    deadline = Deadlines(mono, local_limit_s=local_limit_s).deadline(kind, context)
    assert (deadline.kind, round(deadline.at_s - 50.0, 6), round(deadline.remaining_s(), 6)) == (kind, expected_s, expected_s)
    mono.advance(expected_s)
    assert deadline.remaining_s() == 0.0
    assert RESERVE_S == 0.5


# ------------------------------------------------------------------ pages: stale or 503 within about 1 s


def test_a_warm_page_is_served_stale_at_its_deadline_when_dynamodb_hangs(client, published, clock, services, cutoff, mono):
    clock.set(local(2026, 10, 17, 9))
    assert client.http.get("/api/campaigns/poverty-day-2026").status_code == 200
    warm = list(cutoff.given)
    assert warm == [("batch_get_item", PAGE)]  # a fresh page has its whole budget
    cutoff.hang.add("*")
    mono.advance(120.0)  # past the pointer's 5 s: it must be read again
    started = mono()
    stale = client.http.get("/api/campaigns/poverty-day-2026")
    assert stale.status_code == 200 and _json(stale)["state"] == "live"
    assert stale.headers["Warning"] == '110 - "Response is Stale"'
    assert cutoff.given[len(warm) :] == [("get_item", PAGE)]  # the one read, given the page's 0.8 s
    assert mono() - started == pytest.approx(PAGE)  # answered at the deadline: within 1 s of DynamoDB hanging


@pytest.mark.parametrize(("path", "reads"), [("/api/campaigns/poverty-day-2026", 1), ("/", 1), ("/api/homepage", 1)])
def test_a_cold_page_answers_503_at_its_deadline_when_dynamodb_hangs(
    client, published, clock, services, cutoff, mono, path, reads
):
    clock.set(local(2026, 10, 17, 9))
    cutoff.hang.add("*")
    started = mono()
    response = client.http.get(path)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert [seconds for _, seconds in cutoff.given] == [PAGE] * reads
    assert mono() - started == pytest.approx(PAGE)


def test_every_call_of_a_request_shares_its_deadline(client, published, clock, services, cutoff, mono):
    """/impact reads one item after another: each read is given what the ones before it left,
    and the third, which would take longer than what is left, is cut at the deadline."""
    clock.set(local(2026, 12, 1, 11))
    cutoff.takes["get_item"] = 0.3  # a slow DynamoDB: each GetItem answers after 0.3 s
    started = mono()
    response = client.http.get("/api/impact")
    assert response.status_code == 503 and "no answer before the request's deadline" in _json(response)["message"]
    assert [(op, round(s, 6)) for op, s in cutoff.given] == [("get_item", 0.8), ("get_item", 0.5), ("get_item", 0.2)]
    assert mono() - started == pytest.approx(PAGE)


def test_the_ledgers_parallel_shard_queries_keep_the_requests_deadline(client, published, clock, services, cutoff, mono):
    """The ledger queries its shards on threads of its own: each query still goes through the
    door's cut-off with what is left of the page's deadline, never without one."""
    clock.set(local(2026, 12, 1, 11))
    cutoff.hang.add("query")
    response = client.http.get(f"/api/campaigns/{CID}/ledger")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    queries = [seconds for op, seconds in cutoff.given if op == "query"]
    assert queries and all(0 < seconds <= PAGE for seconds in queries)


# ------------------------------------------------------------------ system writes: honest 503s


def test_a_sale_whose_write_hangs_is_a_503_that_says_it_may_have_been_applied(client, published, clock, services, cutoff, mono):
    clock.set(local(2026, 12, 1, 11))
    cutoff.hang.add("transact_write_items")
    started = mono()
    response = _post(client, SALE)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    error = _json(response)
    assert error["error"] == "unavailable"
    assert "may have been applied" in error["message"] and "Retry with the same order_id" in error["message"]
    assert cutoff.given[-1] == ("transact_write_items", SYSTEM)  # the reads before it took no time
    assert mono() - started == pytest.approx(SYSTEM)
    cutoff.hang.clear()  # DynamoDB is back; the sender retries: it had not landed, so it is recorded now
    retry = _post(client, SALE)
    assert (retry.status_code, _json(retry)) == (201, RECORDED)


def test_a_sale_that_landed_before_its_answer_was_lost_is_200_with_the_first_answer_on_retry(
    client, published, clock, services, cutoff, mono
):
    clock.set(local(2026, 12, 1, 11))
    cutoff.hang.add("transact_write_items")
    cutoff.lands = True
    response = _post(client, SALE)
    assert response.status_code == 503 and "may have been applied" in _json(response)["message"]
    cutoff.hang.clear()
    retry = _post(client, SALE)
    assert (retry.status_code, _json(retry)) == (200, RECORDED)
    services.books._cache.invalidate(CID)
    charity = _json(client.http.get(f"/api/campaigns/{CID}"))["charity"]
    assert (charity["raised"], charity["sales"]) == ("10.90", "200.00")  # counted once


def test_a_sale_whose_read_hangs_before_the_write_says_nothing_was_written(client, published, clock, services, cutoff, mono):
    clock.set(local(2026, 12, 1, 11))
    cutoff.hang.add("*")
    response = _post(client, SALE)
    assert response.status_code == 503
    message = _json(response)["message"]
    assert "Nothing was written" in message and "may have been applied" not in message
    assert [op for op, _ in cutoff.given] == ["batch_get_item"]  # the campaign's read; the write was never sent


# ------------------------------------------------------------------ the rotation


def test_the_rotation_runs_within_its_functions_remaining_time(client, published, clock, services, cutoff, mono):
    clock.set(local(2026, 12, 1, 9))
    cutoff.hang.add("*")
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    with pytest.raises(Exception) as raised:
        client.lambda_.invoke("rotate_homepage", event)
    assert type(raised.value).__name__ == "StoreUnavailable"
    # chalice's test client gives the function 3 s: the rotation's 45 s budget is cut to 3 - 0.5.
    assert [seconds for _, seconds in cutoff.given] == [pytest.approx(2.5, abs=0.1)]  # the context's clock is real


# ------------------------------------------------------------------ a DynamoDB that refuses


ROUTES = [
    "/",
    "/api/homepage",
    "/campaigns/poverty-day-2026",
    "/api/campaigns/poverty-day-2026",
    "/charity",
    f"/api/campaigns/{CID}/ledger",
    "/impact",
    "/api/impact",
]


@pytest.mark.parametrize(
    ("fault", "code"),
    [("access-denied", "AccessDeniedException"), ("validation", "ValidationException"), ("throttling", "ThrottlingException")],
)
def test_a_dynamodb_that_refuses_is_a_503_with_a_reason_on_every_route(
    client, published, clock, stage_table, services, fault, code
):
    clock.set(local(2026, 12, 1, 11))
    faults = DynamoFaults(stage_table.meta.client)
    faults.always("*", fault)
    for path in ROUTES:
        response = client.http.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "30"
        if path.startswith("/api/"):
            assert _json(response)["error"] == "unavailable" and code in _json(response)["message"], path
            assert "123456789012" not in response.body.decode()  # DynamoDB's own message stays in the logs
    sale = _post(client, SALE)
    assert sale.status_code == 503
    message = _json(sale)["message"]
    assert code in message and "Nothing was written" in message


def test_a_missing_table_is_a_503_with_a_reason(client, published, clock, stage_table, services):
    clock.set(local(2026, 12, 1, 11))
    DynamoFaults(stage_table.meta.client).always("*", "missing-table")
    response = client.http.get("/api/campaigns/poverty-day-2026")
    assert response.status_code == 503 and "ResourceNotFoundException" in _json(response)["message"]
    sale = _post(client, SALE)
    assert sale.status_code == 503 and "Nothing was written" in _json(sale)["message"]
