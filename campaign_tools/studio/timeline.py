"""The studio's timeline: every campaign file's teaser, live and ended spans on one time axis.

The campaigns are read afresh on every request by the validator itself
(:func:`campaign_tools.authoring.campaign_yaml.validate_paths`, the reader of
``campaign validate``), so an edit shows on the next reload and a file with
errors is listed with its ``PATH:LINE:COL`` diagnostics (and no spans: it has no
valid times to draw). States come from :class:`chalicelib.domain.window.Window`.

The axis runs from the earliest boundary to the latest (and ``now``), padded by
3 % each side; positions are in thousandths of its width (an SVG ``viewBox`` of
1000), so the page needs no inline style.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from campaign_tools.authoring.campaign_yaml import Diagnostic, ValidationResult, validate_paths
from chalicelib.domain.model import Campaign
from chalicelib.domain.window import ENDED, LIVE, TEASER

DEFAULT_ZONE = "Asia/Shanghai"  # Beijing time, the zone marketing staff plan in
AXIS_WIDTH = 1000


class StudioInputError(ValueError):
    """A query value the studio cannot use (a 400 page that names it and says how to fix it)."""


def zone_of(name: str | None) -> tuple[str, tzinfo]:
    """``(name, zone)`` for ``?tz=``: an IANA name, default ``Asia/Shanghai``.

    Raises :class:`StudioInputError` for a name that is not an IANA zone.
    """
    name = (name or "").strip() or DEFAULT_ZONE
    try:
        return name, zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise StudioInputError(f"tz: {name!r} is not an IANA time zone; write e.g. Asia/Shanghai or Asia/Urumqi") from None


def read_folder(folder: str | Path, slots: int) -> ValidationResult:
    """Every campaign file of ``folder`` read now, as ``campaign validate --slots slots`` reads it."""
    return validate_paths([folder], slots=slots)


@dataclass(frozen=True)
class Span:
    """One state's span: ``start`` (inclusive) to ``end`` (exclusive; ``None``: no end), and its
    place on the axis as ``x`` and ``width`` in thousandths."""

    state: str
    start: datetime
    end: datetime | None
    x: float
    width: float


@dataclass(frozen=True)
class Row:
    """One campaign file: its campaign (``None`` when the file has errors), spans, overlaps, diagnostics."""

    path: str
    campaign_id: str
    campaign: Campaign | None
    spans: tuple[Span, ...]
    state_now: str | None
    overlaps: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


@dataclass(frozen=True)
class Timeline:
    """The rows in file order, the axis ``start``/``end``, ``now`` and its place ``now_x`` (thousandths),
    and the diagnostics that belong to no campaign file (the folder itself)."""

    rows: tuple[Row, ...]
    start: datetime
    end: datetime
    now: datetime
    now_x: float
    other_diagnostics: tuple[Diagnostic, ...]


def _axis(campaigns: Sequence[Campaign], now: datetime) -> tuple[datetime, datetime]:
    instants = [b for c in campaigns for b in c.window.boundaries()] + [now]
    first, last = min(instants), max(instants)
    if last - first < timedelta(days=2):
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    pad = (last - first) * 0.03
    return first - pad, last + pad


def _x(at: datetime, start: datetime, end: datetime) -> float:
    return round(AXIS_WIDTH * (at - start) / (end - start), 2)


def _spans(campaign: Campaign, start: datetime, end: datetime) -> tuple[Span, ...]:
    w = campaign.window
    parts: list[tuple[str, datetime, datetime | None]] = []
    if w.teaser_from is not None:
        parts.append((TEASER, w.teaser_from, w.starts_at))
    parts.append((LIVE, w.starts_at, w.ends_at))
    if w.ends_at is not None:
        parts.append((ENDED, w.ends_at, None))
    spans = []
    for state, a, b in parts:
        x0, x1 = _x(a, start, end), _x(end if b is None else b, start, end)
        spans.append(Span(state, a, b, x0, round(max(x1 - x0, 0.5), 2)))
    return tuple(spans)


def build_timeline(result: ValidationResult, files: Sequence[str], now: datetime) -> Timeline:
    """The timeline of the campaign files ``files`` (their shown paths, in order) at ``now``.

    ``result`` is the validator's reading of them; a file whose campaign is valid gets its
    spans, the others only their diagnostics.
    """
    by_path = {path: cid for cid, path in result.sources.items()}
    campaigns = {c.id: c for c in result.campaigns}
    start, end = _axis(list(campaigns.values()), now)
    rows = []
    for path in files:
        cid = by_path.get(path)
        campaign = campaigns.get(cid) if cid else None
        diagnostics = tuple(d for d in result.diagnostics if d.path == path)
        if campaign is None:
            rows.append(Row(path, Path(path).stem, None, (), None, (), diagnostics))
            continue
        overlaps = tuple(o.id for o in campaigns.values() if o.id != campaign.id and o.window.overlaps(campaign.window))
        rows.append(
            Row(path, campaign.id, campaign, _spans(campaign, start, end), campaign.window.state_at(now), overlaps, diagnostics)
        )
    shown = set(files)
    others = tuple(d for d in result.diagnostics if d.path not in shown)
    return Timeline(tuple(rows), start, end, now, _x(now, start, end), others)


def campaign_files(folder: str | Path) -> list[str]:
    """The shown paths of the campaign files of ``folder`` (``*.yaml``/``*.yml``, sorted), as the
    validator names them in its diagnostics (``<folder>/<name>``)."""
    base = Path(folder)
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    return [str(base / p.name) for p in entries if p.suffix in (".yaml", ".yml") and p.is_file()]
