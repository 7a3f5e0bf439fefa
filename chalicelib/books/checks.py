"""Whether a sale or a point donation can be recorded against its campaign: the 422 refusals.

Each check takes the campaign of the live release (``None``: not published), the request
and the campaign clock at receipt, and raises :class:`~chalicelib.errors.Unprocessable`
naming the field to blame; the rules are in :mod:`chalicelib.books.rules` and
docs/donations.md. No I/O: :class:`chalicelib.books.service.Books` calls them before it writes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.books.inputs import PointDonationRequest, SaleRequest
from chalicelib.domain import window
from chalicelib.domain.model import Campaign, Pick
from chalicelib.errors import Unprocessable

FUTURE_TOLERANCE = timedelta(minutes=5)  # a paid_at later than the campaign clock by more is refused


def check_sale(campaign: Campaign | None, req: SaleRequest, now: datetime) -> Pick:
    """The pick sold, if the sale can be recorded; else Unprocessable naming the field.

    ``now`` is the campaign clock at receipt. A ``paid_at`` more than
    :data:`FUTURE_TOLERANCE` after it, or a sale of a campaign still hidden at
    ``now``, is refused, so the public ledger never shows a gift from the future
    (docs/donations.md).
    """
    if campaign is None:
        raise Unprocessable(f"campaign_id: no campaign {req.campaign_id!r} is published", field="campaign_id")
    pick = campaign.pick(req.sku)
    if pick is None:
        raise Unprocessable(f"sku: {req.sku!r} is not a product of campaign {campaign.id!r}", field="sku")
    if req.paid_at > now + FUTURE_TOLERANCE:
        raise Unprocessable(
            f"paid_at: {req.paid_at.isoformat()} is in the future: more than "
            f"{int(FUTURE_TOLERANCE.total_seconds() // 60)} minutes after the platform's clock "
            f"({now.astimezone(req.paid_at.tzinfo).isoformat(timespec='seconds')})",
            field="paid_at",
        )
    if campaign.window.state_at(now) == window.HIDDEN:
        shown = campaign.window.teaser_from or campaign.starts_at
        raise Unprocessable(
            f"paid_at: campaign {campaign.id!r} is not visible yet (its page appears at "
            f"{shown.astimezone(campaign.zone).isoformat()}); no sale can be recorded before then",
            field="paid_at",
        )
    if not campaign.window.live_at(req.paid_at):
        span = f"[{campaign.starts_at.isoformat()}, {campaign.ends_at.isoformat() if campaign.ends_at else 'open'})"
        raise Unprocessable(f"paid_at: {req.paid_at.isoformat()} is outside the campaign's window {span}", field="paid_at")
    return pick


def check_points(campaign: Campaign | None, req: PointDonationRequest, at: datetime) -> int:
    """``points_per_yuan`` of a live charity sale that takes points; else Unprocessable (campaign_id)."""
    if campaign is None:
        raise Unprocessable(f"campaign_id: no campaign {req.campaign_id!r} is published", field="campaign_id")
    if campaign.charity is None or not campaign.charity.points_per_yuan:
        raise Unprocessable(f"campaign_id: {campaign.id!r} does not take point donations", field="campaign_id")
    state = campaign.window.state_at(at)
    if state != window.LIVE:
        raise Unprocessable(
            f"campaign_id: {campaign.id!r} is not live now ({state}); points cannot be donated", field="campaign_id"
        )
    return campaign.charity.points_per_yuan
