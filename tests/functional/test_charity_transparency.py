"""Pending, then confirmed; payouts; "find my order" (docs/donations.md), through the Chalice test client on moto.

The campaign clock moves across an order's return window (7 days by default): every figure and
every ledger line is computed from the request's instant, with no job.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from campaign_tools.sign import generate_secret, sign_headers
from chalicelib.domain.model import Disbursement, Text
from chalicelib.releases.publishing import PayoutsExceedConfirmed, Publisher
from tests.factories import charity_sale, local
from tests.stores import release_store
from tests.webhooks import webhook_services

SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
CID = "bazhong-pork-charity"
OTHER = "other-charity"


@pytest.fixture
def services(table, clock):
    with webhook_services(table, clock, SECRET, WALL, page_size=None) as svc:
        yield svc


@pytest.fixture
def live(publish, clock):
    publish(charity_sale(), charity_sale(OTHER))
    clock.set(local(2026, 12, 1, 12))


def post(client, path, body):
    data = json.dumps(body).encode()
    headers = {**sign_headers(SECRET, data, "msg_1", WALL), "content-type": "application/json"}
    response = client.http.post(path, headers=headers, body=data)
    return response.status_code, json.loads(response.body)


def get(client, path):
    response = client.http.get(path)
    body = json.loads(response.body) if response.headers["Content-Type"] == "application/json" else response.body.decode()
    return response.status_code, body, response.headers


def sale(order_id, amount="200.00", paid_at="2026-12-01T10:00:00+08:00", cid=CID):
    return {"order_id": order_id, "campaign_id": cid, "sku": "PORK-0001", "quantity": 1, "amount": amount, "paid_at": paid_at}


def charity(client):
    return get(client, f"/api/campaigns/{CID}")[1]["charity"]


def entries(client):
    return get(client, f"/api/campaigns/{CID}/ledger")[1]["entries"]


def figures(client):
    c = charity(client)
    return {k: c[k] for k in ("raised", "confirmed", "pending", "disbursed", "balance")}


def test_a_donation_is_pending_until_its_window_has_passed_then_confirmed(client, live, clock):
    assert post(client, "/api/sales", sale("ORD-20261201-0001"))[0] == 201  # 10.90
    assert post(client, "/api/sales", sale("ORD-20261201-0002", "100.00", "2026-12-01T11:00:00+08:00"))[0] == 201  # 5.45
    both_pending = {"raised": "16.35", "confirmed": "0.00", "pending": "16.35", "disbursed": "0.00", "balance": "0.00"}
    assert figures(client) == both_pending
    clock.set(local(2026, 12, 8, 9, 59, 59))  # one second before the first order's 7 days
    assert figures(client) == both_pending
    assert [e["state"] for e in entries(client)] == ["pending", "pending"]
    clock.set(local(2026, 12, 8, 10))  # exactly 7 days after paid_at: confirmed
    assert figures(client) == {
        "raised": "16.35",
        "confirmed": "10.90",
        "pending": "5.45",
        "disbursed": "0.00",
        "balance": "10.90",
    }
    assert [(e["ref"][:13], e["state"]) for e in entries(client)] == [
        ("ORD-****-0002", "pending"),
        ("ORD-****-0001", "confirmed"),
    ]
    # the JSON may be cached only until the next order's confirmation, an hour later
    status, _, headers = get(client, f"/api/campaigns/{CID}")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    clock.set(local(2026, 12, 8, 10, 59, 30))
    assert get(client, f"/api/campaigns/{CID}")[2]["Cache-Control"] == "public, max-age=30"
    assert get(client, f"/api/campaigns/{CID}/ledger")[2]["Cache-Control"] == "public, max-age=30"
    clock.set(local(2026, 12, 8, 11))
    assert figures(client)["pending"] == "0.00" and figures(client)["confirmed"] == "16.35"


def test_refunds_at_the_edge_of_the_window_reverse_pending_before_it_and_confirmed_after(client, live, clock):
    post(client, "/api/sales", sale("ORD-20261201-0001"))  # 10.90, window closes Dec 8 10:00
    post(client, "/api/sales", sale("ORD-20261201-0002"))  # 10.90, the same
    clock.set(local(2026, 12, 8, 9, 59, 59))
    refund = {"refund_id": "RF-1", "order_id": "ORD-20261201-0001", "amount": "50.00"}
    assert post(client, "/api/refunds", refund)[1]["donation_reversed"] == "2.72"  # 8.18 left, still pending
    assert figures(client) == {"raised": "19.08", "confirmed": "0.00", "pending": "19.08", "disbursed": "0.00", "balance": "0.00"}
    clock.set(local(2026, 12, 8, 10))
    refund = {"refund_id": "RF-2", "order_id": "ORD-20261201-0002", "amount": "200.00"}
    assert post(client, "/api/refunds", refund)[1]["donation_reversed"] == "10.90"  # a confirmed order refunded in full
    assert figures(client) == {"raised": "8.18", "confirmed": "8.18", "pending": "0.00", "disbursed": "0.00", "balance": "8.18"}
    lines = entries(client)
    assert sum(Decimal(e["amount"]) for e in lines) == Decimal("8.18")
    assert sorted((e["kind"], e["amount"], e["state"]) for e in lines) == [
        ("refund", "-10.90", "confirmed"),
        ("refund", "-2.72", "confirmed"),
        ("sale", "10.90", "confirmed"),
        ("sale", "10.90", "confirmed"),
    ]


def test_point_donations_are_confirmed_at_once(client, live):
    donation = {"donation_id": "PD-20261201-0001", "campaign_id": CID, "member_id": "M-1", "points": 250}
    assert post(client, "/api/point-donations", donation)[0] == 201
    assert figures(client) == {"raised": "2.50", "confirmed": "2.50", "pending": "0.00", "disbursed": "0.00", "balance": "2.50"}
    assert [e["state"] for e in entries(client)] == ["confirmed"]


def test_a_return_window_of_0_days_confirms_at_once(client, publish, clock):
    c = charity_sale()
    publish(replace(c, charity=replace(c.charity, return_days=0)))
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))
    assert figures(client)["confirmed"] == "10.90" and charity(client)["return_days"] == 0


def _payout(amount_fen: int) -> Disbursement:
    return Disbursement(
        local(2026, 12, 10, 9),
        amount_fen,
        Text({"zh-CN": "巴中市儿童基金会", "en": "Bazhong Children's Fund"}),
        "https://fund.example/r/1",
    )


def test_payouts_are_shown_with_their_receipts_and_the_balance(client, table, clock):
    c = charity_sale()
    # published as the stage would once enough is confirmed (the refusal is the next test)
    publisher = Publisher(release_store(table), clock, confirmed_fen=lambda cid, at, days: 1090)
    clock.set(local(2026, 12, 10, 9))  # the payout is listed once it is made
    publisher.publish([replace(c, charity=replace(c.charity, disbursements=(_payout(500),)))])
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))
    clock.set(local(2026, 12, 10, 12))
    c = charity(client)
    assert (c["confirmed"], c["disbursed"], c["balance"]) == ("10.90", "5.00", "5.90")
    assert c["disbursements"] == [
        {"at": "2026-12-10T09:00:00+08:00", "amount": "5.00", "to": "巴中市儿童基金会", "receipt": "https://fund.example/r/1"}
    ]
    html = get(client, f"/campaigns/{CID}/ledger?lang=en")[1]
    assert "Bazhong Children&#39;s Fund" in html and 'href="https://fund.example/r/1"' in html
    assert '<dd class="figure-balance">¥5.90</dd>' in html


def test_publish_refuses_payouts_above_the_confirmed_donations_on_the_stages_clock(client, publish, clock):
    c = charity_sale()
    publish(c)
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))  # 10.90 donated, confirmed from Dec 8, 10:00
    with pytest.raises(PayoutsExceedConfirmed, match="5.00 yuan more than the 0.00 yuan confirmed"):  # all still pending
        publish(replace(c, charity=replace(c.charity, disbursements=(_payout(500),))))
    clock.set(local(2026, 12, 10, 12))
    with pytest.raises(PayoutsExceedConfirmed) as refused:  # 10.91 paid out of 10.90 confirmed
        publish(replace(c, charity=replace(c.charity, disbursements=(_payout(1091),))))
    assert "bazhong-pork-charity: the disbursements add up to 10.91 yuan, 0.01 yuan more than the 10.90 yuan confirmed" in str(
        refused.value
    )
    plan, release = publish(replace(c, charity=replace(c.charity, disbursements=(_payout(1090),))))
    assert release is not None and release.number == 2  # the refused publishes wrote no release


def _with(c, **charity):
    return replace(c, charity=replace(c.charity, **charity))


def test_a_payout_dated_after_the_stages_clock_is_refused_and_planned_as_refused(client, table, publish, clock):
    from chalicelib import wiring
    from chalicelib.releases.publishing import PublishRefused
    from chalicelib.settings import Settings

    c = charity_sale()
    publish(c)
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))
    clock.set(local(2026, 12, 10, 8))  # 10.90 confirmed; the payout is dated 9:00
    with pytest.raises(PublishRefused) as refused:
        publish(_with(c, disbursements=(_payout(500),)))
    assert (
        "bazhong-pork-charity: a payout of 5.00 yuan is dated 2026-12-10T09:00:00+08:00, after the stage's clock "
        "(2026-12-10T08:00:00+08:00)"
    ) in str(refused.value)
    plan = wiring.build(Settings(table_name=table.name), clock, table).publisher().plan([_with(c, disbursements=(_payout(500),))])
    assert "refused, whatever is allowed:" in plan.describe() and "is dated 2026-12-10T09:00:00+08:00" in plan.describe()
    clock.set(local(2026, 12, 10, 9))
    assert publish(_with(c, disbursements=(_payout(500),)))[1] is not None


def test_return_days_cannot_change_once_a_charity_sale_has_donations(client, publish, clock):
    from chalicelib.releases.publishing import PublishRefused

    c = charity_sale()
    publish(_with(c, return_days=3))  # no donations yet: any window may be set
    publish(_with(c, return_days=0))
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))  # confirmed at once under a 0-day window
    with pytest.raises(PublishRefused, match="return_days cannot change from 0 to 7 once the charity sale has donations"):
        publish(c)
    # THEN the figures and the ledger's states still agree (the window it was recorded with)
    assert (charity(client)["confirmed"], charity(client)["pending"]) == ("10.90", "0.00")
    assert [e["state"] for e in get(client, f"/api/campaigns/{CID}/ledger")[1]["entries"]] == ["confirmed"]


def test_the_return_window_stays_locked_when_the_sale_is_removed_or_changes_kind_and_comes_back(client, table, publish, clock):
    from chalicelib import wiring
    from chalicelib.releases.publishing import PublishRefused
    from chalicelib.settings import Settings
    from tests.factories import campaign

    c = _with(charity_sale(), return_days=0)
    publish(c)
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))  # booked under a 0-day window
    publisher = wiring.build(Settings(table_name=table.name), clock, table).publisher()
    # WHEN the sale is taken off the release (allowed by name), then published again with 7 days
    publisher.publish([campaign()], allow={CID})
    with pytest.raises(PublishRefused, match="return_days cannot change from 0 to 7 once the charity sale has donations"):
        publisher.publish([campaign(), charity_sale()])
    assert publisher.publish([campaign(), c])[1] is not None  # back with the window it was booked with
    # AND when it becomes a featured campaign and then a charity sale again
    featured = replace(charity_sale(), kind="featured", charity=None)
    plan = publisher.plan([campaign(), featured])
    assert [r.what for r in plan.risks if r.campaign_id == CID] == ["turns a charity sale that has donations into a featured"]
    publisher.publish([campaign(), featured], allow={CID})
    with pytest.raises(PublishRefused, match="return_days cannot change from 0 to 7"):
        publisher.publish([campaign(), charity_sale()])
    # THEN the window it was booked with is the one it may come back with
    assert publisher.publish([campaign(), c])[1] is not None
    assert charity(client)["raised"] == "10.90"


def test_a_late_refund_below_the_payouts_shows_a_negative_balance_and_blocks_only_new_payouts(
    client, table, services, publish, clock
):
    from chalicelib import wiring
    from chalicelib.releases.publishing import PayoutsExceedConfirmed
    from chalicelib.settings import Settings

    def charity_now():
        services.catalog._release = None  # the app re-reads the pointer (else cached 5 s)
        return charity(client)

    c = charity_sale()
    publish(c)
    clock.set(local(2026, 12, 1, 12))
    post(client, "/api/sales", sale("ORD-20261201-0001"))
    clock.set(local(2026, 12, 10, 12))
    paid = _with(c, disbursements=(_payout(1090),))
    publish(paid)  # all 10.90 confirmed, all paid out
    # WHEN the order is refunded in part after its return window: the donation follows the order
    assert post(client, "/api/refunds", {"refund_id": "RF-LATE", "order_id": "ORD-20261201-0001", "amount": "100.00"})[0] == 201
    figures = charity_now()
    assert (figures["confirmed"], figures["disbursed"], figures["balance"]) == ("5.45", "10.90", "-5.45")
    page = get(client, f"/campaigns/{CID}?lang=en")[1]
    assert '<dd class="figure-balance">-¥5.45</dd>' in page and "an order was refunded after its return window" in page
    # THEN a publish that leaves the payouts as they are goes through; new payouts are refused
    retitled = replace(paid, title=Text({"zh-CN": "巴中土猪 公益", "en": "Bazhong pork for charity"}))
    assert publish(retitled)[1] is not None
    more = _with(retitled, disbursements=(_payout(1090), _payout(1)))
    with pytest.raises(PayoutsExceedConfirmed, match="10.91 yuan, 5.46 yuan more than the 5.45 yuan confirmed"):
        publish(more)
    # AND a rollback to a release with other payouts is checked as a publish of them would be
    publisher = wiring.build(Settings(table_name=table.name), clock, table).publisher()
    publish(_with(retitled, disbursements=(_payout(545),)))  # paid out what is confirmed now
    with pytest.raises(PayoutsExceedConfirmed, match="10.90 yuan, 5.45 yuan more than the 5.45 yuan confirmed"):
        publisher.rollback()
    assert charity_now()["disbursed"] == "5.45"  # the live release did not move
    assert "an order was refunded after its return window" not in get(client, f"/campaigns/{CID}?lang=en")[1]


def test_payouts_are_listed_oldest_first_whatever_the_yaml_order(client, table, clock):
    c = charity_sale()
    publisher = Publisher(release_store(table), clock, confirmed_fen=lambda cid, at, days: 1090)
    clock.set(local(2026, 12, 10, 12))
    later, earlier = _payout(300), replace(_payout(200), at=local(2026, 12, 9, 9))
    publisher.publish([_with(c, disbursements=(later, earlier))])
    assert [(d["at"], d["amount"]) for d in charity(client)["disbursements"]] == [
        ("2026-12-09T09:00:00+08:00", "2.00"),
        ("2026-12-10T09:00:00+08:00", "3.00"),
    ]
    html = get(client, f"/campaigns/{CID}/ledger?lang=en")[1]
    assert html.index("¥2.00") < html.index("¥3.00")


def test_find_my_order_shows_its_donation_refunds_and_state_and_nothing_else(client, live, clock):
    post(client, "/api/sales", sale("ORD-20261201-0001"))
    post(client, "/api/sales", sale("ORD-20261201-0002"))
    post(client, "/api/sales", sale("ORD-20261201-0009", cid=OTHER))
    clock.set(local(2026, 12, 2, 9))
    post(client, "/api/refunds", {"refund_id": "RF-1", "order_id": "ORD-20261201-0001", "amount": "50.00"})
    status, found, headers = get(client, f"/api/campaigns/{CID}/ledger?order=ORD-20261201-0001")
    ref = found["ref"]
    assert status == 200 and ref.startswith("ORD-****-0001-") and "20261201" not in ref
    assert found == {
        "ref": ref,
        "donation": "8.18",
        "refunded": "50.00",
        "state": "pending",
        "entries": [
            {"at": "2026-12-02T09:00:00+08:00", "kind": "refund", "ref": ref, "amount": "-2.72", "state": "confirmed"},
            {"at": "2026-12-01T10:00:00+08:00", "kind": "sale", "ref": ref, "amount": "10.90", "state": "pending"},
        ],
    }
    # its lines are the ledger's own lines, and two orders never share a ref
    ledger_refs = [e["ref"] for e in entries(client)]
    assert ledger_refs.count(ref) == 2 and len(set(ledger_refs)) == 2
    unknown = get(client, f"/api/campaigns/{CID}/ledger?order=ORD-20261201-0003")
    other = get(client, f"/api/campaigns/{CID}/ledger?order=ORD-20261201-0009")
    assert unknown[0] == other[0] == 404 and unknown[1]["error"] == other[1]["error"] == "not_found"
    assert "0009" not in json.dumps(other[1]).replace("ORD-20261201-0009", "")  # names only what was asked
    # the HTML lookup of an unknown order, or another campaign's, is the same 404: the form again, the id kept
    missing = [get(client, f"/campaigns/{CID}/ledger?order={oid}&lang=en") for oid in ("ORD-20261201-0003", "ORD-20261201-0009")]
    assert [m[0] for m in missing] == [404, 404]
    assert missing[0][1].replace("0003", "0009") == missing[1][1]
    assert "No order with this number is in this ledger." in missing[0][1] and 'value="ORD-20261201-0003"' in missing[0][1]
    assert 'class="ledger-table"' not in missing[0][1]
    long = get(client, f"/api/campaigns/{CID}/ledger?order={'X' * 5_000}")
    assert long[0] == 404 and long[1]["message"] == f"no order id of 5,000 characters (at most 128) is in the ledger of '{CID}'"
    html = get(client, f"/campaigns/{CID}/ledger?order=ORD-20261201-0001&lang=en")[1]
    assert '<form class="find-order" method="get"' in html and 'name="order"' in html
    assert '<dd class="order-state state-pending">Pending</dd>' in html and ref in html
    clock.set(local(2026, 12, 8, 10))
    assert get(client, f"/api/campaigns/{CID}/ledger?order=ORD-20261201-0001")[1]["state"] == "confirmed"


def test_order_lookups_are_rate_limited_per_client(client, live, services):
    statuses = [get(client, f"/api/campaigns/{CID}/ledger?order=ORD-20261201-{i:04d}")[0] for i in range(11)]
    assert statuses == [404] * 10 + [429]
    status, body, headers = get(client, f"/api/campaigns/{CID}/ledger?order=ORD-20261201-0001")
    assert status == 429 and body["error"] == "too_many_requests" and int(headers["Retry-After"]) == 3
    status, html, headers = get(client, f"/campaigns/{CID}/ledger?order=ORD-20261201-0001&lang=en")
    assert status == 429 and "Too many lookups from here. Please wait a minute and try again." in html
    # the ledger itself is not limited
    assert get(client, f"/api/campaigns/{CID}/ledger")[0] == 200
