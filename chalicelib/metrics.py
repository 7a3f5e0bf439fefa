"""The CloudWatch metrics a container holds, and when it writes them as EMF lines.

:class:`HeldMetrics` keeps the data points recorded by
:class:`chalicelib.observability.Observability` (which names the metrics and
their dimensions) and writes them through Powertools for AWS Lambda as
CloudWatch Embedded Metric Format (EMF) lines: one line per set of dimensions,
holding every value recorded since that set's last line.

When metrics are written (``flush_s``: the ``METRICS_FLUSH_S`` setting, 10 s on
deployed stages, :mod:`chalicelib.settings`). :meth:`HeldMetrics.flush_if_due`,
called at the end of each HTTP invocation, writes when ``flush_s`` seconds have
passed on the monotonic clock since the container's last write; the container's
first invocation writes at once, and ``flush_s`` 0 writes every invocation.
Scheduled runs and failed invocations call :meth:`HeldMetrics.flush` (at once).
A set is also written as soon as one of its metrics holds :data:`MAX_VALUES`
values, the EMF limit. Formatting and writing the EMF lines cost about as much
as a bare Chalice route when done on every request; once per interval they cost
nothing a request notices (``make bench``, section ``handler``; docs/scale.md).
What the interval costs:

- a container that is frozen, and never invoked again, loses what it held: at
  most its last ``flush_s`` seconds of requests' metrics (a container serves one
  request at a time, so at most the requests of those seconds on that container);
- each EMF line is stamped with the wall-clock time of its first value, so a data
  point may be filed up to ``flush_s`` seconds early in CloudWatch's one-minute
  periods;
- a request's data points reach CloudWatch up to ``flush_s`` seconds later
  (alarms evaluate whole minutes or more; docs/runbook.md).

Values are held here, not in Powertools' metric set: Powertools validates each
metric name and unit the first time the container records it (``add_metric``,
which raises on a bad one) and writes each EMF document
(``serialize_metric_set``); a later value is checked to be a number and
appended to a list. Powertools' own ``add_metric`` formats the metric's whole
value list into a debug message on every call (about 6 us with one value, more
with each value held), which is why the values do not go through it each time.
"""

from __future__ import annotations

import json
import numbers
import threading
import time
from collections.abc import Callable, Mapping

Emit = Callable[[str], None]

# The most values one metric may carry in one EMF document (the EMF specification:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
MAX_VALUES = 100

# CloudWatch's standard (one-minute) storage resolution, in seconds.
_STANDARD_RESOLUTION = 60

Dimensions = tuple[tuple[str, str], ...]


class HeldMetrics:
    """One container's metrics since their last EMF line, per set of dimensions.

    Parameters
    ----------
    namespace, service, stage:
        the EMF namespace, and the ``service`` and ``stage`` dimensions every line carries.
    emit:
        receives each EMF document as one line of JSON text.
    flush_s:
        seconds (on ``monotonic``) between :meth:`flush_if_due`'s writes; 0 writes every call.
    monotonic:
        the clock of ``flush_s``, seconds; tests pass a fake.
    wall:
        the wall clock, seconds since the epoch, that stamps each line.
    """

    def __init__(
        self,
        namespace: str,
        service: str,
        stage: str,
        emit: Emit | None,
        flush_s: float = 0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.namespace, self.service, self.stage = namespace, service, stage
        self.flush_s = flush_s
        self._emit = emit
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._sets: dict[Dimensions, _Batch] = {}
        self._units: dict[tuple[str, str], str] = {}  # (name, unit) -> the unit Powertools accepted
        self._due: float | None = None  # None: nothing written yet, the next flush_if_due writes

    def add(self, name: str, unit: str, value: float, dimensions: Mapping[str, str]) -> None:
        """Hold one data point of ``name`` (``unit`` a CloudWatch unit) with ``dimensions``.

        Raises Powertools' ``MetricNameError``/``MetricUnitError`` on a bad name or
        unit (checked the first time a name and unit are seen) and ``MetricValueError``
        on a value that is not a number. Writes the set's line when a metric of it
        holds :data:`MAX_VALUES` values.
        """
        if not isinstance(value, numbers.Number):
            from aws_lambda_powertools.metrics.exceptions import MetricValueError

            raise MetricValueError(f"{value} is not a valid number")
        key = tuple(sorted(dimensions.items()))
        lines: list[str] = []
        with self._lock:
            batch = self._sets.get(key)
            if batch is None:
                batch = self._sets[key] = _Batch(self, key)
            accepted = self._units.get((name, unit))
            if accepted is None:
                accepted = self._units[(name, unit)] = batch.check(name, unit, value)
            values = batch.record(name, accepted, float(value), self._wall)
            if len(values) >= MAX_VALUES:
                lines.append(batch.drain())
        self._write(lines)

    def flush(self) -> int:
        """Write the values held, one EMF line per set of dimensions that has any; returns how many lines."""
        with self._lock:
            lines = [batch.drain() for batch in self._sets.values() if batch.values]
        self._write(lines)
        return len(lines)

    def flush_if_due(self) -> int:
        """:meth:`flush` when ``flush_s`` has passed since the last write made here (always
        on the first call, and always when ``flush_s`` is 0); returns how many lines."""
        if self.flush_s > 0:
            now = self._monotonic()
            if self._due is not None and now < self._due:
                return 0
            self._due = now + self.flush_s
        return self.flush()

    def _write(self, lines: list[str]) -> None:
        if self._emit is not None:
            for line in lines:
                self._emit(line)


class _Batch:
    """The metrics of one set of dimensions recorded since its last flush (guarded by the owner's lock)."""

    def __init__(self, owner: HeldMetrics, key: Dimensions) -> None:
        from aws_lambda_powertools.metrics import EphemeralMetrics

        self.emf = EphemeralMetrics(namespace=owner.namespace, service=owner.service)
        self.emf.set_default_dimensions(stage=owner.stage, **dict(key))
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
