"""The homepage as stored: the entries a release keeps for the rotation, and rotation documents.

One home for both directions of each shape: :func:`homepage_entry` (written
by a publish, one item per homepage campaign) and :func:`entry_from_doc`
(read by the rotation); :func:`slot_to_doc`/:func:`slot_from_doc` and
:func:`rotation_doc`/:class:`StoredRotation` for the rotation document the
pages read. Money is yuan text and instants ISO 8601 inside documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.model import Campaign, Text
from chalicelib.domain.money import fen_to_yuan_str, parse_yuan
from chalicelib.domain.times import parse_stored, parse_stored_or_none, stored_or_none, to_stored
from chalicelib.homepage.engine import HomepageEntry, RotationResult, Slot, SlotPick, homepage_view


def homepage_entry(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the rotation needs of a homepage campaign document, or ``None`` if it has no homepage block."""
    home = doc.get("homepage")
    if home is None:
        return None
    return {
        "campaign_id": doc["id"],
        "weight": home["weight"],
        "pinned": list(home["pinned"]),
        "starts_at": doc["starts_at"],
        "ends_at": doc.get("ends_at"),
        "picks": [
            {"sku": p["sku"], "name": p["name"], "price": p["price"], "image": p["image"], **_url(p)} for p in doc["products"]
        ],
    }


def entry_from_doc(doc: Mapping[str, Any]) -> HomepageEntry:
    """A homepage partition item (the shape of :func:`homepage_entry`) -> engine input."""
    cid = doc["campaign_id"]
    return HomepageEntry(
        campaign_id=cid,
        weight=int(doc["weight"]),
        starts_at=parse_stored(doc["starts_at"]),
        ends_at=parse_stored_or_none(doc.get("ends_at")),
        pinned=tuple(doc.get("pinned") or ()),
        picks=tuple(
            SlotPick(cid, p["sku"], Text(p["name"]), parse_yuan(p["price"]), p["image"], p.get("url")) for p in doc["picks"]
        ),
    )


def entries_from_campaigns(campaigns: Iterable[Campaign]) -> list[HomepageEntry]:
    """The rotation's inputs straight from campaigns (previews and simulations): the homepage
    campaigns only, the same values :func:`entry_from_doc` reads back from a publish."""
    out = []
    for c in campaigns:
        if c.homepage is None:
            continue
        picks = tuple(SlotPick(c.id, p.sku, p.name, p.price_fen, p.image, p.url) for p in c.products)
        out.append(HomepageEntry(c.id, c.homepage.weight, c.starts_at, c.ends_at, picks, tuple(c.homepage.pinned)))
    return out


def slot_to_doc(slot: Slot) -> dict[str, Any]:
    """A slot as stored in a rotation document (money as yuan text, instants as ISO 8601)."""
    return {
        "position": slot.position,
        "campaign_id": slot.pick.campaign_id,
        "sku": slot.pick.sku,
        "name": slot.pick.name.to_doc(),
        "price": fen_to_yuan_str(slot.pick.price_fen),
        "image": slot.pick.image,
        "pinned": slot.pinned,
        "starts_at": to_stored(slot.starts_at),
        "ends_at": stored_or_none(slot.ends_at),
        **({"url": slot.pick.url} if slot.pick.url is not None else {}),
    }


def _url(pick: Mapping[str, Any]) -> dict[str, str]:
    """A pick document's own product page as a partial dict: ``{}`` without one (older documents keep their shape)."""
    url = pick.get("url")
    return {} if url is None else {"url": url}


def slot_from_doc(doc: Mapping[str, Any]) -> Slot:
    """Inverse of :func:`slot_to_doc`. Raises ``KeyError``/``ValueError`` on a malformed document."""
    pick = SlotPick(doc["campaign_id"], doc["sku"], Text(doc["name"]), parse_yuan(doc["price"]), doc["image"], doc.get("url"))
    return Slot(
        int(doc["position"]), pick, bool(doc["pinned"]), parse_stored(doc["starts_at"]), parse_stored_or_none(doc.get("ends_at"))
    )


def rotation_doc(result: RotationResult, at: datetime, release: int | None) -> dict[str, Any]:
    """The stored rotation (``ROTATION/CURRENT`` and its history item): its number, instant, the
    release it was computed from, slots, spares, turn-order state and inputs digest."""
    return {
        "rotation": result.rotation,
        "rotated_at": to_stored(at),
        "release": release,
        "slots": [slot_to_doc(s) for s in result.slots],
        "spares": [slot_to_doc(s) for s in result.spares],
        "state": result.state.to_doc(),
        "inputs_digest": result.inputs_digest,
    }


@dataclass(frozen=True)
class StoredRotation:
    """A rotation document with its slots and spares parsed (once per document)."""

    doc: Mapping[str, Any]
    slots: tuple[Slot, ...]
    spares: tuple[Slot, ...]
    rotated_at: datetime

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> StoredRotation:
        return cls(
            doc,
            tuple(slot_from_doc(s) for s in doc.get("slots", [])),
            tuple(slot_from_doc(s) for s in doc.get("spares", [])),
            parse_stored(doc["rotated_at"]),
        )

    def view(self, at: datetime, count: int) -> list[Slot]:
        """The slots a request at ``at`` shows (see :func:`chalicelib.homepage.engine.homepage_view`)."""
        return homepage_view(self.slots, self.spares, at, count)

    def against(self, campaigns: Callable[[str], Campaign | None]) -> StoredRotation:
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
            now = SlotPick(campaign.id, pick.sku, pick.name, pick.price_fen, pick.image, pick.url)
            pinned = slot.pinned and pick.sku in campaign.homepage.pinned
            return Slot(slot.position, now, pinned, campaign.starts_at, campaign.ends_at)

        def kept(slots: tuple[Slot, ...]) -> tuple[Slot, ...]:
            return tuple(s for s in map(live, slots) if s is not None)

        return StoredRotation(self.doc, kept(self.slots), kept(self.spares), self.rotated_at)
