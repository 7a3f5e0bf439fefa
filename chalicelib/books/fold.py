"""The counter fold: a campaign's counter shards past a smaller shard count, moved into the ones still read.

Readers sum counter shards ``0..C-1`` only, so lowering C hides shards ``C..`` until they
are folded (docs/donations.md, "Changing the counter shard count"; run by ``campaign
fold-counters``). Each shard is moved by :meth:`BooksStore.fold_counter_shard
<chalicelib.store.books.BooksStore.fold_counter_shard>`, one read and one transaction.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.model import MAX_RETURN_DAYS, Campaign
from chalicelib.domain.totals import DAY_S
from chalicelib.errors import StoreUnavailable
from chalicelib.store.books import BooksStore, StaleOrder

FOLD_ATTEMPTS = 8  # reads of a counter shard that keeps changing under a fold


def fold_campaign_counters(
    store: BooksStore, campaign_id: str, campaign: Campaign | None, counter_shards: int, old_shards: int, at: datetime
) -> int:
    """Fold the counter shards ``counter_shards..old_shards-1`` of one campaign into shard
    ``s mod counter_shards``; returns how many were moved (an absent shard is not).

    ``campaign``: the published campaign, for its return window (a campaign no longer
    published keeps buckets of :data:`~chalicelib.domain.model.MAX_RETURN_DAYS`). ``at``: the
    stage's clock; return-window buckets already closed then are dropped. Raises
    ``StoreUnavailable`` when a shard changed :data:`FOLD_ATTEMPTS` times under the fold
    (an old deployment still writing to it: run it again later).
    """
    days = MAX_RETURN_DAYS if campaign is None or campaign.charity is None else campaign.charity.return_days
    closed_until = int(at.timestamp()) - days * DAY_S
    moved = 0
    for source in range(counter_shards, old_shards):
        for _ in range(FOLD_ATTEMPTS):
            try:
                moved += store.fold_counter_shard(campaign_id, source, source % counter_shards, closed_until)
                break
            except StaleOrder:
                continue
        else:
            raise StoreUnavailable(f"counter shard {source} of {campaign_id!r} kept changing; run the fold again")
    return moved
