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


# ------------------------------------------------------------------ which DynamoDB (README, "Any DynamoDB endpoint")

# Where a running `campaign serve` records its pid and ports, so that the CLI in another
# terminal finds its DynamoDB without repeating the port (gitignored).
RUN_STATE_PATH = PROJECT_ROOT / ".campaign" / "local-stack.json"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "endpoint-url", "AWS_SECRET_ACCESS_KEY": "endpoint-url"}


def write_run_state(pid: int, host: str, port: int, dynamodb_port: int, path: Path | None = None) -> Path:
    """Record a running local stack: ``{"pid", "host", "port", "dynamodb_port"}`` as JSON at ``path``.

    Written atomically (a temporary file, then a rename), so a reader never sees half of it.
    """
    path = RUN_STATE_PATH if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{pid}.tmp")
    state = {"pid": pid, "host": host, "port": port, "dynamodb_port": dynamodb_port}
    partial.write_text(json.dumps(state) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def remove_run_state(pid: int, path: Path | None = None) -> None:
    """Remove the record, if it is ``pid``'s (a newer stack's record stays)."""
    path = RUN_STATE_PATH if path is None else path
    state = read_run_state(path, alive=lambda p: True)
    if state is not None and state["pid"] == pid:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def read_run_state(path: Path | None = None, alive=_alive) -> dict | None:
    """The running local stack's record, or ``None``: no file, an unreadable one, or one whose
    pid is dead (a stack killed without cleaning up)."""
    path = RUN_STATE_PATH if path is None else path
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        pid, port = int(state["pid"]), int(state["dynamodb_port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not alive(pid) or not 0 < port < 65536:
        return None
    return {**state, "pid": pid, "dynamodb_port": port}


def dynamodb_endpoint(
    stage: str,
    endpoint_url: str | None = None,
    dynamodb_port: int | None = None,
    env: Mapping[str, str] | None = None,
    state_path: Path | None = None,
) -> str | None:
    """The DynamoDB endpoint a stage command uses; ``None``: AWS's own for the region.

    In this order: ``endpoint_url`` (``--endpoint-url``); on ``local``,
    ``dynamodb_port`` (``--dynamodb-port``); ``AWS_ENDPOINT_URL_DYNAMODB`` in
    ``env``; on ``local``, the running ``campaign serve`` recorded at
    ``state_path`` (:data:`RUN_STATE_PATH`); on ``local``, 127.0.0.1:8001.
    Explicit options beat the shell, and the shell beats what is found.
    """
    env = os.environ if env is None else env
    if endpoint_url:
        return endpoint_url
    if stage == "local" and dynamodb_port is not None:
        return f"http://127.0.0.1:{dynamodb_port}"
    if env.get("AWS_ENDPOINT_URL_DYNAMODB"):
        return env["AWS_ENDPOINT_URL_DYNAMODB"]
    if stage != "local":
        return None
    running = read_run_state(state_path)
    return f"http://127.0.0.1:{running['dynamodb_port'] if running else LOCAL_DYNAMODB_PORT}"


def endpoint_settings(
    stage: str,
    endpoint_url: str | None = None,
    dynamodb_port: int | None = None,
    env: Mapping[str, str] | None = None,
    state_path: Path | None = None,
) -> Settings:
    """:func:`stage_settings` with the endpoint :func:`dynamodb_endpoint` picks.

    With an endpoint, on any stage, the shell's AWS credentials are not needed: where
    it has none, dummy ones are used (an emulator takes any; real ones never leave for it).
    """
    env = dict(os.environ if env is None else env)
    endpoint = dynamodb_endpoint(stage, endpoint_url, dynamodb_port, env, state_path)
    if endpoint is not None:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    settings = stage_settings(stage, env=env)
    if endpoint is not None:
        from dataclasses import replace

        settings = replace(settings, dynamodb_endpoint=endpoint)
    return settings


def use_dummy_credentials_for(settings: Settings) -> None:
    """Put :data:`DUMMY_CREDENTIALS` in ``os.environ`` when ``settings`` name an endpoint and the
    shell has no credentials of its own (boto3 would refuse to sign without any)."""
    if not settings.dynamodb_endpoint or settings.stage == "local":  # local: wiring uses its own
        return
    import boto3

    if boto3.Session().get_credentials() is None:
        os.environ.update(DUMMY_CREDENTIALS)


def endpoint_answer(exc: BaseException, settings: Settings) -> str:
    """What the DynamoDB endpoint answered, for the CLI's error message (one line)."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    where = settings.dynamodb_endpoint or f"DynamoDB in {settings.region}"
    cause = exc.__cause__ or exc
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code, message = error.get("Code") or "?", error.get("Message") or ""
        if code == "ResourceNotFoundException":
            hint = f"campaign init --stage {settings.stage}" + (
                f" --endpoint-url {settings.dynamodb_endpoint}" if settings.dynamodb_endpoint else ""
            )
            return f"{where} answered HTTP {status} {code}: it has no table {settings.table_name}; create it with `{hint}`"
        return f"{where} answered HTTP {status} {code}" + (f": {message}" if message else "")
    if isinstance(cause, (ConnectTimeoutError, ReadTimeoutError)):
        return f"{where} did not answer in time ({cause.__class__.__name__})"
    if isinstance(cause, EndpointConnectionError):
        reason = cause.kwargs.get("error")
        inner = getattr(reason, "__context__", None) or reason
        detail = getattr(inner, "strerror", None) or str(inner or "no connection")
        hint = "; start the local stack with `make run`" if settings.stage == "local" else ""
        return f"nothing answered at {where} ({detail}){hint}"
    if isinstance(cause, NoCredentialsError):
        return f"no AWS credentials in the shell for {where}"
    return f"{where}: {cause.__class__.__name__}: {cause}"
