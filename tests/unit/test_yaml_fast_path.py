"""libyaml's fast path gives the pure parser's results (campaign_tools.authoring.yaml_compose).

``compose_text(data)`` may read a file with libyaml; ``compose_text(data, engine="pure")``
reads it with PyYAML's pure parser, the reference. For every input both must give the
same issues (line, column, message) and, for a file that composes, the same node tree:
tags, values, scalar styles, collection styles, every start and end mark (line, column,
index) and which nodes are shared through aliases. The inputs: the campaigns, the
corpus, each place the two parsers are known to differ, and mutations of all of these.
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml.nodes import Node, ScalarNode, SequenceNode

from campaign_tools.authoring.campaign_yaml import load_campaign_text
from campaign_tools.authoring.yaml_compose import LIBYAML_ERRORS_FROM_CHARS, compose, reference_reason
from campaign_tools.authoring.yaml_nodes import MAX_DEPTH, compose_text
from tests.conftest import ROOT
from tests.yaml_inputs import FRAGMENTS, mutate, products_campaign

DATA = ROOT / "tests" / "data" / "yaml"
CAMPAIGNS = {p.name: p.read_bytes() for p in sorted((ROOT / "campaigns").glob("*.yaml"))}
CORPUS = {str(p.relative_to(DATA)): p.read_bytes() for p in sorted(DATA.glob("**/*.yaml"))}


def shape(root: Node | None) -> list[tuple]:
    """The tree in document order; a node met again (an alias) is its first position."""
    seen: dict[int, int] = {}
    rows: list[tuple] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            rows.append(("alias of", seen[id(node)]))
            continue
        seen[id(node)] = len(rows)
        marks = tuple((m.line, m.column, m.index) for m in (node.start_mark, node.end_mark))
        if isinstance(node, ScalarNode):
            rows.append(("scalar", node.tag, node.value, node.style, marks))
            continue
        rows.append((type(node).__name__, node.tag, node.flow_style, len(node.value), marks))
        children = node.value if isinstance(node, SequenceNode) else [n for pair in node.value for n in pair]
        stack.extend(reversed(children))
    return rows


def assert_same_as_pure(data: str | bytes) -> tuple[Node | None, list]:
    fast_root, fast_issues = compose_text(data)
    pure_root, pure_issues = compose_text(data, engine="pure")
    assert fast_issues == pure_issues
    assert shape(fast_root) == shape(pure_root)
    return fast_root, fast_issues


def engine(text: str) -> str:
    """Which parser :func:`compose` ended up using for ``text`` (a BOM already removed)."""
    try:
        return compose(text, MAX_DEPTH).engine
    except Exception:  # the pure parser's error: libyaml's reading was refused
        return "pure"


# ---------------------------------------------------------------- fixed inputs


@pytest.mark.parametrize("name", sorted(CAMPAIGNS))
def test_each_campaign_is_read_by_libyaml_with_the_pure_tree(name):
    assert_same_as_pure(CAMPAIGNS[name])

    assert engine(CAMPAIGNS[name].decode("utf-8")) == "libyaml"


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_each_corpus_file_gives_the_pure_tree_and_issues(name):
    assert_same_as_pure(CORPUS[name])


# Where the two parsers differ, and what the fast path does about it (module docstring).
KNOWN_DIFFERENCES = [
    # libyaml accepts these; the pure parser refuses them
    ("tab before a value", "a:\tb\n"),
    ("tab before a comment", "a: b\t# c\n"),
    ("tab after a plain scalar", "a: b\t\n"),
    ("tab after '-'", "-\ta\n"),
    ("tab inside a flow mapping", "a: {b:\tc}\n"),
    ("tab between an anchor and a quoted scalar", "a: &x\t'y'\n"),
    ("tab in a block scalar's header", "a: |\t\n  x\n"),
    ("tab in a block scalar's header, after a tag", "a: !!str\n  |\t\n  x\n"),
    ("comment right after a block scalar's indicators", "a: |-#c\n  x\n"),
    ("'?' inside a plain scalar in flow context", "a: {b: http://x.y/z?q=1}\n"),
    ("directive followed by a comment without space", "%YAML 1.1#c\n---\na: b\n"),
    ("tag followed by ',' in flow context", "a: [!foo,bar]\n"),
    ("tag with '!' after a non-word character", "a: !:x!!int b\n"),
    # both accept, with a different tree or marks
    ("empty key in a flow mapping", "a: {: b}\n"),
    ("empty value with a tag in flow context", "a: {b: !!str , c: d}\n"),
    ("empty value after an alias key in flow context", "a: &x k\nb: {*x : }\n"),
    ("non-specific tag on a plain scalar", "weight: ! 3\n"),
    ("empty scalar with the non-specific tag", "weight: !\n"),
    ("byte-order mark inside a scalar", "sku: 8\ufeffN\n"),
    ("byte-order mark at a line start", "a: b\n\ufeffc: d\n"),
    ("a directive", "%YAML 1.1\n---\na: b\n"),
    # any tag but "!!name" goes to the pure parser, whatever libyaml makes of it
    ("verbatim tag", "a: !<tag:yaml.org,2002:str> b\n"),
    ("local tag", "a: !local b\n"),
    # libyaml refuses these; the pure parser accepts them
    ("escaped surrogate", 'a: "\\ud800"\n'),
    ("YAML version 1.3", "%YAML 1.3\n---\na: b\n"),
    ("tab in a block scalar's indentation", "a: |\n  \tx\n"),
    ("':' right before '}'", "{a:}\n"),
]


@pytest.mark.parametrize(("why", "text"), KNOWN_DIFFERENCES, ids=[row[0] for row in KNOWN_DIFFERENCES])
def test_where_libyaml_reads_differently_the_pure_parser_is_used(why, text):
    assert_same_as_pure(text)

    assert engine(text) == "pure"


# libyaml reads these with the pure tree once its marks or styles are adjusted, or as they are.
SAME_AFTER_ADJUSTING = [
    ("no final line break", "a: b\nc: [d, {e: f}]"),
    ("no final line break after an empty value", "a: b\nc:"),
    ("no final line break after a block scalar", "a: |\n  x"),
    ("no final line break after an alias", "a: &x [b]\nc: *x"),
    ("no final line break after a complex key", "? a"),
    ("sequence at its key's indentation", "a:\n- b\n- c\nd: &x\n- e\n"),
    ("CRLF line breaks", "a: b\r\nc:\r\n- d\r\n"),
    ("CR line breaks", "a: b\rc: 'd\r  e'\r"),
    ("NEL, LS and PS line breaks", "a: b\x85c: d\u2028e: f\u2029"),
    ("astral characters before a node", "a: 😀b\nc: [😀, {d: e}]\n"),
    ("tab inside quoted scalars", "a: \"x\ty\"\nb: 'x\n\ty'\n"),
    ("tab inside a block scalar", "a: |\n  x\ty\n  \t\nb: c\n"),
    ("tab in comments", "#\tc\na: b # c\td\ne: [f, # \t\n  g]\nh: |\n  i\n# \t\n"),
    ("empty value in a flow mapping", "title: {zh-CN: 扶贫日好物, en: }\n"),
    ("empty values in flow mappings and pairs", 'a: {b : , c: {d: }}\ne: [f: , g]\nh: {"i": # c\n  }\n'),
    ("plain plain-looking indicators", "a: -x\nb: ?x\nc: :x\nd: a:b\ne: [a:b]\n"),
    ("standard tags and anchors", "a: !!str 0123\nb: &c !!int 7\nd: *c\ne: !!null\n"),
    ("a tagged collection", "a: !!map {b: c}\nd: !!seq [e]\n"),
    ("double-quoted escapes", 'a: "\\x41\\u00e9\\U0001F600\\N\\_\\L\\P\\/\\t"\n'),
    ("simple key of 1024 characters", "k" * 1024 + ": v\n"),
]


@pytest.mark.parametrize(("why", "text"), SAME_AFTER_ADJUSTING, ids=[row[0] for row in SAME_AFTER_ADJUSTING])
def test_libyaml_reads_these_with_the_pure_tree(why, text):
    assert_same_as_pure(text)

    assert engine(text) == "libyaml"


@pytest.mark.parametrize(
    ("why", "data"),
    [
        ("over the depth bound", "x: " + "[" * 200 + "]" * 200 + "\n"),
        (
            "alias expansion",
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)),
        ),
        ("alias loop", "a: &a [b, *a]\n"),
        ("undefined alias", "a: *b\n"),
        ("duplicate anchor", "a: &x b\nc: &x d\n"),
        ("second document", "a: b\n---\nc: d\n"),
        ("unclosed flow sequence", "a: [b, c\nd: e\n"),
        ("character YAML does not allow", "a: b\x07\n"),
        ("lone surrogate", "a: b\ud800\n"),
        ("bad indentation", "a:\n  b: c\n d: e\n"),
        ("empty", "# nothing\n"),
    ],
)
def test_errors_come_with_the_pure_parsers_message_and_position(why, data):
    _, issues = assert_same_as_pure(data)

    assert issues


def one_mebibyte_campaign(price: str) -> str:
    """poverty-day-2026 with ~3,900 products, just under the 1 MiB limit (as in ``make bench``)."""
    return products_campaign(price, 1_000_000)


def test_a_one_mebibyte_file_of_valid_products_is_read_by_libyaml_and_validates_clean():
    text = one_mebibyte_campaign("39.90")
    assert 999_000 < len(text.encode("utf-8")) <= 1_048_576

    campaign, diagnostics = load_campaign_text(text, "poverty-day-2026.yaml", expected_id="poverty-day-2026")

    assert diagnostics == []
    assert len(campaign.products) == text.count("- sku:") > 3_000
    assert campaign.products[-1].price_fen == 3990
    assert reference_reason(text) is None and engine(text) == "libyaml"


@pytest.mark.parametrize(
    ("tail", "line", "col", "message"),
    [
        ("  - sku: [a, b\n", 2, 1, "unclosed '[' (opened at line {1}, column 10); add the closing ']'"),
        ("\tprice: 1\n", 1, 1, "tabs are not allowed for indentation; use spaces"),
        ("  - sku: 'x\n", 2, 1, "unclosed quote (opened at line {1}, column 10); add the closing quote"),
        ("  - sku: a\n    name: {en: b\n", 3, 1, "unclosed '{{' (opened at line {2}, column 11); add the closing '}}'"),
    ],
)
def test_a_large_files_syntax_error_is_libyamls_own_and_located(tail, line, col, message):
    """From LIBYAML_ERRORS_FROM_CHARS on, the pure parser does not read the text again (it
    would take seconds, past the 2 s a file of docs/yaml.md): libyaml's error, put in the same words."""
    big = one_mebibyte_campaign("39.90")
    big = big[: big.index("  - sku:", LIBYAML_ERRORS_FROM_CHARS)]  # whole products, just past the threshold
    small = "id: x\nproducts:\n"
    for head in (big, small):
        before = head.count("\n")  # the tail's line n is line before + n of the file
        _, issues = compose_text(head + tail)
        expected = message.format(None, before + 1, before + 2)
        assert [(i.line, i.col, i.message) for i in issues] == [(before + line, col, expected)]
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        compose(big + tail, MAX_DEPTH)
    assert raised.value.problem_mark.buffer is None  # libyaml's mark: no copy of the text
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        compose(small + tail, MAX_DEPTH)
    assert raised.value.problem_mark.buffer is not None  # the pure parser's


@pytest.mark.parametrize(
    ("why", "tail"),
    [
        ("a tab as a separator (CRLF line ends)", "  - sku: a\r\n    image:\t/static/egg.svg\r\n"),
        ("an undefined alias", "  - <<: *nowhere\n"),
        ("a duplicate anchor", "  - &dup a\n  - &dup b\n"),
        ("a second document", "---\nx: 1\n"),
    ],
)
def test_a_large_file_that_libyaml_accepts_but_the_reference_refuses_gets_the_reference_error(why, tail):
    """Where the reference's error is certain, a large text gets it without the pure parser's
    seconds-long read (the same issue as the pure parser gives: compared here)."""
    big = one_mebibyte_campaign("39.90")
    text = big[: big.index("  - sku:", LIBYAML_ERRORS_FROM_CHARS)] + tail
    if "\r\n" in tail:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        compose(text, MAX_DEPTH)
    assert raised.value.problem_mark.buffer is None  # raised from libyaml's reading, not by the pure parser
    assert compose_text(text)[1] == compose_text(text, engine="pure")[1] != []


# ---------------------------------------------------------------- mutations

EXTRA_FRAGMENTS = [
    " \t",
    "\t#",
    "|\t",
    "|#c",
    "?x",
    "http://x/?q=1",
    ": ,",
    "{a: }",
    "[a: ]",
    "! ",
    "!",
    "!foo,",
    "&x\t",
    "%YAML 1.1\n---\n",
    "\u2029",
    "\r",
    "\x85",
    "\xa0",
    "😀",
    "\ufeff",
    "- ",
    "\n- ",
    "|\n  x",
    ">-\n  x\n",
    "'a\n b'",
    '"a\\\n b"',
    "*a",
    "&a ",
]
SEEDS = {**CAMPAIGNS, **CORPUS}


@st.composite
def mutated(draw) -> bytes:
    """A window of up to 30 lines of a campaign or corpus file, mutated as the CLI fuzz test does,
    sometimes without its final line break."""
    name = draw(st.sampled_from(sorted(SEEDS)))
    lines = SEEDS[name].split(b"\n")
    start = draw(st.sampled_from([0, draw(st.integers(0, max(0, len(lines) - 1)))]))
    window = b"\n".join(lines[start : start + draw(st.integers(1, 30))])
    ops = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["delete-line", "duplicate-line", "swap-lines", "insert", "insert", "replace-value", "indent", "truncate"]
                ),
                st.integers(0, 400),
                st.integers(0, 400),
                st.one_of(st.sampled_from(FRAGMENTS + EXTRA_FRAGMENTS), st.text(max_size=6)),
            ),
            max_size=4,
        )
    )
    data = mutate(window, ops)
    return data.rstrip(b"\n") if draw(st.booleans()) else data


@settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.one_of(mutated(), mutated(), st.text(max_size=80)))
def test_mutated_files_give_the_pure_tree_and_issues(data):
    assert_same_as_pure(data)
