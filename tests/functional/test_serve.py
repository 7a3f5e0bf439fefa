"""`campaign serve` (what `make run` runs) as a real process on loopback ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.local_stack import free_port

pytestmark = pytest.mark.server


def fetch(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.fixture
def stack(tmp_path):
    campaigns = tmp_path / "campaigns"
    shutil.copytree(ROOT / "campaigns", campaigns)
    port, ddb_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "campaign_tools.cli",
            "serve",
            "--port",
            str(port),
            "--dynamodb-port",
            str(ddb_port),
            "--at",
            "2026-10-17T09:00+08:00",
            "--campaigns",
            str(campaigns),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in proc.stdout:  # blocks until the stack says it is up (no sleeping)
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            break
    else:
        pytest.fail("campaign serve exited early:\n" + "".join(lines))
    yield {"base": f"http://127.0.0.1:{port}", "ddb_port": ddb_port, "proc": proc, "lines": lines, "campaigns": campaigns}
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=10)


def test_make_run_serves_the_real_campaigns_at_the_chosen_instant(stack):
    output = "".join(stack["lines"])
    assert "published 6 campaign(s) as release 1" in output
    assert "rotation 1: 8 slots" in output
    status, headers, body = fetch(stack["base"] + "/api/campaigns/poverty-day-2026?lang=en")
    data = json.loads(body)
    assert status == 200 and data["state"] == "live" and len(data["products"]) == 24
    status, _, body = fetch(stack["base"] + "/api/homepage")
    home = json.loads(body)
    assert status == 200 and home["rotation"] == 1 and len(home["slots"]) == 8
    assert [s["sku"] for s in home["slots"] if s["pinned"]] == ["EGG-0017", "PRK-0301"]
    status, headers, body = fetch(stack["base"] + "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8" and "阜平散养土鸡蛋" in body
    assert fetch(stack["base"] + "/campaigns/poverty-day-2027")[0] == 404
    assert fetch(stack["base"] + "/campaigns/no-such-campaign")[0] == 404


def test_publish_from_another_terminal_then_ctrl_c_stops_everything(stack, capsys):
    from campaign_tools.cli import main

    shutil.copy(stack["campaigns"] / "poverty-day-2027.yaml", stack["campaigns"] / "poverty-day-2028.yaml")
    text = (stack["campaigns"] / "poverty-day-2028.yaml").read_text(encoding="utf-8")
    (stack["campaigns"] / "poverty-day-2028.yaml").write_text(
        text.replace("id: poverty-day-2027", "id: poverty-day-2028").replace("2027-10-", "2028-10-"), encoding="utf-8"
    )
    port = str(stack["ddb_port"])
    assert main(["publish", "--stage", "local", "--dynamodb-port", port, "--campaigns", str(stack["campaigns"])]) == 0
    assert "  + campaign poverty-day-2028" in capsys.readouterr().out
    assert main(["publish", "--stage", "local", "--dynamodb-port", port, "--campaigns", str(stack["campaigns"])]) == 0
    assert "nothing changed; nothing was written" in capsys.readouterr().out
    assert main(["rotate", "--stage", "local", "--dynamodb-port", port]) == 0
    assert capsys.readouterr().out == "rotation 2: 8 slots\n"
    # the rotation from another terminal ran on the stack's clock (started --at Oct 17), not today's
    assert main(["rotate", "--history", "1", "--stage", "local", "--dynamodb-port", port]) == 0
    latest = capsys.readouterr().out
    assert " 2026-10-17T01:" in latest and "poverty-day-2026/EGG-0017*" in latest, latest
    status, _, body = fetch(stack["base"] + "/api/homepage")
    assert status == 200
    proc = stack["proc"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(stack["base"].rsplit(":", 1)[1])), timeout=2)


def test_sigterm_stops_everything_too(stack):
    proc = stack["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", stack["ddb_port"]), timeout=2)


def test_the_cli_in_another_terminal_finds_the_running_stack_without_its_port(stack):
    from campaign_tools.stages import RUN_STATE_PATH, read_run_state

    state = read_run_state(RUN_STATE_PATH)
    assert state is not None
    assert (state["pid"], state["dynamodb_port"], state["port"]) == (
        stack["proc"].pid,
        stack["ddb_port"],
        int(stack["base"].rsplit(":", 1)[1]),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, "-m", "campaign_tools.cli", "releases"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("*    1  ")
    # the shard fold finds the stack too; a fresh stack has nothing to fold (and a second run neither)
    fold = subprocess.run(
        [sys.executable, "-m", "campaign_tools.cli", "fold-counters"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fold.returncode == 0, fold.stderr
    assert fold.stdout.splitlines()[-1].startswith("stage local: 0 shard(s) folded for ")
    assert "bazhong-pork-charity: 0 shard(s) folded into 0..97" in fold.stdout
    stack["proc"].send_signal(signal.SIGTERM)
    stack["proc"].wait(timeout=30)
    assert read_run_state(RUN_STATE_PATH) is None
    assert not RUN_STATE_PATH.exists()
