"""Races between a publish and a rotation, against moto, with threads held at barriers.

Afterwards the stored state must be consistent: the release pointer names a
complete release (its record, every campaign document of its manifest and its
homepage partition all exist), and the homepage never shows a pick that is not
in the live release as it is now (not one of a removed campaign, not a removed
SKU, not an old price), whatever rotation happens to be stored.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from chalicelib.homepage.job import run_rotation
from chalicelib.homepage.stored import homepage_entry
from chalicelib.releases.publishing import Publisher
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.rotations import RotationStore
from chalicelib.store.table import Table
from tests.factories import campaign, charity_sale, local, pick
from tests.functional.conftest import EVERY_CAMPAIGN
from tests.stores import release_store, rotation_store

AT = local(2026, 12, 1, 9)  # both campaigns below are live
TIMEOUT_S = 20


def first_release():
    return [campaign(starts_at=local(2026, 11, 20), ends_at=local(2026, 12, 20), teaser_from=None), charity_sale()]


def second_release():
    """The charity sale is withdrawn; the featured campaign drops HEN-0201, reprices EGG-0017, adds NEW-0001."""
    c = campaign(
        starts_at=local(2026, 11, 20), ends_at=local(2026, 12, 20), teaser_from=None, skus=("EGG-0017", "POT-0101", "NEW-0001")
    )
    return [replace(c, products=(pick("EGG-0017", 4590),) + c.products[1:])]


def assert_complete_release(table):
    """The pointer names a release whose record, documents and homepage partition all exist."""
    store = release_store(table)
    current = store.get_current_release(consistent=True)
    assert current is not None
    record = store.get_release(current.number)
    assert record is not None and dict(record.manifest) == dict(current.manifest)
    docs = {cid: store.get_campaign_doc(cid, digest) for cid, digest in current.manifest.items()}
    assert all(doc is not None for doc in docs.values()), docs
    partition = {e["campaign_id"]: e for e in store.query_homepage_entries(current.number)}
    manifest = current.manifest
    expected = {cid: homepage_entry(doc, manifest[cid]) for cid, doc in docs.items() if homepage_entry(doc) is not None}
    assert partition == expected
    return current, docs


def assert_homepage_shows_only_live_picks(client, table):
    """Every slot of /api/homepage is a pick of the live release, at its live price."""
    _, docs = assert_complete_release(table)
    live = {(cid, p["sku"]): p["price"] for cid, doc in docs.items() if doc.get("homepage") for p in doc["products"]}
    slots = json.loads(client.http.get("/api/homepage").body)["slots"]
    assert slots, "the homepage is empty"
    for slot in slots:
        key = (slot["campaign_id"], slot["sku"])
        assert key in live, f"orphaned pick on the homepage: {key}"
        assert slot["price"] == live[key], f"{key} shown at {slot['price']}, live price {live[key]}"
    assert [s["position"] for s in slots] == list(range(1, len(slots) + 1))
    return slots


def _fresh(services):
    """Past the container's 5 s caches of the pointer and the rotation."""
    services.catalog._release = None
    services.catalog._rotation = None


def test_a_publish_after_the_last_rotation_is_honoured_at_request_time(client, services, table, clock):
    clock.set(AT)
    Publisher(release_store(table), clock).publish(first_release())
    run_rotation(rotation_store(table), AT, 8, 30)
    _fresh(services)
    before = {s["campaign_id"] for s in assert_homepage_shows_only_live_picks(client, table)}
    assert before == {"poverty-day-2026", "bazhong-pork-charity"}
    Publisher(release_store(table), clock).publish(second_release(), allow=EVERY_CAMPAIGN)
    _fresh(services)  # no rotation has run since the publish
    slots = assert_homepage_shows_only_live_picks(client, table)
    # The stored rotation was made from release 1; release 2 is laid in at once: the withdrawn campaign
    # and the dropped SKU are gone, the changed campaign shows at its new prices, its new pick included.
    assert [s["sku"] for s in slots] == ["EGG-0017", "POT-0101", "NEW-0001"]
    assert next(s for s in slots if s["sku"] == "EGG-0017")["price"] == "45.90"
    html = client.http.get("/").body.decode()
    assert "bazhong-pork-charity" not in html and "HEN-0201" not in html and "¥45.90" in html
    # A rollback is a publish too: the charity sale's picks come back at once.
    Publisher(release_store(table), clock).rollback()
    _fresh(services)
    assert "bazhong-pork-charity" in {s["campaign_id"] for s in assert_homepage_shows_only_live_picks(client, table)}


class _Gate:
    """Holds a rotation between reading its inputs and writing, until the publish is done."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=TIMEOUT_S)
        self.published = threading.Event()


@pytest.mark.parametrize("moment", ["before the documents", "between the documents and the flip"])
def test_rotation_and_publish_at_the_same_moment(client, services, table, clock, moment):
    clock.set(AT)
    Publisher(release_store(table), clock).publish(first_release())
    run_rotation(rotation_store(table), AT, 8, 30)
    gate = _Gate()

    class HeldRotation(RotationStore):
        def get_rotation_inputs(self):  # the release, its homepage items and the previous rotation
            inputs = super().get_rotation_inputs()
            gate.barrier.wait()  # the rotation has read release 1 ...
            assert gate.published.wait(TIMEOUT_S)  # ... and writes only after release 2 is live
            return inputs

    class HeldPublish(ReleaseStore):
        def put_campaign_versions(self, docs, progress=None):
            if moment == "before the documents":
                gate.barrier.wait()
            return super().put_campaign_versions(docs, progress)

        def publish_release(self, release, expected):
            if moment == "between the documents and the flip":
                gate.barrier.wait()
            return super().publish_release(release, expected)

    results: dict[str, object] = {}

    def rotate():
        results["rotation"] = run_rotation(HeldRotation(Table(table)), AT, 8, 30)

    def publish():
        try:
            results["publish"] = Publisher(HeldPublish(Table(table)), clock).publish(second_release(), allow=EVERY_CAMPAIGN)
        finally:
            gate.published.set()

    threads = [threading.Thread(target=rotate), threading.Thread(target=publish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S)
    assert not any(t.is_alive() for t in threads)
    # Both went through: the rotation was computed from release 1 and written after release 2 went live.
    outcome = results["rotation"]
    assert outcome.written and outcome.rotation == 2
    _, release = results["publish"]
    assert release.number == 2
    stored = rotation_store(table).get_rotation(consistent=True)
    assert stored["release"] == 1 and "bazhong-pork-charity" in {s["campaign_id"] for s in stored["slots"]}
    # The stored state is consistent, and the homepage shows no pick of release 1 that release 2 dropped.
    _fresh(services)
    slots = assert_homepage_shows_only_live_picks(client, table)
    assert {s["campaign_id"] for s in slots} == {"poverty-day-2026"}
    # The next rotation is computed from release 2 itself.
    run_rotation(rotation_store(table), local(2026, 12, 1, 9, 15), 8, 30)
    assert rotation_store(table).get_rotation()["release"] == 2
    _fresh(services)
    assert {s["sku"] for s in assert_homepage_shows_only_live_picks(client, table)} == {"EGG-0017", "POT-0101", "NEW-0001"}


@pytest.fixture
def embedded(aws_env):
    """The local stack's DynamoDB server (each request atomic, as DynamoDB's are: in-process moto is
    not thread-safe, so free-running threads need the server), with a table of this test's own."""
    import uuid

    import boto3

    from campaign_tools.local_dynamodb import EmbeddedDynamoDB
    from chalicelib.store.table import create_table

    server = EmbeddedDynamoDB("127.0.0.1", 0)
    server.start()
    resource = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{server.port}")
    table = create_table(resource, f"races-{uuid.uuid4().hex[:8]}")
    try:
        yield table
    finally:
        table.delete()
        server.stop()


@pytest.mark.server
def test_many_rotations_and_publishes_released_together_leave_a_consistent_state(embedded, clock):
    """No forced order: four rotation runs and two publishes start at one barrier, three rounds."""
    from chalice.test import Client

    from app import app
    from chalicelib import wiring
    from chalicelib.settings import Settings
    from tests.conftest import ROOT

    table = embedded
    services = wiring.build(Settings(table_name=table.name), clock, table)
    wiring.configure(services)
    clock.set(AT)
    Publisher(release_store(table), clock).publish(first_release())
    try:
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            for round_, campaigns in enumerate([second_release(), first_release(), second_release()], start=1):
                barrier = threading.Barrier(6, timeout=TIMEOUT_S)
                errors: list[BaseException] = []
                outcomes = []

                def run(job, barrier=barrier, errors=errors):
                    try:
                        barrier.wait()
                        job()
                    except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                        errors.append(exc)

                jobs = [lambda out=outcomes: out.append(run_rotation(rotation_store(table), AT, 8, 30)) for _ in range(4)]
                jobs += [
                    lambda c=campaigns: Publisher(release_store(table), clock).publish(c, allow=EVERY_CAMPAIGN) for _ in range(2)
                ]
                threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(TIMEOUT_S)
                # Rival publishes of one set: one wins; the other is told (ReleaseConflict) or finds nothing to do.
                assert all(type(e).__name__ == "ReleaseConflict" for e in errors), errors
                assert len(errors) <= 1
                assert len(outcomes) == 4 and sum(o.written for o in outcomes) >= 1
                numbers = [o.rotation for o in outcomes if o.written]
                assert len(numbers) == len(set(numbers))  # no rotation number written twice
                rotations = rotation_store(table)
                history = [h["rotation"] for h in rotations.rotation_history(50)]
                assert history == sorted(set(history), reverse=True) and history[0] == rotations.get_rotation()["rotation"]
                _fresh(services)
                assert_homepage_shows_only_live_picks(client, table)
                current = release_store(table).get_current_release(consistent=True)
                assert set(current.manifest) == {c.id for c in campaigns}, round_
    finally:
        wiring.configure(None)
