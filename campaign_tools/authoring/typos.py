"""Typos of a Chinese keyboard in a campaign file, named where they are.

A Chinese input method types full-width punctuation (``：，【】“”``) and spaces that
look like spaces (a no-break space, the ideographic space ``U+3000``). Inside
marketing text they are right; where YAML expects its own punctuation they break
the file, and the YAML parser blames the line after or says "unexpected ':'".
This scan finds them in the places YAML reads as structure, before the file is
parsed, and reports each at its own line and column, quoting the character and
the ASCII one to type instead (docs/yaml.md, "Typos of a Chinese keyboard"):

- in the indentation, or in a key: a no-break space or an ideographic space;
- right after a key (``kind：``): a full-width colon;
- where a value starts (after ``: `` or ``- ``): a full-width bracket or brace, or a
  curly quote, when the rest of the value is ASCII (a code, a price, a list of SKUs);
- between the items of a ``[...]`` list of codes (ASCII items): a full-width comma.

Text values (titles, names, summaries) are left alone: ``散养鸡蛋，30枚`` and
``“中国马铃薯之乡”定西`` are fine.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# character -> (its name, the ASCII to type instead)
REPLACEMENTS: dict[str, tuple[str, str]] = {
    "\uff1a": ("a full-width colon", ":"),
    "\uff0c": ("a full-width comma", ","),
    "\u3010": ("a full-width bracket", "["),
    "\u3011": ("a full-width bracket", "]"),
    "\uff3b": ("a full-width bracket", "["),
    "\uff3d": ("a full-width bracket", "]"),
    "\uff5b": ("a full-width brace", "{"),
    "\uff5d": ("a full-width brace", "}"),
    "\u201c": ("a curly quote", '"'),
    "\u201d": ("a curly quote", '"'),
    "\u2018": ("a curly quote", "'"),
    "\u2019": ("a curly quote", "'"),
    "\u00a0": ("a no-break space", "a plain space"),
    "\u3000": ("an ideographic (full-width) space", "a plain space"),
}
_SPACES = "\u00a0\u3000"
_OPENERS = "\u3010\uff3b\uff5b\u201c\u2018"

_INDENT = re.compile(r"^[ \u00a0\u3000]*")
# an ASCII key (possibly after "- ") followed by a full-width colon
_KEY_FULL_COLON = re.compile(r"^[ ]*(?:-[ ]+)?[A-Za-z_][\w-]*(\uff1a)")
# a key with a look-alike space in it, before its colon
_KEY_ODD_SPACE = re.compile(r"^[ ]*(?:-[ ]+)?[A-Za-z_][\w-]*([\u00a0\u3000])[\w-]*[ \u00a0\u3000]*:")
# where a value starts: after "key: " or "- ", the first character
_VALUE_START = re.compile(r"^[ ]*(?:-[ ]+)?(?:[A-Za-z_][\w-]*[ ]*:[ ]+|-[ ]+)(\S)")
# a flow list of ASCII items with a full-width comma between them: [EGG-0017，PRK-0301]
_FLOW_LIST = re.compile(r"\[([\x20-\x7e\uff0c]*\uff0c[\x20-\x7e\uff0c]*)\]")


class Typo(NamedTuple):
    """A typo at ``line``:``col`` (1-based), with the message to show."""

    line: int
    col: int
    message: str


def _message(char: str, where: str) -> str:
    name, ascii_ = REPLACEMENTS[char]
    instead = ascii_ if ascii_.startswith("a ") else f"'{ascii_}'"
    return f"{name} '{char}' (U+{ord(char):04X}) {where}; type {instead} instead (a Chinese input method types it)"


def _ascii_but_typos(rest: str) -> bool:
    """Whether ``rest`` holds only ASCII and the characters of :data:`REPLACEMENTS` (a code, not text)."""
    return all(c < "\x7f" or c in REPLACEMENTS for c in rest)


def find_typos(text: str) -> list[Typo]:
    """Every typo of a Chinese keyboard in the structure of ``text`` (one per place), in order."""
    found: list[Typo] = []
    if not any(c in text for c in REPLACEMENTS):  # the common case: one pass, nothing to do
        return found
    for number, line in enumerate(text.splitlines(), start=1):
        if not any(c in line for c in REPLACEMENTS):
            continue
        code = line.split(" #", 1)[0]
        indent = _INDENT.match(code)
        seen: set[int] = set()

        def add(col: int, char: str, where: str, number: int = number, seen: set[int] = seen) -> None:
            if col not in seen:
                seen.add(col)
                found.append(Typo(number, col + 1, _message(char, where)))

        if indent is not None:
            for col, char in enumerate(indent.group(0)):
                if char in _SPACES:
                    add(col, char, "in the indentation")
        m = _KEY_FULL_COLON.match(code)
        if m is not None:
            add(m.start(1), m.group(1), "after a key")
        m = _KEY_ODD_SPACE.match(code)
        if m is not None:
            add(m.start(1), m.group(1), "in a key")
        m = _VALUE_START.match(code)
        if m is not None and m.group(1) in _OPENERS and _ascii_but_typos(code[m.end(1) :]):
            add(m.start(1), m.group(1), "where a value starts")
        for flow in _FLOW_LIST.finditer(code):
            for offset, char in enumerate(flow.group(1)):
                if char == "\uff0c":
                    add(flow.start(1) + offset, char, "between the items of a list")
    return found
