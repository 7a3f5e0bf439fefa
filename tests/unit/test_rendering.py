"""The display helpers: chalicelib.web.templates (money, dates, the goal bar), chalicelib.web.assets (hashed names, images)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from chalicelib.web import assets
from chalicelib.web import templates as r


@pytest.mark.parametrize(
    ("fen", "shown"),
    [
        (3990, "¥39.90"),
        (5, "¥0.05"),
        (0, "¥0.00"),
        (6_000_000, "¥60,000.00"),
        (110_000_000, "¥1,100,000.00"),
        (-250, "-¥2.50"),
        (None, ""),
    ],
)
def test_money(fen, shown):
    assert r.money(fen) == shown


def test_dates_are_in_the_campaign_zone_with_the_zone_named():
    at = datetime(2026, 10, 16, 16, 0, tzinfo=UTC)
    assert r.local_time(at, "Asia/Shanghai", "zh-CN") == "2026年10月17日 00:00 (北京时间)"
    assert r.local_time(at, "Asia/Shanghai", "en") == "17 Oct 2026, 00:00 (Beijing time)"
    assert r.local_time(at, "Asia/Urumqi", "zh-CN") == "2026年10月16日 22:00 (乌鲁木齐时间)"
    assert r.local_time("2026-10-17T00:00:00+08:00", "Europe/Paris", "en") == "16 Oct 2026, 18:00 (Europe/Paris)"


def test_time_range_names_the_zone_once_and_the_end_year_only_when_it_differs():
    assert r.time_range("2026-10-17T00:00:00+08:00", "2026-10-18T00:00:00+08:00", "Asia/Shanghai", "zh-CN") == (
        "2026年10月17日 00:00 – 10月18日 00:00 (北京时间)"
    )
    assert r.time_range("2026-11-15T00:00:00+08:00", "2027-03-01T00:00:00+08:00", "Asia/Shanghai", "en") == (
        "15 Nov 2026, 00:00 – 1 Mar 2027, 00:00 (Beijing time)"
    )
    assert r.time_range("2026-09-01T00:00:00+08:00", None, "Asia/Shanghai", "zh-CN") == "2026年9月1日 00:00 起 (北京时间)"


def test_remaining_is_rounded_down_to_the_minute():
    assert r.remaining(93_784, "zh-CN") == "1天 2小时 3分"
    assert r.remaining(59, "en") == "0 h 0 min"
    assert r.remaining(-5, "en") == "0 h 0 min"


def test_goal_bar_splits_sales_and_points():
    g = r.goal_bar(2_400_000, 600_000, 6_000_000)
    assert (g.percent, g.sales_width, g.points_x, g.points_width) == ("50", "40.00", "40.00", "10.00")
    assert (g.raised_fen, g.goal_yuan, g.value_yuan) == (3_000_000, "60000.00", "30000.00")
    small = r.goal_bar(12_345, 0, 6_000_000)
    assert (small.percent, small.sales_width) == ("0.2", "0.20")
    assert r.goal_bar(0, 0, 6_000_000).percent == "0"


def test_goal_bar_past_the_goal_fills_the_bar_and_says_so():
    g = r.goal_bar(6_000_000, 1_500_000, 6_000_000)
    assert g.percent == "125" and g.filled == "100"
    assert g.sales_width == "80.00" and g.points_width == "20.00"  # scaled to the total: the bar is full
    assert g.value_yuan == "60000.00"  # aria-valuenow stays within aria-valuemax


def test_assets_are_named_by_their_content_hash(tmp_path):
    (tmp_path / "site.css").write_text("body { color: red }", encoding="utf-8")
    expected = hashlib.sha256(b"body { color: red }").hexdigest()[:8]
    asset = assets.asset("site.css", str(tmp_path))
    assert asset.hashed_name == f"site.{expected}.css"
    assert assets.hashed_asset(f"site.{expected}.css", str(tmp_path)) == asset
    assert assets.hashed_asset("site.0123abcd.css", str(tmp_path)) is None  # stale
    assert assets.hashed_asset("nope.0123abcd.css", str(tmp_path)) is None  # no such file
    assert assets.hashed_asset("site.css", str(tmp_path)) is None  # not a hashed name
    assert assets.asset_url("site.css").startswith("/static/site.") and assets.asset_url("site.css").endswith(".css")


def test_image_src_lets_through_only_what_the_page_can_load():
    assert assets.image_src("/static/egg.svg") == "/static/egg.svg"
    assert assets.image_src("https://img.example.com/egg.jpg") == "https://img.example.com/egg.jpg"
    for missing in ("/static/no-such.svg", "/static/img/pork.jpg", "/static/../app.py", "http://insecure/x.jpg", "", None):
        assert assets.image_src(missing) == assets.PLACEHOLDER
