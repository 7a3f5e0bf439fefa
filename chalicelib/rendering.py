"""The Jinja2 environment and the display helpers the templates use.

Templates live in ``templates/`` at the project root. In the Lambda package
they arrive through the ``vendor/templates`` symlink, which Chalice copies
to ``templates/`` at the root of the zip, so ``<root>/templates`` is right
in both places (``<root>`` being the folder that holds ``chalicelib/``).

The environment autoescapes HTML, uses ``StrictUndefined`` (a missing value
is an error, never an empty string), and is built once per container.
"""
from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from .model import Text, fen_to_yuan_str

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"

ZONE_NAMES = {
    "Asia/Shanghai": {"zh-CN": "北京时间", "en": "Beijing time"},
    "Asia/Urumqi": {"zh-CN": "乌鲁木齐时间", "en": "Urumqi time"},
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def money(fen: int | None) -> str:
    """``3990`` -> ``"¥39.90"`` (CNY, 2 decimals); ``None`` -> ``""``."""
    return "" if fen is None else f"¥{fen_to_yuan_str(fen)}"


def zone_label(zone: str, lang: str) -> str:
    names = ZONE_NAMES.get(zone)
    return names.get(lang, names["zh-CN"]) if names else zone


def local_time(at: datetime, zone: str, lang: str) -> str:
    """An instant in the campaign's zone, with the zone named.

    ``zh-CN``: ``2026年10月17日 00:00 (北京时间)``; ``en``: ``17 Oct 2026, 00:00 (Beijing time)``.
    """
    from zoneinfo import ZoneInfo

    local = at.astimezone(ZoneInfo(zone))
    label = zone_label(zone, lang)
    if lang == "en":
        return f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M} ({label})"
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M} ({label})"


def remaining(seconds: int, lang: str) -> str:
    """``93784`` -> ``"1天 2小时 3分"`` / ``"1 d 2 h 3 min"`` (rounded down to the minute)."""
    seconds = max(0, seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
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
    env.globals["remaining"] = remaining
    env.globals["t"] = text
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
