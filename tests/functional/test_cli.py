"""The `campaign` command, run in-process through its main()."""

from __future__ import annotations

import json
import shutil

import pytest

from campaign_tools.cli import main
from tests.conftest import ROOT

CAMPAIGNS = str(ROOT / "campaigns")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_real_campaigns_are_valid(capsys):
    code, out, err = run(capsys, "validate", "--campaigns", CAMPAIGNS)
    assert (code, err) == (0, "")
    assert out.startswith("6 campaign(s) valid")


def test_validate_reports_every_error_with_its_place_and_exits_1(capsys, tmp_path):
    bad = tmp_path / "bad-sale.yaml"
    bad.write_text(
        "id: bad-sale\nkind: featured\ntitle: {zh-CN: 测试}\nstarts_at: 2026-10-17\nends_at: 2026-10-18T00:00:00\n"
        "products:\n  - sku: 0123\n    name: {zh-CN: 蛋}\n    price: 39.999\n"
        "    merchant: {id: m-1, name: {zh-CN: 社}}\n    county: {code: NO, name: {zh-CN: 县}}\n    image: /static/egg.svg\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    lines = err.splitlines()
    assert any(line.startswith(f"{bad}:4:12: error: starts_at") for line in lines), lines
    assert any(line.startswith(f"{bad}:7:10: error:") and '"0123"' in line for line in lines), lines
    assert any(line.startswith(f"{bad}:9:12: error:") and "2 decimals" in line for line in lines), lines
    assert any(line.startswith(f"{bad}:11:20: error:") and '"NO"' in line for line in lines), lines


def test_preview_json_gives_status_and_body_for_each_state(capsys):
    cases = [
        ("2026-10-09T23:59:59+08:00", 404, None),
        ("2026-10-10T00:00+08:00", 200, "teaser"),
        ("2026-10-17T09:00+08:00", 200, "live"),
        ("2026-10-18T00:00+08:00", 410, "ended"),
    ]
    for at, status, state in cases:
        code, out, _ = run(capsys, "preview", "poverty-day-2026", "--at", at, "--json", "--campaigns", CAMPAIGNS)
        doc = json.loads(out)
        assert code == 0 and doc["status"] == status
        assert doc["body"].get("state") == state


def test_preview_writes_html_in_english_to_a_file(capsys, tmp_path):
    target = tmp_path / "page.html"
    code, out, err = run(
        capsys,
        "preview",
        "bazhong-pork-charity",
        "--at",
        "2026-12-01T10:00+08:00",
        "--lang",
        "en",
        "-o",
        str(target),
        "--campaigns",
        CAMPAIGNS,
    )
    html = target.read_text(encoding="utf-8")
    assert code == 0 and out == "" and "HTTP 200" in err
    assert '<html lang="en">' in html and "Left-behind children of Bazhong" in html


def test_preview_needs_an_offset(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["preview", "poverty-day-2026", "--at", "2026-10-17T09:00"])
    assert exit_info.value.code == 2
    assert "has no UTC offset" in capsys.readouterr().err


def test_simulate_prints_rotations_in_the_brief_shape(capsys):
    code, out, _ = run(
        capsys,
        "rotate",
        "--simulate",
        "--from",
        "2026-10-17T00:00+08:00",
        "--to",
        "2026-10-17T00:30+08:00",
        "--slots",
        "4",
        "--json",
        "--campaigns",
        CAMPAIGNS,
    )
    runs = json.loads(out)
    assert code == 0 and [r["rotation"] for r in runs] == [1, 2]
    assert runs[0]["at"] == "2026-10-16T16:00:00+00:00"
    assert runs[0]["slots"][:2] == [
        {"position": 1, "campaign_id": "poverty-day-2026", "sku": "EGG-0017", "pinned": True},
        {"position": 2, "campaign_id": "poverty-day-2026", "sku": "PRK-0301", "pinned": True},
    ]
    assert len(runs[1]["slots"]) == 4


def test_schema_prints_the_committed_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0 and out == (ROOT / "campaigns" / "schema.json").read_text(encoding="utf-8")


def test_an_empty_folder_is_not_published(capsys, tmp_path):
    """Publishing no file would take every campaign off the site: refused before any connection."""
    code, out, err = run(capsys, "publish", "--campaigns", str(tmp_path), "--dynamodb-port", "1")
    assert code == 1 and out == ""
    assert f"no campaign file in {tmp_path}; nothing was published" in err


def test_nothing_is_published_from_a_set_with_an_error(capsys, tmp_path):
    folder = tmp_path / "campaigns"
    shutil.copytree(CAMPAIGNS, folder)
    (folder / "broken.yaml").write_text("id: broken\nkind: featured\n", encoding="utf-8")
    code, _, err = run(capsys, "publish", "--campaigns", str(folder), "--dynamodb-port", "1")
    assert code == 1 and "nothing was done" in err


def test_preview_of_one_campaign_warns_of_errors_in_other_files_and_still_renders(capsys, tmp_path):
    folder = tmp_path / "campaigns"
    shutil.copytree(ROOT / "campaigns", folder)
    broken = folder / "poverty-day-2027.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("kind: featured", "kind: featurd", 1), encoding="utf-8")
    at = "2026-12-01T10:00+08:00"

    code, out, err = run(capsys, "preview", "bazhong-pork-charity", "--at", at, "--campaigns", str(folder), "--json")
    assert code == 0 and json.loads(out)["body"]["id"] == "bazhong-pork-charity"
    assert f"{broken}:4:7: error: kind: featurd" in err and "previewing bazhong-pork-charity alone" in err

    # The broken campaign itself, and the homepage (which needs every campaign), are refused.
    assert run(capsys, "preview", "poverty-day-2027", "--at", at, "--campaigns", str(folder))[0] == 1
    assert run(capsys, "preview", "--homepage", "--at", at, "--campaigns", str(folder))[0] == 1


def test_a_missing_file_or_a_bad_port_is_a_message_not_a_traceback(capsys, tmp_path):
    code, _, err = run(capsys, "sign", str(tmp_path / "missing.json"), "--secret", "whsec_" + "A" * 44)
    assert code == 1 and err == f"campaign sign: error: {tmp_path / 'missing.json'}: No such file or directory\n"
    at = "2026-10-17T09:00+08:00"
    code, _, err = run(
        capsys, "preview", "poverty-day-2026", "--at", at, "--campaigns", CAMPAIGNS, "-o", str(tmp_path / "no" / "x.html")
    )
    assert code == 1 and err.endswith(f"campaign preview: error: {tmp_path / 'no' / 'x.html'}: No such file or directory\n")
    with pytest.raises(SystemExit) as usage:
        main(["releases", "--dynamodb-port", "70000"])
    assert usage.value.code == 2 and "a port is 0 (any free one) to 65535" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "reason"), [("1025", "at most 1024"), ("0", "must be at least 1"), ("abc", "'abc' is not a whole number")]
)
def test_fold_counters_takes_an_old_shard_count_from_1_to_1024(capsys, value, reason):
    with pytest.raises(SystemExit) as exited:
        main(["fold-counters", "--from", value])
    assert exited.value.code == 2
    assert f"argument --from: {reason}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("-1", "charity.return_days: -1 is below 0; write a whole number of at least 0"),
        ("366", "charity.return_days: 366 is over 365; write a whole number of at most 365"),
        ("7.0", "charity.return_days: 7.0 is not a whole number up to 365; write it in plain digits, e.g. 3"),
    ],
)
def test_validate_names_the_return_windows_own_range(capsys, tmp_path, days, message):
    source = (ROOT / "campaigns" / "bazhong-pork-charity.yaml").read_text(encoding="utf-8")
    (tmp_path / "bazhong-pork-charity.yaml").write_text(
        source.replace("  points_per_yuan: 100\n", f"  points_per_yuan: 100\n  return_days: {days}\n"), encoding="utf-8"
    )
    code, _, err = run(capsys, "validate", str(tmp_path))
    assert code == 1
    assert f"error: {message}" in err, err
