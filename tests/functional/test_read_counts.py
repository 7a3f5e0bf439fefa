"""DynamoDB requests per page view (docs/architecture.md), counted with botocore's event hooks.

A cold container reads a campaign page or the homepage in one request; a warm
one makes none. The head item that makes the one-request page possible is a
copy, checked against the release: a stale head costs a read, never a wrong page.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC

import pytest

from chalicelib import wiring
from chalicelib.books.inputs import SaleRequest
from chalicelib.domain.model import Text, campaign_to_doc
from chalicelib.homepage.job import run_rotation
from chalicelib.releases.documents import doc_digest
from chalicelib.releases.publishing import Publisher
from chalicelib.settings import Settings
from chalicelib.store.items import CampaignHead
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.table import Table
from tests.conftest import TABLE
from tests.factories import campaign, charity_sale, local
from tests.stores import release_store, rotation_store

LIVE = local(2026, 10, 17, 9)
RENAMED = replace(campaign(), title=Text({"zh-CN": "新标题", "en": "New title"}))


@pytest.fixture
def container(table, clock):
    """A fresh (cold) container: new services, with its own monotonic clock to move."""
    elapsed = [0.0]

    def build():
        svc = wiring.build(Settings(table_name=TABLE), clock, table)
        svc.catalog._monotonic = lambda: elapsed[0]
        wiring.configure(svc)
        return svc

    yield build, elapsed
    wiring.configure(None)


@pytest.fixture
def live(publish, table, clock):
    publish(campaign(), charity_sale())
    clock.set(LIVE)
    run_rotation(rotation_store(table), LIVE, 8, 30)


def _get(client, path):
    response = client.http.get(path)
    assert response.status_code == 200, response.body[:300]
    return response


def test_a_cold_campaign_page_is_one_request_and_a_warm_one_none(client, live, container, counter):
    build, _ = container
    build()
    counter.reset()
    page = _get(client, "/campaigns/poverty-day-2026")
    assert counter.calls == ["BatchGetItem"]
    assert "商品 EGG-0017" in page.body.decode()
    counter.reset()
    _get(client, "/campaigns/poverty-day-2026")
    _get(client, "/api/campaigns/poverty-day-2026")
    assert counter.calls == []


def test_a_cold_homepage_is_one_request_and_a_warm_one_none(client, live, container, counter):
    build, _ = container
    build()
    counter.reset()
    home = json.loads(_get(client, "/api/homepage").body)
    assert counter.calls == ["BatchGetItem"]
    assert home["rotation"] == 1 and {s["campaign_id"] for s in home["slots"]} == {"poverty-day-2026"}
    counter.reset()
    _get(client, "/")
    _get(client, "/api/homepage")
    assert counter.calls == []


def test_after_the_pointers_5_s_a_warm_page_reads_the_pointer_alone(client, live, container, counter):
    build, elapsed = container
    build()
    _get(client, "/campaigns/poverty-day-2026")
    elapsed[0] = 4.9
    counter.reset()
    _get(client, "/campaigns/poverty-day-2026")
    assert counter.calls == []
    elapsed[0] = 5.0
    _get(client, "/campaigns/poverty-day-2026")
    assert counter.calls == ["GetItem"]


def test_a_page_seen_after_another_page_costs_one_request(client, live, container, counter):
    build, _ = container
    build()
    _get(client, "/campaigns/poverty-day-2026")
    counter.reset()
    # the pointer is fresh: the campaign's version alone (before its teaser: 404, no totals read)
    assert client.http.get("/api/campaigns/bazhong-pork-charity").status_code == 404
    assert counter.calls == ["GetItem"]


def test_an_unknown_id_is_one_request_cold_and_none_warm(client, live, container, counter):
    build, _ = container
    build()
    counter.reset()
    assert client.http.get("/campaigns/no-such-campaign").status_code == 404
    assert counter.calls == ["BatchGetItem"]
    counter.reset()
    assert client.http.get("/campaigns/other-unknown").status_code == 404
    assert client.http.get("/campaigns/..%2Fetc").status_code == 404
    assert counter.calls == []


def test_a_head_that_does_not_match_the_release_is_never_shown(client, live, table, container, counter):
    # GIVEN a head left by a publish that lost its race: another digest, another title
    wrong = {**campaign_to_doc(campaign()), "title": {"zh-CN": "不该出现", "en": "must not be shown"}}
    release_store(table).put_campaign_heads([("poverty-day-2026", CampaignHead(doc_digest(wrong), wrong))])
    build, _ = container
    build()
    counter.reset()
    page = json.loads(_get(client, "/api/campaigns/poverty-day-2026?lang=en").body)
    assert counter.calls == ["BatchGetItem", "GetItem"]  # the head did not match: the version itself
    assert page["title"] == campaign_to_doc(campaign())["title"]["en"] != "must not be shown"


def test_publish_and_rollback_leave_heads_that_match_the_live_release(client, live, table, clock, container, counter):
    Publisher(release_store(table), clock).publish([RENAMED, charity_sale()])
    build, _ = container
    build()
    counter.reset()
    assert json.loads(_get(client, "/api/campaigns/poverty-day-2026?lang=en").body)["title"] == "New title"
    assert counter.calls == ["BatchGetItem"]
    Publisher(release_store(table), clock).rollback()
    build()
    counter.reset()
    assert json.loads(_get(client, "/api/campaigns/poverty-day-2026?lang=en").body)["title"] != "New title"
    assert counter.calls == ["BatchGetItem"]


def test_a_warm_container_follows_a_new_publish_after_the_pointers_5_s(client, live, table, clock, container, counter):
    build, elapsed = container
    build()
    _get(client, "/api/campaigns/poverty-day-2026")
    Publisher(release_store(table), clock).publish([RENAMED, charity_sale()])
    assert json.loads(_get(client, "/api/campaigns/poverty-day-2026?lang=en").body)["title"] != "New title"
    elapsed[0] = 5.0
    counter.reset()
    assert json.loads(_get(client, "/api/campaigns/poverty-day-2026?lang=en").body)["title"] == "New title"
    assert counter.calls == ["GetItem", "GetItem"]  # the pointer, then the new version


def test_a_batch_read_retries_unprocessed_keys(table, live):
    class Partial:
        """Leaves the second key unprocessed on the first call."""

        def __init__(self, real):
            self.real, self.calls = real, 0

        def batch_get_item(self, RequestItems):
            self.calls += 1
            if self.calls == 1:
                keys = RequestItems[TABLE]["Keys"]
                first = self.real.batch_get_item(RequestItems={TABLE: {**RequestItems[TABLE], "Keys": keys[:1]}})
                return {**first, "UnprocessedKeys": {TABLE: {"Keys": keys[1:]}}}
            return self.real.batch_get_item(RequestItems=RequestItems)

    class Boto3Table:
        name = TABLE

        def __init__(self, client):
            self.meta = type("Meta", (), {"client": client})()

    partial = Partial(table.meta.client)
    release, head = ReleaseStore(Table(Boto3Table(partial), sleep=lambda s: None)).get_release_with_head("poverty-day-2026")
    assert partial.calls == 2
    assert release.number == 1 and head is not None and head.digest == release.manifest["poverty-day-2026"]
    assert head.doc == campaign_to_doc(campaign())


def test_heads_are_written_once_per_new_or_changed_campaign(publish, table, counter):
    publish(campaign(), charity_sale())
    store = release_store(table)
    first = {cid: store.get_release_with_head(cid)[1].digest for cid in ("poverty-day-2026", "bazhong-pork-charity")}
    counter.reset()
    publish(RENAMED, charity_sale())
    release, head = store.get_release_with_head("poverty-day-2026")
    assert head.digest == release.manifest["poverty-day-2026"] != first["poverty-day-2026"]
    assert store.get_release_with_head("bazhong-pork-charity")[1].digest == first["bazhong-pork-charity"]
    # the changed version, its homepage partition, then its head: three batches of one item or more
    assert counter.count("BatchWriteItem") == 3
    counter.reset()
    publish(RENAMED, charity_sale())
    assert counter.writes == 0


def test_a_cold_homepage_inside_a_later_span_is_still_one_request(client, publish, table, clock, container, counter):
    # GIVEN a rotation at 23:50 whose spans reach past Poverty Day's start at 00:00
    publish(campaign(), charity_sale(), campaign("store-leishan", starts_at=local(2026, 9, 1), ends_at=None, teaser_from=None))
    run_rotation(rotation_store(table), local(2026, 10, 16, 23, 50), 8, 30, 15)
    clock.set(local(2026, 10, 17))
    build, _ = container
    build()
    counter.reset()
    home = json.loads(_get(client, "/api/homepage").body)
    assert counter.calls == ["BatchGetItem"]
    assert "poverty-day-2026" in {s["campaign_id"] for s in home["slots"]}
    counter.reset()
    clock.set(local(2026, 10, 17, 0, 1))
    _get(client, "/")
    assert counter.calls == []


def test_a_newly_published_live_campaign_costs_one_read_per_container(client, live, table, clock, container, counter):
    build, elapsed = container
    build()
    _get(client, "/api/homepage")
    newcomer = campaign("store-leishan", starts_at=local(2026, 9, 1), ends_at=None, teaser_from=None, skus=("TEA-0001",))
    Publisher(release_store(table), clock).publish([campaign(), charity_sale(), newcomer])
    elapsed[0] = 5.0
    counter.reset()
    home = json.loads(_get(client, "/api/homepage").body)
    # the pointer with the rotation, then the newcomer's document alone (not the unchanged campaign's)
    assert counter.calls == ["BatchGetItem", "GetItem"]
    assert ("store-leishan", "TEA-0001") in {(s["campaign_id"], s["sku"]) for s in home["slots"]}
    counter.reset()
    _get(client, "/")
    assert counter.calls == []
    elapsed[0] = 10.0
    _get(client, "/api/homepage")
    assert counter.calls == ["BatchGetItem"]  # the document is kept for the container's life


# --- charity pages: the counter shards ride in the page's own request (docs/donations.md)

SELLING = local(2026, 12, 1, 12)


@pytest.fixture
def selling(publish, clock):
    """Both factory campaigns published; the charity sale live at SELLING."""
    publish(campaign(), charity_sale())
    clock.set(SELLING)


@pytest.fixture
def keys_read(table):
    """The number of keys of each BatchGetItem sent, in order."""
    sizes: list[int] = []

    def on_call(params, **kwargs):
        sizes.append(sum(len(r["Keys"]) for r in params["RequestItems"].values()))

    table.meta.client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", on_call)
    return sizes


def _sell(svc, *fen: int) -> None:
    for i, amount in enumerate(fen):
        order = SaleRequest(f"ORD-RC-{i:04d}", "bazhong-pork-charity", "PORK-0001", 1, amount, SELLING.astimezone(UTC))
        assert svc.books.record_sale(order, SELLING).status == 201


def _charity_build(container):
    """A cold container whose books' cache runs on the same moved monotonic clock as the pointer's."""
    build, elapsed = container
    svc = build()
    svc.books._cache._monotonic = lambda: elapsed[0]
    return svc, elapsed


def test_a_cold_charity_page_is_one_request_of_100_keys(client, selling, container, counter, keys_read):
    svc, _ = _charity_build(container)
    _sell(svc, 10_000, 20_000, 30_000)  # 60,000 fen at 5.45 %: 545 + 1,090 + 1,635 = 3,270 fen
    svc, _ = _charity_build(container)  # another container, cold: it never saw the sales
    counter.reset()
    keys_read.clear()
    body = json.loads(_get(client, "/api/campaigns/bazhong-pork-charity").body)
    assert counter.calls == ["BatchGetItem"]
    assert keys_read == [100]  # the pointer, the head and 98 counter shards
    assert body["charity"]["raised"] == "32.70" and body["charity"]["pending"] == "32.70"
    counter.reset()
    assert "32.70" in _get(client, "/campaigns/bazhong-pork-charity").body.decode()
    assert counter.calls == []


def test_after_5_s_a_warm_charity_page_reads_the_pointer_and_its_shards_in_one_request(
    client, selling, container, counter, keys_read
):
    svc, elapsed = _charity_build(container)
    _get(client, "/api/campaigns/bazhong-pork-charity")
    _sell(svc, 10_000)  # a sale in this container drops its cached books
    counter.reset()
    keys_read.clear()
    assert json.loads(_get(client, "/api/campaigns/bazhong-pork-charity").body)["charity"]["raised"] == "5.45"
    assert counter.calls == ["BatchGetItem"] and keys_read == [98]  # the pointer is fresh: the shards alone
    elapsed[0] = 5.0
    counter.reset()
    keys_read.clear()
    _get(client, "/campaigns/bazhong-pork-charity")
    assert counter.calls == ["BatchGetItem"] and keys_read == [99]  # the pointer and the shards


def test_a_page_of_another_kind_reads_no_shards_once_the_pointer_is_known(client, selling, container, counter, keys_read):
    _, elapsed = _charity_build(container)
    _get(client, "/api/homepage")
    elapsed[0] = 5.0
    counter.reset()
    keys_read.clear()
    # ended at SELLING (410), no charity sale: the stale pointer's catalog says so, so no shards
    assert client.http.get("/api/campaigns/poverty-day-2026").status_code == 410
    assert counter.calls == ["BatchGetItem"] and keys_read == [2]


def test_the_charity_channel_reads_its_sales_shards_together(client, selling, table, publish, container, counter, keys_read):
    second = charity_sale("bazhong-tea-charity", skus=("TEA-0001",))
    publish(campaign(), charity_sale(), second)
    svc, _ = _charity_build(container)
    counter.reset()
    keys_read.clear()
    assert "bazhong-tea-charity" in _get(client, "/charity").body.decode()
    # the pointer (it names the sales), then 2 x 98 shards at 100 keys a request
    assert counter.calls == ["GetItem", "BatchGetItem", "BatchGetItem"] and keys_read == [100, 96]
    counter.reset()
    _get(client, "/campaigns/bazhong-tea-charity")  # its books are cached: the head alone
    assert counter.calls == ["GetItem"]


def test_after_5_s_the_charity_channel_reads_the_pointer_and_its_sales_shards_together(
    client, selling, table, publish, container, counter, keys_read
):
    second = charity_sale("bazhong-tea-charity", skus=("TEA-0001",))
    publish(campaign(), charity_sale(), second)
    svc, elapsed = _charity_build(container)
    _get(client, "/charity")  # warm: the pointer and both sales' books held
    _sell(svc, 10_000)
    elapsed[0] = 5.0  # the pointer and the books are both due
    counter.reset()
    keys_read.clear()
    assert "5.45" in _get(client, "/charity").body.decode()
    # one request per 100 keys: the pointer and 2 x 98 shards, 197 keys
    assert counter.calls == ["BatchGetItem", "BatchGetItem"] and keys_read == [100, 97]
    counter.reset()
    _get(client, "/charity")
    assert counter.calls == []
