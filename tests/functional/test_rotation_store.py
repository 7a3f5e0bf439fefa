"""The rotation against moto: one conditional write, history, request counts."""

from __future__ import annotations

import threading
from datetime import timedelta

from chalicelib.homepage.job import run_rotation
from chalicelib.releases.publishing import Publisher
from chalicelib.store.rotations import RotationStore
from chalicelib.store.table import Table
from tests.factories import campaign, charity_sale, local
from tests.stores import release_store, rotation_store


def test_two_rotations_at_once_write_one(table, clock):
    Publisher(release_store(table), clock).publish([campaign(), charity_sale()])
    barrier = threading.Barrier(2)

    class Racing(RotationStore):
        def get_rotation_inputs(self):
            inputs = super().get_rotation_inputs()
            barrier.wait(timeout=10)  # both runs have read rotation 0 before either writes
            return inputs

    outcomes = []
    door = Table(table)
    threads = [threading.Thread(target=lambda: outcomes.append(run_rotation(Racing(door), clock(), 8, 30))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(o.written for o in outcomes) == [False, True]
    loser = next(o for o in outcomes if not o.written)
    assert loser.message == "rotation 1 was written by another run; nothing to do"
    store = rotation_store(table)
    assert store.get_rotation()["rotation"] == 1
    assert [h["rotation"] for h in store.rotation_history(10)] == [1]


def test_one_rotation_is_one_query_and_one_two_item_transaction(table, clock, counter):
    Publisher(release_store(table), clock).publish([campaign(), charity_sale()])
    counter.reset()
    outcome = run_rotation(rotation_store(table), clock(), 8, 30)
    assert counter.calls == ["Query", "TransactWriteItems"]
    assert outcome.written and outcome.slots == 3


def test_the_rotation_reads_the_live_release_of_several_kept_ones(table, clock):
    """Kept releases keep their homepage items (for rollback); a rotation shows the live one's."""
    publisher = Publisher(release_store(table), clock)
    publisher.publish([campaign()])
    publisher.publish([campaign(skus=("EGG-0017", "NEW-0001")), charity_sale()])
    store = rotation_store(table)
    inputs = store.get_rotation_inputs()
    assert inputs.release == 2 and sorted(e["campaign_id"] for e in inputs.entries) == [
        "bazhong-pork-charity",
        "poverty-day-2026",
    ]
    run_rotation(store, clock(), 8, 30)
    assert {s["sku"] for s in store.get_rotation()["slots"]} == {"EGG-0017", "NEW-0001"}
    publisher.rollback()
    assert store.get_rotation_inputs().release == 1
    run_rotation(store, clock() + timedelta(minutes=15), 8, 30)
    rotation = store.get_rotation()
    assert rotation["release"] == 1 and {s["sku"] for s in rotation["slots"]} == {"EGG-0017", "POT-0101", "HEN-0201"}


def test_a_publish_numbers_past_homepage_items_left_by_a_failed_publish(table, clock):
    publisher = Publisher(release_store(table), clock)
    publisher.publish([campaign()])
    entry = {"campaign_id": "bazhong-pork-charity"}
    release_store(table).put_homepage_entries(2, [("bazhong-pork-charity", entry)])  # no record, no flip
    _, release = publisher.publish([campaign(skus=("EGG-0017",))])
    assert release.number == 3
    assert [e["campaign_id"] for e in rotation_store(table).get_rotation_inputs().entries] == ["poverty-day-2026"]


def test_history_keeps_inputs_digest_and_expires_after_30_days(table, clock):
    Publisher(release_store(table), clock).publish([campaign()])
    store = rotation_store(table)
    for minutes in (0, 15, 30):
        run_rotation(store, clock() + timedelta(minutes=minutes), 8, 30)
    history = store.rotation_history(2)
    assert [h["rotation"] for h in history] == [3, 2]
    assert all(len(h["inputs_digest"]) == 16 for h in history)
    item = table.get_item(Key={"PK": "ROTATION", "SK": "H#0000000001"})["Item"]
    assert int(item["expires_at_epoch_s"]) == int((clock() + timedelta(days=30)).timestamp())
    later = int((clock() + timedelta(days=30, minutes=20)).timestamp())
    assert [h["rotation"] for h in store.rotation_history(10, now_epoch_s=later)] == [3]


def test_a_campaign_that_starts_appears_at_the_first_rotation_after_its_start(table, clock):
    early = campaign("store-a", kind="regional_store", starts_at=local(2026, 9, 1), ends_at=None, teaser_from=None, weight=1)
    Publisher(release_store(table), clock).publish([early, campaign()])
    store = rotation_store(table)
    run_rotation(store, local(2026, 10, 16, 23, 50), 8, 30)
    assert {s["campaign_id"] for s in store.get_rotation()["slots"]} == {"store-a"}
    run_rotation(store, local(2026, 10, 17, 0, 5), 8, 30)
    assert "poverty-day-2026" in {s["campaign_id"] for s in store.get_rotation()["slots"]}
