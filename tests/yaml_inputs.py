"""YAML inputs for the fuzz tests and ``make bench``: fragments that tend to break YAML or
the campaign rules, line-level edits, and large campaign files near the 1 MiB limit."""

from __future__ import annotations

import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCT = textwrap.indent(
    textwrap.dedent("""\
    - sku: "SKU-{n:06d}"
      name: {{zh-CN: 商品 {n}, en: Product {n}}}
      price: "{price}"
      merchant: {{id: m-0001, name: {{zh-CN: 合作社, en: Co-op}}}}
      county: {{code: "511902", name: {{zh-CN: 巴州区, en: Bazhou District}}}}
      image: /static/placeholder.svg
    """),
    "  ",
)


def products_campaign(price: str, max_bytes: int = 1_000_000) -> str:
    """poverty-day-2026's head (pins left out) and generated products at ``price`` (YAML text),
    whole products only, at most ``max_bytes`` bytes of UTF-8 (about 250 bytes a product)."""
    head = (ROOT / "campaigns" / "poverty-day-2026.yaml").read_text(encoding="utf-8").partition("products:\n")[0]
    head = head.replace("  pinned: [EGG-0017, PRK-0301]\n", "").replace("pinned:", "# pinned:")
    parts, size, n = [head, "products:\n"], len(head.encode("utf-8")) + 10, 0
    while True:
        part = PRODUCT.format(n=n, price=price)
        if size + len(part.encode("utf-8")) > max_bytes:
            return "".join(parts)
        parts.append(part)
        size, n = size + len(part.encode("utf-8")), n + 1


# Fragments that tend to break YAML or the rules: syntax, YAML 1.1 scalars, aliases, times, money.
FRAGMENTS = [
    "\t",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "? ",
    "|\n",
    ">-\n",
    "#",
    "'",
    '"',
    "NO",
    "on",
    "0123",
    "10:00",
    "2026-10-17",
    "2026-10-17T25:00:00",
    "1e400",
    ".inf",
    "-0.001",
    "39.999",
    "0",
    "~",
    "null",
    "\x00",
    "\ufeff",
    "\u202e",
    "é",
    "中文",
    "\r",
    "\r\n",
    "\x85",
    "\u2028",
    "x" * 300,
    "<<: *a",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
]


def mutate(data: bytes, ops: list[tuple[str, int, int, str]]) -> bytes:
    """``data`` with ``ops`` applied in turn: (operation, line index, second index, text)."""
    lines = data.split(b"\n")
    for op, i, j, text in ops:
        if not lines:
            lines = [b""]
        i %= len(lines)
        j %= len(lines)
        raw = text.encode("utf-8", "surrogatepass")
        if op == "delete-line":
            del lines[i]
        elif op == "duplicate-line":
            lines.insert(j, lines[i])
        elif op == "swap-lines":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            line = lines[i]
            at = j % (len(line) + 1)
            lines[i] = line[:at] + raw + line[at:]
        elif op == "replace-value":
            key, sep, _ = lines[i].partition(b": ")
            lines[i] = key + b": " + raw if sep else lines[i] + raw
        elif op == "indent":
            lines[i] = b" " * (j % 5) + lines[i]
        elif op == "truncate":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: j % (len(lines[-1]) + 1)]
    return b"\n".join(lines)
