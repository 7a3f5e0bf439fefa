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

from chalicelib.books.service import Books, BookSizes
from chalicelib.books.totals import TotalsSource, no_totals
from chalicelib.clock import Clock, system_clock
from chalicelib.observability import Observability
from chalicelib.releases.catalog import StoreCatalog
from chalicelib.settings import Settings
from chalicelib.store.books import BooksStore
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.rotations import RotationStore
from chalicelib.store.table import Table
from chalicelib.web.cursors import CursorSigner
from chalicelib.webhooks.signing import SecretSource, WebhookVerifier


@dataclass
class Services:
    settings: Settings
    clock: Clock
    releases: ReleaseStore
    rotations: RotationStore
    catalog: StoreCatalog
    totals: TotalsSource = field(default=no_totals)
    # The donation books (issue 3). ``clock`` is the campaign clock (shifted by
    # ``campaign serve --at``); ``wall_clock`` is always the real one, for the
    # webhook signatures' 5-minute tolerance.
    books: Books | None = None
    verifier: WebhookVerifier | None = None
    cursors: CursorSigner | None = None
    wall_clock: Clock = field(default=system_clock)
    observability: Observability = field(default_factory=lambda: Observability.for_stage("local"))


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


def build(
    settings: Settings,
    clock: Clock = system_clock,
    table: Any = None,
    wall_clock: Clock = system_clock,
    ssm_client: Any = None,
    observability: Observability | None = None,
    book_sizes: BookSizes = BookSizes(),
) -> Services:
    """The services on ``table`` (created from ``settings`` when ``None``).

    ``ssm_client``: a zero-argument factory of the SSM client that fetches
    the signing secret on deployed stages (created on first use only).
    """
    if table is None:
        table = dynamodb_resource(settings).Table(settings.table_name)
    door = Table(table)  # the one door to the table, shared by every access pattern
    releases, rotations = ReleaseStore(door), RotationStore(door)
    catalog = StoreCatalog(releases, rotations)
    books = Books(BooksStore(door), catalog.campaign, sizes=book_sizes)
    secrets = SecretSource(settings, ssm_client)
    return Services(
        settings=settings,
        clock=clock,
        releases=releases,
        rotations=rotations,
        catalog=catalog,
        totals=books.totals,
        books=books,
        verifier=WebhookVerifier(secrets, wall_clock),
        cursors=CursorSigner(lambda: secrets.derived_key(b"campaign-platform ledger cursor v1")),
        wall_clock=wall_clock,
        observability=Observability.for_stage(settings.stage, settings.log_level) if observability is None else observability,
    )


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
