"""The consumer routes as functions of (source, instant, language, format, links).

``source`` is a :class:`~chalicelib.catalog.StoreCatalog` (the handlers) or
a :class:`~chalicelib.catalog.YamlCatalog` (``campaign preview``): the same
code renders both, so a preview is exactly the consumer's page.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from . import pages
from .homepage import stored_view
from .model import Campaign
from .pages import Links, PageResponse, TotalsSource, no_totals

CAMPAIGN_ID = re.compile(r"^[a-z0-9-]{3,64}$")  # the brief's id rule


STALE_WARNING = '110 - "Response is Stale"'  # RFC 7234 section 5.5.1


class Source(Protocol):
    served_stale: bool

    def begin_request(self) -> None: ...
    def campaign(self, campaign_id: str) -> Campaign | None: ...
    def catalog(self) -> list[dict[str, Any]]: ...
    def rotation(self, at: datetime) -> dict[str, Any] | None: ...


def campaign(
    source: Source, campaign_id: str, at: datetime, lang: str, fmt: str, links: Links, totals: TotalsSource = no_totals
) -> PageResponse:
    """``/campaigns/{id}`` and ``/api/campaigns/{id}``. An id that cannot exist is 404 with no read."""
    source.begin_request()
    found = source.campaign(campaign_id) if CAMPAIGN_ID.match(campaign_id) else None
    return _mark_stale(source, pages.campaign_page(found, campaign_id, at, lang, fmt, links, totals))


def home(source: Source, at: datetime, lang: str, fmt: str, links: Links, slots: int, rotation_minutes: int) -> PageResponse:
    """``/`` and ``/api/homepage``: the stored rotation, filtered to picks live at ``at``."""
    source.begin_request()
    rotation = source.rotation(at)
    view = stored_view(rotation, at, slots)
    next_rotation_s = None
    if rotation is not None:
        due = datetime.fromisoformat(rotation["rotated_at"]) + timedelta(minutes=rotation_minutes)
        next_rotation_s = int((due - at).total_seconds())
    return _mark_stale(source, pages.homepage(rotation, view, source.catalog(), at, lang, fmt, links, next_rotation_s))


def charity(source: Source, at: datetime, lang: str, links: Links, totals: TotalsSource = no_totals) -> PageResponse:
    """``/charity``: the public benefit channel."""
    source.begin_request()
    return _mark_stale(source, pages.charity_channel(source.catalog(), at, lang, links, totals))


def _mark_stale(source: Source, page: PageResponse) -> PageResponse:
    """During a DynamoDB outage a page built from cached reads says so (``Warning``)
    and must not be cached downstream as fresh."""
    if not source.served_stale:
        return page
    headers = {**page.headers, "Warning": STALE_WARNING, "Cache-Control": "no-cache"}
    return replace(page, headers=headers)
