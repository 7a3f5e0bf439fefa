"""Hostile input over HTTP, through the Chalice test client against moto.

1. The JSON of every system endpoint, correctly signed: random JSON values and
   objects, wrong types, huge strings, unicode, nesting, broken bytes. Every
   refusal is a 4xx with a JSON reason and writes nothing; nothing is ever a 5xx;
   the books still balance afterwards.
2. Path and query parameters on every GET route: ids with ``../``, ``%2F``,
   unicode, 10 KB long; ``lang=<script>``; ``cursor=`` garbage; ``at=`` (which
   no stage reads). Never a 5xx, never a traceback, never reflected unescaped.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaign_tools.sign import generate_secret
from tests.factories import campaign, charity_sale, local
from tests.webhooks import sign_any, webhook_services

SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
CID = "bazhong-pork-charity"
FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def services(table, clock):
    with webhook_services(table, clock, SECRET, WALL) as svc:
        yield svc


@pytest.fixture
def live(publish, clock, services):
    publish(charity_sale(), campaign(starts_at=local(2026, 11, 20), ends_at=local(2026, 12, 20), teaser_from=None))
    clock.set(local(2026, 12, 1, 12))


class Writes:
    """Counts the DynamoDB writes that took effect (a cancelled transaction is not one)."""

    WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

    def __init__(self, client):
        self.count = 0
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def _after_call(self, http_response, model, **kwargs):
        if model.name in self.WRITES and http_response.status_code < 300:
            self.count += 1


def signed_post(client, path, raw: bytes):
    headers = sign_any(SECRET, raw, "msg_fuzz", WALL)
    return client.http.post(path, headers={**headers, "content-type": "application/json"}, body=raw)


# ------------------------------------------------------------------ strategies

HOSTILE_STRINGS = [
    "",
    " ",
    " 12.50",
    "12.50 ",
    "12.345",
    "-1",
    "-0.00",
    "0",
    "0.00",
    "1e3",
    "1E+2",
    "NaN",
    "Infinity",
    "0x10",
    "１２.５０",
    "١٢",
    "12,50",
    "9" * 40,
    "99999999999.99",
    "x" * 20_000,
    "中文订单",
    "\u0000",
    "\u202e",
    "\ud7ff",
    "🐖" * 50,
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "../../etc/passwd",
    "CAMPAIGN#x",
    "ORDER#ORD-1",
    "%s%n",
    "{{7*7}}",
    "2026-12-01",
    "2026-12-01T10:00:00",
    "2026-12-01T10:00:00+08:00",
    "2026-12-01T25:00:00+08:00",
    "T" * 41,
    CID,
    "poverty-day-2026",
    "no-such-campaign",
    "PORK-0001",
    "EGG-0017",
    "ORD-20261201-0001",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(HOSTILE_STRINGS),
)
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12
)

BASES = {
    "/api/sales": {
        "order_id": "ORD-FUZZ-0001",
        "campaign_id": CID,
        "sku": "PORK-0001",
        "quantity": 1,
        "amount": "88.00",
        "paid_at": "2026-12-01T10:00:00+08:00",
    },
    "/api/refunds": {"refund_id": "RF-FUZZ-0001", "order_id": "ORD-SEED-0001", "amount": "1.00"},
    "/api/point-donations": {"donation_id": "PD-FUZZ-0001", "campaign_id": CID, "member_id": "M-FUZZ-1", "points": 100},
}


@st.composite
def mutated_body(draw, base):
    body = dict(base)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "replace", "replace", "replace", "add"]))
        key = draw(st.sampled_from(sorted(base)))
        if action == "drop":
            body.pop(key, None)
        elif action == "replace":
            body[key] = draw(JSON_VALUES)
        else:
            body[draw(st.one_of(st.text(max_size=12), st.sampled_from(["__proto__", "PK", "coupon", key.upper()])))] = draw(
                JSON_VALUES
            )
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


RAW_BODIES = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),  # any JSON value at the top
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),  # deep nesting
    st.integers(1, 3000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.sampled_from(
        [
            b'{"order_id": "a", "order_id": "b"}',
            b"{}",
            b"null",
            b"NaN",
            b'{"amount": Infinity}',
            b"\xff\xfe{}",
            b"\xef\xbb\xbf{}",
            b'{"a": 1e99999}',
            b" " * 17_000,
        ]
    ),
)


def bodies(path):
    return st.one_of(mutated_body(BASES[path]), mutated_body(BASES[path]), RAW_BODIES)


def check_answer(response, writes_before, writes_after):
    status = response.status_code
    event(f"status {status}")
    assert status < 500, response.body[:300]
    assert response.headers["Content-Type"] == "application/json"
    data = json.loads(response.body)
    if status in (200, 201):  # the mutations left a valid body: it is recorded (or replayed)
        return data
    assert 400 <= status < 500 and status in (400, 401, 404, 409, 422), status
    assert isinstance(data["error"], str) and isinstance(data["message"], str) and data["message"]
    assert set(data) <= {"error", "field", "message"}
    assert "Traceback" not in data["message"]
    assert writes_after == writes_before, "a refused request wrote to the table"
    return data


def books_balance(client):
    charity = json.loads(client.http.get(f"/api/campaigns/{CID}").body)["charity"]
    total, path = Decimal("0"), f"/api/campaigns/{CID}/ledger"
    while path:
        page = json.loads(client.http.get(path).body)
        total += sum(Decimal(e["amount"]) for e in page["entries"])
        path = page["next_cursor"] and f"/api/campaigns/{CID}/ledger?cursor={page['next_cursor']}"
    assert Decimal(charity["raised"]) == total


@pytest.mark.parametrize("path", sorted(BASES))
def test_system_endpoints_answer_any_signed_body_with_a_4xx_reason_and_write_nothing(client, live, table, services, path):
    seed = json.dumps(
        {
            "order_id": "ORD-SEED-0001",
            "campaign_id": CID,
            "sku": "PORK-0001",
            "quantity": 1,
            "amount": "100.00",
            "paid_at": "2026-12-01T09:00:00+08:00",
        }
    ).encode()
    assert signed_post(client, "/api/sales", seed).status_code == 201  # something for refunds to refer to
    writes, seen = Writes(table.meta.client), set()

    @FUZZ
    @given(bodies(path))
    def fuzz(raw):
        before = writes.count
        response = signed_post(client, path, raw)
        check_answer(response, before, writes.count)
        seen.add(response.status_code)

    fuzz()
    assert {400, 422} <= seen and max(seen) < 500, seen  # both kinds of refusal were reached
    # An unmutated body (a new id) is recorded, and the counter sees its one transaction.
    ident = next(iter(BASES[path]))
    before = writes.count
    fresh = json.dumps({**BASES[path], ident: f"{BASES[path][ident]}-FRESH"}).encode()
    assert signed_post(client, path, fresh).status_code == 201 and writes.count == before + 1
    services.books._cache.invalidate(CID)
    books_balance(client)


def test_the_body_limit_and_encodings_are_refused_before_any_read(client, live, counter):
    counter.reset()
    for raw in (b"x" * (16 * 1024 + 1), b"\xff\xfe{}", b"[" * 100_000):
        response = signed_post(client, "/api/sales", raw)
        data = json.loads(response.body)
        assert response.status_code in (400, 401) and data["message"], raw[:10]
    assert counter.calls == []


# ------------------------------------------------------------------ GET routes: path and query

MARKER = "<script>alert(1)</script>"
IDS = [
    "../../etc/passwd",
    "..%2F..%2Fapp.py",
    "%2e%2e%2f",
    "a%00b",
    "%",
    "%zz",
    "中文活动",
    "🐖",
    "x" * 10_240,
    MARKER,
    urllib.parse.quote(MARKER, safe=""),
    '"><img src=x onerror=alert(1)>',
    "POVERTY-DAY-2026",
    "poverty-day-2026%20",
    "CON",
    ".",
    "..",
]
QUERIES = [
    f"lang={urllib.parse.quote(MARKER)}",
    "lang=en&lang=zh-CN",
    "lang=" + "e" * 10_240,
    "cursor=garbage",
    "cursor=a.b",
    "cursor=" + "A" * 10_240,
    "cursor=%00",
    f"cursor={urllib.parse.quote(MARKER)}",
    "at=2031-01-01T00:00:00%2B08:00",
    "at=1970-01-01T00:00Z",
    "at=" + urllib.parse.quote(MARKER),
    "%zz=%zz",
    "a=1&a=2&a=3",
]
ID_ROUTES = ["/campaigns/{}", "/api/campaigns/{}", "/campaigns/{}/ledger", "/api/campaigns/{}/ledger", "/static/{}"]
PLAIN_ROUTES = ["/", "/api/homepage", "/charity", "/impact", "/api/impact"]
REAL_IDS = ["poverty-day-2026", CID]


def check_get(response, raw_path):
    status = response.status_code
    assert status < 500, (raw_path[:200], status)
    body = response.body.decode("utf-8") if isinstance(response.body, bytes) else str(response.body)
    assert "Traceback" not in body and 'File "' not in body
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("text/html"):
        assert MARKER not in body and "<img src=x" not in body, raw_path[:200]
    elif kind == "application/json":
        json.loads(body)
    return status


@pytest.mark.parametrize("route", ID_ROUTES)
def test_hostile_ids_on_every_id_route_are_never_a_5xx_nor_reflected(client, live, route):
    statuses = {check_get(client.http.get(route.format(i)), route.format(i)) for i in IDS}
    assert statuses <= {400, 403, 404}, statuses


@pytest.mark.parametrize("route", ID_ROUTES[:4] + PLAIN_ROUTES)
def test_hostile_queries_on_every_route_are_never_a_5xx_nor_reflected(client, live, route):
    for cid in REAL_IDS if "{}" in route else [None]:
        path = route.format(cid) if cid else route
        for query in QUERIES:
            status = check_get(client.http.get(f"{path}?{query}"), f"{path}?{query}")
            if "cursor=" in query and "ledger" in path and cid == CID:
                assert status == 400
            elif "ledger" in path and cid != CID:
                assert status == 404  # a featured campaign has no ledger
            else:
                assert status == 200, (path, query, status)


@FUZZ
@given(st.text(max_size=80), st.sampled_from(ID_ROUTES[:4]), st.text(max_size=40))
def test_random_ids_and_query_values_are_never_a_5xx(client, live, text, route, value):
    raw = urllib.parse.quote(text, safe="")
    query = urllib.parse.urlencode({"lang": value, "cursor": value, "at": value})
    status = check_get(client.http.get(f"{route.format(raw)}?{query}"), raw)
    assert status in (200, 400, 403, 404), status


def test_at_in_the_query_never_moves_the_clock(client, live, clock):
    """Only `campaign serve --at` moves the campaign clock; a request cannot (before, live, after)."""
    plain = json.loads(client.http.get("/api/campaigns/poverty-day-2026").body)
    for at in ("2026-11-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00", "1970-01-01T00:00:00Z"):
        query = urllib.parse.urlencode({"at": at})
        response = client.http.get(f"/api/campaigns/poverty-day-2026?{query}")
        assert response.status_code == 200 and json.loads(response.body) == plain
        assert json.loads(client.http.get(f"/api/homepage?{query}").body) == json.loads(client.http.get("/api/homepage").body)
    assert plain["state"] == "live"


# ------------------------------------------------------------------ the same over real HTTP (`campaign serve`)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from tests.local_stack import LocalStack

    local_stack = LocalStack(tmp_path_factory.mktemp("hostile"), "2026-12-01T10:00+08:00", SECRET).start()
    yield local_stack
    local_stack.stop()


def _raw_get(base: str, raw_path: str):
    """GET ``raw_path`` byte for byte (no client-side normalisation or re-quoting)."""
    import http.client

    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        connection.putrequest("GET", raw_path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.mark.server
def test_hostile_paths_and_queries_over_real_http_are_never_a_5xx_nor_reflected(stack):
    paths = [route.format(urllib.parse.quote(i, safe="%")) for route in ID_ROUTES for i in IDS]
    paths += [
        "/campaigns/../../etc/passwd",
        "/static/../app.py",
        "/static/..%2F..%2Fapp.py",
        "/static/%2e%2e%2fapp.py",
        "/campaigns/poverty-day-2026/../../app.py",
        "//campaigns//x",
        "/campaigns/" + "%F0%9F%90%96" * 1000,
    ]
    paths += [
        f"{route.format(cid) if '{}' in route else route}?{query}"
        for route in ID_ROUTES[:4] + PLAIN_ROUTES
        for cid in REAL_IDS[:1]
        for query in QUERIES
    ]
    statuses = set()
    for raw_path in paths:
        status, kind, body = _raw_get(stack.base, raw_path)
        statuses.add(status)
        assert status < 500, (raw_path[:200], status, body[:300])
        assert "Traceback" not in body and "from chalice import" not in body, raw_path[:200]
        if kind.startswith("text/html"):
            assert MARKER not in body and "<img src=x" not in body, raw_path[:200]
    assert statuses >= {200, 404}, statuses
