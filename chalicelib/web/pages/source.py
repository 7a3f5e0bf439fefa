"""What the pages read: a :class:`Source` of campaigns, the catalog and the rotation.

Two sources fit it: :class:`chalicelib.releases.catalog.StoreCatalog` (the
handlers: the live release in DynamoDB, cached in the container, with a
:class:`~chalicelib.web.page_cache.PageCache` of rendered bodies) and
:class:`chalicelib.releases.catalog.YamlCatalog` (``campaign preview``: the
YAML files, no cache). The same page functions render both, so a preview is
exactly the consumer's page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.model import Campaign
from chalicelib.homepage.stored import StoredRotation
from chalicelib.store.along import RidersOf
from chalicelib.web.page_cache import NO_CACHE, PageCache


class Source(Protocol):
    @property
    def page_cache(self) -> PageCache | None:
        """The rendered bodies kept in the container; ``None``: render every page afresh."""

    def campaign(self, campaign_id: str) -> Campaign | None:
        """The published campaign, or ``None``."""

    def catalog(self, riders_of: RidersOf | None = None) -> Sequence[Mapping[str, Any]]:
        """The compact summaries of every published campaign (:func:`chalicelib.releases.publishing.catalog_entry`).

        ``riders_of(last catalog)``: the campaigns whose books may ride in a due read of the
        catalog (a store source; others ignore it)."""

    def stored_rotation(self, at: datetime) -> StoredRotation | None:
        """The homepage rotation, or ``None`` before the first."""


def page_cache(source: Source) -> PageCache:
    """The source's :class:`PageCache`, or :data:`~chalicelib.web.page_cache.NO_CACHE` (keeps nothing)."""
    cache = source.page_cache
    return NO_CACHE if cache is None else cache
