"""The Jinja2 environment and the display helpers the templates use.

Templates live in ``templates/`` at the project root. In the Lambda package
they arrive through the ``vendor/templates`` symlink, which Chalice copies
to ``templates/`` at the root of the zip, so ``<root>/templates`` is right
in both places (``<root>`` being the folder that holds ``chalicelib/``).
``static/`` arrives the same way (``vendor/static``).

The environment autoescapes HTML, uses ``StrictUndefined`` (a missing value
is an error, never an empty string), and is built once per container.

Static assets with a content hash
---------------------------------
The stylesheet and the script are linked under a name that carries the first
8 hex digits of the SHA-256 of their content (``/static/site.3f2a9c1e.css``),
so browsers and CDNs may keep them for a year (``immutable``) and a deploy
that changes them changes the name. :func:`asset` reads a file and hashes it
once per container (cached with its content, so the body served under a
hashed name is always the body that was hashed); :func:`asset_url` gives the
name the templates link; :func:`hashed_asset` resolves a requested hashed
name for the static route and refuses a stale hash.

Images
------
:func:`image_src` only lets through an image the page can load: an
``https://`` URL, or a ``/static/`` file that exists and that the static
route serves. Anything else becomes ``/static/placeholder.svg``, so a typo
in a YAML file shows a placeholder and never a broken page. (A remote image
that fails to load is covered in CSS: the placeholder is the background of
the frame behind the ``<img>``.)
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, Iterable

import jinja2

from chalicelib.domain.model import Text
from chalicelib.domain.money import fen_to_yuan_str, percent_of_goal
from chalicelib.domain.times import parse_stored

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds chalicelib/
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

# A flat file name the static route serves (no "/", no ".."), of a known type.
STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_-]+)*\.(svg|css|js)\Z")
# A hashed asset name: "site.3f2a9c1e.css" is "site.css" with its digest.
HASHED_NAME = re.compile(r"^(?P<stem>[a-z0-9][a-z0-9_-]*)\.(?P<digest>[0-9a-f]{8})\.(?P<ext>css|js)\Z")
DIGEST_CHARS = 8
PLACEHOLDER = "/static/placeholder.svg"

ZONE_NAMES = {
    "Asia/Shanghai": {"zh-CN": "北京时间", "en": "Beijing time"},
    "Asia/Urumqi": {"zh-CN": "乌鲁木齐时间", "en": "Urumqi time"},
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Words of the layout and its widgets (the pages' own words are pages.LABELS).
UI: dict[str, dict[str, str]] = {
    "zh-CN": {
        "skip": "跳到正文",
        "nav": "主导航",
        "switch_hint": "切换语言：",
        "tagline": "来自脱贫县的好物，每一单都帮到农户",
        "home_heading": "助农好物 · 产地直供",
        "home_intro": "从全国脱贫县的合作社精选当季农产品，价格透明，政府与行业协会背书。",
        "footer": "扶贫好物商城 · 每一单都直接带动脱贫县农户增收",
        "products": "精选好物",
        "no_prices_yet": "价格将在活动开始时公布",
        "price_soon": "敬请期待",
        "state_teaser": "即将开始",
        "state_live": "进行中",
        "state_ended": "已结束",
        "kind_featured": "精选活动",
        "kind_charity_sale": "公益义卖",
        "kind_regional_store": "地方特色馆",
        "period": "活动时间",
        "county_badge": "脱贫县",
        "endorsed_government": "政府背书",
        "endorsed_association": "协会背书",
        "pledge": "商家捐",
        "progress": "公益进度",
        "percent_of_goal": "完成 {p}%",
        "merchants": "入驻商家",
        "view_ledger": "查看公开捐赠明细",
        "impact": "助农成效",
        "products_count": "{n} 件好物",
        "product_one": "1 件好物",
        "open_since": "开馆时间",
        "ended_note": "感谢每一位参与的朋友。看看正在进行的活动吧。",
        "see_live": "查看正在进行的活动",
        "charity_intro": "公益义卖中，每笔订单实付金额的固定比例捐给指定对象；会员也可以捐积分。进度实时更新。",
        "not_found_hint": "您要找的页面不存在，或活动尚未开始。",
        "gone_hint": "这个活动已经结束了。",
        "unavailable_hint": "我们正在处理，请稍等片刻后刷新页面。",
        "error_hint": "请稍后再试。",
        "back_home": "返回首页",
        "status": "状态码",
    },
    "en": {
        "skip": "Skip to content",
        "nav": "Main",
        "switch_hint": "Language: ",
        "tagline": "Goods from formerly poor counties: every order helps the farmers",
        "home_heading": "Farm goods, straight from the counties",
        "home_intro": "Seasonal products from cooperatives in formerly poverty-stricken counties, with clear prices and endorsements by county governments and industry associations.",
        "footer": "Poverty Alleviation Mall · every order goes straight to farmers in formerly poor counties",
        "products": "Products",
        "no_prices_yet": "Prices are announced when the campaign starts",
        "price_soon": "Price at launch",
        "state_teaser": "Coming soon",
        "state_live": "Live now",
        "state_ended": "Ended",
        "kind_featured": "Featured",
        "kind_charity_sale": "Charity sale",
        "kind_regional_store": "Regional store",
        "period": "When",
        "county_badge": "Poverty county",
        "endorsed_government": "Government-endorsed",
        "endorsed_association": "Association-endorsed",
        "pledge": "Merchant gives",
        "progress": "Progress",
        "percent_of_goal": "{p}% of the goal",
        "merchants": "Merchants",
        "view_ledger": "See the public donation ledger",
        "impact": "Impact",
        "products_count": "{n} products",
        "product_one": "1 product",
        "open_since": "Open since",
        "ended_note": "Thank you to everyone who took part. Have a look at the live campaigns.",
        "see_live": "See the live campaigns",
        "charity_intro": "In a charity sale a fixed share of every order's paid amount goes to a named cause, and members can donate loyalty points too. Totals update as orders come in.",
        "not_found_hint": "The page you are looking for does not exist, or the campaign has not started yet.",
        "gone_hint": "This campaign has ended.",
        "unavailable_hint": "We are on it. Please wait a moment and reload the page.",
        "error_hint": "Please try again later.",
        "back_home": "Back to the homepage",
        "status": "Status",
    },
}


def ui(lang: str) -> dict[str, str]:
    """The layout's words in ``lang`` (zh-CN for any other value)."""
    return UI.get(lang, UI["zh-CN"])


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
    from zoneinfo import ZoneInfo

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
    from zoneinfo import ZoneInfo

    label = zone_label(zone, lang)
    if end is None:
        first = _local_date_time(start, zone, lang)
        return f"from {first} ({label})" if lang == "en" else f"{first} 起 ({label})"
    same_year = _aware(start).astimezone(ZoneInfo(zone)).year == _aware(end).astimezone(ZoneInfo(zone)).year
    return f"{_local_date_time(start, zone, lang)} – {_local_date_time(end, zone, lang, not same_year)} ({label})"


def short_time(at: datetime | str, zone: str) -> str:
    """``2026-11-20 10:00``: an instant in the zone, compact for tables (name the zone in the header)."""
    from zoneinfo import ZoneInfo

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

    @property
    def goal_yuan(self) -> str:
        return fen_to_yuan_str(self.goal_fen)

    @property
    def raised_yuan(self) -> str:
        return fen_to_yuan_str(self.raised_fen)

    @property
    def value_yuan(self) -> str:
        """``aria-valuenow``: the raised amount, held within the goal (the text says more)."""
        return fen_to_yuan_str(min(self.raised_fen, self.goal_fen))


def _pct(part: int, whole: int) -> Decimal:
    return Decimal(part * 100) / Decimal(whole) if whole > 0 else Decimal(0)


def goal_bar(raised_from_sales_fen: int, raised_from_points_fen: int, goal_fen: int) -> GoalBar:
    """The two-segment bar of a charity goal (sales, then points), and its percent of the goal."""
    sales, points = max(0, raised_from_sales_fen), max(0, raised_from_points_fen)
    raised = sales + points
    scale = max(goal_fen, raised, 1)
    step = Decimal("0.01")
    sales_w = _pct(sales, scale).quantize(step, ROUND_DOWN)
    points_w = _pct(points, scale).quantize(step, ROUND_DOWN)
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
    )


def merchants_of(products: Iterable[Any]) -> list[dict[str, Any]]:
    """The distinct merchants of some picks, in order, with their county and pick count."""
    seen: dict[str, dict[str, Any]] = {}
    for p in products:
        entry = seen.setdefault(p.merchant.id, {"merchant": p.merchant, "county": p.county, "count": 0})
        entry["count"] += 1
    return list(seen.values())


# ---------------------------------------------------------------- static assets


@dataclass(frozen=True)
class Asset:
    """A static file read once: its name, the digest of its bytes, and its text."""

    name: str
    digest: str
    body: str

    @property
    def hashed_name(self) -> str:
        stem, ext = self.name.rsplit(".", 1)
        return f"{stem}.{self.digest}.{ext}"


@functools.lru_cache(maxsize=32)
def asset(name: str, static_dir: str = str(STATIC_DIR)) -> Asset:
    """``static/<name>`` with its content hash, read and hashed once per container."""
    if not STATIC_NAME.match(name):
        raise ValueError(f"not a static file name: {name!r}")
    data = (Path(static_dir) / name).read_bytes()
    return Asset(name, hashlib.sha256(data).hexdigest()[:DIGEST_CHARS], data.decode("utf-8"))


def asset_url(name: str) -> str:
    """``"site.css"`` -> ``"/static/site.3f2a9c1e.css"`` (the name the pages link)."""
    return f"/static/{asset(name).hashed_name}"


def hashed_asset(requested: str, static_dir: str = str(STATIC_DIR)) -> Asset | None:
    """The asset a hashed name stands for, or ``None`` when it is not a hashed
    name, names no file, or carries a stale hash."""
    m = HASHED_NAME.match(requested)
    if m is None:
        return None
    name = f"{m['stem']}.{m['ext']}"
    if not (Path(static_dir) / name).is_file():
        return None
    found = asset(name, static_dir)
    return found if found.digest == m["digest"] else None


@functools.lru_cache(maxsize=1024)
def _static_file_exists(name: str, static_dir: str) -> bool:
    return bool(STATIC_NAME.match(name)) and (Path(static_dir) / name).is_file()


def image_src(url: str | None, static_dir: str = str(STATIC_DIR)) -> str:
    """An image address the page can load: an https URL, an existing
    ``/static/`` file, else the placeholder."""
    if not url:
        return PLACEHOLDER
    if url.startswith("https://"):
        return url
    if url.startswith("/static/") and _static_file_exists(url[len("/static/"):], static_dir):
        return url
    return PLACEHOLDER


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
    env.globals["remaining"] = remaining
    env.globals["t"] = text
    env.globals["ui"] = ui
    env.globals["goal_bar"] = goal_bar
    env.globals["merchants_of"] = merchants_of
    env.globals["asset_url"] = asset_url
    env.globals["image_src"] = image_src
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
