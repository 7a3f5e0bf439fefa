"""What every route answers, before it meets Chalice: a :class:`Response` value.

The pages, the signed webhooks and the static files all return one;
:func:`chalicelib.web.http.to_chalice` adds the security headers and makes
Chalice's response of it. This module imports no chalice, so the pages (and
``campaign preview``) run without it.

``Cache-Control`` of a cacheable response is ``public, max-age=N``
(:func:`cache_control`); a page's N never passes 300 s nor its next state
change (:func:`chalicelib.domain.window.max_age_s`). A response that must not
be kept says ``no-store`` (:data:`NO_STORE`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from chalicelib.domain.window import MAX_AGE_CAP_S

HTML = "text/html; charset=utf-8"
JSON = "application/json"

NO_STORE: Mapping[str, str] = MappingProxyType({"Cache-Control": "no-store"})


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
