"""Whether the request being answered used a value kept past its TTL because DynamoDB failed.

Stale-if-error (issue 9): during an outage, a page whose reads are in the container's
cache is served from them for up to 10 minutes, saying so with ``Warning: 110`` (RFC 7234
section 5.5.1) and ``Cache-Control: no-cache``. The catalog (campaigns, rotation) and the
books (totals, a ledger's first page) both keep such values, so the flag is per request,
in a ``ContextVar`` (``chalice local`` answers requests on several threads).

A page function calls :func:`begin` first (or is decorated with :func:`flagged`), the
caches call :func:`mark` when they serve a stale value, and :func:`flag` sets the headers
on the response.
"""
from __future__ import annotations

import contextvars
import functools
from dataclasses import replace
from typing import Callable, ParamSpec

from chalicelib.web.response import Response

STALE_WARNING = '110 - "Response is Stale"'  # RFC 7234 section 5.5.1
STALE_IF_ERROR_S = 600.0  # how long a cached read may stand in for a failed one (issue 9: 10 minutes)

P = ParamSpec("P")

_stale: contextvars.ContextVar[bool] = contextvars.ContextVar("served_stale", default=False)


def begin() -> None:
    """A new request: nothing stale served yet."""
    _stale.set(False)


def mark() -> None:
    """A cache served a value past its TTL because its read failed."""
    _stale.set(True)


def served() -> bool:
    return _stale.get()


def flag(page: Response) -> Response:
    """``page`` with ``Warning`` and ``Cache-Control: no-cache`` when this request served stale values."""
    if not _stale.get():
        return page
    return replace(page, headers={**page.headers, "Warning": STALE_WARNING, "Cache-Control": "no-cache"})


def flagged(page_function: Callable[P, Response]) -> Callable[P, Response]:
    """Decorate a page function: :func:`begin` before it, :func:`flag` on what it returns."""

    @functools.wraps(page_function)
    def page(*args: P.args, **kwargs: P.kwargs) -> Response:
        begin()
        return flag(page_function(*args, **kwargs))

    return page
