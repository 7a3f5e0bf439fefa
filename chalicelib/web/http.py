"""The only chalicelib module that imports chalice: requests in, responses out.

It reads the language and the path prefix from the request, turns a
:class:`~chalicelib.web.pages.common.PageResponse` into a Chalice ``Response``, and maps
the exception tree of :mod:`chalicelib.errors` to HTML or JSON error pages
(never a traceback).

Every response leaves through :func:`to_response`, which adds the security
headers once for all routes: ``X-Content-Type-Options: nosniff`` and
``Referrer-Policy`` on everything, and on HTML a Content-Security-Policy
that allows no inline script or style at all (the pages load one hashed
stylesheet and one hashed script from ``/static/``; images may also come
from https URLs) and no framing.
"""
from __future__ import annotations

import functools
import logging
import re
from typing import Any, Callable

from chalice import Response

from chalicelib.errors import PlatformError
from chalicelib.web.pages.common import Links, error_response, pick_lang
from chalicelib.web.response import Response as PageResponse

log = logging.getLogger(__name__)

_PARAM = re.compile(r"\{([^}+]+)\+?\}")


def lang_of(request: Any) -> str:
    """The page language the query asks for (``?lang=en``); ``zh-CN`` by default."""
    params = request.query_params
    return pick_lang(params.get("lang") if params else None)


def prefix_of(request: Any) -> str:
    """The path prefix in front of our routes: ``"/api"`` on the raw execute-api URL
    (its stage), ``""`` locally and on a custom domain."""
    context = request.context or {}
    params = request.uri_params
    return _prefix(
        str(context.get("path") or ""),
        str(context.get("resourcePath") or ""),
        tuple(params.items()) if params else (),
    )


@functools.lru_cache(maxsize=1024)
def _prefix(full: str, resource: str, params: tuple[tuple[str, Any], ...]) -> str:
    """:func:`prefix_of` of a (path, resource, path parameters); kept for the paths seen last."""
    values = dict(params)
    actual = _PARAM.sub(lambda m: str(values.get(m.group(1), "")), resource)
    full_s, actual_s = full.rstrip("/"), actual.rstrip("/")
    if actual_s and full_s.endswith(actual_s):
        return full_s[: len(full_s) - len(actual_s)]
    if not actual_s:
        return full_s
    return ""


def links_of(request: Any) -> Links:
    """The request's :class:`Links`: its path prefix and language (``links.lang``)."""
    return _links(prefix_of(request), lang_of(request))


@functools.lru_cache(maxsize=64)
def _links(prefix: str, lang: str) -> Links:
    return Links(prefix=prefix, lang=lang)  # frozen: one instance per (prefix, language) is shared


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
HTML_SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}


def security_headers(content_type: str) -> dict[str, str]:
    """The headers every response carries; HTML also gets the CSP."""
    if content_type.startswith("text/html"):
        return {**SECURITY_HEADERS, **HTML_SECURITY_HEADERS}
    return dict(SECURITY_HEADERS)


@functools.lru_cache(maxsize=32)
def _fixed_headers(content_type: str) -> dict[str, str]:
    """The security headers then ``Content-Type``, built once per content type. Never changed: copied."""
    return {**security_headers(content_type), "Content-Type": content_type}


def to_response(page: PageResponse) -> Response:
    """The Chalice response: the security headers, ``Content-Type``, then the page's own headers
    (the same order as ``{**security_headers(ct), **page.all_headers()}``), in a dict of its own."""
    headers = {**_fixed_headers(page.content_type), **page.headers}
    return Response(body=page.body, status_code=page.status, headers=headers)


def handles_errors(fmt: str) -> Callable:
    """Decorator for a route: platform errors become error pages, anything else a 500."""

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            try:
                return view(*args, **kwargs)
            except PlatformError as exc:
                request = _current_request()
                lang = lang_of(request) if request is not None else "zh-CN"
                links = links_of(request) if request is not None else Links()
                if exc.STATUS_CODE >= 500:
                    log.error("request failed: %s: %s", exc.CODE, exc)
                page = error_response(exc.STATUS_CODE, exc.CODE, str(exc), fmt, lang, links, field=getattr(exc, "field", None))
                response = to_response(page)
                if exc.STATUS_CODE == 503:
                    response.headers["Retry-After"] = "30"
                return response
            except Exception:  # noqa: BLE001 - the last line of defence: no traceback to consumers
                log.exception("unexpected error in %s", view.__name__)
                request = _current_request()
                links = links_of(request) if request is not None else Links()
                lang = lang_of(request) if request is not None else "zh-CN"
                return to_response(error_response(500, "internal_error", "internal error", fmt, lang, links))

        return wrapper

    return decorate


_request_getter: Callable[[], Any] = lambda: None  # noqa: E731


def bind_request_getter(getter: Callable[[], Any]) -> None:
    """``app.py`` hands in ``lambda: app.current_request`` (chalicelib never reaches for it)."""
    global _request_getter
    _request_getter = getter


def _current_request() -> Any:
    try:
        return _request_getter()
    except Exception:  # noqa: BLE001
        return None
