"""Error pages: HTML for HTML routes, JSON for ``/api/`` ones, never a traceback.

JSON: ``{"error": code, "message": text}``, with ``"field"`` (the request
field at fault) between them when there is one. HTML: ``error.html``, titled
by the code (:func:`chalicelib.web.words.error_title`), with a hint by status.
An error page depends on the route's format and the request's links, not on
its instant, so these take ``(fmt, links)`` where a page takes a view.

:func:`for_error` is the one mapping of the exception tree
(:mod:`chalicelib.errors`: each class carries its status and code) to a page;
:class:`chalicelib.web.http.Web` calls it for every route.
"""

from __future__ import annotations

from chalicelib.errors import PlatformError
from chalicelib.web.response import HTML, JSON, NO_STORE, Response, cache_control, json_text
from chalicelib.web.templates import render_page
from chalicelib.web.view import Links, View
from chalicelib.web.words import error_title

RETRY_AFTER_S = 30  # a 503 says when to try again


def error_page(
    status: int, code: str, message: str, fmt: str, links: Links, *, max_age_s: int = 0, field: str | None = None
) -> Response:
    """The error page of ``status`` (``code``: the error's ``CODE``; ``message``: what went wrong).

    Cacheable ``max_age_s`` seconds when given (an unknown campaign id), else ``no-store``.
    """
    headers = cache_control(max_age_s) if max_age_s else NO_STORE
    if fmt == "json":
        fields = {"error": code, "message": message} if field is None else {"error": code, "field": field, "message": message}
        return Response(status, json_text(fields), JSON, headers)
    title = error_title(code, links.lang)
    body = render_page("error.html", links, "/", status=status, title=title, message=message)
    return Response(status, body, HTML, headers)


def not_found(view: View, message: str, max_age_s: int) -> Response:
    """404 ``not_found`` for a page with nothing to show at ``view.at``, cacheable ``max_age_s`` seconds."""
    return error_page(404, "not_found", message, view.fmt, view.links, max_age_s=max_age_s)


def for_error(exc: PlatformError, fmt: str, links: Links) -> Response:
    """The page of a platform error: its status and code; a 503 also says ``Retry-After: 30``."""
    page = error_page(exc.STATUS_CODE, exc.CODE, str(exc), fmt, links, field=exc.field)
    if exc.STATUS_CODE != 503:
        return page
    return Response(page.status, page.body, page.content_type, {**page.headers, "Retry-After": str(RETRY_AFTER_S)})


def internal_error(fmt: str, links: Links) -> Response:
    """500 for an exception outside the tree (it is logged, never shown)."""
    return error_page(500, "internal_error", "internal error", fmt, links)
