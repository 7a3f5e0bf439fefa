"""``GET /homepage/exposure?date=YYYY-MM-DD`` and ``GET /api/homepage/exposure?date=…``: one day of the homepage.

For one day in Beijing time (Asia/Shanghai, 00:00 to 24:00), per homepage campaign and
per county: slot appearances and minutes on the homepage against the quota, from the
rotation history and its spans (:mod:`chalicelib.homepage.exposure` says how each figure
is counted). Public. JSON::

    {"date", "time_zone": "Asia/Shanghai", "from", "to", "rotations": [n, ...],
     "covered_minutes", "slots",
     "campaigns": [{"campaign_id", "title", "appearances", "minutes", "quota_appearances",
                    "quota_minutes", "pinned_appearances", "pinned_minutes"}],
     "counties": [{"code", "name", ...the same figures}]}

``county`` ``code`` ``""`` is a pick of a campaign the live release no longer has.
A missing or malformed ``date`` is 400 (``field: "date"``). ``Cache-Control``: up to the
next rotation (never over 300 s); the figures are kept in the container per day and
rotation. Reads: the history of the day (one ``Query`` page of up to 100 rotations, more
for a day far back after a stall) and the documents of the day's homepage campaigns
(kept for the container's life).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import window
from chalicelib.errors import BadRequest
from chalicelib.homepage.exposure import UNKNOWN_COUNTY, DayExposure, day_exposure
from chalicelib.homepage.history import day_history
from chalicelib.homepage.stored import StoredRotation
from chalicelib.web.pages.source import Source, page_cache
from chalicelib.web.response import HTML, JSON, Response, cache_control, json_text, may_serve_stale
from chalicelib.web.templates import render_page
from chalicelib.web.view import View

BEIJING = ZoneInfo("Asia/Shanghai")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ReadFrom = Callable[[int], tuple[list[dict[str, Any]], bool]]


def parse_day(text: str | None) -> tuple[date, datetime, datetime]:
    """``YYYY-MM-DD`` -> the day and its start and end instants in Beijing time.
    Raises ``BadRequest(field="date")`` when missing or not a calendar date."""
    if not text:
        raise BadRequest("give the day as ?date=YYYY-MM-DD (Beijing time)", field="date")
    if not _DATE.fullmatch(text):
        raise BadRequest(f"date {text[:40]!r} is not YYYY-MM-DD", field="date")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"date {text!r} is not a calendar date", field="date") from None
    if not 2000 <= day.year <= 2100:  # the years campaigns may name (docs/yaml.md, "Times")
        raise BadRequest(f"date {text!r} is out of range; give a day from 2000 to 2100", field="date")
    start = datetime.combine(day, time(), BEIJING)
    return day, start, start + timedelta(days=1)


@may_serve_stale
def page(source: Source, view: View, read_from: ReadFrom, date_text: str | None, slots: int, rotation_minutes: int) -> Response:
    """The exposure page (``view.fmt == "html"``) or its JSON for ``date_text`` at ``view.at``.

    ``read_from``: the history reader (:meth:`~chalicelib.store.rotations.RotationStore.rotations_from`).
    Raises ``BadRequest`` for a bad date.
    """
    day, start, end = parse_day(date_text)
    at = view.at
    stored = source.stored_rotation(at)
    catalog = source.catalog()
    due = None if stored is None else stored.rotated_at + timedelta(minutes=rotation_minutes)
    max_age = window.max_age_s(due if due is not None and due > at else None, at)
    if due is not None and due <= at:
        max_age = 0  # the next rotation is due now
    headers = cache_control(max_age)
    anchor = (None if stored is None else stored.doc, catalog)

    def compute() -> DayExposure:
        if stored is None:
            return DayExposure(start, end)
        docs = day_history(read_from, stored.doc, start, end, rotation_minutes)
        rotations = [StoredRotation.parse(d) for d in docs]
        ids = {e.campaign_id for r in rotations for e in r.entries} | {s.pick.campaign_id for r in rotations for s in r.slots}
        counties: dict[str, dict[str, str]] = {}
        for cid in sorted(ids):
            campaign = source.campaign(cid)
            if campaign is not None:
                counties[cid] = {p.sku: p.county.code for p in campaign.products}
        return day_exposure(rotations, start, end, at, slots, counties)

    figures = page_cache(source).get_or_make(("exposure", day.isoformat(), slots), anchor, compute)
    campaigns, counties = _rows(source, figures, view.lang)
    if view.fmt == "json":
        body = {
            "date": day.isoformat(),
            "time_zone": "Asia/Shanghai",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rotations": figures.rotations,
            "covered_minutes": round(figures.covered_minutes, 2),
            "slots": slots,
            "campaigns": campaigns,
            "counties": counties,
        }
        return Response(200, json_text(body), JSON, headers)
    html = render_page(
        "exposure.html",
        view.links,
        f"/homepage/exposure?date={day.isoformat()}",
        day=day.isoformat(),
        figures=figures,
        campaigns=campaigns,
        counties=counties,
        previous_day=(day - timedelta(days=1)).isoformat(),
        next_day=(day + timedelta(days=1)).isoformat(),
    )
    return Response(200, html, HTML, headers)


def _rows(source: Source, figures: DayExposure, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The campaign and county rows in the request's language, most minutes first, then by id or code."""
    names: dict[str, str] = {}
    campaigns: list[dict[str, Any]] = []
    for cid, f in figures.campaigns.items():
        campaign = source.campaign(cid)
        for pick in campaign.products if campaign is not None else ():
            names.setdefault(pick.county.code, pick.county.name.get(lang))
        title = cid if campaign is None else campaign.title.get(lang)
        campaigns.append({"campaign_id": cid, "title": title, **f.to_json()})
    counties: list[dict[str, Any]] = [
        {"code": code, "name": names.get(code, code) if code != UNKNOWN_COUNTY else "", **f.to_json()}
        for code, f in figures.counties.items()
    ]
    campaigns.sort(key=lambda r: (-(r["minutes"] + r["pinned_minutes"]), r["campaign_id"]))
    counties.sort(key=lambda r: (-(r["minutes"] + r["pinned_minutes"]), r["code"]))
    return campaigns, counties
