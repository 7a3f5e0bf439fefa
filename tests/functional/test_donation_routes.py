"""The signed system routes, the ledger and the impact page, through the Chalice test client on moto."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from campaign_tools.sign import generate_secret, sign_headers
from chalicelib.clock import FixedClock
from chalicelib.domain.model import County, Merchant, Text
from chalicelib.settings import Settings
from tests.factories import campaign, charity_sale, local
from tests.webhooks import webhook_services

SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)  # the real-clock stand-in: far from the campaign clock
CID = "bazhong-pork-charity"


@pytest.fixture
def services(table, clock):
    """This module's services: a signing secret, a separate wall clock, small shards and pages."""
    with webhook_services(table, clock, SECRET, WALL) as svc:
        yield svc


@pytest.fixture
def live(publish, clock):
    c = charity_sale()
    pledged = replace(
        c.products[1],
        donation_rate_percent=Decimal("8"),
        merchant=Merchant("m-0251", Text({"zh-CN": "通江合作社", "en": "Tongjiang Cooperative"})),
        county=County("511921", Text({"zh-CN": "通江县", "en": "Tongjiang County"})),
    )
    publish(replace(c, products=(c.products[0], pledged)), campaign())
    clock.set(local(2026, 12, 1, 12))


def post(client, path, body, secret=SECRET, at=WALL, raw=None, **header_changes):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = sign_headers(secret, data, "msg_1", at)
    headers["content-type"] = "application/json"
    for name, value in header_changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    response = client.http.post(path, headers=headers, body=data)
    return response.status_code, json.loads(response.body)


def get(client, path):
    response = client.http.get(path)
    return response.status_code, json.loads(response.body) if response.headers[
        "Content-Type"
    ] == "application/json" else response.body.decode()


def sale(order_id="ORD-20261201-0001", amount="200.00", sku="PORK-0001", paid_at="2026-12-01T10:00:00+08:00", **kw):
    return {"order_id": order_id, "campaign_id": CID, "sku": sku, "quantity": 1, "amount": amount, "paid_at": paid_at, **kw}


def raised(client):
    return get(client, f"/api/campaigns/{CID}")[1]["charity"]


def ledger(client, cid=CID):
    entries, path = [], f"/api/campaigns/{cid}/ledger"
    while True:
        status, page = get(client, path)
        assert status == 200, page
        entries += page["entries"]
        if page["next_cursor"] is None:
            return entries
        path = f"/api/campaigns/{cid}/ledger?cursor={page['next_cursor']}"


def test_the_briefs_worked_examples_end_to_end(client, live):
    # 12.50 at 1 %: not this campaign's rate; 200.00 at 5.45 % = 10.90, and the pledged SKU's 8 %.
    assert post(client, "/api/sales", sale()) == (
        201,
        {"order_id": "ORD-20261201-0001", "campaign_id": CID, "donation": "10.90", "status": "recorded"},
    )
    assert post(client, "/api/sales", sale("ORD-20261201-0002", "88.00", "PORK-0002"))[1]["donation"] == "7.04"
    # A 50.00 refund on 200.00 at 5.45 %: 150.00 -> 8.175 -> 8.18, so 2.72 is reversed, once.
    refund = {"refund_id": "RF-20261201-0001", "order_id": "ORD-20261201-0001", "amount": "50.00"}
    assert post(client, "/api/refunds", refund) == (
        201,
        {"refund_id": "RF-20261201-0001", "order_id": "ORD-20261201-0001", "donation_reversed": "2.72"},
    )
    assert post(client, "/api/refunds", refund) == (
        200,
        {"refund_id": "RF-20261201-0001", "order_id": "ORD-20261201-0001", "donation_reversed": "2.72"},
    )
    assert post(
        client,
        "/api/point-donations",
        {"donation_id": "PD-20261201-0001", "campaign_id": CID, "member_id": "M-42", "points": 250},
    ) == (201, {"donation_id": "PD-20261201-0001", "amount": "2.50"})
    charity = raised(client)
    assert charity["raised_from_sales"] == "15.22"  # 8.18 + 7.04
    assert charity["raised_from_points"] == "2.50"
    assert charity["raised"] == "17.72"
    assert charity["sales"] == "238.00"  # 150.00 + 88.00
    entries = ledger(client)
    assert sum(Decimal(e["amount"]) for e in entries) == Decimal("17.72")
    assert sorted((e["kind"], e["amount"]) for e in entries) == [
        ("points", "2.50"),
        ("refund", "-2.72"),
        ("sale", "10.90"),
        ("sale", "7.04"),
    ]
    assert all("M-42" not in json.dumps(e) and "****" in e["ref"] for e in entries)


def test_a_full_refund_leaves_nothing_and_a_second_is_refused(client, live):
    post(client, "/api/sales", sale(amount="200.00"))
    assert (
        post(client, "/api/refunds", {"refund_id": "RF-1", "order_id": "ORD-20261201-0001", "amount": "200.00"})[1][
            "donation_reversed"
        ]
        == "10.90"
    )
    status, body = post(client, "/api/refunds", {"refund_id": "RF-2", "order_id": "ORD-20261201-0001", "amount": "0.01"})
    assert (status, body["error"], body["field"]) == (422, "invalid", "amount")
    assert "0.00 left" in body["message"]
    assert raised(client)["raised"] == "0.00"
    assert sum(Decimal(e["amount"]) for e in ledger(client)) == 0


def test_replays_answer_the_first_body_and_changed_bodies_conflict(client, live, counter):
    first = post(client, "/api/sales", sale())
    counter.reset()
    assert post(client, "/api/sales", sale()) == (200, first[1])
    assert post(client, "/api/sales", sale(amount="200")) == (200, first[1])  # the same amount, written shorter
    status, body = post(client, "/api/sales", sale(amount="201.00"))
    assert (status, body["error"], body["field"]) == (409, "conflict", "order_id")
    # A refund id and a donation id are scoped per route: the same text is a new id elsewhere.
    assert (
        post(client, "/api/refunds", {"refund_id": "ORD-20261201-0001", "order_id": "ORD-20261201-0001", "amount": "1.00"})[0]
        == 201
    )
    status, body = post(
        client, "/api/refunds", {"refund_id": "ORD-20261201-0001", "order_id": "ORD-20261201-0001", "amount": "2.00"}
    )
    assert (status, body["field"]) == (409, "refund_id")
    assert raised(client)["sales"] == "199.00"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"webhook_signature": None}, "unsigned"),
        ({"webhook_id": None, "webhook_timestamp": None, "webhook_signature": None}, "unsigned"),
        ({"secret": generate_secret()}, "bad signature"),
        ({"at": WALL - timedelta(minutes=6)}, "stale"),
        ({"at": WALL + timedelta(minutes=6)}, "stale"),
        ({"webhook_signature": "v1,not base64!"}, "malformed"),
        ({"webhook_signature": "garbage"}, "malformed"),
        ({"webhook_signature": "v1,ÅÅÅÅ"}, "malformed"),
        ({"webhook_timestamp": "soon"}, "malformed"),
        ({"webhook_id": "msg_中文"}, "malformed"),
    ],
)
def test_unsigned_badly_signed_stale_or_malformed_requests_are_401_and_write_nothing(client, live, counter, change, reason):
    counter.reset()
    secret = change.pop("secret", SECRET)
    at = change.pop("at", WALL)
    status, body = post(client, "/api/sales", sale(), secret=secret, at=at, **change)
    assert status == 401
    assert body["error"] == "unauthorized" and reason in body["message"]
    assert counter.writes == 0
    assert raised(client)["sales"] == "0.00"


def test_the_signature_covers_the_raw_bytes_not_reparsed_json(client, live):
    # Signed over one serialization, sent with another that parses to the same JSON: refused.
    body = json.dumps(sale(), ensure_ascii=False)
    headers = sign_headers(SECRET, body.encode(), "msg_1", WALL)
    other = json.dumps(json.loads(body), ensure_ascii=True, indent=1).encode()
    response = client.http.post("/api/sales", headers={**headers, "content-type": "application/json"}, body=other)
    assert response.status_code == 401
    # Non-ASCII bytes signed as sent are fine.
    data = json.dumps(sale(order_id="订单-20261201-0001"), ensure_ascii=False).encode("utf-8")
    assert post(client, "/api/sales", None, raw=data)[0] == 201


def test_no_secret_configured_means_every_system_request_is_401(client, live, services):
    from chalicelib.webhooks.signing import SecretSource, WebhookVerifier

    services.verifier = WebhookVerifier(SecretSource(Settings()), FixedClock(WALL))
    status, body = post(client, "/api/sales", sale())
    assert status == 401 and "no signing secret" in body["message"]


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("/api/sales", sale(amount=12.5), 422, "amount"),
        ("/api/sales", sale(amount="12.345"), 422, "amount"),
        ("/api/sales", sale(amount="-1"), 422, "amount"),
        ("/api/sales", sale(amount="1e3"), 422, "amount"),
        ("/api/sales", sale(amount="0"), 422, "amount"),
        ("/api/sales", {**sale(), "quantity": 0}, 422, "quantity"),
        ("/api/sales", {**sale(), "quantity": 1.5}, 422, "quantity"),
        ("/api/sales", {k: v for k, v in sale().items() if k != "sku"}, 422, "sku"),
        ("/api/sales", sale(coupon="X"), 422, "coupon"),
        ("/api/sales", {**sale(), "campaign_id": "no-such-campaign"}, 422, "campaign_id"),
        ("/api/sales", sale(sku="EGG-0017"), 422, "sku"),  # a product of another campaign
        ("/api/sales", sale(paid_at="2027-03-01T00:00:00+08:00"), 422, "paid_at"),  # ends_at is exclusive
        ("/api/sales", sale(paid_at="2026-11-14T23:59:59+08:00"), 422, "paid_at"),
        ("/api/sales", sale(paid_at="2026-12-01T10:00:00"), 422, "paid_at"),
        ("/api/refunds", {"refund_id": "RF-1", "order_id": "ORD-NOPE-0001", "amount": "1.00"}, 404, "order_id"),
        ("/api/point-donations", {"donation_id": "PD-1", "campaign_id": CID, "member_id": "M-1", "points": 0}, 422, "points"),
        ("/api/point-donations", {"donation_id": "PD-1", "campaign_id": CID, "member_id": "M-1", "points": "100"}, 422, "points"),
        (
            "/api/point-donations",
            {"donation_id": "PD-1", "campaign_id": "poverty-day-2026", "member_id": "M-1", "points": 100},
            422,
            "campaign_id",
        ),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, live, counter, path, body, status, field):
    counter.reset()
    got_status, got = post(client, path, body)
    assert (got_status, got.get("field")) == (status, field), got
    assert got["error"] == ("not_found" if status == 404 else "invalid") and got["message"]
    assert counter.writes == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"", b"x" * (16 * 1024 + 1), b'{"order_id": "a", "order_id": "b"}'])
def test_malformed_bodies_are_400_with_a_reason(client, live, counter, raw):
    counter.reset()
    status, body = post(client, "/api/sales", None, raw=raw)
    assert status == 400 and body["error"] == "bad_request" and body["message"]
    assert counter.writes == 0


def test_points_need_a_live_campaign_but_a_late_replay_still_answers(client, live, clock):
    donation = {"donation_id": "PD-1", "campaign_id": CID, "member_id": "M-1", "points": 199}
    assert post(client, "/api/point-donations", donation) == (201, {"donation_id": "PD-1", "amount": "1.99"})
    clock.set(local(2027, 3, 1))  # the campaign has ended
    assert post(client, "/api/point-donations", donation)[0] == 200
    status, body = post(client, "/api/point-donations", {**donation, "donation_id": "PD-2"})
    assert (status, body["field"]) == (422, "campaign_id") and "not live" in body["message"]


def test_the_ledger_pages_by_a_signed_cursor_newest_first(client, live):
    for i, minute in enumerate([5, 1, 4, 2, 3]):
        post(client, "/api/sales", sale(f"ORD-20261201-000{i}", "100.00", paid_at=f"2026-12-01T10:0{minute}:00+08:00"))
    status, page = get(client, f"/api/campaigns/{CID}/ledger")
    assert status == 200 and len(page["entries"]) == 2
    assert [e["at"] for e in page["entries"]] == ["2026-12-01T10:05:00+08:00", "2026-12-01T10:04:00+08:00"]
    first = page["entries"][0]
    assert {k: v for k, v in first.items() if k != "ref"} == {
        "at": "2026-12-01T10:05:00+08:00",
        "kind": "sale",
        "amount": "5.45",
        "state": "pending",
    }
    assert re.fullmatch(r"ORD-\*\*\*\*-0000-[0-9a-f]{10}", first["ref"]), first["ref"]
    entries = ledger(client)
    assert [e["at"][11:16] for e in entries] == ["10:05", "10:04", "10:03", "10:02", "10:01"]
    assert sum(Decimal(e["amount"]) for e in entries) == Decimal(raised(client)["raised"]) == Decimal("27.25")
    # A cursor survives a query string as is, and works for the HTML page too.
    cursor = page["next_cursor"]
    html = client.http.get(f"/campaigns/{CID}/ledger?cursor={cursor}&lang=en").body.decode()
    assert "10:03" in html and "10:05" not in html and "<caption>Public donation ledger</caption>" in html


def test_forged_and_foreign_cursors_are_refused(client, live, publish, services):
    for i in range(3):
        post(client, "/api/sales", sale(f"ORD-20261201-000{i}"))
    cursor = get(client, f"/api/campaigns/{CID}/ledger")[1]["next_cursor"]
    import base64

    payload, tag = cursor.split(".")
    forged = base64.urlsafe_b64encode(b'{"k":"E#9999"}').decode().rstrip("=") + "." + tag
    for bad in (forged, cursor[:-2], "eyJrIjoiRSM5In0", cursor + "%2B"):
        status, body = get(client, f"/api/campaigns/{CID}/ledger?cursor={bad}")
        assert (status, body["error"], body["field"]) == (400, "bad_request", "cursor")
    # The same cursor on another campaign's ledger is refused too.
    other = replace(charity_sale("other-charity"), homepage=None)
    publish(charity_sale(), other)
    services.catalog._release = None  # past the 5 s release cache
    status, body = get(client, f"/api/campaigns/other-charity/ledger?cursor={cursor}")
    assert (status, body["field"]) == (400, "cursor")


def test_only_visible_charity_sales_have_a_ledger(client, live, clock):
    for cid in ("poverty-day-2026", "no-such-campaign", "x"):
        status, body = get(client, f"/api/campaigns/{cid}/ledger")
        assert status == 404 and body["error"] == "not_found"
    assert client.http.get("/campaigns/poverty-day-2026/ledger").status_code == 404
    clock.set(local(2026, 11, 1))  # before the teaser: nothing leaks
    assert get(client, f"/api/campaigns/{CID}/ledger")[0] == 404
    clock.set(local(2027, 6, 1))  # after the end the books stay public
    assert get(client, f"/api/campaigns/{CID}/ledger") == (200, {"entries": [], "next_cursor": None})


def test_pages_show_the_real_totals(client, live, clock):
    post(client, "/api/sales", sale(amount="2000.00"))  # 109.00
    post(
        client, "/api/point-donations", {"donation_id": "PD-1", "campaign_id": CID, "member_id": "M-1", "points": 100_000}
    )  # 1000.00
    html = client.http.get("/charity?lang=en").body.decode()
    assert "1,109.00" in html or "1109.00" in html
    page = client.http.get(f"/campaigns/{CID}?lang=en").body.decode()
    assert "1,109.00" in page or "1109.00" in page
    clock.set(local(2027, 3, 1))  # ended: the 410 page still shows the final result
    ended = client.http.get(f"/campaigns/{CID}?lang=en")
    assert ended.status_code == 410 and ("1,109.00" in ended.body.decode() or "1109.00" in ended.body.decode())
    assert get(client, f"/api/campaigns/{CID}")[1]["charity"]["raised"] == "1109.00"


def test_impact_counts_every_kind_by_county_and_merchant(client, live, clock):
    post(client, "/api/sales", sale(amount="100.00"))
    post(client, "/api/sales", sale("ORD-20261201-0002", "50.00", "PORK-0002"))
    post(client, "/api/refunds", {"refund_id": "RF-1", "order_id": "ORD-20261201-0002", "amount": "10.00"})
    post(
        client,
        "/api/sales",
        {**sale("ORD-20261017-0003", "39.90", "EGG-0017", "2026-10-17T09:00:00+08:00"), "campaign_id": "poverty-day-2026"},
    )
    status, data = get(client, "/api/impact?lang=en")
    assert status == 200
    by_id = {c["id"]: c for c in data["campaigns"]}
    assert by_id["poverty-day-2026"]["sales"] == "39.90" and by_id["poverty-day-2026"]["charity"] is None
    assert by_id[CID]["sales"] == "140.00" and by_id[CID]["orders"] == 2
    assert by_id[CID]["counties"] == [
        {"code": "511902", "name": "Bazhou District", "sales": "100.00"},
        {"code": "511921", "name": "Tongjiang County", "sales": "40.00"},
    ]
    assert by_id[CID]["charity"]["raised"] == "8.65"  # 5.45 + 40.00 x 8 % = 3.20
    assert data["counties"][0] == {"code": "511902", "name": "Bazhou District", "sales": "139.90"}
    assert {m["id"]: m["sales"] for m in data["merchants"]} == {"m-0042": "139.90", "m-0251": "40.00"}
    assert data["charity"] == {
        "raised": "8.65",
        "raised_from_sales": "8.65",
        "raised_from_points": "0.00",
        "sales": "140.00",
        "campaigns": 1,
    }
    html = client.http.get("/impact?lang=en").body.decode()
    assert "<caption>Sales by county</caption>" in html and "Tongjiang County" in html and '<th scope="row">' in html


def test_past_its_goal_the_campaign_page_and_impact_show_the_same_true_percent(client, publish, clock):
    # GIVEN a charity sale whose goal is 8.72 and a sale that donates 10.90 (200.00 at 5.45 %): 125 % of it
    c = charity_sale()
    publish(replace(c, charity=replace(c.charity, goal_fen=872)))
    clock.set(local(2026, 12, 1, 12))
    assert post(client, "/api/sales", sale())[1]["donation"] == "10.90"
    # WHEN the campaign page and /impact are shown
    page = client.http.get(f"/campaigns/{CID}?lang=en").body.decode()
    impact = client.http.get("/impact?lang=en").body.decode()
    # THEN both say 125 %, and both bars are drawn full
    assert '<span class="goal-percent">125% of the goal</span>' in page and 'data-percent="125"' in page
    assert 'class="goal-pending" x="0.00" y="0" width="100.00"' in page  # all of it still pending
    assert '<progress max="100" value="100" aria-label="Raised">125%</progress> 125%' in impact


def test_every_signed_answer_is_counted_and_first_writes_count_their_money(client, live, services):
    from chalicelib.observability import Observability

    emf: list[str] = []
    services.observability = Observability("test", emit=emf.append)
    post(client, "/api/sales", sale())  # 201: 10.90 donated of 200.00
    post(client, "/api/sales", sale())  # 200: a replay moves no money
    post(client, "/api/sales", sale("ORD-2"), secret=generate_secret())  # 401
    post(client, "/api/refunds", {"refund_id": "RF-1", "order_id": "ORD-20261201-0001", "amount": "50.00"})
    post(client, "/api/point-donations", {"donation_id": "PD-1", "campaign_id": CID, "member_id": "M-42", "points": 250})
    docs = [json.loads(line) for line in emf]

    def values(name: str, **dimensions: str) -> list[float]:
        found = [d[name] for d in docs if name in d and all(d.get(k) == v for k, v in dimensions.items())]
        return [x for v in found for x in (v if isinstance(v, list) else [v])]

    assert values("SystemRequests", route="sales", status="201") == [1.0]
    assert values("SystemRequests", route="sales", status="200") == [1.0]
    assert values("SystemRequests", route="sales", status="401") == [1.0]
    assert values("SystemRequests", route="refunds", status="201") == [1.0]
    assert values("SystemRequests", route="point-donations", status="201") == [1.0]
    assert values("SalesRecorded", kind="charity_sale") == [1.0]
    assert values("SalesAmountFen", kind="charity_sale") == [20000.0]
    assert values("DonationsFen", source="sale") == [1090.0]
    assert values("DonationsReversedFen") == [272.0]
    assert values("DonationsFen", source="points") == [250.0]


def test_a_gift_from_the_future_is_refused_and_leaves_the_ledger_as_it_was(client, live, clock, counter):
    # the campaign clock is 12:00 Beijing time: 12:05:00 is the last paid_at accepted
    assert post(client, "/api/sales", sale("ORD-20261201-0100", paid_at="2026-12-01T12:05:00+08:00"))[0] == 201
    counter.reset()
    status, body = post(client, "/api/sales", sale("ORD-20261201-0101", paid_at="2026-12-01T04:05:00.000001Z"))
    assert (status, body["field"]) == (422, "paid_at") and "in the future" in body["message"]
    assert "2026-12-01T04:00:00+00:00" in body["message"]  # the platform's clock, in the sender's offset
    assert counter.writes == 0
    assert [e["ref"][:13] for e in ledger(client)] == ["ORD-****-0100"]


def test_a_sale_of_a_campaign_still_hidden_is_refused_on_paid_at(client, live, clock, counter):
    clock.set(local(2026, 11, 7, 23, 59))  # the teaser shows from Nov 8: the campaign is hidden
    counter.reset()
    status, body = post(client, "/api/sales", sale(paid_at="2026-11-07T23:59:00+08:00"))
    assert (status, body["field"]) == (422, "paid_at") and "not visible yet" in body["message"]
    assert "2026-11-08T00:00:00+08:00" in body["message"]
    assert counter.writes == 0
