"""Publishing against moto: atomic flips, zero-write re-publish, plan, rollback."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.domain.model import Text, campaign_to_doc
from chalicelib.errors import NothingToRollBack, ReleaseConflict, StoreUnavailable
from chalicelib.releases.publishing import Publisher
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.table import Table
from tests.factories import campaign, charity_sale, local, pick
from tests.stores import release_store


@pytest.fixture
def publisher(table, clock):
    return Publisher(release_store(table, sleep=lambda s: None), clock, actor="tester", commit="abc1234")


def test_first_publish_writes_versions_homepage_entries_record_and_pointer(publisher, counter):
    campaigns = [
        campaign(),
        charity_sale(),
        campaign("store-a", kind="regional_store", ends_at=None, teaser_from=None, weight=None),
    ]
    plan, release = publisher.publish(campaigns)
    assert release is not None and release.number == 1 and release.previous == 0
    assert [c.campaign_id for c in plan.changes if c.what == "campaign"] == [
        "bazhong-pork-charity",
        "poverty-day-2026",
        "store-a",
    ]
    # 3 documents + 2 homepage entries in BatchWriteItem calls, then the record and the flip (the
    # pointer and the rotation's copy of its number) in one transaction, then the 3 head items
    assert counter.count("BatchWriteItem") == 3
    assert counter.count("PutItem") == 0 and counter.count("TransactWriteItems") == 1
    current = publisher.store.get_current_release()
    assert current.number == 1 and set(current.manifest) == {"bazhong-pork-charity", "poverty-day-2026", "store-a"}
    assert publisher.store.get_campaign_doc("poverty-day-2026", current.manifest["poverty-day-2026"]) == campaign_to_doc(
        campaign()
    )
    assert len(publisher.store.query_homepage_entries(1)) == 2


def test_unchanged_republish_writes_nothing(publisher, counter):
    publisher.publish([campaign(), charity_sale()])
    counter.reset()
    plan, release = publisher.publish([campaign(), charity_sale()])
    assert release is None and plan.empty
    assert counter.writes == 0
    assert "no changes" in plan.describe()


def test_plan_names_changed_fields_and_picks_and_writes_nothing(publisher, counter):
    publisher.publish([campaign(), charity_sale()])
    changed = campaign(skus=("EGG-0017", "POT-0101", "NEW-0001"))
    changed = changed.__class__(**{**changed.__dict__, "products": (pick("EGG-0017", 4290),) + changed.products[1:]})
    counter.reset()
    plan = publisher.plan([changed])
    assert counter.writes == 0
    lines = plan.describe().splitlines()
    assert "  ~ campaign poverty-day-2026" in lines
    assert "  ~ pick poverty-day-2026 / EGG-0017 (endorsement, price)" in lines
    assert "  + pick poverty-day-2026 / NEW-0001" in lines
    assert "  - pick poverty-day-2026 / HEN-0201" in lines
    assert "  - campaign bazhong-pork-charity" in lines


def test_plan_prints_the_old_and_the_new_value_of_every_changed_field(publisher):
    publisher.publish([campaign()])
    before = campaign()
    retitled = before.__class__(
        **{
            **before.__dict__,
            "title": Text({"zh-CN": before.title.get("zh-CN"), "en": "Poverty Day picks, 2026"}),
            "ends_at": local(2026, 10, 19),
            "products": (pick("EGG-0017", 4290),) + tuple(reversed(before.products[1:])),
        }
    )
    lines = publisher.plan([retitled]).describe().splitlines()
    ends = f'      ends_at: "{local(2026, 10, 18).isoformat()}" -> "{local(2026, 10, 19).isoformat()}"'
    assert f'      title.en: "{before.title.get("en")}" -> "Poverty Day picks, 2026"' in lines
    assert ends in lines
    assert '      products order: ["EGG-0017", "POT-0101", "HEN-0201"] -> ["EGG-0017", "HEN-0201", "POT-0101"]' in lines
    assert '      price: "39.90" -> "42.90"' in lines


def test_rollback_makes_the_previous_release_live_and_publish_continues_numbering(publisher):
    publisher.publish([campaign()])
    publisher.publish([campaign(), charity_sale()])
    old, new = publisher.rollback()
    assert (old.number, new.number) == (2, 1)
    assert set(publisher.store.get_current_release().manifest) == {"poverty-day-2026"}
    _, release = publisher.publish([charity_sale()], allow={"poverty-day-2026"})
    assert release.number == 3 and release.previous == 1
    with pytest.raises(NothingToRollBack):
        Publisher(publisher.store, publisher.clock).rollback(to=3)


def test_a_publish_that_fails_before_the_flip_leaves_the_live_set(publisher, table, clock):
    publisher.publish([campaign()])

    class Broken(ReleaseStore):
        def publish_release(self, release, expected):
            raise StoreUnavailable("connection lost")

    with pytest.raises(StoreUnavailable):
        Publisher(Broken(Table(table)), clock).publish([campaign(), charity_sale()])
    current = release_store(table).get_current_release()
    assert current.number == 1 and set(current.manifest) == {"poverty-day-2026"}


def test_two_publishes_racing_one_wins_the_other_is_told(publisher, table, clock):
    publisher.publish([campaign()])

    class Slow(ReleaseStore):
        """Lets a rival publish land between reading the pointer and flipping it."""

        def publish_release(self, release, expected):
            Publisher(release_store(table), clock).publish([charity_sale()], allow={"poverty-day-2026"})
            super().publish_release(release, expected)

    with pytest.raises(ReleaseConflict):
        Publisher(Slow(Table(table)), clock).publish([campaign(), charity_sale()])
    assert set(release_store(table).get_current_release().manifest) == {"bazhong-pork-charity"}


def test_a_publish_that_lands_after_ours_read_the_live_release_makes_ours_fail(publisher, table, clock):
    """The flip is conditional on the release the plan was made against: a rival that lands
    in between is never silently replaced (two `campaign publish` at once: one is told)."""
    publisher.publish([campaign()])

    class Racy(ReleaseStore):
        reads = 0

        def get_current_release(self, consistent=False):
            live = super().get_current_release(consistent)
            Racy.reads += 1
            if Racy.reads == 1:  # right after our first read, the rival's publish lands
                Publisher(release_store(table), clock).publish([charity_sale()], allow={"poverty-day-2026"})
            return live

    with pytest.raises(ReleaseConflict, match="the live release changed while publishing"):
        Publisher(Racy(Table(table)), clock).publish([campaign(), charity_sale()])
    current = release_store(table).get_current_release()
    assert current.number == 2 and set(current.manifest) == {"bazhong-pork-charity"}


def test_batch_writes_retry_unprocessed_items_then_name_what_is_missing(table):
    class Flaky:
        def __init__(self, real, failures):
            self.real, self.failures, self.calls = real, failures, 0

        def batch_write_item(self, RequestItems):
            self.calls += 1
            if self.calls <= self.failures:
                return {"UnprocessedItems": RequestItems}
            return self.real.batch_write_item(RequestItems=RequestItems)

    class Boto3Table:
        name = table.name

        def __init__(self, client):
            self.meta = type("Meta", (), {"client": client})()

    flaky = Flaky(table.meta.client, failures=2)
    Table(Boto3Table(flaky), sleep=lambda s: None).batch_write(puts=[{"PK": "X", "SK": "1"}])
    assert flaky.calls == 3 and table.get_item(Key={"PK": "X", "SK": "1"})["Item"] == {"PK": "X", "SK": "1"}
    hopeless = Flaky(table.meta.client, failures=99)
    with pytest.raises(StoreUnavailable, match="X/2"):
        Table(Boto3Table(hopeless), sleep=lambda s: None).batch_write(puts=[{"PK": "X", "SK": "2"}])
    assert hopeless.calls == Table.ATTEMPTS


def test_only_the_last_ten_releases_are_kept(publisher):
    for n in range(12):
        publisher.publish([campaign(skus=("EGG-0017", f"NEW-{n:04d}"))])
    numbers = publisher.store.release_numbers()
    assert numbers == list(range(12, 2, -1))
    assert publisher.store.query_homepage_entries(1) == [] and publisher.store.get_release(2) is None
    assert publisher.store.get_release(3).number == 3
    with pytest.raises(NothingToRollBack, match="release 2 is not kept"):
        publisher.rollback(to=2)


def test_large_publishes_report_progress(table, clock):
    seen = []

    def progress(total):
        seen.append(("total", total))
        return lambda n: seen.append(("advance", n))

    campaigns = [campaign(f"camp-{i:03d}", weight=1 if i % 2 else None) for i in range(30)]
    Publisher(release_store(table), clock, progress=progress).publish(campaigns)
    assert seen[0] == ("total", 45)  # 30 documents + 15 homepage campaigns
    assert sum(n for kind, n in seen if kind == "advance") == 45


def test_risky_changes_are_refused_unless_named_with_allow(table, clock):
    from chalicelib.releases.publishing import RiskyPublish

    publisher = Publisher(release_store(table), clock, has_donations=lambda cid: cid == "bazhong-pork-charity")
    live = campaign()  # live at the clock's 2026-10-17 09:00 in Shanghai
    sale = charity_sale()  # not live yet, but with donations
    publisher.publish([live, sale])

    with pytest.raises(RiskyPublish) as refused:
        publisher.publish([sale])  # the live campaign removed
    assert "poverty-day-2026: removes a live campaign" in str(refused.value)
    assert "--allow poverty-day-2026" in str(refused.value)
    assert publisher.store.get_current_release(consistent=True).number == 1  # nothing was written

    early = live.__class__(**{**live.__dict__, "ends_at": local(2026, 10, 17, 12)})
    rate = sale.__class__(
        **{**sale.__dict__, "charity": sale.charity.__class__(**{**sale.charity.__dict__, "rate_percent": Decimal("6")})}
    )
    plan = publisher.plan([early, rate])
    assert [(r.campaign_id, r.what) for r in plan.risks] == [
        ("bazhong-pork-charity", "changes the donation rate of a charity sale that has donations"),
        ("poverty-day-2026", "ends a campaign early"),
    ]
    assert "  !! poverty-day-2026: ends a campaign early" in plan.describe()
    with pytest.raises(RiskyPublish) as refused:
        publisher.publish([early, rate], allow={"poverty-day-2026"})  # one of the two named
    assert [r.campaign_id for r in refused.value.risks] == ["bazhong-pork-charity"]

    _, release = publisher.publish([early, rate], allow={"poverty-day-2026", "bazhong-pork-charity"})
    assert release is not None and release.number == 2
    with pytest.raises(RiskyPublish, match="removes a charity sale that has donations; its public ledger"):
        publisher.publish([early])


def test_safe_changes_need_no_allow(table, clock):
    publisher = Publisher(release_store(table), clock, has_donations=lambda cid: False)
    publisher.publish([campaign(), charity_sale()])
    later = campaign().__class__(**{**campaign().__dict__, "ends_at": local(2026, 10, 19)})  # ends later: no risk
    _, release = publisher.publish([later])  # the charity sale (not live, no donations) removed
    assert release is not None and publisher.plan([later]).risks == ()


@pytest.mark.parametrize("fault", ["connection", "internal"])
def test_a_publish_that_fails_at_its_last_step_leaves_no_release_behind(publisher, table, clock, fault):
    """The flip is the last step: when it fails, `campaign releases` lists only what was live."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    publisher.publish([campaign()])
    before = [(r.number, sorted(r.manifest)) for r in release_store(table).list_releases()]

    def fail(model, **kwargs):
        if model.name == "TransactWriteItems":
            if fault == "connection":
                raise EndpointConnectionError(endpoint_url="http://dynamodb.example")
            error = {"Error": {"Code": "InternalServerError", "Message": "x"}, "ResponseMetadata": {"HTTPStatusCode": 500}}
            raise ClientError(error, "TransactWriteItems")

    table.meta.client.meta.events.register("before-call.dynamodb.TransactWriteItems", fail)
    try:
        with pytest.raises(StoreUnavailable):
            Publisher(release_store(table), clock).publish([campaign(), charity_sale()])
    finally:
        table.meta.client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", fail)
    store = release_store(table)
    assert [(r.number, sorted(r.manifest)) for r in store.list_releases()] == before == [(1, ["poverty-day-2026"])]
    assert store.get_current_release().number == 1
    # The next publish takes a fresh number and lists it once.
    _, release = Publisher(store, clock).publish([campaign(), charity_sale()])
    assert [r.number for r in store.list_releases()] == [release.number, 1]
    assert release.number >= 2


def test_a_release_over_dynamodbs_item_limit_is_refused_before_any_write(publisher, counter):
    from chalicelib.releases.publishing import ReleaseTooLarge
    from chalicelib.store.items import MAX_ITEM_BYTES, item_bytes

    # GIVEN a live release, then 1,000 campaigns: their catalog in one item is over 400 KB
    publisher.publish([campaign()])
    counter.reset()
    many = [campaign()] + [campaign(f"camp-{i:04d}", weight=None) for i in range(999)]
    with pytest.raises(ReleaseTooLarge) as refused:
        publisher.publish(many)
    # THEN it says so, with the size and what fits, and nothing was written; the old release is live
    message = str(refused.value)
    assert message.startswith("nothing was published: the release of 1,000 campaigns would be a ")
    assert "over DynamoDB's 400 KB item limit" in message and "remove the files of campaigns that have ended" in message
    assert refused.value.size > MAX_ITEM_BYTES
    assert counter.writes == 0
    assert set(publisher.store.get_current_release().manifest) == {"poverty-day-2026"}
    # AND the count it names as fitting does fit: its release is accepted by the table
    fits = int(message.split("at most about ")[1].split(" fit")[0].replace(",", ""))
    _, release = publisher.publish(many[: fits - 5])
    assert release is not None and len(release.manifest) == fits - 5
    assert item_bytes(publisher.store.get_current_release().to_item("CURRENT")) <= MAX_ITEM_BYTES


def test_item_bytes_counts_names_and_values_as_dynamodb_does():
    from chalicelib.store.items import item_bytes

    assert item_bytes({"PK": "RELEASE", "SK": "CURRENT"}) == 2 + 7 + 2 + 7
    assert item_bytes({"title": "巴中"}) == 5 + 6  # UTF-8: 3 bytes a character
    assert item_bytes({"n": 7, "m": 123456}) == (1 + 2) + (1 + 5)  # at most 1 byte per 2 digits, plus 2
    assert item_bytes({"flag": True, "none": None}) == 5 + 5
    with pytest.raises(TypeError, match="blob: no size rule for bytes"):
        item_bytes({"blob": b"x"})


def test_a_plan_shows_a_value_left_at_its_default_as_that_default(publisher):
    from dataclasses import replace

    sale = charity_sale()
    publisher.publish([replace(sale, charity=replace(sale.charity, return_days=3))])
    described = publisher.plan([sale]).describe()
    assert "charity.return_days: 3 -> 7 (the default)" in described
