"""What a publish or a rollback may not do to a charity sale's books, whatever ``--allow`` names.

:func:`check_books` compares the campaigns a release would make live with the live ones
(docs/donations.md, "Payouts" and "Changing the return window"):

- the payouts (``charity.disbursements``) of a campaign whose list the release adds or changes
  must add up to no more than its confirmed donations on the stage's clock, and none may be
  dated after that clock (a payout is listed once it is made, with its receipt);
- ``charity.return_days`` cannot change once the campaign has donations: each pending donation
  is booked by its paid second and read against the window (docs/donations.md, "The
  arithmetic"), and a write made under the old window may have booked none, so the totals and
  the ledger's states would disagree. The books count each charity write under the window it
  was booked with (``W:<days>``), so the rule holds whatever route the campaign took there:
  removed and published again, turned into another kind and back, or rolled back.

Payouts already live are not checked again. A refund after the return window still reverses its
donation, so confirmed can fall below what was paid out (the balance then shows it, below zero);
refusing every later publish for that would leave staff unable to publish anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.model import Campaign, campaign_from_doc
from chalicelib.domain.money import fen_to_yuan_str
from chalicelib.errors import PlatformError

# (campaign id, instant, return_days) -> its confirmed donations in fen on the stage
ConfirmedFen = Callable[[str, datetime, int], int]


class PublishRefused(PlatformError):
    """A release that would make a charity sale's books wrong (nothing was written)."""

    STATUS_CODE = 409
    CODE = "publish_refused"

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("nothing was published:\n  " + "\n  ".join(lines))
        self.lines = tuple(lines)


class PayoutsExceedConfirmed(PublishRefused):
    """A release lists payouts above the donations confirmed on the stage (nothing was written).

    ``short``: ``(campaign id, paid out fen, confirmed fen)`` per campaign; ``also``: the
    release's other refusals, one line each."""

    CODE = "payouts_exceed_confirmed"

    def __init__(self, short: Sequence[tuple[str, int, int]], at: datetime, also: Sequence[str] = ()) -> None:
        super().__init__([shortfall_line(cid, paid, confirmed, at) for cid, paid, confirmed in short] + list(also))
        self.short = tuple(short)


def shortfall_line(campaign_id: str, paid_fen: int, confirmed_fen: int, at: datetime) -> str:
    """The refusal of payouts of ``paid_fen`` against ``confirmed_fen`` confirmed at ``at``, naming the shortfall in yuan."""
    return (
        f"{campaign_id}: the disbursements add up to {fen_to_yuan_str(paid_fen)} yuan, "
        f"{fen_to_yuan_str(paid_fen - confirmed_fen)} yuan more than the {fen_to_yuan_str(confirmed_fen)} yuan "
        f"confirmed on this stage at {at.isoformat(timespec='seconds')}; lower or remove a payout, or publish it once that "
        "much is confirmed"
    )


@dataclass(frozen=True)
class BookCheck:
    """The refusals of one release at ``at``: ``short`` payouts (see :class:`PayoutsExceedConfirmed`)
    and the other ``lines``."""

    at: datetime
    short: tuple[tuple[str, int, int], ...] = ()
    lines: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        """One line per refusal, the payout shortfalls first."""
        return [shortfall_line(cid, paid, confirmed, self.at) for cid, paid, confirmed in self.short] + list(self.lines)

    def raise_if_refused(self) -> None:
        """Raise :class:`PayoutsExceedConfirmed` when a payout list is short, else
        :class:`PublishRefused` when another refusal stands; nothing when the release may go live."""
        if self.short:
            raise PayoutsExceedConfirmed(self.short, self.at, self.lines)
        if self.lines:
            raise PublishRefused(self.lines)


def check_books(
    campaigns: Sequence[Campaign],
    live_docs: Mapping[str, Mapping[str, Any]],
    at: datetime,
    confirmed_fen: ConfirmedFen | None,
    has_donations: Callable[[str], bool],
    booked_windows: Callable[[str], Collection[int]] = lambda campaign_id: (),
) -> BookCheck:
    """The refusals of making ``campaigns`` live over ``live_docs`` (id -> live campaign document)
    at the aware instant ``at``, the stage's clock.

    ``confirmed_fen`` reads a campaign's confirmed donations (``None``: no books, so every new
    payout is short); ``booked_windows`` the return windows (days) its books hold writes under;
    ``has_donations`` is asked only of a charity sale whose ``return_days`` changes while its
    books name no window (books written before windows were counted). Reads the books of every
    charity sale (one ``BatchGetItem`` each, cached per container).
    """
    short: list[tuple[str, int, int]] = []
    lines: list[str] = []
    for c in sorted(campaigns, key=lambda c: c.id):
        if c.charity is None:
            continue
        live = campaign_from_doc(live_docs[c.id]) if c.id in live_docs else None
        live_charity = None if live is None else live.charity
        days = c.charity.return_days
        booked = sorted(set(booked_windows(c.id)))
        if not booked and live_charity is not None and live_charity.return_days != days and has_donations(c.id):
            booked = [live_charity.return_days]
        if booked and days not in booked:
            kept = " or ".join(str(w) for w in booked)
            lines.append(
                f"{c.id}: return_days cannot change from {kept} to {days} once the charity sale has donations: "
                f"each pending donation is booked under the window it was recorded with; keep return_days: {kept}"
            )
        if live_charity is not None and live_charity.disbursements == c.charity.disbursements:
            continue  # live already: checked when it was published
        for payout in c.charity.disbursements:
            if payout.at > at:
                lines.append(
                    f"{c.id}: a payout of {fen_to_yuan_str(payout.amount_fen)} yuan is dated "
                    f"{payout.at.astimezone(c.zone).isoformat(timespec='seconds')}, after the stage's clock "
                    f"({at.astimezone(c.zone).isoformat(timespec='seconds')}); list a payout once it is made, with its receipt"
                )
        if c.charity.disbursements:
            confirmed = 0 if confirmed_fen is None else confirmed_fen(c.id, at, days)
            if c.charity.disbursed_fen > confirmed:
                short.append((c.id, c.charity.disbursed_fen, confirmed))
    return BookCheck(at, tuple(short), tuple(lines))
