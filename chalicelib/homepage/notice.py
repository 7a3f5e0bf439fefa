"""What a publish tells its author about the homepage: when each campaign it adds, changes or
removes shows there (docs/architecture.md, "Homepage rotation").

Pure: the planned documents and the publish's instant in, one line a homepage campaign out.
A request lays a new release into the homepage at once (the spans are rebuilt with the
release's entries), so a live campaign shows at the first request after the release
pointer's in-container cache, and one that starts later from its ``starts_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.times import parse_stored, parse_stored_or_none
from chalicelib.domain.window import Window

# The release pointer's cache in a container (chalicelib.releases.catalog.StoreCatalog, release_ttl_s).
POINTER_CACHE_S = 5


def homepage_notices(
    changed: Mapping[str, Iterable[str]], removed: Iterable[str], docs: Mapping[str, Mapping[str, Any]], at: datetime
) -> list[str]:
    """One line per homepage campaign a publish at ``at`` added or changed (``changed``: id -> the
    top-level fields that changed, with their planned ``docs``) or removed (``removed``)."""
    lines = []
    for cid, fields in changed.items():
        doc = docs[cid]
        if doc.get("homepage") is None:
            if "homepage" in set(fields):
                lines.append(f"homepage: {cid} leaves the homepage within {POINTER_CACHE_S} s (its homepage block is gone)")
            continue
        window = Window(parse_stored(doc["starts_at"]), parse_stored_or_none(doc.get("ends_at")))
        state = window.state_at(at)
        if state == "ended":
            continue
        if state == "live":
            lines.append(
                f"homepage: {cid} shows at the first request after the release pointer's {POINTER_CACHE_S} s cache "
                "(by its quota; no rotation needed)"
            )
        else:
            local = window.starts_at.astimezone(ZoneInfo(doc["timezone"])).isoformat()
            lines.append(f"homepage: {cid} shows from its start, {local}")
    for cid in removed:
        lines.append(f"homepage: {cid}, if it was there, leaves the homepage within {POINTER_CACHE_S} s")
    return lines
