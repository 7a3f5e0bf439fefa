"""Rendered pages kept in the container, so a warm page costs no template render.

A body is cached under a key of everything it depends on (the route, format,
language, link prefix, the campaign or rotation object, the state at the
request's instant, and the charity totals), for at most ``ttl_s`` seconds
(60). The state is part of the key and is computed per request, so a cached
body is never served past a state change; a new publish brings new campaign
objects, so it is never served past a publish either.

The countdown is the one piece that changes every second: pages render it
with the placeholder tokens of :data:`COUNTDOWN_TOKENS`, the cache keeps the
body cut at the tokens (:class:`CountdownBody`), and each request's figures
are joined in (one copy of the body, no search).

The same cache also keeps what a warm page derives from its inputs
(:meth:`PageCache.get_or_make`): the homepage's view (its slots, live
campaigns and cache limit) between two boundaries. Such a value carries its
own validity (``valid``), checked on every hit.
"""
from __future__ import annotations

import functools
import re
import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from markupsafe import escape

LEFT_TOKEN = "\ue000countdown-left\ue000"
TEXT_TOKEN = "\ue000countdown-text\ue000"
COUNTDOWN_TOKENS = {"left": LEFT_TOKEN, "text": TEXT_TOKEN}
_TOKENS = re.compile(f"({re.escape(LEFT_TOKEN)}|{re.escape(TEXT_TOKEN)})")

T = TypeVar("T")


def fill_countdown(body: str, left_s: int | None, text: str) -> str:
    """Put a request's countdown (whole seconds, and its words) into a body rendered with the tokens."""
    return CountdownBody(body).fill(left_s, text)


@functools.lru_cache(maxsize=256)
def _escaped(text: str) -> str:
    """``text`` escaped for HTML; the countdown's words change once a minute, so they repeat."""
    return str(escape(text))


class CountdownBody:
    """A body rendered with :data:`COUNTDOWN_TOKENS`, cut once at the tokens.

    :meth:`fill` gives the body with a request's countdown in place of the
    tokens: ``left_s`` whole seconds (``None`` -> 0) and ``text`` (escaped
    for HTML). A body without tokens comes back as it is. The last filled
    body is kept: requests for the page within the same second get it
    without a copy of the whole body (a pure function of its two figures).
    """

    __slots__ = ("body", "_parts", "_last")

    def __init__(self, body: str) -> None:
        self.body = body
        # Even indexes: the text between tokens; odd indexes: the tokens themselves.
        self._parts = _TOKENS.split(body) if LEFT_TOKEN in body or TEXT_TOKEN in body else None
        self._last: tuple[int | None, str, str] | None = None

    def fill(self, left_s: int | None, text: str) -> str:
        parts = self._parts
        if parts is None:
            return self.body
        last = self._last
        if last is not None and last[0] == left_s and last[1] == text:
            return last[2]
        left, words = str(left_s or 0), _escaped(text)
        out = parts.copy()
        for i in range(1, len(out), 2):
            out[i] = left if out[i] == LEFT_TOKEN else words
        body = "".join(out)
        self._last = (left_s, text, body)  # one tuple, replaced whole: safe across threads
        return body


class PageCache:
    """A small LRU of rendered bodies with a TTL (``ttl_s`` seconds, at most ``max_entries``).

    ``anchor`` is the object the body was made from (a campaign), or a tuple
    of them (a rotation document and a catalog): an entry only matches while
    they are the very same objects, so a publish or a rotation, which bring
    new objects, is never answered from an older body. ``monotonic`` is the
    clock of the TTL, in seconds.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, ttl_s: float = 60.0, max_entries: int = 512) -> None:
        self._monotonic = monotonic
        self._ttl_s = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, object, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, anchor: object, render: Callable[[], str]) -> str:
        """The body cached under ``key`` for ``anchor``, else ``render()`` (then cached)."""
        return self.get_or_make(key, anchor, render)

    def get_or_make(
        self, key: Hashable, anchor: object, make: Callable[[], T], valid: Callable[[T], bool] | None = None
    ) -> T:
        """The value cached under ``key`` for ``anchor`` (and, with ``valid``, still valid), else ``make()``."""
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _same(entry[1], anchor) and now - entry[0] < self._ttl_s:
                if valid is None or valid(entry[2]):  # type: ignore[arg-type]
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return entry[2]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self.misses += 1
            self._entries[key] = (now, anchor, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value


def _same(a: object, b: object) -> bool:
    """``a is b``, or two tuples of the very same objects."""
    if a is b:
        return True
    if not isinstance(a, tuple) or not isinstance(b, tuple) or len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is not y:
            return False
    return True
