"""The homepage exact at every instant: starts between rotations, publishes between rotations,
a stalled schedule, and the simulation held to the served pages at every boundary of `campaigns/`."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime, timedelta

import pytest

from campaign_tools import cli
from campaign_tools.authoring.campaign_yaml import validate_paths
from chalicelib.domain.model import Text
from chalicelib.domain.times import parse_stored
from chalicelib.homepage.engine import HomepageEntry, RotationState, SlotPick
from chalicelib.homepage.history import gaps
from chalicelib.homepage.job import run_rotation
from chalicelib.homepage.spans import stored_plan
from chalicelib.homepage.stored import rotation_doc
from chalicelib.store.items import rotation_item
from tests.conftest import ROOT
from tests.factories import campaign, local

MS = timedelta(milliseconds=1)
STEP = timedelta(minutes=15)


def real_campaigns():
    result = validate_paths([ROOT / "campaigns"])
    assert result.ok
    return list(result.campaigns)


def _fresh(services):
    """Past the container's 5 s caches of the pointer and the rotation."""
    services.catalog._release = None
    services.catalog._rotation = None


def _slots(client, lang="zh-CN"):
    return json.loads(client.http.get(f"/api/homepage?lang={lang}").body)["slots"]


def test_poverty_day_is_on_the_homepage_from_its_first_millisecond(client, services, publish, clock):
    # GIVEN the real campaigns and a rotation at 23:50, 10 minutes before Poverty Alleviation Day
    publish(*real_campaigns())
    start = local(2026, 10, 17)
    run_rotation(services.rotations, start - timedelta(minutes=10), 8, 30)
    clock.set(start - MS)
    before = _slots(client)
    clock.set(start)
    after = _slots(client)
    # THEN its two pins are there from 00:00:00.000, first, and its picks take 3/6 of the 6 free slots
    assert "poverty-day-2026" not in {s["campaign_id"] for s in before}
    assert [(s["sku"], s["pinned"]) for s in after[:2]] == [("EGG-0017", True), ("PRK-0301", True)]
    free = [s["campaign_id"] for s in after[2:]]
    assert len(free) == 6 and free.count("poverty-day-2026") == 3
    assert sorted(set(free) - {"poverty-day-2026"}) == ["store-bazhou-district", "store-dingxi-anding", "store-leishan"]


def test_a_publish_of_a_live_campaign_shows_at_the_first_request_after_the_pointers_cache(client, services, publish, clock):
    clock.set(local(2026, 10, 17, 9))
    publish(*[c for c in real_campaigns() if c.id != "poverty-day-2026"])
    run_rotation(services.rotations, clock(), 8, 30)
    _fresh(services)
    assert "poverty-day-2026" not in {s["campaign_id"] for s in _slots(client)}
    publish(*real_campaigns())  # between two rotations
    _fresh(services)  # the pointer's 5 s are up
    slots = _slots(client)
    assert [s["sku"] for s in slots[:2]] == ["EGG-0017", "PRK-0301"]
    assert [s["campaign_id"] for s in slots].count("poverty-day-2026") == 5  # 2 pins + 3 of the 6 free
    # the next rotation, made from the new release, carries on from there
    run_rotation(services.rotations, clock() + STEP, 8, 30)
    clock.set(clock() + STEP)
    _fresh(services)
    assert [s["campaign_id"] for s in _slots(client)].count("poverty-day-2026") == 5


def test_past_the_spans_of_a_stalled_schedule_only_live_picks_show(client, services, publish, clock):
    publish(*real_campaigns())
    end = local(2026, 10, 18)
    run_rotation(services.rotations, end - timedelta(hours=2), 8, 30)  # then the schedule stops
    clock.set(end - MS)
    assert "poverty-day-2026" in {s["campaign_id"] for s in _slots(client)}
    clock.set(end + timedelta(hours=1))
    late = json.loads(client.http.get("/api/homepage").body)
    assert late["rotation"] == 1 and late["slots"]
    assert {s["campaign_id"] for s in late["slots"]} <= {"store-bazhou-district", "store-dingxi-anding", "store-leishan"}
    assert parse_stored(late["rotated_at"]) == end - timedelta(hours=2)
    assert late["rotated_at"].endswith("+00:00")


def test_rotate_history_marks_a_gap_in_the_schedule(services, publish, clock):
    publish(campaign(starts_at=local(2026, 10, 1), ends_at=None, teaser_from=None))
    at = local(2026, 10, 17, 9)
    for minutes in (0, 15, 30, 90, 105):  # 60 minutes without a rotation after 09:30
        run_rotation(services.rotations, at + timedelta(minutes=minutes), 8, 30)
    docs = services.rotations.rotation_history(limit=10)
    assert gaps(docs, 15) == [(3, 4, 60.0)]
    lines = cli._history_lines(docs, services.settings)
    assert [line for line in lines if "GAP" in line] == ["   GAP  60 min without a rotation after rotation 3 (every 15 min)"]
    assert lines.index("   GAP  60 min without a rotation after rotation 3 (every 15 min)") == 2  # below rotation 4


def test_a_rotation_with_100_live_homepage_campaigns_stays_well_under_the_item_limit():
    # 100 live campaigns of 24 picks each, bilingual names, 4 pinned picks, 10 starting
    # inside the interval (so 10 more spans), from a state that has seen every campaign.
    at = local(2026, 10, 17, 9)
    name = Text({"zh-CN": "贵州雷山银球茶 明前特级 250克 礼盒装", "en": "Leishan silver-ball tea, first flush, 250 g gift box"})
    entries = []
    for i in range(100):
        cid = f"county-store-{i:03d}-2026"
        picks = tuple(
            SlotPick(cid, f"SKU-{i:03d}-{j:02d}", name, 12890, f"/static/products/{cid}-{j:02d}.jpg") for j in range(24)
        )
        start = at + timedelta(minutes=1 + i // 10) if i % 10 == 0 else at - timedelta(days=1)
        entries.append(
            HomepageEntry(cid, 1 + i % 5, start, at + timedelta(days=3), picks, (picks[0].sku,) if i < 4 else (), "f" * 64)
        )
    seen = RotationState("x", 1, 800, {e.campaign_id: 8 for e in entries}, {e.campaign_id: e.picks[5].sku for e in entries})
    spans, kept = stored_plan(entries, 8, seen, 2, at, at + STEP)
    assert len(spans) == 11
    size = sum(len(str(k)) + len(str(v).encode()) for k, v in rotation_item(rotation_doc(spans, 3, kept, 8)).items())
    assert size < 128_000, size  # under a third of DynamoDB's 400 KB item limit (docs/architecture.md: about 100 KB)


def _boundaries():
    instants = set()
    for c in real_campaigns():
        if c.homepage is not None:
            instants.add(c.starts_at)
            if c.ends_at is not None:
                instants.add(c.ends_at)
    return sorted(instants)


def _simulated_slots_at(runs: list[dict], at: datetime) -> list[dict]:
    run = [r for r in runs if parse_stored(r["at"]) <= at][-1]
    spans = [s for s in run["spans"] if parse_stored(s["from"]) <= at]
    return (spans[-1] if spans else run)["slots"]


def _cli_json(*argv: str):
    """``campaign ARGV`` (exit status 0) and its JSON output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(list(argv)) == 0
    return json.loads(out.getvalue())


def _key(slots):
    return [(s["position"], s["campaign_id"], s["sku"], s["pinned"]) for s in slots]


@pytest.mark.parametrize("boundary", _boundaries(), ids=lambda b: b.isoformat())
@pytest.mark.parametrize("lead_min", [37, 30], ids=["inside-a-span", "on-a-rotation"])
def test_simulation_preview_and_the_live_homepage_agree_at_every_boundary(client, services, publish, clock, boundary, lead_min):
    # GIVEN rotations every 15 minutes from T1, for real (moto) and simulated from the same T1
    publish(*real_campaigns())
    t1 = boundary - timedelta(minutes=lead_min)
    t2 = boundary + timedelta(minutes=1)
    runs = _cli_json("rotate", "--simulate", "--from", t1.isoformat(), "--to", t2.isoformat(), "--json")
    at = t1
    for instant in (boundary - MS, boundary + MS):
        while at <= instant:  # the schedule, up to the request
            run_rotation(services.rotations, at, 8, 30, 15)
            at += STEP
        clock.set(instant)
        _fresh(services)
        live = _key(_slots(client))
        preview = _key(
            _cli_json("preview", "--homepage", "--at", instant.isoformat(), "--from", t1.isoformat(), "--json")["body"]["slots"]
        )
        simulated = _key(_simulated_slots_at(runs, instant))
        assert live == preview == simulated, instant
        assert bool(live) is (instant > _boundaries()[0]), instant  # the stores open first and never close


def test_publish_says_when_the_homepage_shows_each_campaign(table, clock):
    from chalicelib import wiring
    from chalicelib.settings import Settings
    from tests.conftest import TABLE

    clock.set(local(2026, 10, 17, 9))
    publisher = wiring.build(Settings(table_name=TABLE), clock, table).publisher()
    stores = [c for c in real_campaigns() if c.id.startswith("store-")]
    publisher.publish(stores)
    later = campaign("bazhong-pork-charity", starts_at=local(2026, 11, 15), ends_at=None, teaser_from=None)
    plan, release = publisher.publish([campaign(), later, *stores[1:]], allow={"store-bazhou-district"})
    assert release is not None
    assert cli._homepage_lines(plan, clock()) == [
        "homepage: bazhong-pork-charity shows from its start, 2026-11-15T00:00:00+08:00",
        "homepage: poverty-day-2026 shows at the first request after the release pointer's 5 s cache "
        "(by its quota; no rotation needed)",
        "homepage: store-bazhou-district, if it was there, leaves the homepage within 5 s",
    ]


def _exposure(client, query, lang="en"):
    return client.http.get(f"/api/homepage/exposure?{query}&lang={lang}")


def test_exposure_of_poverty_day_counts_appearances_and_minutes_against_the_quota(client, services, publish, clock):
    # GIVEN the real campaigns and the schedule every 15 minutes through October 17 (Beijing time)
    publish(*real_campaigns())
    day = local(2026, 10, 17)
    at = day - timedelta(minutes=10)  # 23:50 the day before: its spans reach 00:05
    while at < day + timedelta(days=1):
        run_rotation(services.rotations, at, 8, 30, 15)
        at += STEP
    clock.set(day + timedelta(days=1, hours=1))
    response = _exposure(client, "date=2026-10-17")
    assert response.status_code == 200
    body = json.loads(response.body)
    assert body["from"] == "2026-10-17T00:00:00+08:00" and body["to"] == "2026-10-18T00:00:00+08:00"
    assert body["covered_minutes"] == 1440.0
    assert len(body["rotations"]) == 97  # the one from 23:50, then 96
    rows = {r["campaign_id"]: r for r in body["campaigns"]}
    day_row = rows["poverty-day-2026"]
    assert day_row["title"] == "Poverty Alleviation Day: 24 seasonal picks"
    # two pins all day long; 6 free slots, 3/6 of them by weight (3 of 6): 3 x 1440 minutes
    assert day_row["pinned_minutes"] == 2 * 1440.0
    assert day_row["quota_minutes"] == 3 * 1440.0
    for row in rows.values():
        assert abs(row["appearances"] - row["quota_appearances"]) <= 1, row
        assert abs(row["minutes"] - row["quota_minutes"]) <= 15, row
    assert sum(r["minutes"] + r["pinned_minutes"] for r in body["counties"]) == 8 * 1440.0
    assert sum(r["quota_minutes"] for r in body["counties"]) == pytest.approx(6 * 1440.0, abs=0.1)  # rounded rows
    assert all(r["name"] for r in body["counties"])
    html = client.http.get("/homepage/exposure?date=2026-10-17")
    assert html.status_code == 200 and "首页曝光" in html.body.decode()
    assert "?date=2026-10-17&amp;lang=en" in html.body.decode()  # the language switch keeps the day
    assert int(response.headers["Cache-Control"].rsplit("=", 1)[1]) <= 300


@pytest.mark.parametrize("query", ["", "date=", "date=2026-13-01", "date=17/10/2026", "date=2026-02-30"])
def test_exposure_without_a_good_date_is_400_with_a_reason(client, services, query):
    for path in ("/api/homepage/exposure", "/homepage/exposure"):
        response = client.http.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
    body = json.loads(_exposure(client, query).body)
    assert body["field"] == "date" and "date" in body["message"].lower()
