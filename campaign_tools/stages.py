"""The stages the ``campaign`` command acts on, and their settings.

A stage's settings are built by the same constructor as the Lambda's,
:meth:`chalicelib.settings.Settings.from_env`, from one mapping: the stage's
``environment_variables`` in ``.chalice/config.json`` (the shared block, then
the stage's own), then the few values an operator sets in the shell for one
run (:data:`SHELL_SETTINGS`), then ``STAGE`` and, on ``local``, the embedded
DynamoDB's endpoint. So no field the Lambda sees is dropped here.

This module and :mod:`campaign_tools.cli` are the only readers of
``os.environ`` in the tools; ``chalicelib.settings`` is the only one in the
runtime.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from chalicelib.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # holds .chalice/, campaigns/, templates/
STAGES = ("local", "dev", "prod")
LOCAL_DYNAMODB_PORT = 8001
DEFAULT_CAMPAIGNS = "campaigns"

# What the shell may set for one run, over the stage's config (region, secret, sizes, endpoint).
SHELL_SETTINGS = (
    "HOMEPAGE_SLOTS",
    "ROTATION_MINUTES",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "SYSTEM_SIGNING_SECRET",
    "AWS_ENDPOINT_URL_DYNAMODB",
)


class CliError(Exception):
    """A failure to report on stderr with exit status 1 (no traceback)."""


def chalice_config() -> dict:
    """``.chalice/config.json`` as a dict."""
    return json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))


def stage_settings(stage: str, dynamodb_port: int = LOCAL_DYNAMODB_PORT, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for ``stage``: its config, then :data:`SHELL_SETTINGS` from ``env`` (default ``os.environ``).

    ``local`` talks to the embedded DynamoDB on 127.0.0.1:``dynamodb_port``;
    ``dev``/``prod`` use the real table named in the stage's config and the
    shell's AWS credentials. Raises ``CliError`` for a stage the config does
    not name, and ``SettingsError`` for a value ``Settings`` refuses.
    """
    env = os.environ if env is None else env
    config = chalice_config()
    stages = config.get("stages", {})
    if stage not in stages:
        raise CliError(f"unknown stage {stage!r}; known: {', '.join(stages)}")
    values = {**config.get("environment_variables", {}), **stages[stage].get("environment_variables", {})}
    values.update({k: v for k, v in env.items() if k in SHELL_SETTINGS})
    values["STAGE"] = stage
    if stage == "local":
        values["AWS_ENDPOINT_URL_DYNAMODB"] = f"http://127.0.0.1:{dynamodb_port}"
    return Settings.from_env(values)


def shell_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of a command that touches no stage (validate, preview, simulate, sign)."""
    return Settings.from_env(os.environ if env is None else env)


def source_commit(campaigns: str) -> str:
    """The git commit a publish of ``campaigns`` comes from: ``a1b2c3d``, ``a1b2c3d+dirty`` when the
    campaign files differ from it (edited, added or removed, not committed), ``""`` outside git."""

    folder = Path(campaigns).resolve()

    def git(*argv: str) -> str | None:
        """git's output, run in the campaigns' own folder; ``None`` when git fails (not a repository)."""
        try:
            done = subprocess.run(["git", *argv], cwd=folder, capture_output=True, text=True, check=False, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return ""
    status = git("status", "--porcelain", "--untracked-files=all", "--", ".")
    return commit + "+dirty" if status is None or status else commit


def publisher_name(env: Mapping[str, str] | None = None) -> str:
    """Who publishes: ``CAMPAIGN_PUBLISHER``, else the login name."""
    env = os.environ if env is None else env
    return env.get("CAMPAIGN_PUBLISHER") or getpass.getuser()
