"""``GET /charity``: the public benefit channel, the live charity sales with their progress toward the goal.

``Cache-Control``: never past the next boundary of any campaign in the
catalog, and at most 60 s while a charity sale is listed (its totals move
with every sale).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain import window
from chalicelib.domain.model import DEFAULT_RETURN_DAYS
from chalicelib.domain.money import parse_yuan
from chalicelib.domain.totals import TotalsOf, no_totals_of
from chalicelib.web.pages.homepage import CatalogTimes
from chalicelib.web.pages.source import Source
from chalicelib.web.response import HTML, LIVE_TOTALS_MAX_AGE_S, Response, cache_control, may_serve_stale
from chalicelib.web.templates import render_page
from chalicelib.web.view import View


@may_serve_stale
def page(source: Source, view: View, totals_of: TotalsOf = no_totals_of) -> Response:
    """The channel at ``view.at`` (HTML only). Reads: the catalog, with the listed sales' counter
    shards riding in the pointer's read when both are due (``ceil((1 + 98 x sales) / 100)``
    ``BatchGetItem``); in a container that never read the pointer, the pointer, then the totals
    (``ceil(98 x sales / 100)``; docs/donations.md)."""
    times = CatalogTimes.parse(
        source.catalog(riders_of=lambda held: [e["id"] for e in _listed(CatalogTimes.parse(held), view.at)])
    )
    rows = []
    changes = [times.next_change(view.at)]
    listed = _listed(times, view.at)
    totals = totals_of([entry["id"] for entry in listed])
    for entry in listed:
        found = totals[entry["id"]]
        days = int(entry["charity"].get("return_days", DEFAULT_RETURN_DAYS))  # releases before the field: the default
        changes.append(found.next_confirmation(view.at, days))  # a pending share becomes confirmed then
        rows.append(
            {
                "entry": entry,
                "goal": parse_yuan(entry["charity"]["goal"]),
                "totals": found,
                "pending": found.pending_fen(view.at, days),
                "return_days": days,
            }
        )
    next_change = min((c for c in changes if c is not None), default=None)
    max_age = min(window.max_age_s(next_change, view.at), LIVE_TOTALS_MAX_AGE_S if rows else window.MAX_AGE_CAP_S)
    html = render_page("charity.html", view.links, "/charity", rows=rows)
    return Response(200, html, HTML, cache_control(max_age))


def _listed(times: CatalogTimes, at: datetime) -> list[Mapping[str, Any]]:
    """The charity sales the channel lists at ``at``: those of the catalog live then."""
    return [entry for entry in times.live(at) if entry.get("charity") is not None]
