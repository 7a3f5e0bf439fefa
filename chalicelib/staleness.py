"""Whether the request being answered used a value kept past its TTL because DynamoDB failed.

Stale-if-error (docs/resilience.md): during an outage, a page whose reads are in the
container's cache is served from them for up to 10 minutes, and says so. The catalog
(campaigns, rotation) and the books (totals, a ledger's first page) both keep such
values, deep below the page, so the flag is per request, in a ``ContextVar``
(``chalice local`` answers requests on several threads).

A page begins its request with :func:`begin`, which returns the request's
:class:`Served`; the caches call :func:`mark` when they serve a stale value; the
page reads ``served.stale`` when it is done
(:func:`chalicelib.web.response.may_serve_stale` does all three for a page function).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

STALE_IF_ERROR_S = 600.0  # how long a cached read may stand in for a failed one: 10 minutes


@dataclass
class Served:
    """What the request being answered was served: ``stale`` once a cache stood in for a failed read."""

    stale: bool = False


_current: contextvars.ContextVar[Served | None] = contextvars.ContextVar("served", default=None)


def begin() -> Served:
    """A new request: nothing stale served yet. Returns its :class:`Served`, which :func:`mark` sets."""
    served = Served()
    _current.set(served)
    return served


def mark() -> None:
    """A cache served a value past its TTL because its read failed (outside a begun request: nothing to mark)."""
    served = _current.get()
    if served is not None:
        served.stale = True
