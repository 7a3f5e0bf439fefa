"""Typos of a Chinese keyboard are named at their own line and column, and text values are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign_tools.authoring.campaign_yaml import validate_paths
from campaign_tools.authoring.typos import find_typos

ROOT = Path(__file__).resolve().parents[2]
CLEAN = (ROOT / "campaigns" / "poverty-day-2026.yaml").read_text(encoding="utf-8")


def _with(old: str, new: str) -> str:
    assert old in CLEAN, old
    return CLEAN.replace(old, new, 1)


def _where(text: str, new: str, char: str) -> tuple[int, int]:
    """1-based line and column of ``char`` in the first ``new`` of ``text``."""
    before = text[: text.index(new) + new.index(char)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


@pytest.mark.parametrize(
    ("old", "new", "char", "ascii_"),
    [
        ("kind:", "kind\uff1a", "\uff1a", "':'"),
        ('pinned: ["EGG-0017", ', 'pinned: ["EGG-0017"\uff0c', "\uff0c", "','"),
        ("pinned: [", "pinned: \u3010", "\u3010", "'['"),
        ("pinned: [", "pinned: \uff3b", "\uff3b", "'['"),
        ('price: "', "price: \u201c", "\u201c", "'\"'"),
        ("  weight:", "\u00a0 weight:", "\u00a0", "a plain space"),
        ("  weight:", "\u3000weight:", "\u3000", "a plain space"),
    ],
)
def test_each_typo_is_reported_at_its_place_quoting_the_character_and_the_fix(tmp_path, old, new, char, ascii_):
    text = _with(old, new)
    line, col = _where(text, new, char)
    path = tmp_path / "poverty-day-2026.yaml"
    path.write_text(text, encoding="utf-8")
    result = validate_paths([path])
    [error] = result.errors
    assert (error.line, error.col) == (line, col)
    assert f"'{char}'" in error.message and f"type {ascii_} instead" in error.message
    assert result.campaigns == ()


def test_full_width_punctuation_inside_text_values_is_not_a_typo():
    texts = [
        "title: {zh-CN: 散养鸡蛋，30枚【限量】, en: Eggs}\n",
        "summary:\n  zh-CN: “中国马铃薯之乡”定西安定区：黄土高原上的新薯。\n",
        "summary:\n  zh-CN: 【公益】巴中留守儿童\n",
        "name: {zh-CN: 巴州区\u3000农户, en: Bazhou}\n",
    ]
    assert [find_typos(t) for t in texts] == [[], [], [], []]


def test_every_real_campaign_file_is_free_of_typos():
    for path in sorted((ROOT / "campaigns").glob("*.yaml")):
        assert find_typos(path.read_text(encoding="utf-8")) == [], path.name
