"""``GET /static/{name}``: the images, stylesheet and script shipped with the app.

Only flat names of known types are served (no ``/``, no ``..``), from
``static/`` (in the Lambda package through the ``vendor/static`` symlink).
"""
from __future__ import annotations

import re

from .errors import NotFound
from .pages import PageResponse
from .rendering import STATIC_DIR

TYPES = {
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*\.(svg|css|js)$")
MAX_AGE_S = 300


def static_response(name: str) -> PageResponse:
    """The file ``static/<name>`` as text. Raises ``NotFound`` for any other name."""
    if not NAME.match(name):
        raise NotFound(f"no static file {name!r}")
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
