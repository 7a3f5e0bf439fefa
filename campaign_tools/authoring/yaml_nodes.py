"""A YAML reader that keeps the text: nodes in, typed values and located issues out.

``compose_text`` turns a file's bytes or text into PyYAML's node tree (never into
Python values: ``yaml.safe_load`` would turn ``0123`` into 83 and ``NO`` into False);
:mod:`campaign_tools.authoring.yaml_compose` reads it with libyaml where that gives the pure parser's tree.
``NodeReader`` then reads each scalar from the text the person typed, and the schema
(``campaign_yaml``) decides its type. Nothing here raises on bad input: every
problem becomes an :class:`Issue` (1-based line and column) and reading goes on.

Limits, each refused with one issue:

- a file over ``MAX_FILE_BYTES`` (1 MiB) is not parsed at all;
- nesting deeper than ``MAX_DEPTH`` (50) levels;
- anchors and aliases are allowed, but fully expanded the document may hold at
  most ``MAX_ALIAS_NODES`` (1,000) nodes more than are written out in the text
  (a "billion laughs" file is refused at its first alias), and an alias may not
  refer to a node that contains it;
- merge keys (``<<``) and tags other than YAML's standard scalar/map/seq tags.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from campaign_tools.authoring.yaml_compose import compose

MAX_FILE_BYTES = 1_048_576
MAX_DEPTH = 50
MAX_ALIAS_NODES = 1_000
# "Did you mean" hints per file: past this many unknown keys the file is not a typo away from right,
# and difflib over 90,000 of them took seconds (`campaign validate` has a budget of 2 s a file, docs/yaml.md).
MAX_HINTS = 100

_T = "tag:yaml.org,2002:"
STR, INT, NULL, MERGE = _T + "str", _T + "int", _T + "null", _T + "merge"
_STANDARD_TAGS = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}
_DECIMAL_INT = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_MONEY = re.compile(r"([0-9]{1,12})(\.[0-9]{1,2})?", re.ASCII)
_PERCENT = re.compile(r"([0-9]{1,12}(?:\.[0-9]{1,12})?) ?%", re.ASCII)
_NUMBER = re.compile(r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class Issue:
    """One problem at a 1-based ``line``/``col``."""

    line: int
    col: int
    message: str
    severity: str = "error"


def show(text: str) -> str:
    """A value as it goes into a message: bare when plain and short, else JSON-quoted."""
    if text and len(text) <= 60 and text.isprintable() and text == text.strip():
        return text
    return json.dumps(text if len(text) <= 60 else text[:60] + "...", ensure_ascii=False)


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``'did you mean "x"? '`` for the closest of ``choices``, or ``""``.

    Remembered per (word, choices), and not attempted for words over 64 characters: a
    file of 90,000 unknown keys spent most of its time here (the 2 s a file budget of docs/yaml.md).
    """
    return _did_you_mean(word, tuple(choices)) if len(word) <= 64 else ""


@functools.lru_cache(maxsize=4096)
def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f'did you mean "{close[0]}"? ' if close else ""


def pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


# ---------------------------------------------------------------- text -> node tree


def compose_text(data: str | bytes, *, engine: str = "auto") -> tuple[Node | None, list[Issue]]:
    """The root node of ``data`` (one YAML document), or ``None`` and the issues.

    The tree and every issue are those of PyYAML's pure parser; ``engine="auto"`` gets
    them from libyaml where the two agree (:mod:`campaign_tools.authoring.yaml_compose`), ``"pure"``
    from the pure parser alone.
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        return None, [Issue(1, 1, f"file is over the 1 MiB limit ({MAX_FILE_BYTES:,} bytes); split it or trim it")]
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line, col = _line_col(data[: exc.start].decode("utf-8", "replace"), None)
            return None, [
                Issue(
                    1, 1, f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at line {line}, column {col}); save it as UTF-8"
                )
            ]
    else:
        text = data
    text = text.removeprefix("\ufeff")
    try:
        composed = compose(text, MAX_DEPTH, engine=engine)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Issue(line, col, _syntax_message(exc, text))]
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        return None, [Issue(line, col, f"character U+{exc.character:04X} is not allowed in YAML; remove it")]
    except yaml.YAMLError as exc:
        return None, [Issue(1, 1, f"YAML error: {exc}")]
    root = composed.root
    if root is None:
        return None, [Issue(1, 1, "file is empty; a campaign file is a mapping that starts with id: ...")]
    extra, loop = _alias_growth(root) if composed.alias_marks else (0, None)  # no alias: no node is shared
    if loop is not None:
        line, col = pos(loop)
        return None, [Issue(line, col, "an alias refers to a node that contains it (a loop); write the data out")]
    if extra > MAX_ALIAS_NODES:
        mark = composed.alias_marks[0] if composed.alias_marks else root.start_mark
        return None, [
            Issue(
                mark.line + 1,
                mark.column + 1,
                f"aliases expand this file by more than {MAX_ALIAS_NODES} nodes; write the data out instead of nesting aliases",
            )
        ]
    return root, []


def _line_col(text: str, position: int | None) -> tuple[int, int]:
    """1-based line and column of ``position`` in ``text``, as PyYAML counts lines."""
    prefix = text if position is None else text[:position]
    prefix = prefix.replace("\r\n", "\n")
    lines = re.split("[\n\r\x85\u2028\u2029]", prefix)
    return len(lines), len(lines[-1]) + 1


def _alias_growth(root: Node) -> tuple[int, Node | None]:
    """(expanded node count - distinct node count, a node on a loop or None), without recursion."""
    cap = MAX_ALIAS_NODES * 1000
    size: dict[int, int] = {}
    open_ids: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            open_ids.discard(key)
            size[key] = min(cap, 1 + sum(size[id(c)] for c in children))
        elif key in open_ids:
            return 0, node
        elif key not in size:
            open_ids.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children)
    return size[id(root)] - len(size), None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _syntax_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    problem, context = exc.problem or "", exc.context or ""
    at = ""
    if exc.context_mark is not None:
        at = f" (opened at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
    mark = exc.problem_mark
    at_tab = mark is not None and text[mark.index : mark.index + 1] == "\t"  # libyaml: "cannot start any token"
    if ("'\\t'" in problem or "tab character" in problem or at_tab) and mark is not None:  # pure / libyaml
        lines = re.split("[\n\r\x85\u2028\u2029]", text.replace("\r\n", "\n"))
        line = lines[mark.line] if mark.line < len(lines) else ""
        if not line[: mark.column].strip(" \t"):
            return "tabs are not allowed for indentation; use spaces"
        return "a tab is not allowed here (YAML allows no tab before a comment or as indentation); use spaces"
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[" if "sequence" in context else "{"
        closing = "]" if bracket == "[" else "}"
        at_end = mark is not None and not text[mark.index :].strip()  # libyaml says "did not find expected"
        if "<stream end>" in problem or "<document" in problem or at_end:
            return f"unclosed '{bracket}'{at}; add the closing '{closing}'"
        return f"expected ',' or '{closing}' here: the '{bracket}'{at} is not closed, or an item lacks its ','"
    if "quoted scalar" in context:
        return f"unclosed quote{at}; add the closing quote"
    if "mapping values are not allowed" in problem:
        return "unexpected ':' here; check the indentation, or quote a value that contains ': '"
    if "expected <block end>" in problem or "did not find expected key" in problem:  # pure / libyaml
        return f"bad indentation: this line does not line up with the lines above it{at.replace('opened', 'block starts')}"
    if "could not find expected ':'" in problem:
        return f"expected 'key: value' here{at.replace('opened', 'key starts')}; check the indentation or quote the text"
    if "undefined alias" in problem:
        return f"{problem.replace('found undefined alias', 'alias')} names no anchor defined before it; define &name first"
    if "duplicate anchor" in context:
        return f"{context.replace('found ', '').replace('; first occurrence', '')} is defined twice{at.replace('opened', 'first')}; rename one"
    if "single document" in context:
        return "a second YAML document ('---') follows; a campaign file holds one document"
    if "nesting deeper" in problem:
        return f"{problem}; flatten the data"
    return f"YAML syntax error: {problem or context}{at if problem and context else ''}"


# ---------------------------------------------------------------- typed reading


class NodeReader:
    """Reads nodes against a schema, collecting :class:`Issue` values and positions.

    ``where`` arguments are key paths like ``products[2].price`` (indexes 0-based).
    ``keys`` and ``values`` map each key path read to the position of its key and
    of its value, so later checks (also across files) can point at a line.
    """

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.keys: dict[str, tuple[int, int]] = {}
        self.values: dict[str, tuple[int, int]] = {}
        self.unknown_keys = 0  # "did you mean" for the first MAX_HINTS only

    def error(self, node: Node | tuple[int, int], message: str, severity: str = "error") -> None:
        line, col = node if isinstance(node, tuple) else pos(node)
        self.issues.append(Issue(line, col, message, severity))

    @property
    def failed(self) -> bool:
        return any(i.severity == "error" for i in self.issues)

    def _tag_ok(self, node: Node, where: str) -> bool:
        if node.tag in _STANDARD_TAGS:
            return True
        tag = node.tag.replace(_T, "!!")
        self.error(node, f"{label(where)}the tag {show(tag)} is not supported; remove it")
        return False

    def mapping(
        self, node: Node, where: str, required: Sequence[str], optional: Sequence[str] = (), noun: str = "key"
    ) -> dict[str, Node] | None:
        """The value nodes by key; issues for duplicates, merges, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{label(where)}expected a mapping ({', '.join(required)}: ...), found {_kind(node)}")
            return None
        if not self._tag_ok(node, where):
            return None
        allowed = [*required, *optional]
        found: dict[str, Node] = {}
        first: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, f"{label(where)}a key must be a plain name, not {_kind(key_node)}")
                continue
            if key_node.tag == MERGE:
                self.error(key_node, f"{label(where)}merge keys (<<) are not supported; write the keys out")
                continue
            key, path = key_node.value, join(where, key_node.value)
            if key in first:
                line = first[key].start_mark.line + 1
                self.error(key_node, f'{path}: duplicate {noun} "{key}" (first at line {line}); remove one of them')
                continue
            first[key] = key_node
            if key not in allowed:
                self.unknown_keys += 1
                hint = did_you_mean(key, allowed) if self.unknown_keys <= MAX_HINTS else ""
                self.error(
                    key_node,
                    f"{label(where)}unknown {noun} {json.dumps(key, ensure_ascii=False)}; {hint}allowed: {', '.join(allowed)}",
                )
                continue
            found[key] = value_node
            self.keys[path], self.values[path] = pos(key_node), pos(value_node)
        for key in required:
            if key not in found and key not in first:
                self.error(node, f'{label(where)}missing required {noun} "{key}"; add {key}: ...')
        return found

    def sequence(self, node: Node, where: str, *, non_empty: bool = False) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.error(node, f"{where}: expected a list (- item lines or [a, b]), found {_kind(node)}")
            return None
        if not self._tag_ok(node, where):
            return None
        if non_empty and not node.value:
            self.error(node, f"{where}: is empty; list at least one")
        return list(node.value)

    def scalar(self, node: Node, where: str, example: str) -> str | None:
        """The typed text of a scalar (any YAML type), or ``None`` with an issue."""
        if not isinstance(node, ScalarNode):
            self.error(node, f"{where}: expected a single value like {example}, found {_kind(node)}")
            return None
        if not self._tag_ok(node, where):
            return None
        if node.tag == NULL and not node.style and not node.value.strip():
            self.error(node, f"{where}: has no value; write one, e.g. {example}")
            return None
        return node.value

    def string(self, node: Node, where: str) -> str | None:
        """Text kept exactly as typed; a plain scalar YAML would read as another type is refused."""
        text = self.scalar(node, where, '"text"')
        if text is None:
            return None
        if node.tag == STR or (node.tag == INT and _DECIMAL_INT.fullmatch(text)):
            if not text.strip():
                self.error(node, f"{where}: is empty; write a value")
                return None
            return text
        key = where.rsplit(".", 1)[-1] + ": " if not where.endswith("]") else ""
        self.error(
            node,
            f"{where}: {show(text)} would be read by YAML as {_yaml_reading(node)}; "
            f"quote it: {key}{json.dumps(text, ensure_ascii=False)}",
        )
        return None

    def money_fen(self, node: Node, where: str) -> int | None:
        """An amount in CNY (``39.90``, quoted or not), read from its text, as integer fen."""
        text = self.scalar(node, where, '"39.90"')
        if text is None:
            return None
        s = text.strip()
        m = _MONEY.fullmatch(s)
        if m and Decimal(s) > 0:
            return int(Decimal(s) * 100)
        if m or (s.startswith("-") and _NUMBER.fullmatch(s)):
            why = f"{show(s)} must be more than 0"
        elif "," in s and _MONEY.fullmatch(s.replace(",", "")):
            fix = s.replace(",", ".") if re.fullmatch(r"\d+,\d{1,2}", s) else s.replace(",", "")
            why = f'{show(s)} has a comma; write the amount with a decimal point and no commas, e.g. "{fix}"'
        elif re.fullmatch(r"[0-9]+\.[0-9]{3,}", s, re.ASCII):
            why = f'{s} has more than 2 decimals; write at most 2, e.g. "{s[: s.index(".") + 3]}"'
        elif re.fullmatch(r"[0-9]{13,}(\.[0-9]*)?", s, re.ASCII):
            why = f"{show(s)} is too large; amounts have at most 12 digits before the point"
        elif _NUMBER.fullmatch(s) and "e" in s.lower():
            why = f'{show(s)} has an exponent; write the amount in plain digits, e.g. "39.90"'
        else:
            why = f'{show(s)} is not an amount; write digits with at most 2 decimals, e.g. "39.90"'
        self.error(node, f"{where}: {why}")
        return None

    def percent(self, node: Node, where: str) -> Decimal | None:
        """A rate such as ``5.5%``, as a Decimal percent in (0, 100]."""
        text = self.scalar(node, where, "5.5%")
        if text is None:
            return None
        s = text.strip()
        m = _PERCENT.fullmatch(s)
        if m is None:
            if s.startswith("-") and _PERCENT.fullmatch(s[1:]):
                self.error(node, f"{where}: {s} is outside (0%, 100%]; write a rate above 0% and at most 100%")
            elif _NUMBER.fullmatch(s):
                self.error(node, f"{where}: {show(s)} is a bare number; write it as a percentage, e.g. 5.5%")
            else:
                self.error(node, f"{where}: {show(s)} is not a rate; write it as a percentage, e.g. 5.5%")
            return None
        value = Decimal(m.group(1))
        if not 0 < value <= 100:
            self.error(node, f"{where}: {s} is outside (0%, 100%]; write a rate above 0% and at most 100%")
            return None
        return value

    def whole(self, node: Node, where: str, minimum: int = 1, maximum: int = 999_999_999) -> int | None:
        """A whole number written in plain decimal digits, from ``minimum`` to ``maximum`` (at most 9 digits)."""
        text = self.scalar(node, where, "3")
        if text is None:
            return None
        s = text.strip()
        if re.fullmatch(r"-[0-9]{1,9}", s, re.ASCII) and int(s) < minimum:
            self.error(node, f"{where}: {s} is below {minimum}; write a whole number of at least {minimum}")
            return None
        if not re.fullmatch(r"[0-9]{1,9}", s, re.ASCII) or (len(s) > 1 and s[0] == "0"):
            hint = "without leading zeros" if s.isascii() and s.isdigit() and len(s) < 10 else "in plain digits"
            self.error(node, f"{where}: {show(s)} is not a whole number up to {maximum}; write it {hint}, e.g. 3")
            return None
        if int(s) < minimum:
            self.error(node, f"{where}: {s} is below {minimum}; write a whole number of at least {minimum}")
            return None
        if int(s) > maximum:
            self.error(node, f"{where}: {s} is over {maximum}; write a whole number of at most {maximum}")
            return None
        return int(s)


def label(where: str) -> str:
    return f"{where}: " if where else ""


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the value {show(node.value)}"


def _yaml_reading(node: ScalarNode) -> str:
    """What ``yaml.safe_load`` would make of a plain scalar, in words (for messages only)."""
    try:
        value = SafeConstructor().construct_object(node)
    except Exception:  # an invalid date or a huge number: any failure still means "not text"
        return "something other than text"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (no value)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a date and time" if hasattr(value, "hour") else "a date"
