"""Releases, campaign versions and heads, and the homepage items: one method per access pattern.

Keys and item types: :mod:`chalicelib.store.keys`; shapes: :mod:`chalicelib.store.items`;
every call goes through :class:`chalicelib.store.table.Table`.

Access patterns:

- a campaign page in a container that has not seen it is one ``BatchGetItem``
  of ``RELEASE/CURRENT`` and ``CAMPAIGN#<id>/HEAD``: the head is used when its
  digest is the one the release names (else one more ``GetItem`` of the
  version the release names, so a head that lags or leads a publish is never
  shown). :class:`chalicelib.releases.catalog.StoreCatalog` caches the pointer 5 s and
  versions for the container's life;
- a homepage in a cold container is one ``BatchGetItem`` of
  ``RELEASE/CURRENT`` and ``ROTATION/CURRENT``;
- a publish writes versions, homepage items and heads with ``BatchWriteItem``
  (the CLI only: the Lambda role has no ``BatchWriteItem``), then the release
  record and the pointer in one transaction (:meth:`ReleaseStore.publish_release`).
  Nothing scans.

Raises :class:`~chalicelib.errors.StoreUnavailable` (every method) and
:class:`~chalicelib.errors.ReleaseConflict` when the release pointer moved
under a publish or rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chalicelib.errors import ReleaseConflict
from chalicelib.store.along import ReadAlong
from chalicelib.store.items import CampaignHead, Release, doc_item, doc_of, entry_of, homepage_item, live_release_item
from chalicelib.store.keys import (
    CURRENT_SK,
    HOMEPAGE_PREFIX,
    RELEASE_KEY,
    RELEASE_PK,
    RELEASE_PREFIX,
    ROTATION_KEY,
    ROTATION_PK,
    head_key,
    homepage_key,
    homepage_prefix,
    parse_homepage_sk,
    parse_release_sk,
    release_sk,
    version_key,
)
from chalicelib.store.table import ConditionFailed, Table, absent, absent_or_at, put_action


class ReleaseStore:
    """The releases' access patterns on ``table`` (:class:`~chalicelib.store.table.Table`)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    # ---------------------------------------------------------- the pointer and the records

    def get_current_release(self, consistent: bool = False, along: ReadAlong | None = None) -> Release | None:
        """``GetItem RELEASE/CURRENT``; ``None`` before the first publish. With ``along``: one
        eventually consistent ``BatchGetItem`` of the pointer and ``along``'s keys."""
        if along is None:
            item = self.table.get(RELEASE_KEY, consistent)
        else:
            item = self._get_many([RELEASE_KEY], along).get(_pair(RELEASE_KEY))
        return None if item is None else Release.from_item(item)

    def get_release_with_head(
        self, campaign_id: str, along: ReadAlong | None = None
    ) -> tuple[Release | None, CampaignHead | None]:
        """One ``BatchGetItem`` (eventually consistent) of ``RELEASE/CURRENT`` and
        ``CAMPAIGN#<id>/HEAD`` (and ``along``'s keys: a charity sale's counter shards, 100 keys
        in all at most for one request): a campaign page in a cold container. Either may be ``None``."""
        head = head_key(campaign_id)
        items = self._get_many([RELEASE_KEY, head], along)
        release, found = items.get(_pair(RELEASE_KEY)), items.get(_pair(head))
        return (
            None if release is None else Release.from_item(release),
            None if found is None else CampaignHead.from_item(found),
        )

    def get_release_and_rotation(self) -> tuple[Release | None, dict[str, Any] | None]:
        """One ``BatchGetItem`` (eventually consistent) of ``RELEASE/CURRENT`` and
        ``ROTATION/CURRENT``: the homepage in a cold container. Either may be ``None``;
        the rotation is its document (:func:`chalicelib.homepage.job.rotation_doc`'s shape)."""
        items = self._get_many([RELEASE_KEY, ROTATION_KEY])
        release, rotation = items.get(_pair(RELEASE_KEY)), items.get(_pair(ROTATION_KEY))
        return (
            None if release is None else Release.from_item(release),
            None if rotation is None else doc_of(rotation),
        )

    def get_release(self, number: int) -> Release | None:
        """``GetItem RELEASE/R#<number>`` (strongly consistent): a kept release, or ``None``."""
        item = self.table.get({"PK": RELEASE_PK, "SK": release_sk(number)}, True)
        return None if item is None else Release.from_item(item)

    def list_releases(self, limit: int = 10) -> list[Release]:
        """The newest ``limit`` kept releases, newest first: one ``Query`` on ``PK = RELEASE``, ``SK`` beginning ``R#``."""
        page = self.table.query(RELEASE_PK, RELEASE_PREFIX, newest_first=True, limit=limit)
        return [Release.from_item(i) for i in page.items]

    def release_numbers(self) -> list[int]:
        """Every kept release number, newest first (``Query`` pages on ``RELEASE``, keys only)."""
        page = self.table.query(RELEASE_PK, RELEASE_PREFIX, newest_first=True, keys_only=True, all_pages=True)
        return [parse_release_sk(i["SK"]) for i in page.items]

    def publish_release(self, release: Release, expected: int | None) -> None:
        """Make a new ``release`` live: its record ``RELEASE/R#<n>`` and the flip, in one transaction.

        One ``TransactWriteItems`` of the conditional ``Put`` of the pointer, the
        ``Put`` of ``ROTATION/CURRENT#LIVE`` (as :meth:`flip_current`) and the
        ``Put`` of the record where no record has the number. All or nothing: a
        publish that fails at this last step leaves no record, so ``campaign
        releases`` never lists a release that was never live. (3 items; the
        record and the pointer hold the same manifest and catalog, well within
        DynamoDB's 4 MB a transaction.) Raises ``ReleaseConflict`` when another
        publish moved the pointer or took the number first.
        """
        pointer = put_action(release.to_item(CURRENT_SK), absent_or_at("release", expected))
        record = put_action(release.to_item(release_sk(release.number)), absent())
        try:
            self.table.transact([pointer, put_action(live_release_item(release.number)), record])
        except ConditionFailed as exc:
            if exc.indexes == [2]:
                raise ReleaseConflict(
                    f"another publish took release number {release.number} at the same moment; run the command again"
                ) from exc
            raise ReleaseConflict("the live release changed while publishing; run the command again") from exc

    def flip_current(self, release: Release, expected: int | None) -> None:
        """Point ``RELEASE/CURRENT`` at ``release`` if it still names release ``expected``.

        The atomic step of a publish or rollback: one ``TransactWriteItems``
        of the conditional ``Put`` of the pointer and the ``Put`` of
        ``ROTATION/CURRENT#LIVE`` (the number the rotation reads in its one
        ``Query``), so the two never disagree. ``expected=None`` means "no
        release yet". Raises ``ReleaseConflict`` when another publish moved the
        pointer first.
        """
        # The pointer is absent (first publish) or still names the release this publish was planned
        # against: a publish that landed in between makes ours fail rather than silently replace it.
        pointer = put_action(release.to_item(CURRENT_SK), absent_or_at("release", expected))
        try:
            self.table.transact([pointer, put_action(live_release_item(release.number))])
        except ConditionFailed as exc:
            raise ReleaseConflict("the live release changed while publishing; run the command again") from exc

    # ---------------------------------------------------------- campaign versions and heads

    def get_campaign_doc(self, campaign_id: str, digest: str) -> dict[str, Any] | None:
        """``GetItem CAMPAIGN#<id>/V#<digest>``: an immutable campaign document, or ``None``."""
        item = self.table.get(version_key(campaign_id, digest), False)
        return None if item is None else doc_of(item)

    def put_campaign_versions(
        self, docs: Iterable[tuple[str, str, Mapping[str, Any]]], progress: Callable[[int], None] | None = None
    ) -> int:
        """Write ``(campaign id, digest, document)`` items (``BatchWriteItem``); returns how many were written."""
        items = [doc_item(version_key(cid, digest), doc) for cid, digest, doc in docs]
        self.table.batch_write(puts=items, progress=progress)
        return len(items)

    def put_campaign_heads(self, heads: Iterable[tuple[str, CampaignHead]]) -> int:
        """Write ``CAMPAIGN#<id>/HEAD`` items (``BatchWriteItem``); returns how many were written."""
        items = [head.to_item(cid) for cid, head in heads]
        self.table.batch_write(puts=items)
        return len(items)

    # ---------------------------------------------------------- the homepage items of a release

    def put_homepage_entries(
        self, release: int, entries: Iterable[tuple[str, Mapping[str, Any]]], progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the homepage campaigns of ``release`` (``ROTATION/CURRENT#R#<n>#<id>``, ``BatchWriteItem``)."""
        items = [homepage_item(release, cid, entry) for cid, entry in entries]
        self.table.batch_write(puts=items, progress=progress)
        return len(items)

    def latest_homepage_release(self) -> int:
        """The highest release number that has homepage items, 0 when none
        (one ``Query``, newest first, ``Limit`` 1, keys only).

        A publish that failed before its flip may have left items under a
        number no release record holds; the next publish numbers past them.
        """
        page = self.table.query(ROTATION_PK, HOMEPAGE_PREFIX, newest_first=True, limit=1, keys_only=True)
        return parse_homepage_sk(page.items[0]["SK"])[0] if page.items else 0

    def query_homepage_entries(self, release: int) -> list[dict[str, Any]]:
        """All homepage campaigns of ``release`` (``Query`` pages, strongly consistent)."""
        page = self.table.query(ROTATION_PK, homepage_prefix(release), consistent=True, all_pages=True)
        return [entry_of(i) for i in page.items]

    def delete_release(self, number: int) -> None:
        """Delete release ``number``: its homepage items (``BatchWriteItem``), then its record (``DeleteItem``).

        Campaign documents stay: they are shared by content digest with other
        releases and are small.
        """
        keys = [homepage_key(number, e["campaign_id"]) for e in self.query_homepage_entries(number)]
        self.table.batch_write(deletes=keys)
        self.table.delete({"PK": RELEASE_PK, "SK": release_sk(number)})

    def _get_many(self, keys: list[dict[str, str]], along: ReadAlong | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """``(PK, SK) -> item`` of the keys found (one eventually consistent ``BatchGetItem`` of up to
        100 keys); the items under ``along``'s keys go to ``along.take``."""
        found = self.table.batch_get([*keys, *(() if along is None else along.keys)])
        if along is not None:
            along.take(along.of(found))
        return {_pair(i): i for i in found}


def _pair(key: Mapping[str, Any]) -> tuple[str, str]:
    return str(key["PK"]), str(key["SK"])
