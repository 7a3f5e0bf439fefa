"""The homepage rotation engine: pure, no I/O, no clock, no boto3.

``rotate(entries, slots, previous, rotation) -> RotationResult``: the caller
passes the entries live at the rotation's instant; the engine never sees a clock.

Algorithm (docs/architecture.md, "Homepage rotation"):

1. **Pins first.** The pinned picks of the live homepage campaigns take the
   first slots, campaigns in id order, pins in YAML order.
2. **Weighted turns by the quota method.** The free slots are handed out one
   seat at a time by Balinski and Young's quota method ("The Quota Method of
   Apportionment", *Amer. Math. Monthly* 82(7), 1975, pp. 701-730), run over
   the cumulative "house" of all unpinned seats handed out since the live set
   last changed. Seat ``h + 1`` goes to the campaign with the largest
   ``weight / (seats + 1)`` among those whose seats stay within their upper
   quota, ``seats < weight × (h + 1) / Σweight``. Ties go to the campaign
   that comes first by id. The method is house-monotone and keeps every
   campaign within floor/ceil of its exact quota at every house size, so
   after R rotations of F free slots each campaign's count is within ±1 of
   ``R × F × weight / Σweight`` (strictly less than 1 away), and within ±2
   over any run of consecutive rotations. Smooth weighted round-robin does
   not keep this bound.
3. **Turns inside a campaign.** A campaign's unpinned picks take their turns
   in YAML order from a cursor that carries on across rotations and across
   changes of the live set, so every pick appears once before any appears
   twice, and no pick appears twice in one rotation (a campaign gets at most
   as many seats in one rotation as it has unpinned picks; a seat it cannot
   use goes to the others by the same rule, falling back to the largest
   ``weight / (seats + 1)`` when every campaign still below its upper quota
   is full).
4. **Spares.** Each campaign's next picks after the shown ones (up to
   ``slots`` per campaign, in turn order), interleaved one rank at a time
   across campaigns, so that a page served after a campaign ends can fill its
   place at request time (:func:`homepage_view`) from the others.

Cost: ``O(slots × campaigns)`` for the seats and the spares, plus ``O(picks)``
to read the input, so a rotation grows linearly with the live picks.

The live set is the set of ``(campaign id, weight)`` of the entries; when it
changes, the seat counts restart at the new rotation (the quota bound is
counted from the rotation at which the live set last changed) but the cursors do not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.domain.model import Text
from chalicelib.domain.window import Window


@dataclass(frozen=True)
class SlotPick:
    """A pick as the homepage shows it. ``price_fen`` is integer fen (CNY)."""

    campaign_id: str
    sku: str
    name: Text
    price_fen: int
    image: str
    url: str | None = None  # the pick's own product page (chalicelib.domain.buy_links); None: the stage's template


@dataclass(frozen=True)
class HomepageEntry:
    """A homepage campaign as the rotation sees it (from the published release)."""

    campaign_id: str
    weight: int
    starts_at: datetime
    ends_at: datetime | None
    picks: tuple[SlotPick, ...]
    pinned: tuple[str, ...] = ()
    # The content digest of the campaign document it came from ("" when unknown): a request
    # tells by it whether the live release changed the campaign since the rotation.
    digest: str = ""

    @property
    def unpinned(self) -> tuple[SlotPick, ...]:
        pins = set(self.pinned)
        return tuple(p for p in self.picks if p.sku not in pins)

    def live_at(self, at: datetime) -> bool:
        """Whether its campaign is live at ``at`` (:meth:`chalicelib.domain.window.Window.live_at`)."""
        return Window(self.starts_at, self.ends_at).live_at(at)


@dataclass(frozen=True)
class Slot:
    position: int  # 1-based
    pick: SlotPick
    pinned: bool
    starts_at: datetime
    ends_at: datetime | None

    def live_at(self, at: datetime) -> bool:
        """Whether the pick's campaign is live at ``at`` (:meth:`chalicelib.domain.window.Window.live_at`)."""
        return Window(self.starts_at, self.ends_at).live_at(at)


@dataclass(frozen=True)
class RotationState:
    """What one rotation hands to the next.

    ``seats``: unpinned appearances per campaign since ``base_rotation``;
    ``house``: their sum; ``cursors``: the last SKU shown per campaign.
    """

    live_key: str = ""
    base_rotation: int = 0
    house: int = 0
    seats: Mapping[str, int] = field(default_factory=dict)
    cursors: Mapping[str, str] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        """The state as stored in the rotation document (JSON values)."""
        return {
            "live_key": self.live_key,
            "base_rotation": self.base_rotation,
            "house": self.house,
            "seats": dict(self.seats),
            "cursors": dict(self.cursors),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> RotationState:
        """Inverse of :meth:`to_doc`; ``None`` or an empty document is the state before any rotation."""
        if not doc:
            return cls()
        return cls(
            live_key=str(doc.get("live_key", "")),
            base_rotation=int(doc.get("base_rotation", 0)),
            house=int(doc.get("house", 0)),
            seats={k: int(v) for k, v in (doc.get("seats") or {}).items()},
            cursors={k: str(v) for k, v in (doc.get("cursors") or {}).items()},
        )


@dataclass(frozen=True)
class RotationResult:
    rotation: int
    slots: tuple[Slot, ...]
    spares: tuple[Slot, ...]
    state: RotationState
    inputs_digest: str


def live_key(entries: Iterable[HomepageEntry]) -> str:
    """The identity of a live set: its campaigns and their weights."""
    return ",".join(f"{e.campaign_id}:{e.weight}" for e in sorted(entries, key=lambda e: e.campaign_id))


def inputs_digest(entries: Sequence[HomepageEntry], slots: int, previous: RotationState, rotation: int) -> str:
    """SHA-256 (hex, 16 chars) of everything the result depends on, for the history."""
    doc = {
        "slots": slots,
        "rotation": rotation,
        "previous": previous.to_doc(),
        "entries": [
            [e.campaign_id, e.weight, list(e.pinned), [p.sku for p in e.picks]]
            for e in sorted(entries, key=lambda e: e.campaign_id)
        ],
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _next_seat(
    order: Sequence[str],
    weights: Mapping[str, int],
    seats: Mapping[str, int],
    house: int,
    total_weight: int,
    room: Mapping[str, int],
) -> str | None:
    """One step of the quota method: which campaign gets seat ``house + 1``.

    ``room`` is how many more seats each campaign can take in this rotation.
    Returns ``None`` when no campaign has room.
    """
    best: str | None = None
    fallback: str | None = None
    for cid in order:
        if room[cid] <= 0:
            continue
        w, s = weights[cid], seats[cid]
        # upper quota: s + 1 <= ceil(w (h+1) / W)  <=>  s < w (h+1) / W
        within_quota = s * total_weight < w * (house + 1)
        if within_quota and (best is None or w * (seats[best] + 1) > weights[best] * (s + 1)):
            best = cid
        if fallback is None or w * (seats[fallback] + 1) > weights[fallback] * (s + 1):
            fallback = cid
    return best if best is not None else fallback


def _take(unpinned: Sequence[SlotPick], last_sku: str | None, count: int) -> list[SlotPick]:
    """The next ``count`` picks after ``last_sku``, cyclically (no repeats if count <= len)."""
    if not unpinned or count <= 0:
        return []
    skus = [p.sku for p in unpinned]
    start = (skus.index(last_sku) + 1) % len(skus) if last_sku in skus else 0
    return [unpinned[(start + i) % len(unpinned)] for i in range(min(count, len(unpinned)))]


def rotate(
    entries: Sequence[HomepageEntry],
    slots: int,
    previous: RotationState,
    rotation: int,
) -> RotationResult:
    """Compute rotation number ``rotation`` from the live ``entries``.

    ``entries`` are the homepage campaigns live at the rotation's instant
    (the caller filters them). ``slots`` is ``HOMEPAGE_SLOTS`` (>= 1).
    Deterministic: the same inputs give the same result.
    """
    ordered = sorted(entries, key=lambda e: e.campaign_id)
    digest = inputs_digest(ordered, slots, previous, rotation)

    # 1. pins first
    shown: list[tuple[SlotPick, bool, HomepageEntry]] = []
    for entry in ordered:
        by_sku = {p.sku: p for p in entry.picks}
        for sku in entry.pinned:
            if sku in by_sku and len(shown) < slots:
                shown.append((by_sku[sku], True, entry))

    # 2. weighted turns among the campaigns with unpinned picks
    rotating = [e for e in ordered if e.unpinned]
    key = live_key(rotating)
    if key != previous.live_key:
        seats = {e.campaign_id: 0 for e in rotating}
        house, base = 0, rotation
    else:
        seats = {e.campaign_id: int(previous.seats.get(e.campaign_id, 0)) for e in rotating}
        house, base = previous.house, previous.base_rotation
    weights = {e.campaign_id: e.weight for e in rotating}
    by_id = {e.campaign_id: e for e in rotating}
    order = [e.campaign_id for e in rotating]
    total_weight = sum(weights.values())
    room = {cid: len(by_id[cid].unpinned) for cid in order}

    allocation: list[str] = []
    for _ in range(slots - len(shown)):
        cid = _next_seat(order, weights, seats, house, total_weight, room)
        if cid is None:
            break
        allocation.append(cid)
        seats[cid] += 1
        house += 1
        room[cid] -= 1

    taken = {cid: allocation.count(cid) for cid in order}
    cursors = dict(previous.cursors)
    queues: dict[str, list[SlotPick]] = {}
    for cid in order:
        queue = _take(by_id[cid].unpinned, previous.cursors.get(cid), len(by_id[cid].unpinned))
        queues[cid] = queue
        if taken[cid]:
            cursors[cid] = queue[taken[cid] - 1].sku
    used = dict.fromkeys(order, 0)
    for cid in allocation:
        shown.append((queues[cid][used[cid]], False, by_id[cid]))
        used[cid] += 1

    # 4. spares: each campaign's next picks (up to ``slots``), interleaved by rank
    spares: list[tuple[SlotPick, HomepageEntry]] = []
    for rank in range(slots):
        for cid in order:
            index = used[cid] + rank
            if index < len(queues[cid]):
                spares.append((queues[cid][index], by_id[cid]))

    state = RotationState(live_key=key, base_rotation=base, house=house, seats=seats, cursors=cursors)
    return RotationResult(
        rotation=rotation,
        slots=tuple(Slot(i + 1, pick, pinned, e.starts_at, e.ends_at) for i, (pick, pinned, e) in enumerate(shown)),
        spares=tuple(Slot(0, pick, False, e.starts_at, e.ends_at) for pick, e in spares),
        state=state,
        inputs_digest=digest,
    )


def homepage_view(slots: Sequence[Slot], spares: Sequence[Slot], at: datetime, count: int) -> list[Slot]:
    """The slots a request at ``at`` shows: never a pick whose campaign is not live.

    Drops the stored slots whose campaign is not live at ``at`` and fills
    their places from the spares (in order, live ones, no pick twice), up to
    ``count`` slots. Positions are renumbered from 1.
    """
    chosen: list[Slot] = []
    seen: set[tuple[str, str]] = set()
    for slot in list(slots) + list(spares):
        ident = (slot.pick.campaign_id, slot.pick.sku)
        if len(chosen) >= count:
            break
        if ident in seen or not slot.live_at(at):
            continue
        seen.add(ident)
        chosen.append(Slot(len(chosen) + 1, slot.pick, slot.pinned, slot.starts_at, slot.ends_at))
    return chosen
