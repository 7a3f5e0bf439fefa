"""The only chalicelib module that imports chalice: requests in, responses out.

:class:`Web` wraps the app's routes. For each request it reads the path
prefix and the language (:func:`links_of`), builds the page's
:class:`~chalicelib.web.view.View` with the clock's instant, calls the
handler, and turns the :class:`~chalicelib.web.response.Response` it returns
into Chalice's (:func:`to_chalice`). It maps the exception tree of
:mod:`chalicelib.errors` to HTML or JSON error pages
(:func:`chalicelib.web.pages.errors.for_error`), and anything else to a 500
page, never a traceback.

Every response leaves through :func:`to_chalice`, which adds the security
headers once for all routes: ``X-Content-Type-Options: nosniff`` and
``Referrer-Policy`` on everything, and on HTML a Content-Security-Policy
that allows no inline script or style at all (the pages load one hashed
stylesheet and one hashed script from ``/static/``; images may also come
from https URLs) and no framing.

Each request is answered within its deadline (:mod:`chalicelib.deadline`):
a page's budget is ``page``, a route that takes POST (the signed system
writes) ``system``, both cut to the function's remaining time from the
request's own Lambda context. Path parameters are percent-decoded exactly
once here (:func:`decoded_params`). The request being answered is kept per
thread (a ``ContextVar`` set by :meth:`Web.remember`), since ``chalice local``
answers on several threads and ``app.current_request`` is one attribute for all.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import re
import urllib.parse
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any

import chalice
from chalice.app import Request

from chalicelib.deadline import Deadlines
from chalicelib.errors import PlatformError
from chalicelib.settings import Settings
from chalicelib.web.pages.errors import for_error, internal_error
from chalicelib.web.response import Response
from chalicelib.web.view import Links, View, links, pick_lang

log = logging.getLogger(__name__)
_NO_LINKS = Links()  # an error page's links when the request's cannot be read

_PARAM = re.compile(r"\{([^}+]+)\+?\}")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
HTML_SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}


# ---------------------------------------------------------------- requests in


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


def links_of(request: Any, site: Settings | None = None) -> Links:
    """The request's :class:`Links`: its path prefix and language (``links.lang``); ``Links()`` without a request.

    ``site``: the stage's settings, for the origin of absolute URLs (:func:`origin_of`) and the
    product URL template of buy links; without them the links have neither.
    """
    if request is None:
        return _NO_LINKS
    prefix = prefix_of(request)
    if site is None:
        return links(prefix, lang_of(request))
    return links(prefix, lang_of(request), origin_of(request, site.site_url, prefix), site.product_url_template)


_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")
_LOCAL_HOST = re.compile(r"(localhost|127\.0\.0\.1)(:[0-9]{1,5})?")


def origin_of(request: Any, site_url: str | None, prefix: str = "") -> str:
    """Where the request's absolute URLs start: ``SITE_URL`` when set (the custom domain: no
    prefix); else the request's ``Host`` (``http://`` on localhost and 127.0.0.1, else
    ``https://``) and the path ``prefix``; ``""`` for a missing or malformed Host.
    (docs/architecture.md, "Share cards and search")"""
    if site_url:
        return site_url
    headers = request.headers or {}
    host = str(headers.get("host") or "")
    if not _HOST.fullmatch(host):
        return ""
    return f"{'http' if _LOCAL_HOST.fullmatch(host) else 'https'}://{host.lower()}{prefix}"


def decoded_params(request: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` (the path parameters handed to a route) percent-decoded exactly once.

    ``chalice local`` hands them over as they are in the request line, and so
    may API Gateway (REST APIs keep the path encoded). A value that is still a
    segment of the request's raw path (``requestContext.path``) is in its raw
    form and is decoded; one that is not was decoded by the platform already
    and is kept. ``/campaigns/store%2Dleishan`` is ``store-leishan`` either way,
    and ``store%252Dleishan`` is ``store%2Dleishan`` either way.
    """
    if not params:
        return params
    context = getattr(request, "context", None) or {}
    path = str(context.get("path") or "")
    segments = path.split("/")
    out = {}
    for name, value in params.items():
        raw = isinstance(value, str) and (value in segments or ("/" in value and value in path))
        out[name] = urllib.parse.unquote(value) if raw and "%" in value else value
    return out


# ---------------------------------------------------------------- responses out


def security_headers(content_type: str) -> dict[str, str]:
    """The headers every response carries; HTML also gets the CSP."""
    if content_type.startswith("text/html"):
        return {**SECURITY_HEADERS, **HTML_SECURITY_HEADERS}
    return dict(SECURITY_HEADERS)


@functools.lru_cache(maxsize=32)
def _fixed_headers(content_type: str) -> dict[str, str]:
    """The security headers then ``Content-Type``, built once per content type. Never changed: copied."""
    return {**security_headers(content_type), "Content-Type": content_type}


def to_chalice(response: Response) -> chalice.Response:
    """Chalice's response: the security headers, ``Content-Type``, then the route's own headers, in a dict of its own."""
    headers: dict[str, str | list[str]] = {**_fixed_headers(response.content_type), **response.headers}
    return chalice.Response(body=response.body, status_code=response.status, headers=headers)


# ---------------------------------------------------------------- the routes

Handler = Callable[..., Response]

_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar("request", default=None)


class Web:
    """The app's routes: ``app.route`` plus views, error pages and the response conversion.

    ``now``: the instant of a request (the stage's clock, read once per
    request); ``settings``: the stage's settings (the site's origin and the
    buy links' template for the views' links). Every GET route also answers
    ``HEAD``: the same status and headers, no body. ``@web.page(path, fmt)`` passes the handler the request's
    :class:`View` first, then the path parameters; ``@web.route(path, fmt,
    **options)`` passes the path parameters only (the static files, the
    signed webhooks). Either way the handler returns a :class:`Response`, and
    an error it raises becomes the ``fmt`` error page.
    """

    def __init__(
        self,
        app: chalice.Chalice,
        now: Callable[[], datetime],
        deadlines: Callable[[], Deadlines] | None = None,
        settings: Callable[[], Settings] | None = None,
    ) -> None:
        self.app = app
        self._now = now
        # ``deadlines``: the stage's (``services().deadlines``); without it, requests have no deadline.
        self._deadlines = deadlines
        self._settings = settings
        app.register_middleware(self.remember, "http")

    @staticmethod
    def remember(event: Any, get_response: Callable[[Any], Any]) -> Any:
        """Chalice middleware: keep the request being answered for this thread (see the module docstring)."""
        token = _request.set(event)
        try:
            return get_response(event)
        finally:
            _request.reset(token)

    @property
    def request(self) -> Request:
        """The request being answered (raises ``RuntimeError`` outside one)."""
        request = _request.get() or self.app.current_request
        if request is None:
            raise RuntimeError("no request is being answered")
        return request

    def query_param(self, name: str) -> str | None:
        """The request's query parameter ``name`` (``?cursor=C``), or ``None``."""
        params = self.request.query_params
        return params.get(name) if params else None

    def page(self, path: str, fmt: str) -> Callable[[Handler], Handler]:
        """Register a GET page at ``path`` answering ``fmt`` (``html`` or ``json``): ``handler(view, **params)``."""

        def register(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def route(**params: Any) -> chalice.Response:
                answer = self._answer(
                    handler, fmt, "page", lambda found, got: handler(View(self._now(), found.lang, fmt, found), **got), params
                )
                return _without_body_for_head(_request.get() or self.app.current_request, answer)

            self.app.route(path, methods=GET_AND_HEAD)(route)
            return handler

        return register

    def route(self, path: str, fmt: str, **options: Any) -> Callable[[Handler], Handler]:
        """Register ``handler(**params)`` at ``path`` (``options``: ``app.route``'s, e.g. ``methods``); errors in ``fmt``."""

        kind = "system" if "POST" in options.get("methods", ()) else "page"

        def register(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def route(**params: Any) -> chalice.Response:
                answer = self._answer(handler, fmt, kind, lambda found, got: handler(**got), params)
                return _without_body_for_head(_request.get() or self.app.current_request, answer)

            self.app.route(path, **{"methods": GET_AND_HEAD, **options})(route)
            return handler

        return register

    def _answer(
        self, handler: Handler, fmt: str, kind: str, call: Callable[[Links, dict[str, Any]], Response], params: dict[str, Any]
    ) -> chalice.Response:
        """``call(links, decoded params)`` within the request's deadline of ``kind``, as Chalice's
        response; a platform error as its page, anything else as a 500 page."""
        found = _NO_LINKS
        try:
            request = _request.get() or self.app.current_request
            found = links_of(request, None if self._settings is None else self._settings())
            within = self._deadlines().begin(kind, getattr(request, "lambda_context", None)) if self._deadlines else nullcontext()
            with within:
                return to_chalice(call(found, decoded_params(request, params)))
        except PlatformError as exc:
            if exc.STATUS_CODE >= 500:
                detail = getattr(exc, "detail", "")
                log.error("request failed: %s: %s%s", exc.CODE, exc, f" ({detail})" if detail else "")
            return to_chalice(for_error(exc, fmt, found))
        except Exception:  # noqa: BLE001 - the last line of defence: no traceback to consumers
            log.exception("unexpected error in %s", handler.__name__)
            return to_chalice(internal_error(fmt, found))


# Every GET route answers HEAD too (uptime probes, link checkers): RFC 9110 section 9.3.2.
GET_AND_HEAD = ["GET", "HEAD"]


def _without_body_for_head(request: Any, response: chalice.Response) -> chalice.Response:
    """``response`` with an empty body when ``request`` is a HEAD: its status and headers stay."""
    if request is not None and request.method == "HEAD":
        response.body = ""
    return response
