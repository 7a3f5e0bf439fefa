"""YAML text -> PyYAML node tree, read by libyaml wherever that gives PyYAML's own result.

PyYAML's pure-Python parser is the reference: its node tree (tags, values, styles, and
the ``line``/``column``/``index`` of every mark) and its errors are what the validator
reports from. It reads about 110 KiB a second: a 1 MiB file took 9 s. libyaml
(``yaml.cyaml.CParser``, in PyYAML's wheels) reads the same text some 20 times faster,
and mostly to the same events, but not always. It accepts, where the pure parser
refuses: a tab as space between tokens (before a value or a comment, after ``-``, in a
block scalar's header), ``|#c``, ``?`` inside a plain scalar in flow context
(``{image: /a?b=1}``), ``!a:b!c`` as a tag and ``%YAML 1.1#c``. It reads differently:
a BOM after the start (the pure reader counts no column for it), the ``!`` tag (the
pure parser resolves ``! 3`` by its text), the mark of an empty value in flow context
(``{en: }``: the pure parser marks just after the ``:``, libyaml the ``}``), the end of
a file without a final line break (libyaml: column 0 of a next line), the style of a
sequence at its key's indentation (``False``, not ``None``) and of plain scalars
(``""``, not ``None``).

:func:`compose` reads with libyaml and composes its events without recursion
(:func:`_compose_events`) into the tree the reference composer would build, with the
same depth bound and alias marks. The marks and styles above are set to the
reference's; on a text or an event where libyaml may read differently
(:func:`reference_reason`, the checks in :func:`_compose_events`, :func:`_check_tabs`),
and on any error, the pure parser reads the text from the start, so every error comes
with the reference's message and position, except in a text of
:data:`LIBYAML_ERRORS_FROM_CHARS` (128 Ki) characters or more, whose syntax errors are
libyaml's own, and where a check knows the reference's error for certain (a tab outside
quotes, block scalars and comments; an undefined alias; a duplicate anchor; a second
document) a large text gets that error without being read again. A text the checks send
back to the pure parser takes the old time (a 1 MiB one, ~9 s): a directive, a tag other
than ``!!name``, a BOM after the start, ``?`` in a plain scalar in flow context; the
campaigns, files with syntax errors, and files whose only problems are the validator's
do not.

``tests/unit/test_yaml_fast_path.py`` shows the two give the same trees and issues, on
each difference above and on mutated campaign files; docs/yaml.md has the figures.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import yaml
from yaml.composer import Composer, ComposerError
from yaml.error import Mark
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver
from yaml.scanner import ScannerError

try:  # libyaml is in PyYAML's wheels; a build without it is only slower
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None

_BREAKS = "\n\r\x85\u2028\u2029"

# From this many characters on, a text libyaml refuses is reported with libyaml's error
# (its wording, its position) instead of being read again by the pure parser, which reads
# about 110 KiB a second: `campaign validate` has 2 s a file (docs/yaml.md), and files this
# large are generated, not typed. Below it, every error is the reference's.
LIBYAML_ERRORS_FROM_CHARS = 128 * 1024


@dataclass(frozen=True)
class Composed:
    """One document's root node (``None`` for an empty stream), the marks of its aliases
    in document order, and the ``engine`` that read it: ``"libyaml"`` or ``"pure"``."""

    root: Node | None
    alias_marks: list[Mark]
    engine: str


class _Fallback(Exception):
    """libyaml's reading may differ from the reference's here: read the text again.

    ``error``: the error the reference gives here, when that is certain; a large text
    raises it instead of being read again (see :data:`LIBYAML_ERRORS_FROM_CHARS`).
    """

    def __init__(self, reason: str, error: yaml.YAMLError | None = None) -> None:
        super().__init__(reason)
        self.error = error


class _BoundedComposer(Composer):
    """PyYAML's composer with a depth bound; it records where aliases are used."""

    def __init__(self, max_depth: int) -> None:
        Composer.__init__(self)
        self.max_depth = max_depth
        self.depth = 0
        self.alias_marks: list[Mark] = []

    def compose_node(self, parent: Node | None, index: object) -> Node | None:
        if self.check_event(AliasEvent):
            self.alias_marks.append(self.peek_event().start_mark)
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                raise ComposerError(None, None, f"nesting deeper than {self.max_depth} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Reference(yaml.SafeLoader, _BoundedComposer):
    """The pure-Python reader, scanner and parser (the reference), bounded."""

    def __init__(self, stream: str, max_depth: int) -> None:
        yaml.SafeLoader.__init__(self, stream)  # the reader checks every character here
        _BoundedComposer.__init__(self, max_depth)


_STR, _SEQ, _MAP = Resolver.DEFAULT_SCALAR_TAG, Resolver.DEFAULT_SEQUENCE_TAG, Resolver.DEFAULT_MAPPING_TAG
_YAML_TAG = "tag:yaml.org,2002:"
_NO_KEY = object()
_LINE_END = "(?:[\n\r\x85\u2028\u2029]|\\Z)"
# A block scalar's header as the pure scanner takes it: the indicators, then spaces and a
# comment (libyaml also takes "|#c" and tabs). Not matched when a tag or an anchor is first.
_BLOCK_HEADER = re.compile("[|>](?:[-+][1-9]?|[1-9][-+]?)?(?: +#[^\n\r\x85\u2028\u2029]*| *)" + _LINE_END)
# An explicit tag both scanners read alike: "!!name" (after an anchor, if any), then a space.
_STANDARD_TAG = re.compile("(?:&[0-9A-Za-z_-]+ +)?!!([a-z]+)(?= |" + _LINE_END + ")")
_COLON = re.compile(" *:")  # from a key's end to its ":", on one line
_HASH = re.compile("#")


def _compose_events(get_event: Callable[[], Event], text: str, max_depth: int) -> tuple[Node | None, list[Mark]]:
    """The reference composer's tree from libyaml's events, without recursion.

    Where the reference composer would raise (depth bound, undefined alias, duplicate
    anchor, a second document) this raises :class:`_Fallback`, and so it does on the
    events libyaml is known to produce differently (see the module's docstring).
    """
    resolve = Resolver().resolve
    tags: dict[str, str] = {}  # a plain scalar's tag depends on its text only: remember it
    anchors: dict[str, Node] = {}
    alias_marks: list[Mark] = []
    # Open collections, innermost last: [node, is a mapping, key waiting for its value,
    # where that key's text ends when it is a scalar written there (not an alias)].
    stack: list[list] = []
    top = None
    root = None
    get_event()  # StreamStartEvent
    start = get_event()
    if type(start) is StreamEndEvent:
        return None, alias_marks
    if start.version is not None or start.tags:
        raise _Fallback("a directive")  # libyaml also takes "%YAML 1.1#c"
    while True:  # from the DocumentStartEvent on
        event = get_event()
        kind = type(event)
        if kind is ScalarEvent:
            tag, value, style = event.tag, event.value, event.style
            start_mark, end_mark = event.start_mark, event.end_mark
            if tag is None:
                if event.implicit[0]:
                    tag = tags.get(value) or tags.setdefault(value, resolve(ScalarNode, value, (True, False)))
                else:
                    tag = _STR
            else:
                tag = _explicit_tag(text, event)
            if not style:
                style = None  # libyaml's plain style is "", the reference's None
                if top is not None and top[0].flow_style and (not value or "?" in value):
                    if value or event.tag is not None or event.anchor is not None:
                        raise _Fallback("'?' in a plain scalar in flow context, or an empty one with properties")
                    start_mark = end_mark = _empty_flow_value_mark(text, top)
            elif (style == "|" or style == ">") and not _BLOCK_HEADER.match(text, start_mark.index):
                raise _Fallback("a block scalar header the pure scanner refuses, or a tag or anchor before it")
            node = ScalarNode(tag, value, start_mark, end_mark, style)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()[0].end_mark = event.end_mark
            if not stack:
                break
            top = stack[-1]
            continue
        elif kind is MappingStartEvent:
            node = MappingNode(
                _MAP if event.tag is None else _explicit_tag(text, event), [], event.start_mark, None, event.flow_style
            )
        elif kind is SequenceStartEvent:
            style = event.flow_style
            after_start = event.end_mark.index
            if style is False and text[after_start - 1 : after_start] == "-":
                style = None  # a sequence at its key's indentation: the reference leaves the style unset
            node = SequenceNode(_SEQ if event.tag is None else _explicit_tag(text, event), [], event.start_mark, None, style)
        elif kind is AliasEvent:
            alias_marks.append(event.start_mark)
            node = anchors.get(event.anchor)
            if node is None:
                raise _Fallback(
                    "undefined alias", ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
                )
        else:
            raise _Fallback(f"unexpected {kind.__name__}")
        if len(stack) >= max_depth:
            raise _Fallback("nesting deeper than the bound")
        if kind is not AliasEvent and event.anchor is not None:
            if event.anchor in anchors:
                raise _Fallback(
                    "duplicate anchor",
                    ComposerError(
                        f"found duplicate anchor {event.anchor!r}; first occurrence",
                        anchors[event.anchor].start_mark,
                        "second occurrence",
                        event.start_mark,
                    ),
                )
            anchors[event.anchor] = node
        if top is None:
            root = node
        elif not top[1]:
            top[0].value.append(node)
        elif top[2] is _NO_KEY:
            top[2], top[3] = node, event.end_mark if kind is ScalarEvent else None
        else:
            top[0].value.append((top[2], node))
            top[2] = _NO_KEY
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            top = [node, kind is MappingStartEvent, _NO_KEY, None]
            stack.append(top)
        elif top is None:
            break
    get_event()  # DocumentEndEvent
    after = get_event()
    if type(after) is not StreamEndEvent:
        raise _Fallback(
            "a second document",
            ComposerError(
                "expected a single document in the stream",
                None if root is None else root.start_mark,
                "but found another document",
                after.start_mark,
            ),
        )
    return root, alias_marks


def _empty_flow_value_mark(text: str, top: list) -> Mark:
    """Where the reference marks an empty value in flow context (``{en: }``): just after
    the ``:``; libyaml marks the next token. Only for ``key:`` written on one line."""
    key_end = top[3]
    if not top[1] or top[2] is _NO_KEY or key_end is None:
        raise _Fallback("an empty entry or key in flow context")
    colon = _COLON.match(text, key_end.index)
    if colon is None:
        raise _Fallback("an empty value in flow context without 'key:'")
    after = colon.end()
    return Mark(key_end.name, after, key_end.line, key_end.column + after - key_end.index, None, None)


def _explicit_tag(text: str, event: Event) -> str:
    """The tag written on a node, where the pure scanner reads it as libyaml does."""
    written = _STANDARD_TAG.match(text, event.start_mark.index)
    if written is None or event.tag != _YAML_TAG + written.group(1):
        raise _Fallback("a tag other than !!name")  # libyaml reads "!a:b!c", "!x,", "!" otherwise
    return event.tag


def reference_reason(text: str) -> str | None:
    """Why ``text`` must be read by the pure parser before libyaml is tried, or ``None``."""
    if CParser is None:
        return "PyYAML has no libyaml"
    if "\ufeff" in text:
        return "a byte-order mark after the start"
    return None


def compose(text: str, max_depth: int = 50, *, engine: str = "auto") -> Composed:
    """The root node of ``text`` (one YAML document, BOM removed) as PyYAML's pure parser
    composes it, with nesting bounded at ``max_depth`` levels.

    ``engine`` is ``"auto"`` (libyaml where it agrees, else pure) or ``"pure"``. Marks
    are 0-based: ``line``, ``column`` and ``index`` count characters (code points).

    Raises
    ------
    yaml.YAMLError
        Exactly as the pure parser raises it (``yaml.reader.ReaderError`` for a character
        YAML does not allow, ``yaml.MarkedYAMLError`` for syntax, "expected a single
        document" and the depth bound). The pure parser also lets a ``ValueError`` out,
        for a ``"\\U00110000"`` escape; so does this.

    Examples
    --------
    >>> composed = compose("a: [b, {c: d}]\\n")
    >>> composed.engine, composed.root.value[0][1].start_mark.column
    ('libyaml', 3)
    >>> compose("a: b\\t# c\\n")  # libyaml takes the tab as a space; the pure parser refuses it
    Traceback (most recent call last):
    yaml.scanner.ScannerError: ...
    """
    if engine == "auto" and reference_reason(text) is None:
        try:
            return _compose_fast(text, max_depth)
        except yaml.MarkedYAMLError:
            if len(text) >= LIBYAML_ERRORS_FROM_CHARS:
                raise  # libyaml's own message and position: the reference would take seconds
        except _Fallback as fallback:
            if fallback.error is not None and len(text) >= LIBYAML_ERRORS_FROM_CHARS:
                raise fallback.error from None  # the reference's error, known without reading again
        except Exception:  # noqa: BLE001 - _Fallback, a lone surrogate: the reference decides
            pass
    loader = _Reference(text, max_depth)
    try:
        return Composed(loader.get_single_node(), loader.alias_marks, "pure")
    finally:
        loader.dispose()


def _compose_fast(text: str, max_depth: int) -> Composed:
    parser = CParser(text)  # encodes to UTF-8: a lone surrogate raises UnicodeEncodeError
    root, alias_marks = _compose_events(parser.get_event, text, max_depth)
    if root is not None and "\t" in text:
        _check_tabs(text, root)
    if root is not None and text and text[-1] not in _BREAKS:
        _fix_end_marks(text, root)
    return Composed(root, alias_marks, "libyaml")


def _check_tabs(text: str, root: Node) -> None:
    """The pure scanner allows a tab only inside a quoted scalar, in the lines of a block
    scalar and in a comment; libyaml also takes it as space between tokens. A tab
    anywhere else: read the text again."""
    scalars, quoted = [], []
    for node in _nodes(root):
        if isinstance(node, ScalarNode):
            span = (node.start_mark.index, node.end_mark.index)
            scalars.append(span)
            # From the quote or block indicator (a tag or an anchor before it: none) to the
            # end; a block scalar's header line has no tab (_BLOCK_HEADER).
            if node.style and text[span[0] : span[0] + 1] == node.style:
                quoted.append(span)
    scalars.sort()
    quoted.sort()
    for tab in re.finditer("\t", text):
        at = tab.start()
        if _inside(quoted, at):
            continue
        line_start = max(text.rfind(b, 0, at) for b in _BREAKS) + 1
        # In a comment: after a "#" outside every scalar, on the same line (anchors, aliases
        # and tags cannot hold a "#"; a directive is never read here).
        hashes = (m.start() for m in _HASH.finditer(text, line_start, at))
        if any(not _inside(scalars, h) for h in hashes):
            continue
        raise _Fallback(
            "a tab outside a quoted or block scalar and outside a comment",
            ScannerError(
                "while scanning for the next token",
                _mark(text, at),
                "found character '\\t' that cannot start any token",
                _mark(text, at),
            ),
        )


def _mark(text: str, index: int) -> Mark:
    """The reference's mark of ``text[index]``: 0-based line and column, lines broken as the
    pure reader breaks them (``\\r\\n`` is one break)."""
    prefix = text[:index].replace("\r\n", "\n")
    lines = re.split("[\n\r\x85\u2028\u2029]", prefix)
    return Mark("<unicode string>", index, len(lines) - 1, len(lines[-1]), None, None)


def _inside(spans: list[tuple[int, int]], at: int) -> bool:
    """Whether ``at`` is in one of ``spans`` (sorted, not overlapping, end excluded)."""
    k = bisect.bisect_right(spans, (at, float("inf"))) - 1
    return k >= 0 and spans[k][0] <= at < spans[k][1]


def _fix_end_marks(text: str, root: Node) -> None:
    """libyaml ends a file that has no final line break on a line of its own (column 0 of
    the next line); the reference ends it after its last character. Nodes that end there
    lie on the tree's right edge."""
    n = len(text)
    column = n - 1 - max(text.rfind(b) for b in _BREAKS)
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_mark.index != n:
            continue
        for attr in ("start_mark", "end_mark"):
            mark = getattr(node, attr)
            if mark.index == n and mark.column == 0:
                setattr(node, attr, Mark(mark.name, n, mark.line - 1, column, None, None))
        if isinstance(node, SequenceNode) and node.value:
            stack.append(node.value[-1])
        elif isinstance(node, MappingNode) and node.value:
            stack.extend(node.value[-1])


def _nodes(root: Node) -> Iterator[Node]:
    """Every node once, without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
