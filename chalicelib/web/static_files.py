"""``GET /static/{name}``: the images, stylesheet and script shipped with the app.

Only flat names of known types are served (no ``/``, no ``..``), from
``static/`` (in the Lambda package through the ``vendor/static`` symlink).

The stylesheet and the script are linked under a content-hashed name
(``site.3f2a9c1e.css``, see :func:`chalicelib.web.templates.asset`), served with
a one-year ``immutable`` cache; a stale hash is a 404, so content cached
under a hashed name is always the content that name was made from. The
plain name stays served with a short cache.
"""
from __future__ import annotations

import re

from chalicelib.errors import NotFound
from chalicelib.web.pages.common import PageResponse
from chalicelib.web.templates import STATIC_DIR, hashed_asset

TYPES = {
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*\.(svg|css|js)\Z")
MAX_AGE_S = 300
IMMUTABLE = "public, max-age=31536000, immutable"  # for content-hashed names


def static_response(name: str) -> PageResponse:
    """The file ``static/<name>`` as text. Raises ``NotFound`` for any other name."""
    if not NAME.match(name):
        raise NotFound(f"no static file {name!r}")
    hashed = hashed_asset(name)
    if hashed is not None:
        suffix = "." + name.rsplit(".", 1)[1]
        return PageResponse(200, hashed.body, TYPES[suffix], {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"})
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFound(f"no static file {name!r}")
    suffix = path.suffix
    return PageResponse(
        200,
        path.read_text(encoding="utf-8"),
        TYPES[suffix],
        {"Cache-Control": f"public, max-age={MAX_AGE_S}", "X-Content-Type-Options": "nosniff"},
    )
