"""Risky publishes: changes the public would notice and that publishing again cannot take back.

A publish makes the set of files live, so a deleted file or an edited date takes effect at
once. :func:`risks_of` finds, against the live release at the stage's clock, the changes
``campaign publish`` refuses unless the campaign is named with ``--allow ID``
(docs/architecture.md, "Risky publishes"):

- removing a campaign that is live (its page answers 404 at once);
- ending a teaser or live campaign earlier than the live release says;
- removing a charity sale that has donations (its ledger and totals go);
- changing the rates of a charity sale that has donations (recorded orders keep theirs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.model import Campaign, campaign_from_doc
from chalicelib.domain.window import LIVE, TEASER
from chalicelib.errors import PlatformError


@dataclass(frozen=True)
class Risk:
    """One risky change: ``campaign_id`` is what ``--allow ID`` names to go ahead; ``what``
    says the change and ``loss`` what the public loses."""

    campaign_id: str
    what: str
    loss: str

    def describe(self) -> str:
        return f"  !! {self.campaign_id}: {self.what}; {self.loss} (publish with --allow {self.campaign_id})"


class RiskyPublish(PlatformError):
    """A publish would make a risky change that was not allowed by name (nothing was written)."""

    STATUS_CODE = 409
    CODE = "risky_publish"

    def __init__(self, risks: Sequence[Risk]) -> None:
        lines = [f"{r.campaign_id}: {r.what}; {r.loss}" for r in risks]
        ids = " ".join(f"--allow {cid}" for cid in sorted({r.campaign_id for r in risks}))
        super().__init__("refused, nothing was published:\n  " + "\n  ".join(lines) + f"\nto publish anyway: {ids}")
        self.risks = tuple(risks)


def _rates(campaign: Campaign) -> tuple[Any, ...]:
    """The donation rates a charity sale applies: the campaign's and each pick's own pledge."""
    rate = None if campaign.charity is None else campaign.charity.rate_percent
    pledges = sorted((p.sku, p.donation_rate_percent) for p in campaign.products if p.donation_rate_percent is not None)
    return (rate, tuple(pledges))


def risks_of(
    old_docs: Mapping[str, Mapping[str, Any]],
    new_docs: Mapping[str, Mapping[str, Any]],
    now: datetime,
    has_donations: Callable[[str], bool],
) -> list[Risk]:
    """The risky changes from the live documents ``old_docs`` to ``new_docs`` (id -> campaign
    document) at the aware instant ``now``, in campaign id order.

    ``has_donations(campaign_id)`` is asked only of a charity sale that is removed or whose
    rates change (it reads the books: 3 requests a campaign).
    """
    risks: list[Risk] = []
    for cid, old_doc in sorted(old_docs.items()):
        old = campaign_from_doc(old_doc)
        new = None if cid not in new_docs else campaign_from_doc(new_docs[cid])
        touched = new is None or _rates(old) != _rates(new)
        donated = old.charity is not None and touched and has_donations(cid)
        if new is None:
            if old.window.live_at(now):
                risks.append(Risk(cid, "removes a live campaign", f"its page /campaigns/{cid} answers 404 at once"))
            if donated:
                risks.append(
                    Risk(cid, "removes a charity sale that has donations", "its public ledger and its totals are no longer shown")
                )
            continue
        new_end, old_end = new.ends_at, old.ends_at
        if new_end is not None and (old_end is None or new_end < old_end) and old.window.state_at(now) in (TEASER, LIVE):
            shown = "at once" if new_end <= now else f"at {new_end.isoformat()}"
            was = "no end" if old_end is None else old_end.isoformat()
            risks.append(Risk(cid, "ends a campaign early", f"its page ends {shown}, not at {was}"))
        if donated and new.charity is None:
            risks.append(
                Risk(
                    cid,
                    f"turns a charity sale that has donations into a {new.kind}",
                    "its public ledger and its totals are no longer shown",
                )
            )
        elif donated:
            risks.append(
                Risk(
                    cid,
                    "changes the donation rate of a charity sale that has donations",
                    "orders already recorded keep the rate they were recorded at, so the page mixes two rates",
                )
            )
    return risks
