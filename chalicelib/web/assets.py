"""The files in ``static/``: their content-hashed names, the images a page may show, and the static route.

``static/`` sits beside ``chalicelib/`` (``ROOT``); in the Lambda package it
arrives through the ``vendor/static`` symlink, which Chalice copies to the
root of the zip. One rule says which names exist (:data:`STATIC_NAME`: flat,
no ``/`` and no ``..``, of a type in :data:`TYPES`): the route serves only
those, and :func:`image_src` lets only those through.

Content-hashed names
--------------------
The stylesheet and the script are linked under a name that carries the first
8 hex digits of the SHA-256 of their content (``/static/site.3f2a9c1e.css``),
so browsers and CDNs may keep them for a year (``immutable``) and a deploy
that changes them changes the name. :func:`asset` reads a file and hashes it
once per container (cached with its content, so the body served under a
hashed name is always the body that was hashed); :func:`asset_url` gives the
name the templates link; :func:`hashed_asset` resolves a requested hashed
name for the route and refuses a stale hash (404). The plain name stays
served, with a 300 s cache.

Images
------
:func:`image_src` only lets through an image the page can load: an
``https://`` URL, or a ``/static/`` file that exists and that the route
serves. Anything else becomes ``/static/placeholder.svg``, so a typo in a
YAML file shows a placeholder and never a broken page. (A remote image that
fails to load is covered in CSS: the placeholder is the background of the
frame behind the ``<img>``.)
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chalicelib.errors import NotFound
from chalicelib.web.response import Response, cache_control

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds chalicelib/ (and templates/, static/)
STATIC_DIR = ROOT / "static"

TYPES = {
    ".svg": "image/svg+xml",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
# A name the static route serves: flat (no "/", no ".."), of a type in TYPES.
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*\.(" + "|".join(t[1:] for t in TYPES) + r")\Z")
# A hashed asset name: "site.3f2a9c1e.css" is "site.css" with its digest.
HASHED_NAME = re.compile(r"^(?P<stem>[a-z0-9][a-z0-9_-]*)\.(?P<digest>[0-9a-f]{8})\.(?P<ext>css|js)\Z")
DIGEST_CHARS = 8
PLACEHOLDER = "/static/placeholder.svg"
MAX_AGE_S = 300  # a plain name
IMMUTABLE = "public, max-age=31536000, immutable"  # a content-hashed name


@dataclass(frozen=True)
class Asset:
    """A static file read once: its name, the digest of its bytes, and its text."""

    name: str
    digest: str
    body: str

    @property
    def hashed_name(self) -> str:
        stem, ext = self.name.rsplit(".", 1)
        return f"{stem}.{self.digest}.{ext}"


@functools.lru_cache(maxsize=32)
def asset(name: str, static_dir: str = str(STATIC_DIR)) -> Asset:
    """``static/<name>`` with its content hash, read and hashed once per container.

    Raises ``ValueError`` for a name the route would not serve, ``OSError`` for a missing file.
    """
    if not STATIC_NAME.match(name):
        raise ValueError(f"not a static file name: {name!r}")
    data = (Path(static_dir) / name).read_bytes()
    return Asset(name, hashlib.sha256(data).hexdigest()[:DIGEST_CHARS], data.decode("utf-8"))


def asset_url(name: str) -> str:
    """``"site.css"`` -> ``"/static/site.3f2a9c1e.css"`` (the name the pages link)."""
    return f"/static/{asset(name).hashed_name}"


def hashed_asset(requested: str, static_dir: str = str(STATIC_DIR)) -> Asset | None:
    """The asset a hashed name stands for, or ``None`` when it is not a hashed
    name, names no file, or carries a stale hash."""
    m = HASHED_NAME.match(requested)
    if m is None:
        return None
    name = f"{m['stem']}.{m['ext']}"
    if not (Path(static_dir) / name).is_file():
        return None
    found = asset(name, static_dir)
    return found if found.digest == m["digest"] else None


@functools.lru_cache(maxsize=1024)
def _static_file_exists(name: str, static_dir: str) -> bool:
    return bool(STATIC_NAME.match(name)) and (Path(static_dir) / name).is_file()


def image_src(url: str | None, static_dir: str = str(STATIC_DIR)) -> str:
    """An image address the page can load: an https URL, an existing
    ``/static/`` file, else the placeholder."""
    if not url:
        return PLACEHOLDER
    if url.startswith("https://"):
        return url
    if url.startswith("/static/") and _static_file_exists(url[len("/static/") :], static_dir):
        return url
    return PLACEHOLDER


def static_response(name: str) -> Response:
    """``GET /static/{name}``: the file as text, typed by its suffix.

    A content-hashed name is cached for a year (``immutable``), a plain name
    for 300 s. Raises ``NotFound`` for a name outside :data:`STATIC_NAME`, a
    missing file, or a stale hash.
    """
    if not STATIC_NAME.match(name):
        raise NotFound(f"no static file {name!r}")
    content_type = TYPES["." + name.rsplit(".", 1)[1]]
    hashed = hashed_asset(name)
    if hashed is not None:
        return Response(200, hashed.body, content_type, {"Cache-Control": IMMUTABLE})
    path = STATIC_DIR / name
    if not path.is_file():
        raise NotFound(f"no static file {name!r}")
    return Response(200, path.read_text(encoding="utf-8"), content_type, cache_control(MAX_AGE_S))
