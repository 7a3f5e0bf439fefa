"""The homepage as stored: the entries a release keeps for the rotation, and rotation documents.

One home for both directions of each shape: :func:`homepage_entry` (written
by a publish, one item per homepage campaign) and :func:`entry_from_doc`
(read by the rotation); :func:`slot_to_doc`/:func:`slot_from_doc` and
:func:`rotation_doc`/:class:`StoredRotation` for the rotation document the
pages read. Money is yuan text and instants ISO 8601 inside documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.model import Campaign, Text
from chalicelib.domain.money import fen_to_yuan_str, parse_yuan
from chalicelib.domain.times import parse_stored, parse_stored_or_none, stored_or_none, to_stored
from chalicelib.domain.window import Window
from chalicelib.homepage.engine import HomepageEntry, RotationResult, RotationState, Slot, SlotPick
from chalicelib.homepage.spans import Span, plan, span_at


def homepage_entry(doc: Mapping[str, Any], digest: str = "") -> dict[str, Any] | None:
    """What the rotation needs of a homepage campaign document, or ``None`` if it has no homepage block.

    ``digest``: the document's content digest (the release manifest's), kept so that a
    request can tell a campaign a later publish changed from one it left alone.
    """
    home = doc.get("homepage")
    if home is None:
        return None
    return {
        "campaign_id": doc["id"],
        "digest": digest,
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
        digest=str(doc.get("digest") or ""),
    )


def entry_to_doc(entry: HomepageEntry) -> dict[str, Any]:
    """Inverse of :func:`entry_from_doc` (the shape of :func:`homepage_entry`)."""
    return {
        "campaign_id": entry.campaign_id,
        "digest": entry.digest,
        "weight": entry.weight,
        "pinned": list(entry.pinned),
        "starts_at": to_stored(entry.starts_at),
        "ends_at": stored_or_none(entry.ends_at),
        "picks": [
            {
                "sku": p.sku,
                "name": p.name.to_doc(),
                "price": fen_to_yuan_str(p.price_fen),
                "image": p.image,
                **({"url": p.url} if p.url is not None else {}),
            }
            for p in entry.picks
        ],
    }


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


def slot_ref(slot: Slot) -> list[Any]:
    """A slot as ``[campaign_id, sku, pinned]`` (its position is its index + 1)."""
    return [slot.pick.campaign_id, slot.pick.sku, slot.pinned]


def rotation_doc(spans: Sequence[Span], release: int | None, entries: Sequence[HomepageEntry], slots: int) -> dict[str, Any]:
    """The stored rotation (``ROTATION/CURRENT`` and its history item) of :func:`~chalicelib.homepage.spans.plan`'s ``spans``.

    ``{"rotation", "rotated_at", "until", "release", "slots", "spans", "state",
    "previous", "slot_count", "entries", "inputs_digest"}``: ``slots`` are the first
    span's (full, as :func:`slot_to_doc`); ``spans`` every span's first instant and
    slots (``[{"from", "slots": [[campaign_id, sku, pinned], ...]}]``, for the history
    and the exposure report); ``state`` the state after the last span (what the next
    rotation continues from); ``previous``, ``slot_count`` and ``entries`` (the homepage
    campaigns of the spans as :func:`~chalicelib.homepage.spans.stored_plan` trimmed them,
    which ``spans`` were laid out from) rebuild the spans with the engine at request time. ``release``: the release the
    entries came from (``None``: not a published one). Instants ISO 8601 with offset.
    """
    first, last = spans[0], spans[-1]
    return {
        "rotation": first.result.rotation,
        "rotated_at": to_stored(first.starts),
        "until": to_stored(last.ends),
        "release": release,
        "slots": [slot_to_doc(s) for s in first.result.slots],
        "spans": [{"from": to_stored(s.starts), "slots": [slot_ref(x) for x in s.result.slots]} for s in spans],
        "state": last.result.state.to_doc(),
        "previous": first.before.to_doc(),
        "slot_count": slots,
        "entries": [entry_to_doc(e) for e in entries],
        "inputs_digest": first.result.inputs_digest,
    }


@dataclass(frozen=True)
class StoredRotation:
    """A rotation document with its spans rebuilt (once per document) by the engine.

    ``entries``: the homepage campaigns it was computed from (trimmed); empty for a
    document written before rotations carried them, whose one span is its stored
    slots and spares.
    """

    doc: Mapping[str, Any]
    spans: tuple[Span, ...]
    rotated_at: datetime
    entries: tuple[HomepageEntry, ...] = ()
    slot_count: int = 0

    @classmethod
    def parse(cls, doc: Mapping[str, Any]) -> StoredRotation:
        """Raises ``KeyError``/``ValueError`` on a malformed document."""
        at = parse_stored(doc["rotated_at"])
        number = int(doc["rotation"])
        if "entries" not in doc:  # written before rotations carried their spans
            slots = tuple(slot_from_doc(s) for s in doc.get("slots", []))
            spares = tuple(slot_from_doc(s) for s in doc.get("spares", []))
            state = RotationState.from_doc(doc.get("state"))
            result = RotationResult(number, slots, spares, state, str(doc.get("inputs_digest", "")))
            return cls(doc, (Span(at, at, state, result),), at)
        entries = tuple(entry_from_doc(e) for e in doc["entries"])
        count = int(doc["slot_count"])
        previous = RotationState.from_doc(doc.get("previous"))
        spans = plan(entries, count, previous, number, at, parse_stored(doc["until"]))
        return cls(doc, spans, at, entries, count)

    @property
    def slots(self) -> tuple[Slot, ...]:
        """The first span's slots (the layout at ``rotated_at``)."""
        return self.spans[0].result.slots

    @property
    def spares(self) -> tuple[Slot, ...]:
        return self.spans[0].result.spares

    @property
    def until(self) -> datetime:
        """How far its spans reach: the next scheduled rotation."""
        return self.spans[-1].ends

    def span(self, at: datetime) -> Span:
        """The span a request at ``at`` is in (:func:`~chalicelib.homepage.spans.span_at`)."""
        return span_at(self.spans, at)

    def view(self, at: datetime, count: int) -> list[Slot]:
        """The slots a request at ``at`` shows: its span's layout, never a pick whose campaign is
        not live at ``at`` (:func:`chalicelib.homepage.engine.homepage_view`)."""
        return self.span(at).view(at, count)

    def edges(self) -> list[datetime]:
        """Every instant at which :meth:`view` may change: span starts and the picks' windows."""
        out = [s.starts for s in self.spans]
        for span in self.spans:
            for slot in span.result.slots + span.result.spares:
                out.append(slot.starts_at)
                if slot.ends_at is not None:
                    out.append(slot.ends_at)
        return out

    def with_entries(self, entries: Sequence[HomepageEntry]) -> StoredRotation:
        """This rotation rebuilt from other entries (the live release's), from the same state,
        instant and horizon; ``self`` when they are the same campaigns at the same digests."""
        if sorted((e.campaign_id, e.digest) for e in entries) == sorted((e.campaign_id, e.digest) for e in self.entries):
            return self
        first = self.spans[0]
        spans = plan(entries, self.slot_count, first.before, first.result.rotation, self.rotated_at, self.until)
        return StoredRotation(self.doc, spans, self.rotated_at, tuple(entries), self.slot_count)

    def against(
        self,
        manifest: Mapping[str, str],
        catalog: Sequence[Mapping[str, Any]],
        campaigns: Callable[[str], Campaign | None],
    ) -> StoredRotation:
        """This rotation as the live release has it now, for when a publish or a rollback came
        after it was computed.

        ``manifest`` (campaign id -> digest) and ``catalog`` (its summaries) are the
        live release's; ``campaigns``: id -> the live campaign, or ``None``. The spans
        are rebuilt by the engine (:meth:`with_entries`) from the entries the release
        has for the rotation's horizon: a kept entry whose digest the manifest still
        names as is (no read), a new or changed one from its live document (read
        through ``campaigns``, one version per container), and a withdrawn one not at
        all. So a published campaign takes its share by the quota at once, and the
        homepage never shows a pick of an older release.
        """
        if not self.entries and self.slot_count == 0:
            return self._filtered(campaigns)
        kept = {e.campaign_id: e for e in self.entries}
        entries: list[HomepageEntry] = []
        for row in catalog:
            cid = row["id"]
            if row.get("homepage") is False:  # summaries from before the flag say nothing: read
                continue
            window = Window(parse_stored(row["starts_at"]), parse_stored_or_none(row.get("ends_at")))
            if not window.overlaps(Window(self.rotated_at, self.until)):
                continue
            digest = manifest.get(cid, "")
            old = kept.get(cid)
            if old is not None and old.digest and old.digest == digest:
                entries.append(old)
                continue
            campaign = campaigns(cid)
            if campaign is not None:
                entries.extend(replace(e, digest=digest) for e in entries_from_campaigns([campaign]))
        return self.with_entries(entries)

    def _filtered(self, campaigns: Callable[[str], Campaign | None]) -> StoredRotation:
        """A document without entries: its picks that the live release dropped are left out, the
        others shown with the live name, price and window."""

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

        span = self.spans[0]
        result = replace(span.result, slots=kept(span.result.slots), spares=kept(span.result.spares))
        return replace(self, spans=(replace(span, result=result),))
