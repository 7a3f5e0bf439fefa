"""Where pages get their campaigns: the published release, or YAML for previews.

Both sources offer the same three reads, so a handler and ``campaign
preview`` render through the same code (:mod:`chalicelib.web.pages`):

- ``campaign(id) -> Campaign | None``
- ``catalog() -> list[dict]``: the compact summaries of every campaign
- ``rotation(at) -> dict | None``: the homepage rotation document

:class:`StoreCatalog` caches in the container: the release pointer for at
most ``release_ttl_s`` seconds (5 s), campaign versions for the container's
life (they are immutable, addressed by content digest), and the rotation
for at most ``rotation_ttl_s`` seconds. The state of a page is always
computed at request time from the request's instant, so a cache never
serves a page past its boundary.

DynamoDB requests (docs/architecture.md, "Reads per page"; counted in ``tests/functional/test_read_counts.py``):
a campaign page in a container that has not seen it is one ``BatchGetItem``
(the pointer with the campaign's head item, and a charity sale's counter
shards riding along: :mod:`chalicelib.store.along`), a homepage in a cold
container is one ``BatchGetItem`` (the pointer with the rotation), and a warm
page is none. After the 5 s of the pointer, a page re-reads the pointer alone
(``GetItem``), or with its campaign, rotation or due counter shards
(``BatchGetItem``).

When DynamoDB fails (:class:`~chalicelib.errors.StoreUnavailable`), a value
read within the last ``stale_if_error_s`` seconds (600) is served instead and
the request is marked stale (:mod:`chalicelib.staleness`), so the response can
say so; with nothing cached, the error propagates (a 503 page).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from chalicelib import staleness
from chalicelib.domain.model import Campaign, campaign_from_doc, campaign_to_doc
from chalicelib.errors import StoreUnavailable
from chalicelib.homepage.simulation import simulate
from chalicelib.homepage.stored import StoredRotation, entries_from_campaigns, rotation_doc
from chalicelib.releases.documents import catalog_entry
from chalicelib.store.along import ReadAlong, Riders, RidersOf
from chalicelib.store.items import CampaignHead, Release
from chalicelib.store.releases import ReleaseStore
from chalicelib.store.rotations import RotationStore

T = TypeVar("T")
_NO_CATALOG: tuple[dict[str, Any], ...] = ()


class StoreCatalog:
    """Reads the live release from DynamoDB, with the in-container cache."""

    def __init__(
        self,
        releases: ReleaseStore,
        rotations: RotationStore,
        monotonic: Callable[[], float] = time.monotonic,
        release_ttl_s: float = 5.0,
        rotation_ttl_s: float = 5.0,
        stale_if_error_s: float = staleness.STALE_IF_ERROR_S,
        page_cache: Any = None,
        riders: Riders | None = None,
    ) -> None:
        self.releases = releases
        # What rides along in a campaign page's read of the pointer (the books' counter shards of a
        # charity sale, :meth:`chalicelib.books.service.Books.read_along`); set by chalicelib.wiring.
        self.riders = riders
        self.rotations = rotations
        self._monotonic = monotonic
        self._release_ttl_s = release_ttl_s
        self._rotation_ttl_s = rotation_ttl_s
        self._stale_if_error_s = stale_if_error_s
        self._release: tuple[float, Release | None] | None = None
        self._rotation: tuple[float, dict[str, Any] | None] | None = None
        self._versions: dict[tuple[str, str], Campaign | None] = {}
        self._parsed: StoredRotation | None = None
        self._reconciled: tuple[StoredRotation, Release, StoredRotation] | None = None
        # The pages' cache of rendered bodies (chalicelib.web.page_cache.PageCache), handed in by
        # chalicelib.wiring and read only by the pages; None: every page is rendered afresh.
        self.page_cache = page_cache

    def _cached(self, entry: tuple[float, T] | None, ttl_s: float, read: Callable[[], T]) -> tuple[float, T]:
        now = self._monotonic()
        if entry is not None and now - entry[0] < ttl_s:
            return entry
        try:
            return (now, read())
        except StoreUnavailable:
            if entry is None or now - entry[0] > self._stale_if_error_s:
                raise
            staleness.mark()
            return entry

    def release(self, along: ReadAlong | None = None) -> Release | None:
        """The live release pointer, re-read (with ``along``'s keys, if any) once its 5 s are up."""
        self._release = self._cached(self._release, self._release_ttl_s, lambda: self.releases.get_current_release(along=along))
        return self._release[1]

    def _fresh(self, entry: tuple[float, Any] | None, ttl_s: float) -> bool:
        return entry is not None and self._monotonic() - entry[0] < ttl_s

    def campaign(self, campaign_id: str, *, read_along: bool = True) -> Campaign | None:
        """The live release's version of ``campaign_id``, or ``None`` when the release has none.

        Reads, when needed: the pointer together with the campaign's head item
        (one ``BatchGetItem``) when this container holds no version of it under
        the pointer it knows; else the pointer alone (``GetItem``) once its 5 s
        are up; then, only if the head did not match the release, the version
        itself (``GetItem``). With ``read_along`` (a page), the counter shards
        of a charity sale whose books are due ride in the pointer's read (a
        ``BatchGetItem``), see :meth:`_along`. Raises ``StoreUnavailable`` with
        nothing to serve stale.
        """
        fresh = self._fresh(self._release, self._release_ttl_s)
        along = None if fresh or not read_along else self._along(campaign_id)
        if fresh or self._holds(campaign_id):
            release = self.release(along)
        else:
            heads: list[CampaignHead] = []

            def read() -> Release | None:
                found, head = self.releases.get_release_with_head(campaign_id, along)
                heads.extend([] if head is None else [head])
                return found

            self._release = self._cached(self._release, 0.0, read)
            release = self._release[1]
            for head in heads:
                if release is not None and release.manifest.get(campaign_id) == head.digest:
                    self._versions.setdefault((campaign_id, head.digest), campaign_from_doc(head.doc))
        if release is None or campaign_id not in release.manifest:
            return None
        key = (campaign_id, release.manifest[campaign_id])
        if key not in self._versions:
            doc = self.releases.get_campaign_doc(*key)
            self._versions[key] = None if doc is None else campaign_from_doc(doc)
        return self._versions[key]

    def _along(self, campaign_id: str) -> ReadAlong | None:
        """The riders of ``campaign_id``'s read: its counter shards, when it is (or may be) a charity sale.

        Known from the version held, else from the last pointer's catalog (a campaign it does not
        list is taken as no charity sale: its books, if any, are read on their own); a container
        that never read the pointer cannot know, so it reads them along (98 keys, 49 RCU, spent in
        vain on a cold page of another kind of campaign: docs/donations.md).
        """
        if self.riders is None:
            return None
        release = None if self._release is None else self._release[1]
        if release is not None:
            held = self._versions.get((campaign_id, release.manifest.get(campaign_id, "")))
            if held is not None:
                charity = held.charity is not None
            else:
                charity = any(e.get("id") == campaign_id and e.get("charity") is not None for e in release.catalog)
            if not charity:
                return None
        return self.riders([campaign_id])

    def _holds(self, campaign_id: str) -> bool:
        """Whether a version of ``campaign_id`` under the last pointer read is cached."""
        release = None if self._release is None else self._release[1]
        return release is not None and (campaign_id, release.manifest.get(campaign_id)) in self._versions

    def catalog(self, riders_of: RidersOf | None = None) -> Sequence[Mapping[str, Any]]:
        """The release's own (cached) list: the same object until the next publish. Read only.

        ``riders_of`` (``/charity``): when the pointer is due, the counter shards of the campaigns
        it picks from the last catalog held ride in the pointer's read, so the page costs
        ``ceil((1 + 98 x sales) / 100)`` ``BatchGetItem`` (docs/donations.md). A container that
        never read the pointer knows no campaign: the pointer comes alone, the books after it.
        """
        along = None
        held = None if self._release is None else self._release[1]
        if riders_of is not None and self.riders is not None and held is not None:
            if not self._fresh(self._release, self._release_ttl_s):
                along = self.riders(riders_of(held.catalog))
        release = self.release(along)
        return _NO_CATALOG if release is None else release.catalog

    def rotation(self, at: datetime) -> dict[str, Any] | None:
        """The stored rotation document. When neither it nor the pointer was read
        within its TTL (a cold container), both come in one ``BatchGetItem``."""
        if self._fresh(self._rotation, self._rotation_ttl_s) or self._fresh(self._release, self._release_ttl_s):
            self._rotation = self._cached(self._rotation, self._rotation_ttl_s, self.rotations.get_rotation)
            return self._rotation[1]
        pair: list[dict[str, Any] | None] = []

        def read() -> Release | None:
            release, rotation = self.releases.get_release_and_rotation()
            pair.append(rotation)
            return release

        self._release = self._cached(self._release, 0.0, read)
        if pair:
            self._rotation = (self._release[0], pair[0])
        else:  # the pointer is served stale: so is the rotation, if it was read recently enough
            self._rotation = self._cached(self._rotation, 0.0, self._unavailable)
        return self._rotation[1]

    @staticmethod
    def _unavailable() -> Any:
        raise StoreUnavailable("DynamoDB is unavailable")

    def stored_rotation(self, at: datetime) -> StoredRotation | None:
        """The rotation with its slots parsed once per document read.

        A rotation computed from another release than the live one (a publish
        or a rollback came after it, or raced it) is rebuilt with the live
        release's entries (:meth:`StoredRotation.against`), once per rotation and
        release: its picks that the live release dropped are not shown, and a new
        or changed live campaign takes its share by the quota at once. That reads
        the documents of new or changed homepage campaigns only, once per
        container (they are cached for its life).
        """
        doc = self.rotation(at)
        if doc is None:
            return None
        if self._parsed is None or not _same_rotation(self._parsed.doc, doc):
            self._parsed = StoredRotation.parse(doc)
        release = self.release()
        if release is None or doc.get("release") == release.number:
            return self._parsed
        seen = self._reconciled
        if seen is None or seen[0] is not self._parsed or seen[1] is not release:
            rebuilt = self._parsed.against(release.manifest, release.catalog, self.campaign)
            seen = self._reconciled = (self._parsed, release, rebuilt)
        return seen[2]


def _same_rotation(kept: Mapping[str, Any], read: Mapping[str, Any]) -> bool:
    """Whether a re-read rotation document is the one already parsed: each rotation number is
    written once (conditional on the previous one), so its number and instant name its content."""
    return kept is read or (kept.get("rotation"), kept.get("rotated_at")) == (read.get("rotation"), read.get("rotated_at"))


class YamlCatalog:
    """Campaigns straight from validated YAML, with no AWS (``campaign preview``).

    The homepage rotation is the simulation (:func:`~chalicelib.homepage.simulation.simulate`)
    from ``since`` up to ``at``, every ``rotation_minutes``, with its spans, so that
    a preview at any instant shows what the schedule would have shown then. Without
    ``since``, the simulation starts a day before ``at``, on a multiple of
    ``rotation_minutes`` since the Unix epoch: enough for the turn order to be
    realistic, bounded in cost. With the same ``since``, ``campaign preview --homepage``
    and ``campaign rotate --simulate --from`` show the same slots.
    """

    page_cache = None  # a preview always renders afresh

    def __init__(
        self, campaigns: Sequence[Campaign], slots: int = 8, rotation_minutes: int = 15, since: datetime | None = None
    ) -> None:
        self._campaigns = {c.id: c for c in campaigns}
        self._slots = slots
        self._minutes = rotation_minutes
        self._since = since

    def campaign(self, campaign_id: str) -> Campaign | None:
        return self._campaigns.get(campaign_id)

    def catalog(self, riders_of: RidersOf | None = None) -> list[dict[str, Any]]:
        """Every campaign's catalog entry (``riders_of`` is ignored: nothing is read)."""
        return [catalog_entry(campaign_to_doc(c)) for c in sorted(self._campaigns.values(), key=lambda c: c.id)]

    def _start(self, at: datetime) -> datetime:
        if self._since is not None:
            return self._since
        step_s = self._minutes * 60
        day_before = int((at - timedelta(days=1)).timestamp())
        return datetime.fromtimestamp(day_before - day_before % step_s, tz=at.tzinfo)

    def rotation(self, at: datetime) -> dict[str, Any] | None:
        entries = entries_from_campaigns(self._campaigns.values())
        runs = simulate(entries, self._start(at), at + timedelta(microseconds=1), self._slots, self._minutes)
        if not runs:
            return None
        last = runs[-1]
        return rotation_doc(last.spans, None, last.entries, self._slots)

    def stored_rotation(self, at: datetime) -> StoredRotation | None:
        doc = self.rotation(at)
        return None if doc is None else StoredRotation.parse(doc)
