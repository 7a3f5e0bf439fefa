"""The studio's time machine: the consumer pages at a chosen instant, rendered by the site's own code.

The pages are rendered exactly as ``campaign preview`` renders them (and so as the
Lambda does): a :class:`chalicelib.releases.catalog.YamlCatalog` of the valid
campaigns, a :class:`chalicelib.web.view.View` at the instant, and the page
functions of :mod:`chalicelib.web.pages` (the homepage with its rotation
simulated up to the instant). Nothing here renders HTML of its own.

The instant comes from a plain GET form with two inputs (docs/studio.md): ``at``, a
text field (ISO 8601 with an offset, or a local time in the chosen zone, as a
``datetime-local`` field sends it), and ``t``, a slider of epoch seconds. The form
also sends ``was``, the instant it showed, so without JavaScript the input the user
changed wins: ``at`` when it differs from ``was``, else ``t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from campaign_tools.studio.timeline import StudioInputError
from chalicelib.clock import parse_instant
from chalicelib.domain.model import Campaign
from chalicelib.releases.catalog import YamlCatalog
from chalicelib.web.pages import campaign as campaign_page
from chalicelib.web.pages import homepage as homepage_page
from chalicelib.web.response import Response
from chalicelib.web.view import View, pick_lang

LANGS = ("zh-CN", "en")


def parse_at(text: str, zone: tzinfo) -> datetime:
    """An instant typed in the form: ISO 8601 with an offset, or without one as a local time in
    ``zone`` (``2026-10-17T09:00``, ``2026-10-17 09:00:00.001``). Returns it in UTC.

    Raises :class:`StudioInputError` naming the field and an example.
    """
    text = text.strip()
    try:
        try:
            return parse_instant(text)
        except ValueError:
            pass
        try:
            local = datetime.fromisoformat(text)
        except ValueError:
            raise StudioInputError(
                f"at: {text!r} is not a time; write e.g. 2026-10-17T09:00 (in the chosen zone) or 2026-10-17T09:00+08:00"
            ) from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=zone)
        return local.astimezone(UTC)
    except OverflowError:  # the first or last day of year 1 or 9999, shifted past the calendar
        raise StudioInputError(f"at: {text!r} is out of range; pick a time between the years 2 and 9998") from None


def chosen_instant(query: Mapping[str, str], zone: tzinfo, now: datetime) -> datetime:
    """The instant the form asks for (see the module docstring); ``now`` when it names none."""
    at, slider, was = query.get("at", "").strip(), query.get("t", "").strip(), query.get("was", "").strip()
    if at and (not was or at != was or not slider):
        return parse_at(at, zone)
    if slider:
        try:
            seconds = int(slider)
        except ValueError:
            raise StudioInputError(f"t: {slider!r} is not a whole number of seconds since 1970") from None
        shown = parse_at(was, zone) if was else None
        if shown is not None and slider_value(shown) == seconds:  # the slider was left where it was
            return shown
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise StudioInputError(f"t: {slider} is out of range") from None
    return now


SLIDER_STEP_S = 60


def slider_value(at: datetime) -> int:
    """Where the slider stands for ``at``: epoch seconds, rounded down to its step (a minute)."""
    seconds = int(at.timestamp())
    return seconds - seconds % SLIDER_STEP_S


@dataclass(frozen=True)
class Rendered:
    """One consumer page at the instant: what it is, its language, and the response the site gives."""

    label: str
    lang: str
    response: Response


class PageRenderer:
    """Renders the consumer pages of ``campaigns`` at any instant, as ``campaign preview`` does.

    ``slots`` and ``rotation_minutes`` are the shell's ``HOMEPAGE_SLOTS`` and ``ROTATION_MINUTES``
    (the same settings ``campaign preview`` reads).
    """

    def __init__(self, campaigns: Sequence[Campaign], slots: int, rotation_minutes: int) -> None:
        self.source = YamlCatalog(campaigns, slots=slots, rotation_minutes=rotation_minutes)
        self.slots = slots
        self.rotation_minutes = rotation_minutes

    def homepage(self, at: datetime, lang: str) -> Response:
        """``campaign preview --homepage --at AT --lang LANG``."""
        view = View.of(at, pick_lang(lang), "html")
        return homepage_page.page(self.source, view, self.slots, self.rotation_minutes)

    def campaign(self, campaign_id: str, at: datetime, lang: str) -> Response:
        """``campaign preview ID --at AT --lang LANG``."""
        return campaign_page.page(self.source, View.of(at, pick_lang(lang), "html"), campaign_id)

    def all_of(self, at: datetime, campaign_id: str | None) -> list[Rendered]:
        """The homepage in both languages, then the campaign's page in both (when one is chosen)."""
        out = [Rendered("homepage", lang, self.homepage(at, lang)) for lang in LANGS]
        if campaign_id:
            out += [Rendered(f"/campaigns/{campaign_id}", lang, self.campaign(campaign_id, at, lang)) for lang in LANGS]
        return out
