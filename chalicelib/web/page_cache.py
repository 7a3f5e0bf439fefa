"""Rendered pages kept in the container, so a warm page costs no template render.

A body is cached under a key of everything it depends on besides the objects
it was made from (the route, the view's format, language and link prefix:
:meth:`chalicelib.web.view.View.cache_key`; the state at the request's
instant; the charity totals), for at most ``ttl_s`` seconds (60), and only
for those very objects (the ``anchor``: the campaign, or the rotation and
catalog). The state is part of the key and is computed per request, so a
cached body is never served past a state change; a publish or a rotation
brings new objects, so it is never served past one either.

The countdown is the one piece that changes every second:
:meth:`PageCache.countdown_body` renders a page once with the placeholder
tokens of :data:`COUNTDOWN_TOKENS`, keeps the body cut at the tokens
(:class:`CountdownBody`), and joins each request's figures in (one copy of
the body, no search).

The same cache also keeps what a warm page derives from its inputs
(:meth:`PageCache.get_or_make`): the homepage's view (its slots, live
campaigns and cache limit) between two boundaries. Such a value carries its
own validity (``valid``), checked on every hit. :data:`NO_CACHE` keeps
nothing (``campaign preview`` renders every page afresh, the same way).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar, cast

from markupsafe import escape

LEFT_TOKEN = "\ue000countdown-left\ue000"
TEXT_TOKEN = "\ue000countdown-text\ue000"
COUNTDOWN_TOKENS = {"left": LEFT_TOKEN, "text": TEXT_TOKEN}
_TOKENS = re.compile(f"({re.escape(LEFT_TOKEN)}|{re.escape(TEXT_TOKEN)})")

T = TypeVar("T")


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

    def body(self, key: Hashable, anchor: object, render: Callable[[], str]) -> str:
        """The body cached under ``key`` for ``anchor``, else ``render()`` (then cached)."""
        return self.get_or_make(key, anchor, render)

    def countdown_body(
        self, key: Hashable, anchor: object, render: Callable[[Mapping[str, str]], str], left_s: int | None, text: str
    ) -> str:
        """A body with a countdown, ``left_s`` whole seconds and its words ``text`` (escaped here).

        ``render(countdown)`` makes the body with ``countdown["left"]`` and
        ``countdown["text"]`` where the figures go; it is called with the
        tokens, once per key and anchor, and the body is kept cut at them.
        """
        return self.get_or_make(key, anchor, lambda: CountdownBody(render(COUNTDOWN_TOKENS))).fill(left_s, text)

    def get_or_make(self, key: Hashable, anchor: object, make: Callable[[], T], valid: Callable[[T], bool] | None = None) -> T:
        """The value cached under ``key`` for ``anchor`` (and, with ``valid``, still valid), else ``make()``."""
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and _same(entry[1], anchor) and now - entry[0] < self._ttl_s:
                kept = cast(T, entry[2])  # what make() returned for this key: the caller's T
                if valid is None or valid(kept):
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return kept
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
    for x, y in zip(a, b, strict=True):
        if x is not y:
            return False
    return True


class _NoCache(PageCache):
    """A :class:`PageCache` that keeps nothing: every value is made afresh."""

    def get_or_make(self, key: Hashable, anchor: object, make: Callable[[], T], valid: Callable[[T], bool] | None = None) -> T:
        return make()


NO_CACHE: PageCache = _NoCache(ttl_s=0.0, max_entries=0)
