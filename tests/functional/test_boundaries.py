"""Every campaign, every consumer route, at its boundaries to the millisecond.

The real campaigns (Asia/Shanghai) plus one in America/New_York whose window
crosses the end of daylight saving time (2026-11-01 02:00 EDT -> 01:00 EST).
"""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from campaign_tools.authoring.campaign_yaml import load_campaign_text, validate_paths
from chalicelib.homepage.job import run_rotation
from tests.conftest import ROOT

MS = timedelta(milliseconds=1)
DST_YAML = """\
id: harvest-new-york
kind: featured
title: {zh-CN: 纽约华人丰收节, en: Harvest week in New York}
timezone: America/New_York
teaser_from: 2026-10-30T20:00:00
starts_at: 2026-10-31T20:00:00
ends_at: 2026-11-01T20:00:00
homepage: {weight: 1}
products:
  - sku: "TEA-0001"
    name: {zh-CN: 雷山银球茶, en: Leishan silver-ball tea}
    price: "128.00"
    merchant: {id: "m-0001", name: {zh-CN: 雷山茶社, en: Leishan Tea Co-op}}
    county: {code: "522634", name: {zh-CN: 雷山县, en: Leishan County}}
    image: /static/tea.svg
"""
NEW_YORK = ZoneInfo("America/New_York")


def dst_campaign():
    c, diagnostics = load_campaign_text(DST_YAML, "harvest-new-york.yaml", expected_id="harvest-new-york")
    assert diagnostics == []
    return c


def all_campaigns():
    result = validate_paths([ROOT / "campaigns"])
    assert result.ok
    return list(result.campaigns) + [dst_campaign()]


def expectations(c):
    teaser = c.teaser_from or c.starts_at
    cases = [(teaser - MS, 404, None), (teaser, 200, "teaser" if c.teaser_from else "live")]
    cases += [(c.starts_at - MS, 200 if c.teaser_from else 404, "teaser" if c.teaser_from else None), (c.starts_at, 200, "live")]
    if c.ends_at is not None:
        cases += [(c.ends_at - MS, 200, "live"), (c.ends_at, 410, "ended")]
    return cases


def test_the_new_york_window_is_25_hours_long():
    c = dst_campaign()
    assert (c.ends_at - c.starts_at) == timedelta(hours=25)
    assert c.starts_at.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-4)
    assert c.ends_at.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize("c", all_campaigns(), ids=lambda c: c.id)
def test_page_and_json_states_at_each_boundary(client, publish, clock, c):
    publish(c)
    for at, status, state in expectations(c):
        clock.set(at)
        page = client.http.get(f"/campaigns/{c.id}")
        api = client.http.get(f"/api/campaigns/{c.id}?lang=en")
        assert (page.status_code, api.status_code) == (status, status), at
        assert json.loads(api.body).get("state") == state, at
        cache = api.headers["Cache-Control"]
        if cache != "no-store":
            assert 0 <= int(cache.rsplit("=", 1)[1]) <= 300, cache
        if at + MS in (c.teaser_from, c.starts_at, c.ends_at):  # 1 ms before a change: not cacheable
            assert cache in ("no-store", "public, max-age=0"), cache


@pytest.mark.parametrize("c", [c for c in all_campaigns() if c.homepage and c.ends_at], ids=lambda c: c.id)
def test_homepage_drops_a_campaign_at_its_end_even_between_rotations(client, publish, services, clock, c):
    publish(c)
    run_rotation(services.rotations, c.ends_at - timedelta(minutes=10), 8, 30)
    for at, present in ((c.ends_at - MS, True), (c.ends_at, False)):
        clock.set(at)
        services.catalog._rotation = None
        slots = json.loads(client.http.get("/api/homepage").body)["slots"]
        assert bool(slots) is present and all(s["campaign_id"] == c.id for s in slots)
