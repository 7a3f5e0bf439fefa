"""The deadline of the request being answered: every DynamoDB call of it shares one.

A request (or the scheduled rotation) begins with :meth:`Deadlines.begin`,
which sets its :class:`Deadline`: ``now + min(budget of its kind, the
function's remaining time - RESERVE_S)`` on a monotonic clock. The door to
the table (:class:`chalicelib.store.table.Table`) reads :func:`current` before
each call and gives the call only what is left (docs/resilience.md, "Every
request within a deadline"). Outside a begun request (the ``campaign``
command) there is no deadline: the SDK's own timeouts apply.

Budgets, in seconds of DynamoDB time a request may spend (docs/resilience.md):

============  =====  ===================================================================
kind          s      why
============  =====  ===================================================================
``page``      0.8    a page's stale copy or its 503 within about 1 s of DynamoDB hanging
``system``    4.0    a signed write: room for the SDK's retries and a transaction conflict,
                     well inside the API function's 10 s and API Gateway's 29 s
``rotation``  45.0   the scheduled rotation, inside its function's 60 s
============  =====  ===================================================================

The remaining time is Lambda's ``context.get_remaining_time_in_millis()``
(``chalice local`` hands over a context too, of the stage's
``lambda_timeout``, 900 s when unset); ``local_limit_s`` caps it locally
(``FUNCTION_TIMEOUT_S``, :class:`chalicelib.settings.Settings`), so a local
request has the deployed function's 10 s.

The deadline is a ``ContextVar``: ``chalice local`` answers on several threads.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

BUDGETS_S: Mapping[str, float] = MappingProxyType({"page": 0.8, "system": 4.0, "rotation": 45.0})
RESERVE_S = 0.5  # kept from the function's remaining time to render and send the answer


@dataclass(frozen=True)
class Deadline:
    """A request's deadline: ``at_s`` on ``monotonic`` (seconds); ``kind`` names its budget."""

    kind: str
    at_s: float
    monotonic: Callable[[], float]

    def remaining_s(self) -> float:
        """Seconds left before the deadline (0 or less: it has passed)."""
        return self.at_s - self.monotonic()


_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the request being answered, or ``None`` outside one."""
    return _current.get()


class Deadlines:
    """Makes each request's :class:`Deadline`: ``monotonic`` (seconds) is injected, ``budgets_s``
    by kind (:data:`BUDGETS_S`), ``local_limit_s`` caps the function's remaining time (``None``: no cap)."""

    def __init__(
        self,
        monotonic: Callable[[], float] = time.monotonic,
        budgets_s: Mapping[str, float] = BUDGETS_S,
        local_limit_s: float | None = None,
    ) -> None:
        self.monotonic = monotonic
        self.budgets_s = budgets_s
        self.local_limit_s = local_limit_s

    def deadline(self, kind: str, lambda_context: Any = None) -> Deadline:
        """The deadline of a request of ``kind`` starting now, in a function whose
        ``lambda_context`` says how long it has left (``None``: no context)."""
        budget = self.budgets_s[kind]
        left = None
        remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
        if remaining_ms is not None:
            left = remaining_ms() / 1000.0
        if self.local_limit_s is not None:
            left = self.local_limit_s if left is None else min(left, self.local_limit_s)
        if left is not None:
            budget = max(0.0, min(budget, left - RESERVE_S))
        return Deadline(kind, self.monotonic() + budget, self.monotonic)

    @contextlib.contextmanager
    def begin(self, kind: str, lambda_context: Any = None) -> Iterator[Deadline]:
        """Answer a request of ``kind`` within its deadline (see :meth:`deadline`); restored on exit."""
        deadline = self.deadline(kind, lambda_context)
        token = _current.set(deadline)
        try:
            yield deadline
        finally:
            _current.reset(token)
