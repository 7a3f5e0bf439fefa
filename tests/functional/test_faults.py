"""DynamoDB faults, injected at the SDK's HTTP layer (tests/faults.py), through the real app.

The table is moto's (in process), reached through a boto3 resource built by
``wiring.dynamodb_resource`` exactly as on a deployed stage: standard retry
mode, at most 3 attempts. :class:`~tests.faults.DynamoFaults` answers chosen
HTTP attempts with throttling, 5xx or connection errors; botocore's backoff
is recorded and made 0 s, so nothing sleeps.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from campaign_tools.sign import generate_secret, sign_headers
from chalicelib import wiring
from chalicelib.clock import FixedClock
from chalicelib.homepage.job import run_rotation
from chalicelib.releases.publishing import Publisher
from chalicelib.settings import Settings
from chalicelib.store.table import create_table
from tests.conftest import TABLE
from tests.factories import campaign, charity_sale, local
from tests.faults import DynamoFaults, no_backoff
from tests.logs import deployed_observability
from tests.stores import release_store, rotation_store
from tests.webhooks import webhook_services

SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)  # the real-clock stand-in
CID = "bazhong-pork-charity"


@pytest.fixture
def backoff(monkeypatch):
    return no_backoff(monkeypatch)


@pytest.fixture
def stage_table(aws_env, backoff):
    """moto's table behind the deployed stages' resource (standard retries, 3 attempts)."""
    from moto import mock_aws

    with mock_aws():
        resource = wiring.dynamodb_resource(Settings(table_name=TABLE))
        yield create_table(resource, TABLE)


@pytest.fixture
def faults(stage_table):
    return DynamoFaults(stage_table.meta.client)


@pytest.fixture
def wall():
    return FixedClock(WALL)


@pytest.fixture
def services(stage_table, clock):
    with webhook_services(stage_table, clock, SECRET, WALL, page_size=None) as svc:
        yield svc


@pytest.fixture
def published(stage_table, clock):
    Publisher(release_store(stage_table), clock).publish([campaign(), charity_sale()])


@pytest.fixture
def logs(monkeypatch, services):
    """JSON log lines as a deployed stage writes them (chalicelib loggers included)."""
    _, stream = deployed_observability(monkeypatch, services)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _body(response):
    return json.loads(response.body)


# ------------------------------------------------------------------ the SDK retries throttling, boundedly


@pytest.mark.parametrize("fault", ["throughput", "throttling"])
def test_a_throttled_call_is_retried_by_the_sdk_and_then_succeeds(stage_table, faults, backoff, fault):
    stage_table.put_item(Item={"PK": "X", "SK": "1", "v": 7})
    faults.attempts.clear()
    faults.fail("GetItem", fault)
    item = stage_table.get_item(Key={"PK": "X", "SK": "1"})["Item"]
    assert item == {"PK": "X", "SK": "1", "v": Decimal(7)}
    assert faults.attempts == [("GetItem", fault), ("GetItem", None)]
    # One backoff was computed, on the throttling scale: rand(0, 1) x 1 s for the first retry.
    assert len(backoff.delays) == 1 and 0 <= backoff.delays[0] <= 1.0


@pytest.mark.parametrize("fault", ["throughput", "throttling", "internal", "unavailable"])
def test_the_sdk_gives_up_after_three_attempts_in_all(stage_table, faults, backoff, fault):
    faults.always("GetItem", fault)
    with pytest.raises(ClientError) as raised:
        stage_table.get_item(Key={"PK": "X", "SK": "1"})
    code = {
        "throughput": "ProvisionedThroughputExceededException",
        "throttling": "ThrottlingException",
        "internal": "InternalServerError",
        "unavailable": "ServiceUnavailable",
    }[fault]
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert faults.count("GetItem") == 3 and len(backoff.delays) == 2


def test_an_unreachable_endpoint_is_retried_then_store_unavailable(stage_table, faults):
    from chalicelib.errors import StoreUnavailable

    faults.always("GetItem", "connection")
    with pytest.raises(StoreUnavailable, match="EndpointConnectionError"):
        release_store(stage_table).get_current_release()
    assert faults.count("GetItem") == 3


# ------------------------------------------------------------------ consumers


def test_a_page_read_that_is_throttled_once_is_served_normally(client, published, clock, faults):
    clock.set(local(2026, 10, 17, 9))
    # A cold container reads the pointer and the campaign's head in one BatchGetItem:
    # two throttles, then it answers.
    faults.fail("BatchGetItem", "throughput", "throttling")
    response = client.http.get("/api/campaigns/poverty-day-2026")
    assert response.status_code == 200 and _body(response)["state"] == "live"
    assert "Warning" not in response.headers
    assert faults.count("BatchGetItem", "throughput") == faults.count("BatchGetItem", "throttling") == 1


@pytest.mark.parametrize("fault", ["throughput", "throttling", "internal", "connection"])
def test_with_nothing_cached_a_lasting_fault_is_a_friendly_503_with_retry_after(client, published, clock, faults, logs, fault):
    clock.set(local(2026, 10, 17, 9))
    faults.always("BatchGetItem", fault)  # a cold container's first read of a page or the homepage
    api = client.http.get("/api/campaigns/poverty-day-2026")
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.headers["Content-Type"] == "application/json" and api.headers["Cache-Control"] == "no-store"
    assert _body(api)["error"] == "unavailable" and _body(api)["message"].startswith("DynamoDB is unavailable")
    html = client.http.get("/campaigns/poverty-day-2026?lang=en")
    assert html.status_code == 503 and html.headers["Retry-After"] == "30"
    assert html.headers["Content-Type"] == "text/html; charset=utf-8"
    page = html.body.decode()
    assert "The service is briefly unavailable" in page and "Traceback" not in page
    home = client.http.get("/")
    assert home.status_code == 503 and "服务暂时不可用" in home.body.decode()
    assert faults.count("BatchGetItem", fault) == 9  # three requests, three attempts each
    # Each failure is logged as JSON with the request it belongs to.
    lines = logs()
    failures = [line for line in lines if line["message"].startswith("request failed: unavailable")]
    requests = [line for line in lines if line["message"] == "request"]
    assert len(failures) == 3 and [line["status"] for line in requests] == [503, 503, 503]
    for failure, request in zip(failures, requests, strict=True):
        assert failure["level"] == "ERROR" and failure["name"] == "chalicelib.web.http"
        assert len(failure["request_id"]) == 36 and failure["request_id"] == request["request_id"]
    assert len({line["request_id"] for line in failures}) == 3
    assert failures[0]["campaign_id"] == "poverty-day-2026" and failures[0]["path"] == "/api/campaigns/poverty-day-2026"


def test_a_cached_page_is_served_stale_through_real_throttling(client, published, clock, services, faults):
    clock.set(local(2026, 10, 17, 9))
    elapsed = [0.0]
    services.catalog._monotonic = lambda: elapsed[0]
    assert client.http.get("/api/campaigns/poverty-day-2026").status_code == 200
    faults.always("GetItem", "throughput")
    elapsed[0] = 120.0  # past the pointer's 5 s: it must be read again, and cannot be
    stale = client.http.get("/api/campaigns/poverty-day-2026")
    assert stale.status_code == 200 and _body(stale)["state"] == "live"
    assert stale.headers["Warning"] == '110 - "Response is Stale"' and stale.headers["Cache-Control"] == "no-cache"
    assert faults.count("GetItem", "throughput") == 3
    elapsed[0] = 601.0  # past 10 minutes: nothing stale is served any more
    late = client.http.get("/api/campaigns/poverty-day-2026")
    assert late.status_code == 503 and late.headers["Retry-After"] == "30"
    faults.clear()
    assert "Warning" not in client.http.get("/api/campaigns/poverty-day-2026").headers


# ------------------------------------------------------------------ system writes


def _post(client, wall, path, body):
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = {**sign_headers(SECRET, data, None, wall()), "content-type": "application/json"}
    response = client.http.post(path, headers=headers, body=data)
    return response.status_code, json.loads(response.body), response.headers


def _books(client, services):
    """(raised, sales, sum of the ledger, ledger entries) as the public pages show them."""
    services.books._cache.invalidate(CID)
    charity = _body(client.http.get(f"/api/campaigns/{CID}"))["charity"]
    entries, path = [], f"/api/campaigns/{CID}/ledger"
    while path:
        page = _body(client.http.get(path))
        entries += page["entries"]
        path = page["next_cursor"] and f"/api/campaigns/{CID}/ledger?cursor={page['next_cursor']}"
    return charity["raised"], charity["sales"], str(sum((Decimal(e["amount"]) for e in entries), Decimal("0.00"))), entries


SALE = {
    "order_id": "ORD-20261201-0001",
    "campaign_id": CID,
    "sku": "PORK-0001",
    "quantity": 1,
    "amount": "200.00",
    "paid_at": "2026-12-01T10:00:00+08:00",
}
REFUND = {"refund_id": "RF-20261201-0001", "order_id": "ORD-20261201-0001", "amount": "50.00"}
POINTS = {"donation_id": "PD-20261201-0001", "campaign_id": CID, "member_id": "M-00042", "points": 250}


@pytest.mark.parametrize(
    ("path", "body", "answer", "raised", "sales"),
    [
        (
            "/api/sales",
            SALE,
            {"order_id": "ORD-20261201-0001", "campaign_id": CID, "donation": "10.90", "status": "recorded"},
            "10.90",
            "200.00",
        ),
        (
            "/api/refunds",
            REFUND,
            {"refund_id": "RF-20261201-0001", "order_id": "ORD-20261201-0001", "donation_reversed": "2.72"},
            "8.18",
            "150.00",
        ),
        ("/api/point-donations", POINTS, {"donation_id": "PD-20261201-0001", "amount": "2.50"}, "2.50", "0.00"),
    ],
)
def test_a_failed_system_write_is_a_5xx_and_the_retry_is_recorded_once(
    client, published, clock, wall, services, faults, path, body, answer, raised, sales
):
    clock.set(local(2026, 12, 1, 11))
    if path == "/api/refunds":
        assert _post(client, wall, "/api/sales", SALE)[0] == 201
    before = _books(client, services)[0]
    faults.always("TransactWriteItems", "internal")
    status, error, headers = _post(client, wall, path, body)
    assert status == 503 and headers["Retry-After"] == "30"  # the sender retries a 5xx
    assert error["error"] == "unavailable" and error["message"]
    assert faults.count("TransactWriteItems", "internal") == 3
    assert _books(client, services)[0] == before  # nothing reached the table
    faults.clear()
    assert _post(client, wall, path, body)[:2] == (201, answer)  # the sender's retry: the same body
    assert _post(client, wall, path, body)[:2] == (200, answer)  # and once more: a replay
    got_raised, got_sales, ledger_sum, _ = _books(client, services)
    assert (got_raised, got_sales, ledger_sum) == (raised, sales, raised)


def test_a_write_applied_but_answered_500_is_recorded_exactly_once(client, published, clock, wall, services, faults):
    """The ambiguous failure: DynamoDB wrote the transaction, the answer was lost. The SDK's
    retries and the sender's retry all find the order already there, so it counts once."""
    clock.set(local(2026, 12, 1, 11))
    faults.fail("TransactWriteItems", "applied-then-500", "applied-then-500", "applied-then-500")
    status, error, headers = _post(client, wall, "/api/sales", SALE)
    assert (status, error["error"], headers["Retry-After"]) == (503, "unavailable", "30")
    assert faults.count("TransactWriteItems") == 3
    retry = _post(client, wall, "/api/sales", SALE)
    assert retry[:2] == (200, {"order_id": "ORD-20261201-0001", "campaign_id": CID, "donation": "10.90", "status": "recorded"})
    raised, sales, ledger_sum, entries = _books(client, services)
    assert (raised, sales, ledger_sum) == ("10.90", "200.00", "10.90")
    assert [(e["kind"], e["amount"]) for e in entries] == [("sale", "10.90")]


def test_a_write_throttled_once_goes_through_on_the_sdks_retry(client, published, clock, wall, services, faults):
    clock.set(local(2026, 12, 1, 11))
    faults.fail("TransactWriteItems", "throughput")
    assert _post(client, wall, "/api/sales", SALE)[0] == 201
    assert faults.attempts.count(("TransactWriteItems", "throughput")) == 1
    assert _books(client, services)[:3] == ("10.90", "200.00", "10.90")


# ------------------------------------------------------------------ the rotation


def _invoke_rotation(client):
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    return client.lambda_.invoke("rotate_homepage", event)


@pytest.mark.parametrize(
    ("operation", "fault"), [("TransactWriteItems", "internal"), ("Query", "throughput"), ("Query", "connection")]
)
def test_a_failed_rotation_leaves_the_previous_rotation_live(client, published, clock, services, faults, operation, fault):
    clock.set(local(2026, 12, 1, 9))
    assert _invoke_rotation(client).payload["rotation"] == 1
    services.catalog._rotation = None
    shown = _body(client.http.get("/api/homepage"))
    assert shown["rotation"] == 1 and shown["slots"]
    clock.set(local(2026, 12, 1, 9, 15))
    faults.always(operation, fault)
    with pytest.raises(Exception) as raised:
        _invoke_rotation(client)
    # A write answered 500 may have been applied (it was not: the fault answered before moto); a read just failed.
    expected = "OutcomeUnknown" if operation == "TransactWriteItems" else "StoreUnavailable"
    assert type(raised.value).__name__ == expected
    assert faults.count(operation, fault) == 3
    faults.clear()
    services.catalog._rotation = None
    after = client.http.get("/api/homepage")
    assert after.status_code == 200 and _body(after) == shown  # the previous rotation, still live
    store = services.rotations
    assert store.get_rotation()["rotation"] == 1
    assert [h["rotation"] for h in store.rotation_history(10)] == [1]
    # The next scheduled run carries on from it.
    assert _invoke_rotation(client).payload == {"rotation": 2, "written": True, "message": "rotation 2: 2 slots"}


def test_the_homepage_is_served_stale_when_its_batch_read_keeps_failing(client, published, stage_table, clock, services, faults):
    clock.set(local(2026, 10, 17, 9))
    run_rotation(rotation_store(stage_table), clock(), 8, 30)
    elapsed = [0.0]
    services.catalog._monotonic = lambda: elapsed[0]
    fresh = client.http.get("/api/homepage")
    assert fresh.status_code == 200 and _body(fresh)["rotation"] == 1
    faults.always("BatchGetItem", "throughput")  # past both 5 s: the pointer and the rotation, in one request
    elapsed[0] = 120.0
    stale = client.http.get("/api/homepage")
    assert stale.status_code == 200 and _body(stale)["slots"] == _body(fresh)["slots"]
    assert stale.headers["Warning"] == '110 - "Response is Stale"' and stale.headers["Cache-Control"] == "no-cache"
    assert faults.count("BatchGetItem", "throughput") == 3
    elapsed[0] = 601.0
    late = client.http.get("/api/homepage")
    assert late.status_code == 503 and late.headers["Retry-After"] == "30"
    faults.clear()
    assert "Warning" not in client.http.get("/api/homepage").headers


def test_a_rotation_run_at_a_fault_free_moment_is_unaffected_by_earlier_faults(stage_table, clock, faults):
    Publisher(release_store(stage_table), clock).publish([campaign()])  # its flip is a TransactWriteItems too
    faults.attempts.clear()
    faults.fail("TransactWriteItems", "throttling")
    outcome = run_rotation(rotation_store(stage_table), local(2026, 10, 17, 9), 8, 30)
    assert outcome.written and outcome.rotation == 1 and outcome.slots == 3
    assert faults.count("TransactWriteItems") == 2


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        (f"/api/campaigns/{CID}/ledger", "Query"),
        (f"/campaigns/{CID}/ledger", "Query"),
        (f"/api/campaigns/{CID}", "BatchGetItem"),
        ("/api/impact", "BatchGetItem"),
    ],
)
@pytest.mark.parametrize("fault", ["internal", "throughput"])
def test_the_books_pages_answer_503_when_their_reads_keep_failing(client, published, clock, faults, path, operation, fault):
    clock.set(local(2026, 12, 1, 11))
    faults.always(operation, fault)
    response = client.http.get(path)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30", response.body[:200]
    assert "Traceback" not in response.body.decode()


BOOKS_PAGES = [
    f"/api/campaigns/{CID}",
    f"/campaigns/{CID}",
    "/charity",
    f"/api/campaigns/{CID}/ledger",
    f"/campaigns/{CID}/ledger",
    "/api/impact",
    "/impact",
]


def test_the_books_pages_are_served_stale_through_an_outage_for_10_minutes(client, published, clock, services, faults):
    """Totals and a ledger's first page, read before the outage, stand in for up to 10 minutes (docs/resilience.md)."""
    clock.set(local(2026, 12, 1, 11))
    elapsed = [0.0]
    services.catalog._monotonic = services.books._cache._monotonic = lambda: elapsed[0]
    fresh = {path: client.http.get(path) for path in BOOKS_PAGES}
    assert {path: r.status_code for path, r in fresh.items()} == dict.fromkeys(BOOKS_PAGES, 200)
    for operation in ("GetItem", "BatchGetItem", "Query"):
        faults.always(operation, "throughput")
    elapsed[0] = 120.0  # past every 5 s cache: each read is tried, fails, and the cached value stands in
    for path in BOOKS_PAGES:
        stale = client.http.get(path)
        assert stale.status_code == 200, (path, stale.body[:200])
        assert stale.headers["Warning"] == '110 - "Response is Stale"' and stale.headers["Cache-Control"] == "no-cache", path
        if path.startswith("/api/"):
            assert json.loads(stale.body) == json.loads(fresh[path].body), path
    elapsed[0] = 601.0
    assert {path: client.http.get(path).status_code for path in BOOKS_PAGES} == dict.fromkeys(BOOKS_PAGES, 503)
    faults.clear()
    assert all("Warning" not in client.http.get(path).headers for path in BOOKS_PAGES)


# ------------------------------------------------------------------ publishing


class _NthAttempt(DynamoFaults):
    """Faults the ``n``-th attempt of an operation only (counting from 1)."""

    def __init__(self, client, operation, n, fault):
        super().__init__(client)
        self._target, self._n_th, self._fault, self._seen = operation, n, fault, 0

    def _next_fault(self, operation):
        if operation == self._target:
            self._seen += 1
            if self._seen == self._n_th:
                self.attempts.append((operation, self._fault))
                return self._fault
        return super()._next_fault(operation)


def test_a_publish_whose_flip_landed_but_was_answered_500_reports_success(stage_table, clock):
    """The flip (the pointer's conditional Put, in a transaction) is applied, its answer lost; the SDK's
    retry then fails the condition. The publish checks the pointer and finds its own release live, not a rival's."""
    Publisher(release_store(stage_table), clock).publish([campaign()])
    faults = _NthAttempt(stage_table.meta.client, "TransactWriteItems", 1, "applied-then-500")  # the flip
    _, release = Publisher(release_store(stage_table), clock).publish([campaign(), charity_sale()])
    assert release.number == 2 and faults.attempts.count(("TransactWriteItems", "applied-then-500")) == 1
    assert release_store(stage_table).get_current_release().number == 2


def test_a_publish_that_fails_before_the_flip_leaves_the_live_release_and_can_be_run_again(stage_table, clock, faults):
    Publisher(release_store(stage_table), clock).publish([campaign()])
    faults.always("BatchWriteItem", "internal")
    with pytest.raises(Exception) as raised:
        Publisher(release_store(stage_table), clock).publish([campaign(), charity_sale()])
    assert type(raised.value).__name__ == "OutcomeUnknown"  # a write answered 500 may have been applied
    assert set(release_store(stage_table).get_current_release().manifest) == {"poverty-day-2026"}
    faults.clear()
    _, release = Publisher(release_store(stage_table), clock).publish([campaign(), charity_sale()])
    assert release.number == 2 and set(release_store(stage_table).get_current_release().manifest) == {"poverty-day-2026", CID}
