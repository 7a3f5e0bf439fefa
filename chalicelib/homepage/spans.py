"""Spans: the homepage between two boundaries, so that starts and ends are exact at request time.

Pure, no I/O, no clock. A rotation at ``at`` is good until the next scheduled
one (``until = at + ROTATION_MINUTES``). Every start or end of a homepage
campaign strictly inside ``(at, until)`` is a *boundary*; the instants
``at, b1, b2, ...`` open *spans*, and each span is laid out by the same engine
(:func:`chalicelib.homepage.engine.rotate`) as if a rotation had run at its
first instant, with the live entries of that instant and the state the span
before it left. The quota bound of the engine therefore holds over rotations
and spans alike: each span is one more step of the house (docs/architecture.md,
"Homepage rotation").

The state after the last span is what the next rotation continues from.

A stored rotation keeps the inputs that rebuild its spans, not the spans:
:func:`compact_entries` trims each entry to the picks its spans can show
(its pins, then its unpinned picks in turn order from its cursor, as many as
its spans take plus ``slots`` spares), so a request rebuilds the spans with
:func:`plan` and gets the same slots as the rotation computed (held by
``tests/unit/test_spans.py``), and a publish can be laid in by rebuilding
them with the live release's entries.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.homepage.engine import HomepageEntry, RotationResult, RotationState, Slot, _take, homepage_view, rotate


@dataclass(frozen=True)
class Span:
    """The homepage from ``starts`` (inclusive) to ``ends`` (exclusive; the horizon for the last span).

    ``before``: the state the span was computed from; ``result``: the engine's
    layout (slots and spares) and the state it hands on.
    """

    starts: datetime
    ends: datetime
    before: RotationState
    result: RotationResult

    def view(self, at: datetime, count: int) -> list[Slot]:
        """The slots a request at ``at`` shows (:func:`~chalicelib.homepage.engine.homepage_view`):
        inside the span, its layout; past the last span (the schedule stalled), its live picks only."""
        return homepage_view(self.result.slots, self.result.spares, at, count)


def boundaries(entries: Iterable[HomepageEntry], start: datetime, until: datetime) -> list[datetime]:
    """Every ``starts_at`` and ``ends_at`` of ``entries`` with ``start < b < until``, sorted, once each."""
    instants = {e.starts_at for e in entries} | {e.ends_at for e in entries if e.ends_at is not None}
    return sorted(b for b in instants if start < b < until)


def plan(
    entries: Sequence[HomepageEntry],
    slots: int,
    previous: RotationState,
    rotation: int,
    at: datetime,
    until: datetime,
) -> tuple[Span, ...]:
    """The spans of rotation ``rotation`` run at ``at``, up to ``until`` (the next scheduled rotation).

    ``entries``: every homepage campaign of the release (live or not; each
    span takes those live at its first instant). At least one span (from
    ``at``). Deterministic: the same inputs give the same spans.
    """
    instants = [at, *boundaries(entries, at, until)]
    spans: list[Span] = []
    state = previous
    for i, starts in enumerate(instants):
        ends = instants[i + 1] if i + 1 < len(instants) else max(until, starts)
        result = rotate([e for e in entries if e.live_at(starts)], slots, state, rotation)
        spans.append(Span(starts, ends, state, result))
        state = result.state
    return tuple(spans)


def span_at(spans: Sequence[Span], at: datetime) -> Span:
    """The span a request at ``at`` is in: the last that starts at or before ``at`` (the first one
    before any; the last one past the horizon). ``spans`` is :func:`plan`'s, non-empty."""
    i = bisect_right([s.starts for s in spans], at)
    return spans[max(i - 1, 0)]


def spare_count(weight: int, total_weight: int, slots: int) -> int:
    """How many spare picks a campaign keeps after those its spans show: twice its share of
    ``slots`` (at least 2, at most ``slots``), so that the others can fill the places of
    campaigns that leave between rotations while the item stays small with many
    campaigns (docs/architecture.md, "Homepage rotation")."""
    share = -(-2 * slots * weight // max(total_weight, 1))  # ceil
    return max(2, min(slots, share))


def compact_entries(entries: Sequence[HomepageEntry], spans: Sequence[Span], slots: int) -> list[HomepageEntry]:
    """The entries trimmed to what their spans can show, to store with the rotation.

    Keeps the entries live in some span, each with its pinned picks and its
    unpinned picks in turn order from its cursor in the first span's
    ``before`` state: as many as all the spans give it, plus
    :func:`spare_count` spares (all of them when it has no more). The spans
    :func:`plan` lays out over the result show the same slots: the engine's
    ``_take`` starts after the cursor, which the trimmed list either does not
    hold (start at its first pick) or holds as its last (a full turn: start
    again at its first), and no span takes more than the list holds.
    """
    if not spans:
        return []
    taken: dict[str, int] = {}
    live: dict[str, HomepageEntry] = {}
    for span in spans:
        for slot in span.result.slots:
            if not slot.pinned:
                taken[slot.pick.campaign_id] = taken.get(slot.pick.campaign_id, 0) + 1
        live.update((e.campaign_id, e) for e in entries if e.live_at(span.starts))
    total_weight = sum(e.weight for e in live.values() if e.unpinned)
    cursors = spans[0].before.cursors
    out = []
    for e in entries:
        if e.campaign_id not in live:
            continue
        unpinned = e.unpinned
        want = taken.get(e.campaign_id, 0) + spare_count(e.weight, total_weight, slots)
        queue = _take(unpinned, cursors.get(e.campaign_id), min(len(unpinned), want))
        pins = set(e.pinned)
        kept = tuple(p for p in e.picks if p.sku in pins) + tuple(queue)
        out.append(HomepageEntry(e.campaign_id, e.weight, e.starts_at, e.ends_at, kept, e.pinned, e.digest))
    return out


def stored_plan(
    entries: Sequence[HomepageEntry],
    slots: int,
    previous: RotationState,
    rotation: int,
    at: datetime,
    until: datetime,
) -> tuple[tuple[Span, ...], list[HomepageEntry]]:
    """:func:`plan` as a rotation stores it: the spans laid out over the trimmed entries
    (:func:`compact_entries`), and those entries. The scheduled rotation, the simulation and
    a request that rebuilds the spans from the stored entries all get these same spans."""
    kept = compact_entries(entries, plan(entries, slots, previous, rotation, at, until), slots)
    return plan(kept, slots, previous, rotation, at, until), kept
