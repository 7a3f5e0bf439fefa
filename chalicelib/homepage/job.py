"""The rotation's shell: read the release, run the pure engine, write one rotation.

The scheduled function ``rotate_homepage`` and ``campaign rotate`` both call
:func:`run_rotation`. :func:`simulate` runs the same engine with no I/O for
``campaign rotate --simulate`` and ``campaign preview --homepage``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping, Sequence

from chalicelib.domain.model import Campaign, Text, campaign_to_doc
from chalicelib.domain.money import fen_to_yuan_str, yuan_to_fen
from chalicelib.domain.times import parse_stored, parse_stored_or_none
from chalicelib.errors import RotationConflict
from chalicelib.homepage.engine import HomepageEntry, RotationResult, RotationState, Slot, SlotPick, homepage_view, rotate
from chalicelib.releases.publishing import homepage_entry
from chalicelib.store.rotations import RotationStore

log = logging.getLogger(__name__)


def entry_from_doc(doc: Mapping[str, Any]) -> HomepageEntry:
    """A homepage partition item (see :func:`chalicelib.releases.publishing.homepage_entry`) -> engine input."""
    cid = doc["campaign_id"]
    return HomepageEntry(
        campaign_id=cid,
        weight=int(doc["weight"]),
        starts_at=parse_stored(doc["starts_at"]),
        ends_at=parse_stored_or_none(doc.get("ends_at")),
        pinned=tuple(doc.get("pinned") or ()),
        picks=tuple(
            SlotPick(cid, p["sku"], Text(p["name"]), yuan_to_fen(Decimal(p["price"])), p["image"])
            for p in doc["picks"]
        ),
    )


def entries_from_campaigns(campaigns: Iterable[Campaign]) -> list[HomepageEntry]:
    out = []
    for campaign in campaigns:
        doc = homepage_entry(campaign_to_doc(campaign))
        if doc is not None:
            out.append(entry_from_doc(doc))
    return out


def slot_to_doc(slot: Slot) -> dict[str, Any]:
    return {
        "position": slot.position,
        "campaign_id": slot.pick.campaign_id,
        "sku": slot.pick.sku,
        "name": slot.pick.name.to_doc(),
        "price": fen_to_yuan_str(slot.pick.price_fen),
        "image": slot.pick.image,
        "pinned": slot.pinned,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": None if slot.ends_at is None else slot.ends_at.isoformat(),
    }


def slot_from_doc(doc: Mapping[str, Any]) -> Slot:
    pick = SlotPick(
        doc["campaign_id"], doc["sku"], Text(doc["name"]), yuan_to_fen(Decimal(doc["price"])), doc["image"]
    )
    return Slot(int(doc["position"]), pick, bool(doc["pinned"]), parse_stored(doc["starts_at"]), parse_stored_or_none(doc.get("ends_at")))


def rotation_doc(result: RotationResult, at: datetime, release: int | None) -> dict[str, Any]:
    return {
        "rotation": result.rotation,
        "rotated_at": at.isoformat(),
        "release": release,
        "slots": [slot_to_doc(s) for s in result.slots],
        "spares": [slot_to_doc(s) for s in result.spares],
        "state": result.state.to_doc(),
        "inputs_digest": result.inputs_digest,
    }


@dataclass(frozen=True)
class RotationOutcome:
    """What one run did: ``written`` False means another run won the race."""

    rotation: int
    written: bool
    slots: int
    message: str


def run_rotation(store: RotationStore, at: datetime, slots: int, history_days: int = 30) -> RotationOutcome:
    """Run one rotation at the aware instant ``at`` (``ROTATION_MINUTES`` apart).

    Reads: one strongly consistent ``Query`` (and its pages) of the previous
    rotation, the live release's number and its homepage campaigns
    (:meth:`~chalicelib.store.rotations.RotationStore.get_rotation_inputs`). Writes one
    transaction of two items (the rotation and its history, TTL
    ``history_days``), conditional on the previous rotation number, so of
    two concurrent runs one writes and the other returns ``written=False``.
    """
    inputs = store.get_rotation_inputs()
    live = [e for e in (entry_from_doc(d) for d in inputs.entries) if e.live_at(at)]
    previous_doc = inputs.rotation
    previous_number = None if previous_doc is None else int(previous_doc["rotation"])
    previous_state = RotationState.from_doc(None if previous_doc is None else previous_doc.get("state"))
    number = (previous_number or 0) + 1
    result = rotate(live, slots, previous_state, number)
    expires = int((at + timedelta(days=history_days)).timestamp())
    doc = rotation_doc(result, at, inputs.release)
    try:
        store.put_rotation(doc, previous_number, expires)
    except RotationConflict as exc:
        log.info("rotation %s not written: %s", number, exc)
        return RotationOutcome(number, False, 0, f"rotation {number} was written by another run; nothing to do")
    return RotationOutcome(number, True, len(result.slots), f"rotation {number}: {len(result.slots)} slots")


@dataclass(frozen=True)
class StoredRotation:
    """A rotation document with its slots and spares parsed (once per document)."""

    doc: Mapping[str, Any]
    slots: tuple[Slot, ...]
    spares: tuple[Slot, ...]
    rotated_at: datetime

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> "StoredRotation":
        return cls(
            doc,
            tuple(slot_from_doc(s) for s in doc.get("slots", [])),
            tuple(slot_from_doc(s) for s in doc.get("spares", [])),
            parse_stored(doc["rotated_at"]),
        )

    def view(self, at: datetime, count: int) -> list[Slot]:
        """The slots a request at ``at`` shows (see :func:`chalicelib.homepage.engine.homepage_view`)."""
        return homepage_view(self.slots, self.spares, at, count)

    def against(self, campaigns: Callable[[str], Campaign | None]) -> "StoredRotation":
        """This rotation as the live release has it now, for when a publish or a rollback
        came after it was computed (``campaigns``: id -> the live campaign, or ``None``).

        A slot or spare whose campaign is gone or off the homepage, or whose SKU
        the campaign no longer has, is dropped (:meth:`view` fills from the
        spares); the others show the live pick (name, price, image) within
        the live campaign's window. So the homepage never shows a pick of an
        older release, even between a publish and the next rotation.
        """

        def live(slot: Slot) -> Slot | None:
            campaign = campaigns(slot.pick.campaign_id)
            if campaign is None or campaign.homepage is None:
                return None
            pick = campaign.pick(slot.pick.sku)
            if pick is None:
                return None
            now = SlotPick(campaign.id, pick.sku, pick.name, pick.price_fen, pick.image)
            pinned = slot.pinned and pick.sku in campaign.homepage.pinned
            return Slot(slot.position, now, pinned, campaign.starts_at, campaign.ends_at)

        def kept(slots: tuple[Slot, ...]) -> tuple[Slot, ...]:
            return tuple(s for s in map(live, slots) if s is not None)

        return StoredRotation(self.doc, kept(self.slots), kept(self.spares), self.rotated_at)



@dataclass(frozen=True)
class SimulatedRotation:
    rotation: int
    at: datetime
    result: RotationResult
    view: tuple[Slot, ...]

    def to_json(self) -> dict[str, Any]:
        """The shape ``campaign rotate --simulate --json`` prints (the brief)."""
        return {
            "rotation": self.rotation,
            "at": self.at.isoformat(),
            "slots": [
                {"position": s.position, "campaign_id": s.pick.campaign_id, "sku": s.pick.sku, "pinned": s.pinned}
                for s in self.view
            ],
        }


def simulate(
    entries: Sequence[HomepageEntry], start: datetime, end: datetime, slots: int, minutes: int
) -> list[SimulatedRotation]:
    """The rotations that would run every ``minutes`` at ``start <= at < end``.

    Starts at rotation 1 with no history; each rotation is shown as the
    homepage would show it at its own instant. Writes nothing.
    """
    out: list[SimulatedRotation] = []
    state = RotationState()
    at, number = start, 1
    step = timedelta(minutes=minutes)
    while at < end:
        live = [e for e in entries if e.live_at(at)]
        result = rotate(live, slots, state, number)
        state = result.state
        view = tuple(homepage_view(result.slots, result.spares, at, slots))
        out.append(SimulatedRotation(number, at, result, view))
        at += step
        number += 1
    return out
