"""The demo checkout end to end on the real local stack (`campaign serve --at`): a buy link of the
Bazhong charity page, the demo mall's product page and pay form, the signed sale, the ledger."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from campaign_tools.sign import generate_secret
from tests.local_stack import LocalStack, fetch

pytestmark = pytest.mark.server

AT = "2026-12-01T10:00+08:00"  # the Bazhong charity sale is live; Poverty Day 2026 has ended
CAMPAIGN = "bazhong-pork-charity"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    local = LocalStack(tmp_path_factory.mktemp("mall"), AT, generate_secret()).start()
    yield local
    local.stop()


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.buy: list[str] = []
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        found = {k: v or "" for k, v in attrs}
        if tag == "a" and "buy-link" in found.get("class", ""):
            self.buy.append(found["href"])
        elif tag == "form":
            self.action = found["action"]
        elif tag == "input":
            self.fields[found["name"]] = found.get("value", "")


def parsed(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    return form


def ledger(stack) -> list[dict]:
    status, _, text = fetch(f"{stack.base}/api/campaigns/{CAMPAIGN}/ledger")
    assert status == 200
    return json.loads(text)["entries"]


def mall_base(stack) -> str:
    return f"http://127.0.0.1:{stack.mall_port}"


def test_a_buy_link_leads_to_the_demo_mall_and_a_paid_order_reaches_the_ledger(stack):
    status, _, page = fetch(f"{stack.base}/campaigns/{CAMPAIGN}?lang=en")
    assert status == 200
    links = parsed(page).buy
    assert len(links) == 8  # every pick of campaigns/bazhong-pork-charity.yaml
    first = urlsplit(links[0])
    assert f"{first.scheme}://{first.netloc}" == mall_base(stack) and first.path == "/item/PRK-3101"
    assert parse_qs(first.query)["utm_campaign"] == [CAMPAIGN]

    status, _, product = fetch(links[0])
    assert status == 200
    assert "Demo mall: a local stand-in for the real mall." in product
    assert "PRK-3101" in product and "¥68.00" in product
    form = parsed(product)
    assert form.action == "/pay"
    assert form.fields == {"campaign_id": CAMPAIGN, "sku": "PRK-3101", "quantity": "1"}

    before = ledger(stack)
    status, _, answer = fetch(f"{mall_base(stack)}/pay", urlencode({**form.fields, "quantity": "3"}).encode(), method="POST")
    assert status == 200, answer
    order = re.search(
        r"recorded order <code>(DEMO-[0-9A-F]{16})</code>: 3 × ¥68.00 = ¥204.00, donation ¥([0-9]+\.[0-9]{2})", answer
    )
    assert order is not None, answer
    assert Decimal(order.group(2)) == (Decimal("204.00") * Decimal("0.0545")).quantize(Decimal("0.01"))
    assert f"{stack.base}/campaigns/{CAMPAIGN}" in answer  # the way back
    after = ledger(stack)
    assert len(after) == len(before) + 1
    newest = after[0]
    assert (newest["kind"], newest["amount"]) == ("sale", order.group(2))
    assert newest["at"].startswith("2026-12-01T10:")


def test_a_quantity_below_one_is_refused_and_nothing_is_recorded(stack):
    before = ledger(stack)
    for quantity in ("0", "-1", "two", ""):
        body = urlencode({"campaign_id": CAMPAIGN, "sku": "PRK-3101", "quantity": quantity}).encode()
        status, _, answer = fetch(f"{mall_base(stack)}/pay", body, method="POST")
        assert status == 400
        assert "enter a whole number from 1 to 1000" in unescape(answer)
    assert ledger(stack) == before


def test_the_platforms_refusal_is_shown_as_it_is(stack):
    # Poverty Day 2026 has ended at the stack's instant: the platform refuses the sale with a reason.
    body = urlencode({"campaign_id": "poverty-day-2026", "sku": "EGG-0017", "quantity": "1"}).encode()
    status, _, answer = fetch(f"{mall_base(stack)}/pay", body, method="POST")
    assert status == 422
    reason = re.search(r"<q class='reason'>(.*?)</q>", answer)
    assert reason is not None
    shown = re.search(r"<pre class='answer'>(.*?)</pre>", answer, re.S)
    assert shown is not None
    platform = json.loads(unescape(shown.group(1)))
    assert platform["field"] == "paid_at" and unescape(reason.group(1)) == platform["message"]


def test_an_unknown_product_is_a_404_with_a_reason(stack):
    status, _, page = fetch(f"{mall_base(stack)}/item/NOPE-1?utm_campaign={CAMPAIGN}")
    assert status == 404
    assert f"campaign &#x27;{CAMPAIGN}&#x27; has no SKU &#x27;NOPE-1&#x27;" in page
