"""The books' in-container cache: each campaign's summed counters and its ledger's first page.

Values are kept ``ttl_s`` seconds (:class:`~chalicelib.books.service.Books`' ``cache_ttl_s``)
under keys ``(kind, campaign id)``, and dropped by a write of this container to the campaign.
During an outage a value read within ``STALE_IF_ERROR_S`` is served instead of a 503, and the
request is marked stale (:mod:`chalicelib.staleness`, docs/resilience.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from chalicelib import staleness
from chalicelib.errors import StoreUnavailable

CacheKey = tuple[str, str]  # ("books" or "ledger", campaign id)


class CampaignCache:
    """Per-key values with a TTL on ``monotonic()`` seconds, dropped by :meth:`invalidate`.

    A read that began before a write of the same campaign is not kept: :meth:`put` takes
    the :meth:`generation` read before the store was asked.
    """

    def __init__(self, monotonic: Callable[[], float], ttl_s: float) -> None:
        self._monotonic = monotonic
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._values: dict[Any, tuple[float, Any]] = {}
        self._generation: dict[str, int] = {}

    def get(self, key: CacheKey) -> Any:
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and self._monotonic() - hit[0] < self._ttl_s:
                return hit[1]
            return None

    def get_stale(self, key: CacheKey, max_age_s: float) -> Any:
        """The value under ``key`` even past its TTL, if read at most ``max_age_s`` seconds ago."""
        with self._lock:
            hit = self._values.get(key)
            if hit is not None and self._monotonic() - hit[0] <= max_age_s:
                return hit[1]
            return None

    def generation(self, campaign_id: str) -> int:
        with self._lock:
            return self._generation.get(campaign_id, 0)

    def put(self, key: CacheKey, campaign_id: str, generation: int, value: Any) -> None:
        with self._lock:
            if self._generation.get(campaign_id, 0) == generation:  # no write landed since the read began
                self._values[key] = (self._monotonic(), value)

    def invalidate(self, campaign_id: str) -> None:
        with self._lock:
            self._generation[campaign_id] = self._generation.get(campaign_id, 0) + 1
            for key in [k for k in self._values if k[1] == campaign_id]:
                del self._values[key]

    def stale(self, keys: Sequence[CacheKey], error: StoreUnavailable) -> dict[str, Any]:
        """During an outage: ``campaign id -> value`` of ``keys`` read within
        ``STALE_IF_ERROR_S`` (the request is marked stale), else ``error`` is raised (a 503)."""
        values = {key[1]: self.get_stale(key, staleness.STALE_IF_ERROR_S) for key in keys}
        if any(value is None for value in values.values()):
            raise error
        staleness.mark()
        return values
