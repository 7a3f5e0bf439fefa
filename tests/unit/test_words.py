"""The one word table (chalicelib.web.words): the same keys in both languages, none missing, none unused."""

from __future__ import annotations

import re

from chalicelib.web.templates import TEMPLATES_DIR
from chalicelib.web.words import ERROR_TITLES, WORDS, error_title, words

TEMPLATES = "".join(p.read_text(encoding="utf-8") for p in sorted(TEMPLATES_DIR.glob("*.html")))
NAMED = set(re.findall(r"\bL\.([a-z_]+)", TEMPLATES)) | set(re.findall(r"\bL\['([a-z_]+)'\]", TEMPLATES))
# Keys a template builds: L['kind_' ~ campaign.kind], L['state_' ~ state], L['endorsed_' ~ kind].
BUILT = tuple(re.findall(r"\bL\['([a-z_]+_)' ~", TEMPLATES))


def test_both_languages_have_the_same_words():
    assert set(WORDS["zh-CN"]) == set(WORDS["en"])


def test_every_word_a_template_names_exists():
    assert NAMED - set(WORDS["en"]) == set()


def test_every_word_is_shown_somewhere():
    shown = NAMED | ERROR_TITLES | {"error"}
    assert {k for k in WORDS["en"] if k not in shown and not k.startswith(BUILT)} == set()


def test_the_county_of_the_impact_tables_and_the_badge_are_two_words():
    assert (words("zh-CN")["county"], words("zh-CN")["county_badge"]) == ("县", "脱贫县")
    assert words("fr") is WORDS["zh-CN"]


def test_an_error_page_is_titled_by_its_code():
    assert error_title("not_found", "en") == "Page not found"
    assert error_title("conflict", "zh-CN") == "出错了"
