"""The stages the campaign command acts on: settings through Settings.from_env, and the source commit."""

from __future__ import annotations

import subprocess

from campaign_tools.stages import source_commit, stage_settings
from chalicelib.settings import Settings


def test_a_stage_has_every_setting_its_lambda_has():
    dev = stage_settings("dev", env={"AWS_DEFAULT_REGION": "cn-north-1", "TABLE_NAME": "ignored", "HOMEPAGE_SLOTS": "6"})
    assert dev == Settings(
        stage="dev",
        table_name="campaign-platform-dev",  # the stage's own table, whatever the shell says
        homepage_slots=6,  # the shell may change the slots for one run
        rotation_minutes=15,
        dynamodb_endpoint=None,
        region="cn-north-1",
        signing_secret_parameter="/campaign-platform/dev/signing-secret",
        log_level="INFO",
    )


def test_the_local_stage_talks_to_the_embedded_dynamodb_on_its_port():
    local = stage_settings("local", 8123, env={"AWS_ENDPOINT_URL_DYNAMODB": "http://elsewhere:1"})
    assert (local.stage, local.dynamodb_endpoint, local.table_name) == (
        "local",
        "http://127.0.0.1:8123",
        "campaign-platform-local",
    )


def test_a_release_records_whether_the_campaign_files_were_committed(tmp_path, monkeypatch):
    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()

    git("init", "-q")
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "a.yaml").write_text("id: a\n")
    (tmp_path / "notes.txt").write_text("elsewhere\n")
    git("add", "-A")
    git("-c", "user.email=staff@mall.example", "-c", "user.name=staff", "commit", "-qm", "campaigns")
    monkeypatch.chdir(tmp_path)
    head = git("rev-parse", "--short", "HEAD")

    assert source_commit("campaigns") == head
    (tmp_path / "notes.txt").write_text("changed, but not a campaign file\n")
    assert source_commit("campaigns") == head
    (tmp_path / "campaigns" / "b.yaml").write_text("id: b\n")  # a new file, not committed
    assert source_commit("campaigns") == head + "+dirty"


def test_outside_git_there_is_no_commit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert source_commit("campaigns") == ""
