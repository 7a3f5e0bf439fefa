"""Rendered pages kept in the container, so a warm page costs no template render.

A body is cached under a key of everything it depends on (the route, format,
language, link prefix, the campaign or rotation object, the state at the
request's instant, and the charity totals), for at most ``ttl_s`` seconds
(60). The state is part of the key and is computed per request, so a cached
body is never served past a state change; a new publish brings new campaign
objects, so it is never served past a publish either.

The countdown is the one piece that changes every second: pages render it
with the placeholder tokens of :data:`COUNTDOWN_TOKENS` and
:func:`fill_countdown` puts each request's figures in (cheap ``str.replace``).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable

from markupsafe import escape

LEFT_TOKEN = "\ue000countdown-left\ue000"
TEXT_TOKEN = "\ue000countdown-text\ue000"
COUNTDOWN_TOKENS = {"left": LEFT_TOKEN, "text": TEXT_TOKEN}


def fill_countdown(body: str, left_s: int | None, text: str) -> str:
    """Put a request's countdown (whole seconds, and its words) into a cached body."""
    if LEFT_TOKEN not in body:
        return body
    return body.replace(LEFT_TOKEN, str(left_s or 0)).replace(TEXT_TOKEN, str(escape(text)))


class PageCache:
    """A small LRU of rendered bodies with a TTL (``ttl_s`` seconds, at most ``max_entries``).

    ``anchor`` is the object the body was made from (a campaign), or a tuple
    of them (a rotation document and a catalog): an entry only matches while
    they are the very same objects, so a publish or a rotation, which bring
    new objects, is never answered from an older body.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, ttl_s: float = 60.0, max_entries: int = 512) -> None:
        self._monotonic = monotonic
        self._ttl_s = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, object, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, anchor: object, render: Callable[[], str]) -> str:
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _same(entry[1], anchor) and now - entry[0] < self._ttl_s:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[2]
        body = render()
        with self._lock:
            self.misses += 1
            self._entries[key] = (now, anchor, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return body


def _same(a: object, b: object) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(x is y for x, y in zip(a, b))
    return a is b
