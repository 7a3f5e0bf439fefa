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

When metrics are flushed (``metrics_flush_s``, the ``METRICS_FLUSH_S`` setting,
10 s on deployed stages, :mod:`chalicelib.settings`). An HTTP invocation
flushes when ``metrics_flush_s`` has passed on the monotonic clock since the
container's last flush, and the container's first invocation flushes at once;
0 flushes every invocation. A set is also flushed as soon as one of its metrics
holds :data:`MAX_VALUES` values, the EMF limit. Formatting and writing the EMF
lines cost about as much as a bare Chalice route per request when done on every
request; once per interval they cost nothing a request notices (``make bench``,
docs/scale.md). What the interval costs:

- a container that is frozen, and never invoked again, loses what it recorded
  since its last flush: at most ``metrics_flush_s`` seconds of its requests'
  metrics (a container serves one request at a time, so that is at most the
  requests of those seconds on that one container);
- each EMF line is stamped with the wall-clock time of the first value in it,
  so a data point may be filed up to ``metrics_flush_s`` seconds early in
  CloudWatch's one-minute periods;
- the metrics of a request reach CloudWatch up to ``metrics_flush_s`` seconds
  later (alarms evaluate whole minutes; docs/runbook.md).

Values are held by this module, not by Powertools' metric set: Powertools
validates each metric name and unit the first time the container records it
(``add_metric``, which raises on a bad one) and writes the EMF document
(``serialize_metric_set``); a later value is checked to be a number and appended
to a list. Powertools' own ``add_metric`` formats the metric's whole value list
into a debug message on every call (about 6 us with one value), which is why the
values do not go through it each time.

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
import json
import logging
import numbers
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import IO, Any

NAMESPACE = "CampaignPlatform"
SERVICE = "campaign-platform"

# The vocabulary of the ``state`` dimension of PageViews.
PAGE_STATES = ("teaser", "live", "ended", "not_found", "ok", "error")
ROTATION_OUTCOMES = ("written", "lost", "failed")

# By default, a request at least this slow (milliseconds of handler time) is logged at WARNING.
SLOW_REQUEST_MS = 1000.0

# The most values one metric may carry in one EMF document (the EMF specification:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
MAX_VALUES = 100

# CloudWatch's standard (one-minute) storage resolution, in seconds.
_STANDARD_RESOLUTION = 60

Emit = Callable[[str], None]


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
    metrics_flush_s:
        seconds (on ``monotonic``) between an HTTP invocation's flushes of the
        metrics; 0 (the default) flushes at every invocation. See the module's
        docstring for what a longer interval costs.
    monotonic:
        the clock of ``metrics_flush_s`` (seconds); tests pass a fake.
    wall:
        the wall clock, seconds since the epoch, that stamps each EMF line.
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
        self.metrics_flush_s = metrics_flush_s
        self._emit = emit
        self._log_stream = log_stream
        self._log_level = log_level
        self._library_logs = library_logs
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._sets: dict[tuple[tuple[str, str], ...], _Batch] = {}
        self._units: dict[tuple[str, str], str] = {}  # (name, unit) -> the unit Powertools accepted
        self._flush_due: float | None = None  # None: nothing flushed yet, the next invocation flushes
        self._ready: Any = None

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
        if self._emit is None:
            return
        if not isinstance(value, numbers.Number):
            from aws_lambda_powertools.metrics.exceptions import MetricValueError

            raise MetricValueError(f"{value} is not a valid number")
        key = tuple(sorted(dimensions.items()))
        lines: list[str] = []
        with self._lock:
            batch = self._sets.get(key)
            if batch is None:
                batch = self._sets[key] = _Batch(self.stage, key)
            accepted = self._units.get((name, unit))
            if accepted is None:
                accepted = self._units[(name, unit)] = batch.check(name, unit, value)
            values = batch.record(name, accepted, float(value), self._wall)
            if len(values) >= MAX_VALUES:
                lines.append(batch.drain())
        self._write(lines)

    def flush(self) -> int:
        """Emit the metrics recorded since the last flush; returns how many EMF lines.

        One line per set of dimensions that has values; none where metrics are dropped.
        """
        with self._lock:
            lines = [batch.drain() for batch in self._sets.values() if batch.values]
        self._write(lines)
        return len(lines)

    def flush_if_due(self) -> int:
        """:meth:`flush` when ``metrics_flush_s`` has passed since the last one made here
        (always on the first call, and always when the interval is 0); returns how many EMF lines."""
        if self.metrics_flush_s > 0:
            now = self._monotonic()
            if self._flush_due is not None and now < self._flush_due:
                return 0
            self._flush_due = now + self.metrics_flush_s
        return self.flush()

    def _write(self, lines: list[str]) -> None:
        if self._emit is not None:
            for line in lines:
                self._emit(line)

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
        """Chalice middleware for every event type: log keys, one summary line, metrics flushed.

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


class _Batch:
    """The metrics of one set of dimensions recorded since its last flush (guarded by the owner's lock)."""

    def __init__(self, stage: str, key: tuple[tuple[str, str], ...]) -> None:
        from aws_lambda_powertools.metrics import EphemeralMetrics

        self.emf = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        self.emf.set_default_dimensions(stage=stage, **dict(key))
        self.values: dict[str, list[float]] = {}
        self.units: dict[str, str] = {}
        self.first_ms = 0  # epoch milliseconds of the first value since the last drain

    def check(self, name: str, unit: str, value: float) -> str:
        """Powertools' validation of ``name``, ``unit`` and ``value`` (raises its errors); the unit it accepts."""
        self.emf.add_metric(name=name, unit=unit, value=value)
        accepted = str(self.emf.metric_set[name.strip()]["Unit"])
        self.emf.metric_set.clear()
        return accepted

    def record(self, name: str, unit: str, value: float, wall: Callable[[], float]) -> list[float]:
        """Append ``value`` to ``name``'s values; returns them."""
        if not self.values:
            self.first_ms = int(wall() * 1000)
        values = self.values.get(name)
        if values is None:
            values = self.values[name] = []
        self.units[name] = unit
        values.append(value)
        return values

    def drain(self) -> str:
        """The EMF line (JSON text) of the values held, which are then forgotten."""
        metrics = {
            name: {"Unit": self.units[name], "StorageResolution": _STANDARD_RESOLUTION, "Value": values}
            for name, values in self.values.items()
        }
        self.emf.set_timestamp(self.first_ms)
        line = json.dumps(self.emf.serialize_metric_set(metrics=metrics), separators=(",", ":"))
        self.values = {}
        return line


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
