"""Composition root: builds the services lazily, once per container.

Nothing here runs at import time. The first request calls :func:`services`,
which reads :class:`~chalicelib.settings.Settings` from the environment and
creates the boto3 table. Tests and ``campaign serve`` call :func:`configure`
to hand in their own settings, clock or table first.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from .catalog import StoreCatalog
from .clock import Clock, system_clock
from .pages import TotalsSource, no_totals
from .repository import Store
from .settings import Settings


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: Store
    catalog: StoreCatalog
    totals: TotalsSource = field(default=no_totals)


_lock = threading.Lock()
_services: Services | None = None


def dynamodb_resource(settings: Settings) -> Any:
    """A boto3 DynamoDB resource for ``settings``.

    Throttling and transient errors are retried by the SDK's standard retry mode
    (jittered exponential backoff), at most 3 attempts in all, so a request
    never waits long behind a struggling table.
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5)
    kwargs: dict[str, Any] = {}
    if settings.stage == "local" and settings.dynamodb_endpoint:
        # The embedded DynamoDB takes any credentials; never use the shell's real ones for it.
        kwargs = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "aws_session_token": None}
    return boto3.resource(
        "dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint, config=config, **kwargs
    )


def build(settings: Settings, clock: Clock = system_clock, table: Any = None) -> Services:
    if table is None:
        table = dynamodb_resource(settings).Table(settings.table_name)
    store = Store(table)
    return Services(settings=settings, clock=clock, store=store, catalog=StoreCatalog(store))


def services() -> Services:
    """The container's services, built on first use from the environment."""
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build(Settings.from_env())
    return _services


def configure(new: Services | None) -> None:
    """Replace the services (tests, ``campaign serve``); ``None`` resets to lazy defaults."""
    global _services
    with _lock:
        _services = new
