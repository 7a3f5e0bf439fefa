"""What every route answers, before it meets Chalice: a :class:`Response` value.

The pages, the signed webhooks and the static files all return one;
:func:`chalicelib.web.http.to_chalice` adds the security headers and makes
Chalice's response of it. This module imports no chalice, so the pages (and
``campaign preview``) run without it.

``Cache-Control`` of a cacheable response is ``public, max-age=N``
(:func:`cache_control`); a page's N never passes 300 s nor its next state
change (:func:`chalicelib.domain.window.max_age_s`). A response that must not
be kept says ``no-store`` (:data:`NO_STORE`).

A page whose reads may be served stale during a DynamoDB outage is
decorated with :func:`may_serve_stale` (docs/resilience.md): when a cache did
stand in for a failed read, the page says so with ``Warning: 110`` and
``Cache-Control: no-cache``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, ParamSpec

from chalicelib import staleness
from chalicelib.domain.window import MAX_AGE_CAP_S

HTML = "text/html; charset=utf-8"
JSON = "application/json"

NO_STORE: Mapping[str, str] = MappingProxyType({"Cache-Control": "no-store"})
LIVE_TOTALS_MAX_AGE_S = 60  # a page that shows donation totals: they move with every sale
STALE_WARNING = '110 - "Response is Stale"'  # RFC 7234 section 5.5.1

P = ParamSpec("P")


@dataclass(frozen=True)
class Response:
    """A status, a body (text), its content type and the route's own headers.

    ``state``: the campaign state a page shows (``teaser``, ``live``,
    ``ended``), for the PageViews metric (:func:`chalicelib.observability.page_state`);
    ``None`` on anything else.
    """

    status: int
    body: str
    content_type: str = HTML
    headers: Mapping[str, str] = field(default_factory=dict)
    state: str | None = None


# "public, max-age=N" for every N a page may carry (0 to the 300 s cap), built once.
_MAX_AGE = tuple(f"public, max-age={n}" for n in range(MAX_AGE_CAP_S + 1))


def cache_control(max_age_s: int) -> dict[str, str]:
    """``{"Cache-Control": "public, max-age=N"}`` for ``max_age_s`` whole seconds (a fresh dict)."""
    value = _MAX_AGE[max_age_s] if 0 <= max_age_s <= MAX_AGE_CAP_S else f"public, max-age={max_age_s}"
    return {"Cache-Control": value}


def json_text(value: Any) -> str:
    """A JSON body: UTF-8 text as is (``ensure_ascii=False``), keys in the order given."""
    return json.dumps(value, ensure_ascii=False)


def may_serve_stale(page_function: Callable[P, Response]) -> Callable[P, Response]:
    """Decorate a page function whose reads may be served stale (:mod:`chalicelib.staleness`).

    It begins the request's stale flag, calls the page, and when a cache
    served a value past its TTL, returns the response with ``Warning: 110``
    and ``Cache-Control: no-cache`` in place of its own.
    """

    @functools.wraps(page_function)
    def page(*args: P.args, **kwargs: P.kwargs) -> Response:
        served = staleness.begin()
        response = page_function(*args, **kwargs)
        if not served.stale:
            return response
        return replace(response, headers={**response.headers, "Warning": STALE_WARNING, "Cache-Control": "no-cache"})

    return page
