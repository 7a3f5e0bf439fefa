"""Structured JSON logs and CloudWatch metrics for the Lambda handlers.

Both go through Powertools for AWS Lambda (Python): logs through its
``Logger`` (one JSON object per line), metrics through its CloudWatch
Embedded Metric Format (EMF) provider. Lambda writes stdout to CloudWatch
Logs, and CloudWatch turns each EMF line into metric data points: no API
call, no ``cloudwatch:PutMetricData`` permission, no added latency.

Nothing happens at import: Powertools is imported, and the logger and the
metric sets are built, on first use (the first invocation), so importing
``app`` stays cheap and reads no environment variable.

One invocation (the Chalice middleware :meth:`Observability.middleware`, registered in
``app.py`` for every event type on the container's instance, which
:func:`chalicelib.wiring.build` makes):

1. clears the per-request log keys and binds ``request_id`` (API Gateway's
   ``requestContext.requestId``, also the correlation id),
   ``lambda_request_id`` (the Lambda context's ``aws_request_id``), and
   ``campaign_id`` when the route has one;
2. runs the handler, which records metrics with the methods below (and may
   :meth:`~Observability.bind` more log keys, e.g. a webhook's ``campaign_id``);
3. logs one ``request`` line (method, route, path, status, ``duration_ms``):
   at WARNING for a 5xx answer or one slower than :data:`SLOW_REQUEST_MS` (1 s),
   else at DEBUG (see below); ``invocation`` for a scheduled event, and
   ``unhandled error`` with the traceback if the handler raised;
4. flushes the metrics when they are due (:meth:`Observability.flush_if_due`):
   one EMF line per set of dimensions, holding every value recorded since the
   last flush. A scheduled event, and a handler that raised, flush at once.

When metrics are written: :mod:`chalicelib.metrics` holds them and writes them
every ``METRICS_FLUSH_S`` seconds (10 on deployed stages), and says what that costs.

Metrics, namespace :data:`NAMESPACE`; every one also has the dimensions
``service`` (:data:`SERVICE`) and ``stage``:

================================  =========  ================================  ==========================
metric                            unit       dimensions                        recorded by
================================  =========  ================================  ==========================
``PageViews``                     Count      ``page``, ``state``               :meth:`~Observability.page_view`
``Rotations``                     Count      ``outcome``                       :meth:`~Observability.rotation`
``RotationSlots``                 Count      ``outcome``                       :meth:`~Observability.rotation`
``SalesRecorded``                 Count      ``kind``                          :meth:`~Observability.sale`
``SalesAmountFen``                None       ``kind``                          :meth:`~Observability.sale`
``DonationsFen``                  None       ``source`` (sale, points)         :meth:`~Observability.sale`, ``point_donation``
``Refunds``                       Count      (none)                            :meth:`~Observability.refund`
``RefundsAmountFen``              None       (none)                            :meth:`~Observability.refund`
``DonationsReversedFen``          None       (none)                            :meth:`~Observability.refund`
``PointDonations``                Count      (none)                            :meth:`~Observability.point_donation`
``PointsDonated``                 Count      (none)                            :meth:`~Observability.point_donation`
``SystemRequests``                Count      ``route``, ``status``             :meth:`~Observability.system_request`
``InvocationErrors``              Count      ``event``                         :meth:`~Observability.middleware`
================================  =========  ================================  ==========================

Amounts are integer fen (1/100 yuan), never floats of yuan: CloudWatch sums
them exactly up to 2**53 fen. Campaign ids are never dimensions (each
distinct dimension value is a billed custom metric); they ride in the logs.

Where the output goes (:meth:`Observability.for_stage`): on a deployed stage
metrics are printed to stdout and logs are written at INFO. On the ``local``
stage (``campaign serve``, the tests) metrics are dropped and logs are
written at WARNING, so a terminal is not flooded. Tests hand their own
:class:`Observability` to :func:`chalicelib.wiring.build` to capture both.

Why a healthy request's line is DEBUG (docs/scale.md: a warm page within 3x a bare
Chalice route). A Powertools log record costs about 60-80 us here, more than
a whole bare Chalice request, while a disabled one costs about 1 us. Every
request is still on record without it: API Gateway's access log and Lambda's
own ``REPORT`` line (duration, memory) per invocation, and the ``PageViews``
and ``SystemRequests`` metrics. What needs a look (a 5xx, a slow answer, an
error) is always logged. Set ``LOG_LEVEL=DEBUG`` on a stage to get one line
per request (docs/runbook.md).
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import IO, Any

from chalicelib.metrics import Emit, HeldMetrics

NAMESPACE = "CampaignPlatform"
SERVICE = "campaign-platform"

# The vocabulary of the ``state`` dimension of PageViews.
PAGE_STATES = ("teaser", "live", "ended", "not_found", "ok", "error")
ROTATION_OUTCOMES = ("written", "lost", "failed")

# By default, a request at least this slow (milliseconds of handler time) is logged at WARNING.
SLOW_REQUEST_MS = 1000.0


def _print_line(line: str) -> None:
    print(line, flush=True)


class Observability:
    """The logger and the metrics of one container.

    Parameters
    ----------
    stage:
        the ``stage`` dimension of every metric (``dev``, ``prod``, ...).
    emit:
        receives each EMF document as one line of JSON text; ``None`` drops
        metrics. Lambda: :func:`print` to stdout.
    log_stream:
        where the JSON log lines go (default ``sys.stdout`` at first use).
    log_level:
        ``"INFO"``, ``"WARNING"``, ...
    library_logs:
        also send the ``chalicelib.*`` loggers (``log.exception`` in
        :mod:`chalicelib.web.http`, ...) through the JSON handler, and stop them
        propagating to the root logger (Lambda's plain-text handler). On for
        deployed stages; off by default, so tests' ``caplog`` still sees them.
    slow_request_ms:
        handler time (milliseconds) from which a request's line is a WARNING.
    metrics_flush_s, monotonic, wall:
        seconds between an HTTP invocation's metric flushes (0, the default: every
        invocation), their clock, and the clock stamping EMF lines (:class:`chalicelib.metrics.HeldMetrics`).
    """

    def __init__(
        self,
        stage: str,
        emit: Emit | None = _print_line,
        log_stream: IO[str] | None = None,
        log_level: str = "INFO",
        library_logs: bool = False,
        slow_request_ms: float = SLOW_REQUEST_MS,
        metrics_flush_s: float = 0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.stage = stage
        self.slow_request_ms = slow_request_ms
        self._emit = emit
        self._log_stream = log_stream
        self._log_level = log_level
        self._library_logs = library_logs
        self._metrics = HeldMetrics(NAMESPACE, SERVICE, stage, emit, metrics_flush_s, monotonic=monotonic, wall=wall)
        self._ready: Any = None

    @property
    def metrics_flush_s(self) -> float:
        """Seconds between an HTTP invocation's flushes (0: every invocation)."""
        return self._metrics.flush_s

    @classmethod
    def for_stage(cls, stage: str, log_level: str = "INFO", metrics_flush_s: float = 0) -> Observability:
        """The default for ``stage``: metrics to stdout, flushed every ``metrics_flush_s``
        seconds, and logs at ``log_level``; except on ``local`` (no metrics, WARNING logs)."""
        if stage == "local":
            return cls(stage, emit=None, log_level="WARNING")
        return cls(stage, log_level=log_level, library_logs=True, metrics_flush_s=metrics_flush_s)

    # ------------------------------------------------------------ logs

    def logger(self) -> Any:
        """The Powertools ``Logger`` (one per process, named :data:`SERVICE`), writing to this instance's stream."""
        logger = _powertools_logger()
        handler = logger.registered_handler
        stream = self._log_stream if self._log_stream is not None else sys.stdout
        if self._ready is logger and handler.stream is stream:
            return logger  # configured already: setLevel clears every logger's cache, ~0.2 ms a call
        if handler.stream is not stream:
            handler.setStream(stream)
        logger.setLevel(self._log_level)
        if self._library_logs:
            _route_library_logs(logger)
        self._ready = logger
        return logger

    def begin(self, **keys: Any) -> None:
        """Start an invocation: forget the previous one's keys, bind ``keys``.

        ``request_id`` is also the ``correlation_id`` of every line.
        """
        self.logger()
        present = {k: v for k, v in keys.items() if v is not None}
        _invocation_keys.set({"correlation_id": present.get("request_id"), **present})

    def bind(self, **keys: Any) -> None:
        """Add keys (``campaign_id=...``) to every log line of this invocation; ``None`` values are skipped."""
        present = {k: v for k, v in keys.items() if v is not None}
        if present:
            _invocation_keys.set({**_invocation_keys.get(), **present})

    # ------------------------------------------------------------ metrics

    def add(self, name: str, unit: str, value: float, **dimensions: str) -> None:
        """Record one data point of ``name`` with ``dimensions`` (plus service and stage).

        ``unit`` is a CloudWatch unit (``"Count"``, ``"None"``, ``"Milliseconds"``);
        ``value`` a number (fen amounts are integers, exact up to 2**53).
        Raises Powertools' ``MetricNameError``/``MetricUnitError`` on a bad name or
        unit and ``MetricValueError`` on a value that is not a number.
        Where metrics are dropped (``emit`` is ``None``: the local stage) nothing is
        recorded, so the local handlers pay nothing for them.
        """
        if self._emit is not None:
            self._metrics.add(name, unit, value, dimensions)

    def flush(self) -> int:
        """Emit the metrics held since the last flush; returns how many EMF lines.

        One line per set of dimensions that has values; none where metrics are dropped.
        """
        return self._metrics.flush()

    def flush_if_due(self) -> int:
        """:meth:`flush` when ``metrics_flush_s`` has passed since the last flush made here
        (always on the first call, and always when the interval is 0); returns how many EMF lines."""
        return self._metrics.flush_if_due()

    # ------------------------------------------------------------ what handlers record

    def page_view(self, page: str, state: str) -> None:
        """One consumer page served: ``page`` is ``campaign``, ``homepage``, ``charity``,
        ``ledger`` or ``impact`` (HTML and JSON alike); ``state`` one of :data:`PAGE_STATES`."""
        self.add("PageViews", "Count", 1, page=page, state=state)

    def rotation(self, outcome: str, slots: int = 0) -> None:
        """One homepage rotation run: ``outcome`` ``written`` (with the ``slots`` it filled),
        ``lost`` (another run wrote first) or ``failed``."""
        self.add("Rotations", "Count", 1, outcome=outcome)
        self.add("RotationSlots", "Count", slots, outcome=outcome)

    def sale(self, kind: str, amount_fen: int, donation_fen: int) -> None:
        """A sale recorded for the first time (not a replay): the campaign ``kind``
        (``featured``, ``charity_sale``, ``regional_store``), the paid ``amount_fen``
        and the order's ``donation_fen`` (0 for kinds other than charity sales)."""
        self.add("SalesRecorded", "Count", 1, kind=kind)
        self.add("SalesAmountFen", "None", amount_fen, kind=kind)
        if donation_fen:
            self.add("DonationsFen", "None", donation_fen, source="sale")

    def refund(self, amount_fen: int, donation_reversed_fen: int) -> None:
        """A refund recorded for the first time: its ``amount_fen`` and the donation it reversed."""
        self.add("Refunds", "Count", 1)
        self.add("RefundsAmountFen", "None", amount_fen)
        self.add("DonationsReversedFen", "None", donation_reversed_fen)

    def point_donation(self, points: int, amount_fen: int) -> None:
        """A point donation recorded for the first time: ``points`` given, worth ``amount_fen``."""
        self.add("PointDonations", "Count", 1)
        self.add("PointsDonated", "Count", points)
        if amount_fen:
            self.add("DonationsFen", "None", amount_fen, source="points")

    def system_request(self, route: str, status: int) -> None:
        """One signed system request answered: ``route`` (``sales``, ``refunds``,
        ``point-donations``) and its HTTP ``status`` (201, 200 replay, 401, 409, 422, ...)."""
        self.add("SystemRequests", "Count", 1, route=route, status=str(status))

    # ------------------------------------------------------------ the middleware

    def middleware(self, event: Any, get_response: Callable[[Any], Any]) -> Any:
        """Chalice middleware for every event type: log keys, one summary line, metrics flushed when due.

        Registered in ``app.py`` for every event type, on the container's instance (built by
        :func:`chalicelib.wiring.build`).
        Exceptions from the handler are logged with their traceback and re-raised
        (Chalice then answers 500 for HTTP; the route decorators in
        :mod:`chalicelib.web.http` catch everything first, so this is the last line).
        """
        obs = self
        keys = _request_keys(event)
        obs.begin(**keys)
        started = time.perf_counter()
        kind = "http" if "method" in keys else "scheduled"
        try:
            response = get_response(event)
        except Exception:
            obs.add("InvocationErrors", "Count", 1, event=kind)
            obs.logger().exception("unhandled error", extra={"duration_ms": _ms(started)})
            obs.flush()  # at once: the container may not serve another request
            raise
        status = getattr(response, "status_code", None)
        if kind == "http":
            duration_ms = _ms(started)
            logger = obs.logger()
            notable = (status or 0) >= 500 or duration_ms >= obs.slow_request_ms
            (logger.warning if notable else logger.debug)("request", extra={"status": status, "duration_ms": duration_ms})
            obs.flush_if_due()
        else:
            obs.logger().info("invocation", extra={"result": response, "duration_ms": _ms(started)})
            obs.flush()  # a scheduled run is minutes from the next one: its metrics go out with it
        return response


_powertools: Any = None
_powertools_lock = threading.Lock()


# The keys of the invocation running in this thread (begin/bind); a ContextVar, since
# ``chalice local`` serves requests on several threads.
_invocation_keys: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "invocation_keys", default=MappingProxyType({})
)


class _InvocationKeys(logging.Filter):
    """Puts the invocation's keys on each record the JSON handler writes.

    Powertools' formatter writes a record's extra attributes as keys, so this
    is the ``Logger.append_keys`` effect, paid only when a line is written
    (most requests write none): binding keys through Powertools cost about
    12 us a request, a third of a bare Chalice route (docs/scale.md). A key the
    call itself passed (``extra=``) wins.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        attributes = record.__dict__
        for key, value in _invocation_keys.get().items():
            if value is not None and key not in attributes:
                attributes[key] = value
        return True


def _powertools_logger() -> Any:
    """Build the process's Powertools ``Logger`` once (Powertools keeps one per service name),
    its handler carrying the invocation's keys (:class:`_InvocationKeys`)."""
    global _powertools
    if _powertools is None:
        with _powertools_lock:
            if _powertools is None:
                from aws_lambda_powertools import Logger

                logger = Logger(service=SERVICE, stream=sys.stdout, level="INFO", utc=True)
                logger.registered_handler.addFilter(_InvocationKeys())
                _powertools = logger
    return _powertools


_library_logs_routed = False


def _route_library_logs(logger: Any) -> None:
    """Once per process: the ``chalicelib`` loggers write through ``logger``'s JSON handler."""
    global _library_logs_routed
    if _library_logs_routed:
        return
    from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

    logging.getLogger("chalicelib")  # registered, so the copy below finds it
    copy_config_to_registered_loggers(source_logger=logger, include={"chalicelib"})
    _library_logs_routed = True


def page_state(page: Any) -> str:
    """The ``state`` dimension for a rendered page (any response with ``status`` and an optional ``state``).

    The campaign state when the page carries one (``teaser``, ``live``,
    ``ended``); else from the status: 404 ``not_found``, 410 ``ended``,
    5xx ``error``, anything else ``ok``.
    """
    state = getattr(page, "state", None)
    if state:
        return str(state)
    status = int(page.status)
    if status == 404:
        return "not_found"
    if status == 410:
        return "ended"
    if status >= 500:
        return "error"
    return "ok"


def _request_keys(event: Any) -> dict[str, Any]:
    """Log keys of a Chalice event: HTTP ``Request`` or a scheduled ``CloudWatchEvent``."""
    keys: dict[str, Any] = {}
    lambda_context = getattr(event, "lambda_context", None)
    if hasattr(event, "method"):  # an HTTP request
        context: Mapping[str, Any] = event.context or {}
        keys["request_id"] = context.get("requestId")
        keys["method"] = event.method
        keys["route"] = context.get("resourcePath")
        keys["path"] = context.get("path") or event.path
        keys["campaign_id"] = (event.uri_params or {}).get("campaign_id")
    else:  # a scheduled event: its context is the Lambda context
        lambda_context = getattr(event, "context", None)
        keys["event"] = "scheduled"
        keys["rule"] = ",".join(getattr(event, "resources", None) or []) or None
    keys["lambda_request_id"] = getattr(lambda_context, "aws_request_id", None)
    if keys.get("request_id") is None:
        keys["request_id"] = keys["lambda_request_id"]
    return keys


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
