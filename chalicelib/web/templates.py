"""The Jinja2 environment and the display helpers the templates use.

Templates live in ``templates/`` at the project root. In the Lambda package
they arrive through the ``vendor/templates`` symlink, which Chalice copies
to ``templates/`` at the root of the zip, so ``<root>/templates`` is right
in both places (``<root>`` being the folder that holds ``chalicelib/``).

The environment autoescapes HTML, uses ``StrictUndefined`` (a missing value
is an error, never an empty string), and is built once per container.

The static files' names, hashes and image rule are :mod:`chalicelib.web.assets`;
the words are :mod:`chalicelib.web.words`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from chalicelib.domain.model import Text
from chalicelib.domain.money import fen_to_yuan_str, percent_of_goal
from chalicelib.domain.times import parse_stored
from chalicelib.web.assets import ROOT, asset_url, image_src
from chalicelib.web.view import Links
from chalicelib.web.words import words

TEMPLATES_DIR = ROOT / "templates"

ZONE_NAMES = {
    "Asia/Shanghai": {"zh-CN": "北京时间", "en": "Beijing time"},
    "Asia/Urumqi": {"zh-CN": "乌鲁木齐时间", "en": "Urumqi time"},
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# ---------------------------------------------------------------- money, time, text


def money(fen: int | None) -> str:
    """``3990`` -> ``"¥39.90"``, ``6000000`` -> ``"¥60,000.00"`` (CNY, 2 decimals,
    thousands grouped); ``-250`` -> ``"-¥2.50"``; ``None`` -> ``""``."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def zone_label(zone: str, lang: str) -> str:
    names = ZONE_NAMES.get(zone)
    return names.get(lang, names["zh-CN"]) if names else zone


def _aware(at: datetime | str) -> datetime:
    """An instant a template holds: an aware ``datetime``, or stored text (:func:`chalicelib.domain.times.parse_stored`)."""
    return parse_stored(at) if isinstance(at, str) else at


def _local_date_time(at: datetime | str, zone: str, lang: str, with_year: bool = True) -> str:
    local = _aware(at).astimezone(ZoneInfo(zone))
    if lang == "en":
        year = f" {local.year}" if with_year else ""
        return f"{local.day} {_MONTHS_EN[local.month - 1]}{year}, {local:%H:%M}"
    year = f"{local.year}年" if with_year else ""
    return f"{year}{local.month}月{local.day}日 {local:%H:%M}"


def local_time(at: datetime | str, zone: str, lang: str) -> str:
    """An instant in the campaign's zone, with the zone named.

    ``zh-CN``: ``2026年10月17日 00:00 (北京时间)``; ``en``: ``17 Oct 2026, 00:00 (Beijing time)``.
    """
    return f"{_local_date_time(at, zone, lang)} ({zone_label(zone, lang)})"


def time_range(start: datetime | str, end: datetime | str | None, zone: str, lang: str) -> str:
    """A window in the campaign's zone, the zone named once.

    ``2026年10月17日 00:00 – 10月18日 00:00 (北京时间)`` (the end's year only
    when it differs); with no end,
    ``2026年9月1日 00:00 起 (北京时间)`` / ``from 1 Sep 2026, 00:00 (Beijing time)``.
    """
    label = zone_label(zone, lang)
    if end is None:
        first = _local_date_time(start, zone, lang)
        return f"from {first} ({label})" if lang == "en" else f"{first} 起 ({label})"
    same_year = _aware(start).astimezone(ZoneInfo(zone)).year == _aware(end).astimezone(ZoneInfo(zone)).year
    return f"{_local_date_time(start, zone, lang)} – {_local_date_time(end, zone, lang, not same_year)} ({label})"


def short_time(at: datetime | str, zone: str) -> str:
    """``2026-11-20 10:00``: an instant in the zone, compact for tables (name the zone in the header)."""
    return f"{_aware(at).astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"


def iso(at: datetime | str | None) -> str:
    """For ``<time datetime=...>``."""
    return "" if at is None else _aware(at).isoformat()


def remaining(seconds: int, lang: str) -> str:
    """``93784`` -> ``"1天 2小时 3分"`` / ``"1 d 2 h 3 min"`` (rounded down to the minute)."""
    return _remaining_minutes(max(0, seconds) // 60, lang)


@functools.lru_cache(maxsize=512)
def _remaining_minutes(total_minutes: int, lang: str) -> str:
    """:func:`remaining` of whole minutes (it changes once a minute, so a warm page asks again)."""
    days, rest = divmod(total_minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if lang == "en":
        parts = [f"{days} d"] if days else []
        return " ".join(parts + [f"{hours} h", f"{minutes} min"])
    parts = [f"{days}天"] if days else []
    return " ".join(parts + [f"{hours}小时", f"{minutes}分"])


def text(value: Text | dict | None, lang: str) -> str:
    """A localized text in ``lang``, falling back to zh-CN."""
    if value is None:
        return ""
    if isinstance(value, dict):
        value = Text(value)
    return value.get(lang)


# ---------------------------------------------------------------- charity goal


@dataclass(frozen=True)
class GoalBar:
    """What a goal's progress bar draws. Percentages are strings for SVG/ARIA.

    ``percent`` is raised / goal (:func:`chalicelib.domain.money.percent_of_goal`:
    rounded down to 0.1, and past the goal it passes 100); ``filled`` is the
    part of the bar drawn, the same held at 100. ``sales_width``/``points_width``
    are the two segments' widths in percent of the bar (together at most 100,
    scaled down when the goal is passed, so the bar is then full).
    """

    goal_fen: int
    raised_fen: int
    sales_fen: int
    points_fen: int
    percent: str
    filled: str
    sales_width: str
    points_width: str
    points_x: str
    pending_fen: int = 0
    pending_width: str = "0"
    pending_x: str = "0"

    @property
    def goal_yuan(self) -> str:
        return fen_to_yuan_str(self.goal_fen)

    @property
    def value_yuan(self) -> str:
        """``aria-valuenow``: the raised amount, held within the goal (the text says more)."""
        return fen_to_yuan_str(min(self.raised_fen, self.goal_fen))


def _pct(part: int, whole: int) -> Decimal:
    return Decimal(part * 100) / Decimal(whole) if whole > 0 else Decimal(0)


def goal_bar(raised_from_sales_fen: int, raised_from_points_fen: int, goal_fen: int, pending_fen: int = 0) -> GoalBar:
    """The bar of a charity goal (confirmed sales, points, then the pending share of the sales apart),
    and its percent of the goal. ``pending_fen``: the part of the sales still inside the return window."""
    sales, points = max(0, raised_from_sales_fen), max(0, raised_from_points_fen)
    pending = min(max(0, pending_fen), sales)
    raised = sales + points
    scale = max(goal_fen, raised, 1)
    step = Decimal("0.01")
    sales_w = _pct(sales - pending, scale).quantize(step, ROUND_DOWN)
    points_w = _pct(points, scale).quantize(step, ROUND_DOWN)
    pending_w = _pct(pending, scale).quantize(step, ROUND_DOWN)
    percent = percent_of_goal(raised, goal_fen)
    return GoalBar(
        goal_fen=goal_fen,
        raised_fen=raised,
        sales_fen=sales,
        points_fen=points,
        percent=f"{percent:f}",
        filled=f"{min(percent, Decimal(100)):f}",
        sales_width=f"{sales_w:f}",
        points_width=f"{points_w:f}",
        points_x=f"{sales_w:f}",
        pending_fen=pending,
        pending_width=f"{pending_w:f}",
        pending_x=f"{sales_w + points_w:f}",
    )


def merchants_of(products: Iterable[Any]) -> list[dict[str, Any]]:
    """The distinct merchants of some picks, in order, with their county and pick count."""
    seen: dict[str, dict[str, Any]] = {}
    for p in products:
        entry = seen.setdefault(p.merchant.id, {"merchant": p.merchant, "county": p.county, "count": 0})
        entry["count"] += 1
    return list(seen.values())


# ---------------------------------------------------------------- the environment


@functools.lru_cache(maxsize=4)
def environment(templates_dir: str = str(TEMPLATES_DIR)) -> jinja2.Environment:
    """The template environment (compiled templates are cached per container)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.globals["local_time"] = local_time
    env.globals["time_range"] = time_range
    env.globals["short_time"] = short_time
    env.globals["zone_label"] = zone_label
    env.globals["iso"] = iso
    env.globals["t"] = text
    env.globals["goal_bar"] = goal_bar
    env.globals["merchants_of"] = merchants_of
    env.globals["asset_url"] = asset_url
    env.globals["image_src"] = image_src
    return env


def render(template: str, **context: Any) -> str:
    """``template`` rendered with ``context``."""
    return environment().get_template(template).render(**context)


def render_page(template: str, links: Links, path: str, **context: Any) -> str:
    """A page: ``template`` with what the layout needs (``lang``, ``L``: the words, ``links``,
    ``path``: the page's path, for the language switch) and the page's own ``context``."""
    return render(template, lang=links.lang, L=words(links.lang), links=links, path=path, **context)
