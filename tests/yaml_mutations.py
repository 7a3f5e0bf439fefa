"""Mutations of YAML files for the fuzz tests: fragments that tend to break YAML or the
campaign rules, and line-level edits (shared by test_fuzz_validate_cli and test_yaml_fast_path)."""
from __future__ import annotations

# Fragments that tend to break YAML or the rules: syntax, YAML 1.1 scalars, aliases, times, money.
FRAGMENTS = [
    "\t", ": ", "- ", "{", "}", "[", "]", "&a ", "*a", "!!python/object:os.system ", "? ", "|\n", ">-\n", "#", "'", '"',
    "NO", "on", "0123", "10:00", "2026-10-17", "2026-10-17T25:00:00", "1e400", ".inf", "-0.001", "39.999", "0", "~", "null",
    "\x00", "\ufeff", "\u202e", "é", "中文", "\r", "\r\n", "\x85", "\u2028", "x" * 300, "<<: *a", "%YAML 1.1\n", "---\n", "...\n",
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
