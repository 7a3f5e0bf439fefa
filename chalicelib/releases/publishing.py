"""Releases: plan, publish and roll back a set of campaigns.

A publish is atomic for readers (docs/architecture.md, "Releases"): the campaign documents
are content-addressed (``CAMPAIGN#<id> / V#<sha256>``) and never change once
written, and the new release becomes live in one conditional transaction that
writes the ``RELEASE/CURRENT`` pointer (with the live number the rotation reads). Readers follow the pointer, so they see the
old set or the new set, never a mix; a publish that fails before the flip
leaves the live set as it was. The release record (what ``campaign releases``
lists) is written in that same transaction, so a publish that fails at the
flip leaves no release behind either.

Writes per publish: one per new or changed campaign document, one per
homepage campaign (the release's homepage items, which the rotation reads
with one ``Query``), the release record and the pointer (with the live number
the rotation reads) in one transaction, and after the
flip one head item per new or changed campaign (``CAMPAIGN#<id>/HEAD``, a
copy of the document that lets a cold container read a page in one request;
see :mod:`chalicelib.store.releases`). An unchanged re-publish writes nothing.

The heads are written after the flip, so a publish that fails before it
leaves no head ahead of the live release. A head that is not written (a
failure after the flip, or a losing race) costs readers one more read,
never a wrong page: readers check its digest against the release.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.clock import Clock
from chalicelib.domain.model import DEFAULT_RETURN_DAYS, Campaign, campaign_from_doc, campaign_to_doc
from chalicelib.errors import NothingToRollBack, PlatformError, ReleaseConflict, StoreUnavailable
from chalicelib.homepage.stored import homepage_entry
from chalicelib.releases.book_checks import BookCheck, PayoutsExceedConfirmed, PublishRefused, check_books
from chalicelib.releases.documents import catalog_entry, doc_digest
from chalicelib.releases.risks import Risk, RiskyPublish, risks_of
from chalicelib.store.items import MAX_ITEM_BYTES, CampaignHead, Release, item_bytes
from chalicelib.store.keys import CURRENT_SK
from chalicelib.store.releases import ReleaseStore

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldChange:
    """One changed value of a campaign or pick document: its dotted ``path`` (``title.en``,
    ``price``), and the ``old`` and ``new`` document values (``None``: absent)."""

    path: str
    old: Any
    new: Any

    def describe(self) -> str:
        """``price: "39.90" -> "42.90"`` (values as JSON text, as they are stored; a value the
        document leaves out because it is the default is shown as that default)."""
        return f"{self.path}: {_shown(self.path, self.old)} -> {_shown(self.path, self.new)}"


# Values a campaign document leaves out when they are the default (chalicelib.domain.model).
_DEFAULTS = {"charity.return_days": DEFAULT_RETURN_DAYS}


def _shown(path: str, value: Any) -> str:
    if value is None and path in _DEFAULTS:
        return f"{_DEFAULTS[path]} (the default)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Change:
    """One entry of a plan: ``what`` is ``campaign`` or ``pick``; ``action`` add/remove/change.

    ``fields``: the top-level fields that changed; ``values``: every changed value, old and new.
    """

    action: str
    what: str
    campaign_id: str
    sku: str | None = None
    fields: tuple[str, ...] = ()
    values: tuple[FieldChange, ...] = ()

    def describe(self) -> str:
        """``  ~ pick poverty-day-2026 / EGG-0017 (price)`` then one indented ``old -> new`` line a value."""
        sign = {"add": "+", "remove": "-", "change": "~"}[self.action]
        name = self.campaign_id if self.sku is None else f"{self.campaign_id} / {self.sku}"
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return "\n".join([f"  {sign} {self.what} {name}{detail}"] + [f"      {v.describe()}" for v in self.values])


@dataclass(frozen=True)
class Plan:
    """What a publish would do against the live release ``current`` (``None``: nothing published yet).

    ``changes``: one line per campaign and pick added, changed or removed;
    ``docs``: the planned campaign documents by id; ``release_changed``: whether
    the manifest differs (else a publish writes nothing).
    """

    current: int | None
    changes: tuple[Change, ...] = ()
    docs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    release_changed: bool = False
    # campaign id -> content digest of the planned documents (the new release's manifest)
    manifest: Mapping[str, str] = field(default_factory=dict)
    # what the public would notice and lose (refused unless allowed by name)
    risks: tuple[Risk, ...] = ()
    # what would make a charity sale's books wrong (refused whatever is allowed)
    books: BookCheck | None = None

    @property
    def empty(self) -> bool:
        return not self.release_changed

    def describe(self) -> str:
        head = f"live release: {self.current if self.current is not None else 'none'}"
        if self.empty:
            return f"{head}\nno changes: a publish would write nothing"
        lines = [head] + [c.describe() for c in self.changes]
        adds = sum(1 for c in self.changes if c.action == "add" and c.what == "campaign")
        changes = sum(1 for c in self.changes if c.action == "change" and c.what == "campaign")
        removes = sum(1 for c in self.changes if c.action == "remove" and c.what == "campaign")
        lines.append(f"campaigns: {adds} to add, {changes} to change, {removes} to remove")
        if self.risks:
            lines.append("risky, refused unless allowed by name:")
            lines.extend(r.describe() for r in self.risks)
        refusals = [] if self.books is None else self.books.describe()
        if refusals:
            lines.append("refused, whatever is allowed:")
            lines.extend(f"  {line}" for line in refusals)
        return "\n".join(lines)


def _diff_fields(old: Mapping[str, Any], new: Mapping[str, Any], skip: Sequence[str] = ()) -> tuple[str, ...]:
    keys = sorted((set(old) | set(new)) - set(skip))
    return tuple(k for k in keys if old.get(k) != new.get(k))


def _diff_values(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Every changed value between two documents, by dotted path: mappings are followed
    key by key (``title.en``), anything else (a list, a string, a number) is one value."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[FieldChange] = []
        for key in sorted(set(old) | set(new)):
            out.extend(_diff_values(old.get(key), new.get(key), f"{path}.{key}" if path else key))
        return out
    return [] if old == new else [FieldChange(path, old, new)]


def _diff_campaign(cid: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    changes: list[Change] = []
    fields = _diff_fields(old, new, skip=("products",))
    old_picks = {p["sku"]: p for p in old.get("products", [])}
    new_picks = {p["sku"]: p for p in new.get("products", [])}
    pick_changes: list[Change] = []
    for sku, pick in new_picks.items():
        if sku not in old_picks:
            pick_changes.append(Change("add", "pick", cid, sku))
        elif old_picks[sku] != pick:
            changed = tuple(_diff_values(old_picks[sku], pick))
            pick_changes.append(Change("change", "pick", cid, sku, _diff_fields(old_picks[sku], pick), changed))
    for sku in old_picks:
        if sku not in new_picks:
            pick_changes.append(Change("remove", "pick", cid, sku))
    values = [v for v in _diff_values(old, new) if v.path != "products" and not v.path.startswith("products.")]
    old_order = [s for s in old_picks if s in new_picks]
    new_order = [s for s in new_picks if s in old_picks]
    if old_order != new_order:
        fields = fields + ("products order",)
        values.append(FieldChange("products order", old_order, new_order))
    if fields or pick_changes:
        changes.append(Change("change", "campaign", cid, None, fields, tuple(values)))
        changes.extend(pick_changes)
    return changes


class ReleaseTooLarge(PlatformError):
    """A release's record would exceed DynamoDB's item size limit (nothing was written)."""

    STATUS_CODE = 413
    CODE = "release_too_large"

    def __init__(self, campaigns: int, size: int) -> None:
        per = size / max(campaigns, 1)
        super().__init__(
            f"nothing was published: the release of {campaigns:,} campaigns would be a {size / 1000:,.0f} KB item, "
            f"over DynamoDB's {MAX_ITEM_BYTES // 1000} KB item limit (about {per / 1000:.2f} KB a campaign, so at most "
            f"about {int(MAX_ITEM_BYTES // per):,} fit); a release holds every published campaign, so remove "
            "the files of campaigns that have ended"
        )
        self.size = size


class Publisher:
    """Plans, publishes and rolls back releases on a :class:`~chalicelib.store.releases.ReleaseStore`.

    ``clock`` gives the aware publish time; ``actor`` and ``commit`` are
    recorded on the release (who published, and the git commit if any).
    """

    KEEP_RELEASES = 10

    def __init__(
        self,
        store: ReleaseStore,
        clock: Clock,
        actor: str = "",
        commit: str = "",
        progress: Callable[[int], Callable[[int], None]] | None = None,
        has_donations: Callable[[str], bool] = lambda campaign_id: False,
        confirmed_fen: Callable[[str, datetime, int], int] | None = None,
        booked_windows: Callable[[str], Collection[int]] = lambda campaign_id: (),
    ) -> None:
        self.store = store
        self.clock = clock
        self.actor = actor
        self.commit = commit
        # campaign id -> whether its books hold donations (a sale or a point donation)
        self._has_donations = has_donations
        # (campaign id, instant, return_days) -> its confirmed donations in fen on this stage;
        # None: no books to check payouts against (every payout is then refused)
        self._confirmed_fen = confirmed_fen
        # campaign id -> the return windows (days) its books hold writes under (chalicelib.releases.book_checks)
        self._booked_windows = booked_windows
        # progress(total) -> advance(n): the CLI's progress bar for large publishes
        self._progress = progress

    def _live_doc(self, current: Release, campaign_id: str) -> dict[str, Any] | None:
        digest = current.manifest.get(campaign_id)
        return None if digest is None else self.store.get_campaign_doc(campaign_id, digest)

    def _current_docs(self, current: Release | None) -> dict[str, dict[str, Any]]:
        docs: dict[str, dict[str, Any]] = {}
        if current is None:
            return docs
        for cid, digest in current.manifest.items():
            doc = self.store.get_campaign_doc(cid, digest)
            if doc is not None:
                docs[cid] = doc
        return docs

    def plan(self, campaigns: Sequence[Campaign]) -> Plan:
        """Compare ``campaigns`` with the live release. Reads only."""
        return self._plan(campaigns, self.store.get_current_release(consistent=True))

    def _plan(self, campaigns: Sequence[Campaign], current: Release | None) -> Plan:
        new_docs = {c.id: campaign_to_doc(c) for c in sorted(campaigns, key=lambda c: c.id)}
        old_docs = self._current_docs(current)
        changes: list[Change] = []
        for cid, doc in new_docs.items():
            if cid not in old_docs:
                changes.append(Change("add", "campaign", cid))
                changes.extend(Change("add", "pick", cid, p["sku"]) for p in doc["products"])
            else:
                changes.extend(_diff_campaign(cid, old_docs[cid], doc))
        for cid in sorted(old_docs):
            if cid not in new_docs:
                changes.append(Change("remove", "campaign", cid))
        new_manifest = {cid: doc_digest(doc) for cid, doc in new_docs.items()}
        release_changed = current is None or dict(current.manifest) != new_manifest
        return Plan(
            current=None if current is None else current.number,
            changes=tuple(changes),
            docs=new_docs,
            release_changed=release_changed,
            manifest=new_manifest,
            risks=tuple(risks_of(old_docs, new_docs, self.clock(), self._has_donations)),
            books=check_books(campaigns, old_docs, self.clock(), self._confirmed_fen, self._has_donations, self._booked_windows),
        )

    def publish(self, campaigns: Sequence[Campaign], allow: Collection[str] = ()) -> tuple[Plan, Release | None]:
        """Publish ``campaigns`` as a new release; returns the plan and the new release.

        Returns ``(plan, None)`` and writes nothing when nothing changed.
        Raises ``RiskyPublish`` (nothing written) when the plan has a risk whose campaign
        is not in ``allow``, and ``ReleaseConflict`` when another publish won the race.
        """
        # The flip is conditional on the release this plan was made against, so a publish that
        # lands in between makes ours fail (and say so) rather than silently replace it.
        current = self.store.get_current_release(consistent=True)
        plan = self._plan(campaigns, current)
        if plan.empty:
            return plan, None
        refused = [r for r in plan.risks if r.campaign_id not in allow]
        if refused:
            raise RiskyPublish(refused)
        assert plan.books is not None
        plan.books.raise_if_refused()
        manifest = dict(plan.manifest)
        catalog = [catalog_entry(doc) for doc in plan.docs.values()]
        self._check_size(manifest, catalog)
        old_manifest = {} if current is None else dict(current.manifest)
        new_versions = [(cid, manifest[cid], doc) for cid, doc in plan.docs.items() if old_manifest.get(cid) != manifest[cid]]
        entries = [(cid, e) for cid, e in ((cid, homepage_entry(doc, manifest[cid])) for cid, doc in plan.docs.items()) if e]
        advance = None if self._progress is None else self._progress(len(new_versions) + len(entries))
        self.store.put_campaign_versions(new_versions, advance)
        latest = self.store.list_releases(limit=1)
        # Numbers are never reused, not even one whose publish failed after writing homepage items.
        taken = [current.number if current else 0, self.store.latest_homepage_release()]
        number = max(taken + [r.number for r in latest]) + 1
        self.store.put_homepage_entries(number, entries, advance)
        now: datetime = self.clock()
        release = Release(
            number=number,
            manifest=manifest,
            catalog=catalog,
            published_at=now.isoformat(),
            published_by=self.actor,
            commit=self.commit,
            previous=0 if current is None else current.number,
        )
        try:
            # The record and the flip together: a publish failing here leaves no release behind.
            self.store.publish_release(release, None if current is None else current.number)
        except ReleaseConflict:
            # Our own flip may have landed with its answer lost (a 5xx), so that the SDK's retry
            # failed the condition. Release numbers are never reused: if the pointer names ours, it won.
            live = self.store.get_current_release(consistent=True)
            if live is None or live.number != release.number:
                raise
        self._write_heads([(cid, CampaignHead(digest, doc)) for cid, digest, doc in new_versions])
        self.prune(keep={release.number, release.previous})
        return plan, release

    def _check_size(self, manifest: Mapping[str, str], catalog: Sequence[Mapping[str, Any]]) -> None:
        """Raise ``ReleaseTooLarge`` before any write when the release's record (the manifest and the
        catalog in one item, ``RELEASE/CURRENT``) would exceed DynamoDB's item size limit."""
        largest = 10**10  # a release number and a previous one at their widest
        now = self.clock().isoformat()
        probe = Release(largest, manifest, catalog, now, published_by=self.actor, commit=self.commit, previous=largest)
        size = item_bytes(probe.to_item(CURRENT_SK))
        if size > MAX_ITEM_BYTES:
            raise ReleaseTooLarge(len(catalog), size)

    def _write_heads(self, heads: Sequence[tuple[str, CampaignHead]]) -> None:
        """Refresh the head items after a flip. The release is live whatever happens
        here: a failure is logged, and readers fall back to the version item."""
        try:
            self.store.put_campaign_heads(heads)
        except StoreUnavailable as exc:
            _log.warning("release is live, but %d head item(s) were not refreshed: %s", len(heads), exc)

    def prune(self, keep: set[int]) -> list[int]:
        """Delete releases past the newest ``KEEP_RELEASES`` (never one in ``keep``).

        Returns the numbers deleted. Runs after the pointer flip, so a failure
        here never affects the live set.
        """
        numbers = self.store.release_numbers()
        doomed = [n for n in numbers[self.KEEP_RELEASES :] if n not in keep]
        for number in doomed:
            self.store.delete_release(number)
        return doomed

    def rollback(self, to: int | None = None) -> tuple[Release, Release]:
        """Make an earlier release live again; returns ``(from, to)``.

        ``to`` defaults to the release that was live before the current one.
        Raises ``NothingToRollBack`` when there is none, ``ReleaseConflict``
        on a race.
        """
        current = self.store.get_current_release(consistent=True)
        if current is None:
            raise NothingToRollBack("nothing is published yet")
        target_number = current.previous if to is None else to
        if not target_number or target_number == current.number:
            raise NothingToRollBack(f"release {current.number} has no earlier release to go back to")
        target = self.store.get_release(target_number)
        if target is None:
            raise NothingToRollBack(f"release {target_number} is not kept")
        moved = [(cid, digest) for cid, digest in target.manifest.items() if current.manifest.get(cid) != digest]
        docs = [(cid, digest, self.store.get_campaign_doc(cid, digest)) for cid, digest in moved]
        # Refused as a publish of the same campaigns would be (chalicelib.releases.book_checks).
        back = [campaign_from_doc(doc) for _, _, doc in docs if doc is not None]
        live = {cid: d for cid in {c.id for c in back} if (d := self._live_doc(current, cid)) is not None}
        check_books(back, live, self.clock(), self._confirmed_fen, self._has_donations, self._booked_windows).raise_if_refused()
        self.store.flip_current(target, current.number)
        self._write_heads([(cid, CampaignHead(digest, doc)) for cid, digest, doc in docs if doc is not None])
        return current, target


__all__ = ["Change", "PayoutsExceedConfirmed", "Plan", "PublishRefused", "Publisher", "Risk", "RiskyPublish"]
