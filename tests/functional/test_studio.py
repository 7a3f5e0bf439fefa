"""``campaign studio``: its pages in-process (:class:`Studio.handle`) and its server on port 0.

Each figure is checked against the command it stands for: the validator's diagnostics
(``campaign validate``), the rendered pages (``campaign preview``), the rotation counts
(``campaign rotate --simulate --json``) and the plan (``Publisher.plan``).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import socket
import threading
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from campaign_tools.authoring.campaign_yaml import validate_paths
from campaign_tools.cli import _services, build_parser, main
from campaign_tools.stages import STAGES, shell_settings
from campaign_tools.studio import Studio, make_server
from chalicelib import wiring
from chalicelib.clock import FixedClock
from chalicelib.settings import Settings
from tests.conftest import ROOT, TABLE

CAMPAIGNS = ROOT / "campaigns"
NOW = datetime(2026, 10, 17, 1, 0, tzinfo=UTC)  # 09:00 Beijing time on Poverty Alleviation Day


def _no_stage(stage: str):
    raise AssertionError("this test's pages never reach a stage")


def make_studio(campaigns, services_of=_no_stage, clock=None) -> Studio:
    settings = shell_settings()
    return Studio(
        campaigns,
        stage="local",
        stages=STAGES,
        services_of=services_of,
        slots=settings.homepage_slots,
        rotation_minutes=settings.rotation_minutes,
        clock=clock or FixedClock(NOW),
    )


def text_of(body: str) -> str:
    """The page's text: tags dropped, entities decoded, white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).replace(" ,", ",").strip()


def get(studio: Studio, target: str, status: int = 200) -> str:
    reply = studio.handle("GET", target)
    assert reply.status == status, reply.body
    return reply.body


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "campaigns"
    shutil.copytree(CAMPAIGNS, target, ignore=shutil.ignore_patterns("*.json"))
    return target


# ---------------------------------------------------------------- the timeline


def test_the_timeline_names_every_campaign_with_its_title_and_spans_in_beijing_time():
    studio = make_studio(CAMPAIGNS)
    page = text_of(get(studio, "/"))
    result = validate_paths([CAMPAIGNS])
    assert len(result.campaigns) == 6
    for campaign in result.campaigns:
        assert f"{campaign.id} {campaign.title.get('zh-CN')} {campaign.title.get('en')}" in page
    assert "teaser 2026-10-10 00:00 → 2026-10-17 00:00 live 2026-10-17 00:00 → 2026-10-18 00:00 ended 2026-10-18 00:00 on" in page
    assert "live 2026-09-01 00:00 → no end" in page  # a regional store runs on
    assert "Now: 2026-10-17 09:00" in page and "in Asia/Shanghai" in page
    # on Poverty Day the featured picks are live beside the three stores, and the timeline says so
    row = page[page.index("poverty-day-2026 ") : page.index("poverty-day-2027 ")]
    assert "now live" in row
    assert "Live together with: store-bazhou-district, store-dingxi-anding, store-leishan" in row


def test_the_timeline_shows_another_zone_when_asked():
    page = text_of(get(make_studio(CAMPAIGNS), "/?tz=UTC"))
    assert "live 2026-10-16 16:00 → 2026-10-17 16:00" in page and "Now: 2026-10-17 01:00" in page
    bad = text_of(get(make_studio(CAMPAIGNS), "/?tz=Beijing", 400))
    assert "tz: 'Beijing' is not an IANA time zone" in bad


def test_a_file_with_errors_stays_on_the_timeline_with_each_error_at_its_path_line_col(capsys, folder):
    bad = folder / "broken-sale.yaml"
    bad.write_text(
        "id: broken-sale\nkind: featured\ntitle: {zh-CN: 测试}\nstarts_at: 2026-10-17\nends_at: 2026-10-18T00:00:00\n"
        "products:\n  - sku: 0123\n    name: {zh-CN: 蛋}\n    price: 39.999\n"
        "    merchant: {id: m-1, name: {zh-CN: 社}}\n    county: {code: NO, name: {zh-CN: 县}}\n    image: /static/egg.svg\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "validate", str(folder))
    assert code == 1
    expected = [line for line in err.splitlines() if line.startswith(str(bad))]
    assert len(expected) >= 3 and any(line.startswith(f"{bad}:4:12: error: starts_at") for line in expected)
    body = get(make_studio(folder), "/")
    page = text_of(body)
    for line in expected:
        assert line in page
    assert 'class="row has-errors" id="c-broken-sale"' in body
    row = page[page.index("broken-sale not valid") :]
    assert row.startswith(f"broken-sale not valid: not on the timeline until fixed {bad}")
    assert "poverty-day-2026 10·17 扶贫日" in page  # the valid files stay


def test_an_edit_shows_on_the_next_request(folder):
    studio = make_studio(folder)
    assert "Poverty Alleviation Day: 24 seasonal picks" in text_of(get(studio, "/"))
    path = folder / "poverty-day-2026.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Poverty Alleviation Day: 24 seasonal picks", "Harvest picks"), encoding="utf-8"
    )
    page = text_of(get(studio, "/"))
    assert "Harvest picks" in page and "Poverty Alleviation Day: 24 seasonal picks" not in page
    (folder / "store-leishan.yaml").unlink()
    assert "store-leishan" not in text_of(get(studio, "/"))


# ---------------------------------------------------------------- the time machine


def _frames(body: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<iframe class="preview"[^>]*srcdoc="([^"]*)"', body)]


@pytest.mark.parametrize("offset_ms", [-1, 1])
def test_the_time_machine_one_ms_either_side_of_a_boundary_equals_campaign_preview(capsys, offset_ms):
    boundary = datetime.fromisoformat("2026-10-17T00:00:00+08:00")  # poverty-day-2026 goes from teaser to live
    at = (boundary + timedelta(milliseconds=offset_ms)).isoformat(timespec="milliseconds")
    studio = make_studio(CAMPAIGNS)
    body = get(studio, f"/machine?at={urllib.request.quote(at)}&campaign=poverty-day-2026")
    frames = _frames(body)
    expected = []
    for argv in (["--homepage"], ["poverty-day-2026"]):
        for lang in ("zh-CN", "en"):
            code, out, _ = run(capsys, "preview", *argv, "--at", at, "--lang", lang, "--campaigns", str(CAMPAIGNS))
            assert code == 0
            expected.append(out.removesuffix("\n"))
    assert frames == expected
    alone = studio.handle("GET", f"/render/campaigns/poverty-day-2026?at={urllib.request.quote(at)}&lang=en")
    assert (alone.status, alone.body) == (200, expected[3])
    home = studio.handle("GET", f"/render/home?at={urllib.request.quote(at)}&lang=zh-CN")
    assert home.body == expected[0]
    state = "teaser" if offset_ms < 0 else "live"
    assert f"poverty-day-2026 {state}" in text_of(body)
    assert ("/campaigns/poverty-day-2026" in expected[0]) is (offset_ms > 0)  # on the homepage from its start


def test_the_time_machine_reads_a_local_time_in_the_chosen_zone_and_the_slider():
    studio = make_studio(CAMPAIGNS)
    local = text_of(get(studio, "/machine?at=2026-10-17T09:00&tz=Asia/Shanghai&campaign="))
    assert "at 2026-10-17 09:00:00.000 (Asia/Shanghai)" in local
    utc = text_of(get(studio, "/machine?at=2026-10-17T09:00&tz=UTC&campaign="))
    assert "at 2026-10-17 09:00:00.000 (UTC)" in utc
    moved = int(datetime(2026, 10, 18, 2, 0, tzinfo=UTC).timestamp())
    was = "2026-10-17T09:00:00.000+08:00"
    slid = text_of(get(studio, f"/machine?was={urllib.request.quote(was)}&at={urllib.request.quote(was)}&t={moved}&campaign="))
    assert "at 2026-10-18 10:00:00.000 (Asia/Shanghai)" in slid
    kept = int(datetime(2026, 10, 17, 1, 0, tzinfo=UTC).timestamp())
    still = "2026-10-17T00:00:00.001+08:00"
    same = text_of(get(studio, f"/machine?was={urllib.request.quote(still)}&at={urllib.request.quote(still)}&t={kept - 32400}"))
    assert "at 2026-10-17 00:00:00.001 (Asia/Shanghai)" in same  # a slider left alone keeps the milliseconds
    bad = text_of(get(studio, "/machine?at=tomorrow", 400))
    assert "at: 'tomorrow' is not a time" in bad


def test_a_link_followed_inside_a_preview_frame_is_the_same_page_at_the_frames_instant():
    studio = make_studio(CAMPAIGNS)
    frame = {"Sec-Fetch-Dest": "iframe", "Referer": "http://127.0.0.1:1/machine?at=2026-10-17T09%3A30&tz=Asia%2FShanghai"}
    reply = studio.handle("GET", "/campaigns/poverty-day-2026?lang=en", frame)
    assert reply.status == 303
    assert reply.headers["Location"] == (
        "/render/campaigns/poverty-day-2026?at=2026-10-17T09%3A30%3A00.000%2B08%3A00&lang=en&tz=Asia%2FShanghai"
    )
    home = studio.handle("GET", "/", {**frame, "Referer": "http://127.0.0.1:1" + reply.headers["Location"]})
    assert home.headers["Location"].startswith("/render/home?at=2026-10-17T09%3A30%3A00.000%2B08%3A00&lang=zh-CN")
    assert studio.handle("GET", "/", {"Referer": frame["Referer"]}).status == 200  # the top page is the timeline
    odd = studio.handle("GET", "/", {**frame, "Referer": "http://127.0.0.1:1/machine?tz=Mars"})
    assert odd.status == 400 and "tz: 'Mars' is not an IANA time zone" in text_of(odd.body)


# ---------------------------------------------------------------- fairness


def _simulated_counts(capsys, start: str, end: str, campaigns=CAMPAIGNS) -> Counter:
    code, out, _ = run(capsys, "rotate", "--simulate", "--from", start, "--to", end, "--json", "--campaigns", str(campaigns))
    assert code == 0
    return Counter(s["campaign_id"] for r in json.loads(out) for s in r["slots"] if not s["pinned"])


def _chart_counts(page: str) -> Counter:
    found: Counter = Counter()
    for cid, n in re.findall(r"<code>([a-z0-9-]+)</code> · weight \d+ ·\s*<strong class=\"appearances\">(\d+)</strong>", page):
        found[cid] += int(n)
    return found


def test_the_fairness_figures_equal_the_simulation(capsys):
    page = get(make_studio(CAMPAIGNS), "/fairness?date=2026-10-17")
    expected = _simulated_counts(capsys, "2026-10-17T00:00:00+08:00", "2026-10-18T00:00:00+08:00")
    assert expected == {"poverty-day-2026": 288, "store-bazhou-district": 96, "store-dingxi-anding": 96, "store-leishan": 96}
    assert _chart_counts(page) == expected
    text = text_of(page)
    assert "96 rotations" in text and "288 appearances, quota 288.00 (band 287.00 – 289.00)" in text
    assert "OUTSIDE" not in text


def test_a_day_where_the_live_set_changes_is_charted_per_segment(capsys):
    # in UTC, Poverty Day 2026 ends at 16:00 on Oct 17: two live sets that day
    page = get(make_studio(CAMPAIGNS), "/fairness?date=2026-10-17&tz=UTC")
    expected = _simulated_counts(capsys, "2026-10-17T00:00:00+00:00", "2026-10-18T00:00:00+00:00")
    assert _chart_counts(page) == expected
    text = text_of(page)
    assert "Rotations 1–64" in text and "Rotations 65–96" in text
    assert "poverty-day-2026 · weight 3 · 192 appearances, quota 192.00" in text


def test_uneven_weights_give_fractional_quotas_and_the_counts_stay_the_simulations(capsys, folder):
    path = folder / "poverty-day-2026.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("weight: 3", "weight: 2"), encoding="utf-8")
    page = get(make_studio(folder), "/fairness?date=2026-10-17")
    expected = _simulated_counts(capsys, "2026-10-17T00:00:00+08:00", "2026-10-18T00:00:00+08:00", folder)
    assert _chart_counts(page) == expected
    text = text_of(page)
    # 6 free slots (8 less 2 pins), weights 2:1:1:1 over 96 rotations: 6 × 96 × 2/5 = 230.4
    assert (
        f"poverty-day-2026 · weight 2 · {expected['poverty-day-2026']} appearances, quota 230.40 (band 229.40 – 231.40)" in text
    )
    assert f"store-leishan · weight 1 · {expected['store-leishan']} appearances, quota 115.20" in text
    assert page.count('<span class="verdict">within ±1</span>') == 4 and "OUTSIDE ±1" not in text


# ---------------------------------------------------------------- the plan


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_plan_panel_says_why_when_the_stage_is_unreachable_and_the_rest_works(aws_env):
    port = _dead_port()
    args = argparse.Namespace(stage="local", dynamodb_port=port, campaigns=str(CAMPAIGNS))
    studio = make_studio(CAMPAIGNS, lambda stage: _services(argparse.Namespace(**{**vars(args), "stage": stage})))
    page = text_of(get(studio, "/plan"))
    assert "stage local is not reachable: DynamoDB is unavailable: EndpointConnectionError" in page
    assert "is the local stack running? start it with `make run`" in page
    assert "10·17 扶贫日" in text_of(get(studio, "/"))
    bad = text_of(get(studio, "/plan?stage=staging", 400))
    assert "stage: 'staging' is not a stage; one of local, dev, prod" in bad


def test_the_plan_shows_old_and_new_values_and_the_risks_and_writes_nothing(folder, table, counter):
    clock = FixedClock(NOW)
    svc = wiring.build(Settings(table_name=TABLE), clock, table)
    svc.publisher().publish(list(validate_paths([CAMPAIGNS]).campaigns))
    path = folder / "store-leishan.yaml"
    text = path.read_text(encoding="utf-8")
    first_price = re.search(r'price: "([0-9.]+)"', text)
    assert first_price is not None
    path.write_text(text.replace(first_price.group(0), 'price: "1234.50"', 1), encoding="utf-8")
    (folder / "poverty-day-2026.yaml").unlink()  # live at NOW: a risky removal
    counter.reset()
    studio = make_studio(folder, lambda stage: svc, clock)
    body = get(studio, "/plan")
    assert counter.writes == 0
    page = text_of(body)
    plan = svc.publisher().plan(list(validate_paths([folder]).campaigns))
    assert html.unescape(re.search(r'<pre class="plan-text">(.*?)</pre>', body, re.S).group(1)) == plan.describe()
    assert f'price: "{first_price.group(1)}" -> "1234.50"' in page
    assert "− remove campaign poverty-day-2026" in page
    assert "!! poverty-day-2026: removes a live campaign; its page /campaigns/poverty-day-2026 answers 404 at once" in page
    assert "publish with --allow poverty-day-2026" in page


def test_the_plan_waits_for_the_files_to_be_valid(folder):
    (folder / "poverty-day-2026.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    page = text_of(get(make_studio(folder), "/plan"))
    assert "error(s) in the campaign files; `campaign plan` plans nothing until they are fixed" in page


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("target", "status", "reason"),
    [
        ("/machine?at=0001-01-01T00:00%2B08:00", 400, "at: '0001-01-01T00:00+08:00' is out of range"),
        ("/machine?t=99999999999999999", 400, "t: 99999999999999999 is out of range"),
        ("/machine?t=soon", 400, "t: 'soon' is not a whole number"),
        ("/render/home?at=2026-10-17T09:00&lang=fr", 400, "lang: 'fr' is not a page language"),
        ("/fairness?date=9999-12-31", 400, "date: '9999-12-31' is out of range"),
        ("/fairness?date=10/17", 400, "date: '10/17' is not a day"),
        ("/campaigns/poverty-day-2026", 404, "no studio page /campaigns/poverty-day-2026"),
        ("/static/..%2Fapp.py", 404, "no static file '../app.py'"),
        ("/studio/..%2F__init__.py", 404, "no studio file '../__init__.py'"),
    ],
)
def test_bad_input_gets_a_page_with_the_reason(target, status, reason):
    reply = make_studio(CAMPAIGNS).handle("GET", target)
    assert reply.status == status
    assert reason in text_of(reply.body) and "Traceback" not in reply.body


# ---------------------------------------------------------------- the server


def test_the_server_binds_127_0_0_1_only_and_serves_the_pages():
    server = make_server(make_studio(CAMPAIGNS), 0)
    host, port = server.server_address[:2]
    assert host == "127.0.0.1" and port > 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
            assert "Poverty Alleviation Day: 24 seasonal picks" in response.read().decode("utf-8")
        request = urllib.request.Request(f"http://127.0.0.1:{port}/plan", method="POST", data=b"")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 405
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(SystemExit):  # there is no option to listen elsewhere
        build_parser().parse_args(["studio", "--host", "0.0.0.0"])
    args = build_parser().parse_args(["studio", "--port", "0"])
    assert (args.port, args.stage, args.campaigns) == (0, "local", "campaigns")
