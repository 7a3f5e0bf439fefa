"""Any DynamoDB endpoint: the CLI against an emulator it did not start, and how it finds one.

The emulator is moto's server (``ThreadedMotoServer`` on port 0), started by
the test, never by the CLI; the shell has no AWS credentials at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from campaign_tools import stages
from campaign_tools.cli import main
from campaign_tools.stages import dynamodb_endpoint, read_run_state, remove_run_state, write_run_state
from tests.conftest import ROOT

pytestmark = pytest.mark.server

CAMPAIGNS = str(ROOT / "campaigns")


@pytest.fixture
def no_aws_shell(monkeypatch, tmp_path):
    """A shell with no AWS credentials, no endpoint, and no running stack recorded."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "cn-north-1")
    monkeypatch.setattr(stages, "RUN_STATE_PATH", tmp_path / "state" / "local-stack.json")
    yield
    for name in stages.DUMMY_CREDENTIALS:  # what the CLI put in os.environ for itself
        os.environ.pop(name, None)


@pytest.fixture
def emulator():
    """A DynamoDB the CLI did not start: ``http://127.0.0.1:<port>``, wiped before and after."""
    import urllib.request

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=5).read()
    try:
        yield url
    finally:
        urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=5).read()
        server.stop()


def run(capsys, *argv):
    capsys.readouterr()  # what came before (the emulator's start-up line)
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def describe(url: str, table: str) -> tuple[dict, dict]:
    import boto3

    client = boto3.client(
        "dynamodb", endpoint_url=url, region_name="cn-north-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client.describe_table(TableName=table)["Table"], client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]


def test_init_publish_releases_and_rotate_on_an_emulator_with_no_credentials(capsys, no_aws_shell, emulator):
    from chalicelib.store.keys import KEY_SCHEMA, TTL_ATTRIBUTE

    code, out, err = run(capsys, "init", "--stage", "dev", "--endpoint-url", emulator)
    assert (code, err) == (0, "")
    assert out == f"table campaign-platform-dev is ready at {emulator} (key PK/SK, TTL on {TTL_ATTRIBUTE})\n"
    table, ttl = describe(emulator, "campaign-platform-dev")
    assert table["KeySchema"] == KEY_SCHEMA and table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TTL_ATTRIBUTE)
    # A second init finds the table and changes nothing.
    assert run(capsys, "init", "--stage", "dev", "--endpoint-url", emulator)[0] == 0

    code, out, err = run(capsys, "publish", "--stage", "dev", "--endpoint-url", emulator, "--campaigns", CAMPAIGNS)
    assert code == 0, err
    assert "release 1 is live" in out
    code, out, _ = run(capsys, "releases", "--stage", "dev", "--endpoint-url", emulator)
    assert code == 0 and out.startswith("*    1  ")
    code, out, err = run(capsys, "rotate", "--stage", "dev", "--endpoint-url", emulator, "--at", "2026-10-17T09:00+08:00")
    assert code == 0 and out.startswith("rotation 1"), err


def test_aws_endpoint_url_dynamodb_is_honoured_by_every_stage_command(capsys, no_aws_shell, emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", emulator)
    assert run(capsys, "init", "--stage", "prod")[0] == 0
    assert describe(emulator, "campaign-platform-prod")[0]["TableName"] == "campaign-platform-prod"
    code, out, err = run(capsys, "plan", "--stage", "prod", "--campaigns", CAMPAIGNS)
    assert code == 0, err
    assert "table campaign-platform-prod" in out
    # --endpoint-url beats the shell: here it points nowhere, and the message says so.
    code, _, err = run(capsys, "releases", "--stage", "prod", "--endpoint-url", "http://127.0.0.1:1")
    assert code == 1
    assert "nothing answered at http://127.0.0.1:1 (Connection refused)" in err


def test_init_of_a_deployed_stage_needs_an_endpoint(capsys, no_aws_shell):
    code, _, err = run(capsys, "init", "--stage", "prod")
    assert code == 1
    assert "the prod stack creates its own table" in err and "--endpoint-url" in err


def test_every_command_that_touches_a_stage_takes_endpoint_url():
    from campaign_tools.cli import build_parser

    parser = build_parser()
    for command in ("plan", "publish", "rollback", "releases", "rotate", "init"):
        args = parser.parse_args([command, "--stage", "dev", "--endpoint-url", "http://h:1"])
        assert args.endpoint_url == "http://h:1", command


def test_the_message_says_what_the_endpoint_answered(capsys, no_aws_shell, emulator):
    # A DynamoDB without the table.
    code, _, err = run(capsys, "releases", "--stage", "dev", "--endpoint-url", emulator)
    assert code == 1
    assert (
        f"{emulator} answered HTTP 400 ResourceNotFoundException: it has no table campaign-platform-dev; "
        f"create it with `campaign init --stage dev --endpoint-url {emulator}`"
    ) in err
    assert "is the local stack running" not in err
    # Nothing listening on the local stage's port.
    code, _, err = run(capsys, "releases", "--dynamodb-port", "1")
    assert code == 1
    assert "nothing answered at http://127.0.0.1:1 (Connection refused); start the local stack with `make run`" in err


def test_something_that_is_not_dynamodb_is_named_with_its_answer(capsys, no_aws_shell):
    import http.server
    import threading

    class NotDynamo(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = b"<html>teapot</html>"
            self.send_response(418)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), NotDynamo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, _, err = run(capsys, "releases", "--stage", "dev", "--endpoint-url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1
    assert f"{url} answered HTTP 418" in err


# ------------------------------------------------------------------ finding the running stack


def test_precedence_endpoint_url_then_port_then_shell_then_running_stack_then_8001(tmp_path):
    state = tmp_path / "local-stack.json"
    env = {"AWS_ENDPOINT_URL_DYNAMODB": "http://shell:4566"}
    write_run_state(os.getpid(), "127.0.0.1", 9700, 9701, state)
    assert dynamodb_endpoint("local", "http://flag:1", 9123, env, state) == "http://flag:1"
    assert dynamodb_endpoint("local", None, 9123, env, state) == "http://127.0.0.1:9123"
    assert dynamodb_endpoint("local", None, None, env, state) == "http://shell:4566"
    assert dynamodb_endpoint("local", None, None, {}, state) == "http://127.0.0.1:9701"
    assert dynamodb_endpoint("local", None, None, {}, tmp_path / "none.json") == "http://127.0.0.1:8001"
    # A deployed stage: AWS's own endpoint unless told otherwise; the local stack is never used.
    assert dynamodb_endpoint("dev", None, None, {}, state) is None
    assert dynamodb_endpoint("dev", None, None, env, state) == "http://shell:4566"


def test_a_stale_state_file_whose_pid_is_dead_is_ignored(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    state = tmp_path / "local-stack.json"
    write_run_state(pid, "127.0.0.1", 9700, 9701, state)
    assert json.loads(state.read_text())["dynamodb_port"] == 9701
    assert read_run_state(state) is None
    assert dynamodb_endpoint("local", None, None, {}, state) == "http://127.0.0.1:8001"
    state.write_text("{not json")
    assert read_run_state(state) is None


def test_the_state_file_is_removed_only_by_its_own_stack(tmp_path):
    state = tmp_path / "local-stack.json"
    write_run_state(os.getpid(), "127.0.0.1", 9700, 9701, state)
    remove_run_state(os.getpid() + 1, state)
    assert read_run_state(state)["dynamodb_port"] == 9701
    remove_run_state(os.getpid(), state)
    assert not state.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left


def test_the_state_file_is_gitignored():
    ignored = subprocess.run(["git", "check-ignore", "-q", str(stages.RUN_STATE_PATH.relative_to(ROOT))], cwd=ROOT, check=False)
    assert ignored.returncode == 0
