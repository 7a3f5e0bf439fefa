"""A per-container rate limit for lookups a crawler could enumerate ("find my order", docs/donations.md).

:class:`LookupLimiter` is a token bucket per client address: ``burst`` lookups at once, then
one every ``60 / per_minute`` seconds. It is a brake, not the fence: each Lambda container
counts its own clients, so the stage's real limit is API Gateway's throttling of the route
(docs/donations.md says which). Memory is bounded: past ``max_clients`` addresses the
longest-idle ones are forgotten.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

LOOKUPS_PER_MINUTE = 20
LOOKUP_BURST = 10
MAX_CLIENTS = 10_000


class LookupLimiter:
    """``allow(client)`` -> ``0`` when a lookup may run now, else the whole seconds to wait (``Retry-After``)."""

    def __init__(
        self,
        per_minute: int = LOOKUPS_PER_MINUTE,
        burst: int = LOOKUP_BURST,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._monotonic = monotonic
        self._max = max_clients
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def allow(self, client: str) -> int:
        now = self._monotonic()
        with self._lock:
            tokens, at = self._buckets.pop(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - at) * self._rate)
            wait = 0 if tokens >= 1 else max(1, int(-(-(1 - tokens) // self._rate)))
            self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
            return wait
