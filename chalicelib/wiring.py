"""Composition root: the one place the services are assembled.

:func:`build` makes every service of a stage from its settings (the Lambda
handlers, the ``campaign`` command, ``campaign serve``, the bench and the tests
all call it), and :func:`services` keeps the container's, built on first use.
Nothing here runs at import time: the first request reads
:class:`~chalicelib.settings.Settings` from the environment and creates the
boto3 table. Tests and ``campaign serve`` call :func:`configure` to hand in
services built with their own clock, table or sizes.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.books.service import LEDGER_SHARDS, Books, BookSizes
from chalicelib.clock import Clock, system_clock
from chalicelib.deadline import Deadlines
from chalicelib.domain.totals import TotalsSource, charity_figures
from chalicelib.homepage.job import RotationJob
from chalicelib.observability import Observability
from chalicelib.releases.catalog import StoreCatalog
from chalicelib.releases.publishing import Publisher
from chalicelib.settings import Settings
from chalicelib.store.books import BooksStore
from chalicelib.store.cutoff import THREAD_CUTOFF, Cutoff
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.rotations import RotationStore
from chalicelib.store.table import Table
from chalicelib.web.cursors import CursorSigner
from chalicelib.web.limits import LookupLimiter
from chalicelib.web.page_cache import PageCache
from chalicelib.webhooks.signing import SecretSource, WebhookVerifier


@dataclass
class Services:
    """Everything a stage's handlers and commands use, built by :func:`build`; every field is set.

    ``clock`` is the campaign clock (shifted by ``campaign serve --at`` on the local
    stage); ``wall_clock`` is always the real one, for the webhook signatures'
    5-minute tolerance. Fields may be replaced (tests stand a failing catalog in).
    """

    settings: Settings
    clock: Clock
    wall_clock: Clock
    table: Table
    releases: ReleaseStore
    rotations: RotationStore
    catalog: StoreCatalog
    books: Books
    verifier: WebhookVerifier
    cursors: CursorSigner
    observability: Observability
    # Each request's deadline (chalicelib.deadline); tests hand in one on their own monotonic clock.
    deadlines: Deadlines = field(default_factory=Deadlines)
    lookups: LookupLimiter = field(default_factory=LookupLimiter)  # "find my order" (docs/donations.md)

    @property
    def rotation_job(self) -> RotationJob:
        """The stage's rotation at its clock, with its settings' slots and history, counted."""
        s = self.settings
        return RotationJob(
            self.rotations, self.clock, s.homepage_slots, s.rotation_history_days, self.observability, minutes=s.rotation_minutes
        )

    @property
    def totals(self) -> TotalsSource:
        """``campaign_id -> CharityTotals`` for the pages (the books' cached totals)."""
        return self.books.totals

    def publisher(
        self, actor: str = "", commit: str = "", progress: Callable[[int], Callable[[int], None]] | None = None
    ) -> Publisher:
        """A publisher on this stage's releases at its clock (``campaign publish``, ``campaign serve``),
        which asks the stage's books whether a charity sale has donations before it removes one or
        changes its rate."""

        def has_donations(campaign_id: str) -> bool:
            books = self.books.books([campaign_id]).get(campaign_id)
            return books is not None and (books.orders > 0 or books.point_donations > 0)

        def confirmed_fen(campaign_id: str, at: datetime, return_days: int) -> int:
            return charity_figures(self.books.totals(campaign_id), at, return_days, 0).confirmed_fen

        def booked_windows(campaign_id: str) -> set[int]:
            return {days for days, writes in self.books.books([campaign_id])[campaign_id].by_window.items() if writes}

        return Publisher(
            self.releases,
            self.clock,
            actor=actor,
            commit=commit,
            progress=progress,
            has_donations=has_donations,
            confirmed_fen=confirmed_fen,
            booked_windows=booked_windows,
        )


_lock = threading.Lock()
_services: Services | None = None


def dynamodb_resource(settings: Settings) -> Any:
    """A boto3 DynamoDB resource for ``settings``.

    Throttling and transient errors are retried by the SDK's standard retry mode
    (jittered exponential backoff), at most 3 attempts in all, so a request
    never waits long behind a struggling table. The client keeps one pooled
    connection per ledger shard (botocore keeps 10 by default): a ledger page
    queries its :data:`~chalicelib.books.service.LEDGER_SHARDS` shards at once, and
    an eleventh connection would be opened and then dropped on every such page.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        max_pool_connections=LEDGER_SHARDS,
    )
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
    *,
    wall_clock: Clock = system_clock,
    ssm_client: Callable[[], Any] | None = None,
    observability: Observability | None = None,
    book_sizes: BookSizes = BookSizes(),
    sleep: Callable[[float], None] = time.sleep,
    cutoff: Cutoff = THREAD_CUTOFF,
    monotonic: Callable[[], float] = time.monotonic,
) -> Services:
    """The services of ``settings``' stage on ``table`` (a boto3 ``Table``; made from ``settings`` when ``None``).

    ``ssm_client``: a zero-argument factory of the SSM client that fetches the
    signing secret on deployed stages (created on first use only).
    ``observability``: default :meth:`Observability.for_stage`. ``book_sizes``:
    the books' shards and page size (tests pass small ones). ``sleep``: the
    store's retry backoff (tests pass one that returns at once). ``cutoff``
    and ``monotonic``: how a DynamoDB call is cut at the request's deadline and
    the deadlines' clock (:mod:`chalicelib.deadline`; tests pass fakes).
    """
    if table is None:
        table = dynamodb_resource(settings).Table(settings.table_name)
    door = Table(table, sleep=sleep, cutoff=cutoff)  # the one door to the table, shared by every access pattern
    releases, rotations = ReleaseStore(door), RotationStore(door)
    catalog = StoreCatalog(releases, rotations, page_cache=PageCache())
    secrets = SecretSource(settings, ssm_client)
    ref_key = functools.partial(secrets.derived_key, b"campaign-platform order ref v1")  # docs/donations.md
    # The books look campaigns up without riders (a sale needs no totals); a page's campaign read
    # takes the books' due counter shards along (one request: chalicelib/store/along.py).
    books = Books(BooksStore(door), functools.partial(catalog.campaign, read_along=False), sizes=book_sizes, ref_key=ref_key)
    catalog.riders = books.read_along
    return Services(
        settings=settings,
        clock=clock,
        wall_clock=wall_clock,
        table=door,
        releases=releases,
        rotations=rotations,
        catalog=catalog,
        books=books,
        verifier=WebhookVerifier(secrets, wall_clock),
        cursors=CursorSigner(lambda: secrets.derived_key(b"campaign-platform ledger cursor v1")),
        observability=(
            Observability.for_stage(settings.stage, settings.log_level, settings.metrics_flush_s)
            if observability is None
            else observability
        ),
        deadlines=Deadlines(monotonic, local_limit_s=settings.function_timeout_s if settings.stage == "local" else None),
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
