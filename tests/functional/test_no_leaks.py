"""No secret and no personal data leaks: public pages, logs, metrics and error bodies.

- Member ids and full order, refund and donation ids never appear on a public
  page (the ledger in HTML and JSON, every page of it; the campaign pages;
  /charity; /impact; the homepage), in either language.
- Logs (JSON lines as a deployed stage writes them, plus every chalicelib log
  record down to DEBUG) and metrics never carry the signing secret, its key,
  or a full member id, during signed requests including badly signed,
  malformed, conflicting and failing ones.
- No error body echoes the signing secret, its key, or a valid signature.
- The real local server (`campaign serve` with SYSTEM_SIGNING_SECRET set)
  prints neither the secret nor a member id, whatever it is sent.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest

from campaign_tools.sign import generate_secret, sign_headers
from tests.factories import campaign, charity_sale, local
from tests.local_stack import LocalStack, fetch
from tests.logs import deployed_observability
from tests.webhooks import webhook_services

SECRET = generate_secret()
KEY_B64 = SECRET.removeprefix("whsec_")
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
CID = "bazhong-pork-charity"
MEMBERS = ["M-7781234567", "member-zhang.san@example.cn", "13800138000"]  # an id, an e-mail, a phone number
ORDERS = ["ORD-20261201-55501", "ORD-20261201-55502", "202612015550300"]
REFUNDS = ["RF-20261201-66601"]
DONATIONS = ["PD-20261201-77701", "PD-20261201-77702", "PD-20261201-77703"]
PRIVATE = MEMBERS + ORDERS + REFUNDS + DONATIONS


@pytest.fixture
def services(table, clock):
    with webhook_services(table, clock, SECRET, WALL) as svc:  # 2 entries a ledger page: several pages
        yield svc


@pytest.fixture
def captured(monkeypatch, services, caplog):
    """Everything logged or emitted: deployed-stage JSON logs and EMF lines, and every record at DEBUG."""
    emf: list[str] = []
    _, stream = deployed_observability(monkeypatch, services, emit=emf.append, log_level="DEBUG")
    caplog.set_level(logging.DEBUG, logger="chalicelib")
    caplog.set_level(logging.DEBUG, logger="campaign-platform")
    yield lambda: stream.getvalue() + "\n".join(emf) + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)


def post(client, path, body, secret=SECRET, at=WALL, **headers):
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    signed = sign_headers(secret, data, "msg_leak", at)
    response = client.http.post(path, headers={**signed, "content-type": "application/json", **headers}, body=data)
    return response.status_code, response.body.decode("utf-8")


def sale(order_id, amount="100.00"):
    return {
        "order_id": order_id,
        "campaign_id": CID,
        "sku": "PORK-0001",
        "quantity": 1,
        "amount": amount,
        "paid_at": "2026-12-01T10:00:00+08:00",
    }


def points(donation_id, member_id, n=250):
    return {"donation_id": donation_id, "campaign_id": CID, "member_id": member_id, "points": n}


def record_books(client):
    """Sales, a refund and point donations with recognisable ids; returns every answer body."""
    answers = [post(client, "/api/sales", sale(order_id)) for order_id in ORDERS]
    answers.append(post(client, "/api/refunds", {"refund_id": REFUNDS[0], "order_id": ORDERS[0], "amount": "40.00"}))
    answers += [post(client, "/api/point-donations", points(d, m)) for d, m in zip(DONATIONS, MEMBERS, strict=True)]
    assert [status for status, _ in answers] == [201] * 7, answers
    return answers


def public_pages(client):
    paths = ["/", "/api/homepage", "/charity", f"/campaigns/{CID}", f"/api/campaigns/{CID}", "/impact", "/api/impact"]
    pages = {}
    for lang in ("zh-CN", "en"):
        for path in paths:
            response = client.http.get(f"{path}?lang={lang}")
            assert response.status_code == 200, path
            pages[f"{path}?lang={lang}"] = response.body.decode()
        cursor = None
        while True:  # every page of the ledger, JSON and HTML
            suffix = f"&cursor={cursor}" if cursor else ""
            json_page = client.http.get(f"/api/campaigns/{CID}/ledger?lang={lang}{suffix}")
            html_page = client.http.get(f"/campaigns/{CID}/ledger?lang={lang}{suffix}")
            assert json_page.status_code == html_page.status_code == 200
            pages[f"ledger json {lang} {cursor}"] = json_page.body.decode()
            pages[f"ledger html {lang} {cursor}"] = html_page.body.decode()
            cursor = json.loads(json_page.body)["next_cursor"]
            if cursor is None:
                break
    return pages


def test_public_pages_show_no_member_id_and_no_full_order_id(client, publish, clock, services):
    publish(charity_sale(), campaign())
    clock.set(local(2026, 12, 1, 11))
    record_books(client)
    services.books._cache.invalidate(CID)
    pages = public_pages(client)
    for name, body in pages.items():
        for private in PRIVATE:
            assert private not in body, f"{private} appears on {name}"
    # The ledger does show every entry, masked: 3 sales, 1 refund (its order's ref), 3 point donations.
    refs = []
    for name, body in pages.items():
        if name.startswith("ledger json en"):
            refs += [e["ref"] for e in json.loads(body)["entries"]]
    # each ref is the masked id and a keyed digest: distinct per id, and the refund shows its order's
    assert all(re.fullmatch(r".*\*\*\*\*[0-9]{4}-[0-9a-f]{10}", ref) for ref in refs), refs
    assert sorted(ref[:-11] for ref in refs) == sorted(
        ["ORD-****5501", "ORD-****5502", "****0300", "ORD-****5501", "PD-****7701", "PD-****7702", "PD-****7703"]
    )
    assert len(set(refs)) == 6


def test_logs_and_metrics_carry_no_secret_and_no_member_id(client, publish, clock, services, captured, table):
    from tests.faults import DynamoFaults

    publish(charity_sale())
    clock.set(local(2026, 12, 1, 11))
    record_books(client)
    # The unhappy paths, which log the most: a bad signature, a stale one, a malformed body, a conflict, a refusal.
    assert post(client, "/api/point-donations", points("PD-X-1", MEMBERS[0]), secret=generate_secret())[0] == 401
    assert post(client, "/api/point-donations", points("PD-X-2", MEMBERS[0]), at=WALL - timedelta(hours=1))[0] == 401
    assert post(client, "/api/point-donations", {**points("PD-X-3", MEMBERS[1]), "member_id": MEMBERS[1] * 20})[0] == 422
    assert post(client, "/api/point-donations", points(DONATIONS[0], MEMBERS[2], 999))[0] == 409
    assert post(client, "/api/point-donations", {**points("PD-X-4", MEMBERS[0]), "campaign_id": "poverty-day-2026"})[0] == 422
    # And a failing write, logged at ERROR.
    faults = DynamoFaults(table.meta.client)
    faults.always("TransactWriteItems", "internal")
    assert post(client, "/api/point-donations", points("PD-X-5", MEMBERS[1]))[0] == 503
    text = captured()
    assert "request failed: unavailable" in text and '"status":401' in text  # the capture saw these requests
    for secret in (SECRET, KEY_B64, base64.b64decode(KEY_B64).hex()):
        assert secret not in text
    for member in MEMBERS:
        assert member not in text


@pytest.mark.parametrize(
    "where",
    ["webhook-signature", "webhook-id", "body", "body-field", "query"],
)
def test_no_error_body_echoes_the_secret_or_a_valid_signature(client, publish, clock, services, where):
    publish(charity_sale())
    clock.set(local(2026, 12, 1, 11))
    body = points("PD-ECHO-1", MEMBERS[0])
    data = json.dumps(body).encode()
    good = sign_headers(SECRET, data, "msg_echo", WALL)
    headers = {**good, "content-type": "application/json"}
    path = "/api/point-donations"
    if where == "webhook-signature":
        headers["webhook-signature"] = f"v1,{KEY_B64} {SECRET}"
    elif where == "webhook-id":
        headers["webhook-id"] = SECRET
    elif where == "body":
        data = (SECRET + json.dumps(body)).encode()
    elif where == "body-field":
        data = json.dumps({**body, "member_id": SECRET, "secret": SECRET}).encode()
        headers.update(sign_headers(SECRET, data, "msg_echo", WALL))
    else:
        path += f"?secret={SECRET}"
        headers["webhook-signature"] = "v1," + base64.b64encode(b"\0" * 32).decode()
    response = client.http.post(path, headers=headers, body=data)
    text = response.body.decode()
    assert 400 <= response.status_code < 500, text
    reason = json.loads(text)
    assert reason["error"] in ("unauthorized", "bad_request", "invalid") and reason["message"]
    assert SECRET not in text and KEY_B64 not in text and good["webhook-signature"][3:] not in text


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    local_stack = LocalStack(tmp_path_factory.mktemp("leaks"), "2026-12-01T10:00+08:00", SECRET).start()
    yield local_stack
    local_stack.stop()


@pytest.mark.server
def test_the_real_server_prints_no_secret_and_no_member_id(stack):
    import secrets

    def send(body, secret=SECRET, **changes):
        data = json.dumps(body).encode()
        headers = {**sign_headers(secret, data), "content-type": "application/json", **changes}
        return fetch(f"{stack.base}/api/point-donations", data=data, headers=headers, method="POST")[0]

    assert send(points("PD-SRV-1", MEMBERS[0])) == 201
    assert send(points("PD-SRV-2", MEMBERS[1]), secret=generate_secret()) == 401
    assert send(points("PD-SRV-3", MEMBERS[2]), **{"webhook-signature": "v1,@@"}) == 401
    assert send(points("PD-SRV-1", MEMBERS[1])) == 409
    assert send({**points("PD-SRV-4", MEMBERS[2]), "extra": MEMBERS[2]}) == 422
    status, _, ledger = fetch(f"{stack.base}/api/campaigns/{CID}/ledger")
    assert status == 200 and "PD-****" in ledger and not any(m in ledger for m in MEMBERS)
    sentinel = "sentinel-" + secrets.token_hex(4)
    assert fetch(f"{stack.base}/campaigns/{sentinel}")[0] == 404
    stack.wait_for(sentinel)  # everything logged before the sentinel request has been read
    output = stack.output()
    assert "signing secret: from SYSTEM_SIGNING_SECRET" in output and '"POST /api/point-donations HTTP/1.1" 401' in output
    assert SECRET not in output and KEY_B64 not in output
    for member in MEMBERS:
        assert member not in output
