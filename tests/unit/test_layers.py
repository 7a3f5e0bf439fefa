"""The import graph of the runtime, built from the source (docs/architecture.md, "The map").

- ``chalicelib`` never imports ``campaign_tools`` (the tools import the runtime, never the reverse);
- no two runtime modules import each other, directly or through others;
- importing ``app`` (what Lambda does) loads no YAML reader, no moto, no tool module.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chalicelib", "campaign_tools")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The project modules ``path`` imports (at any depth of the file, function-local ones too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    """``module -> the project modules it imports`` for every module of both packages and app.py."""
    files = [ROOT / "app.py"] + [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    modules = {_module_name(p): p for p in files}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        # "from chalicelib.web import http" names a module; "from chalicelib.web.http import x" names one too.
        edges[name] = {m for m in _imports(path) if m in modules and m != name}
        edges[name] -= {m for m in edges[name] if path.name != "__init__.py" and name.startswith(m + ".")}
    return edges


def test_the_runtime_never_imports_the_tools():
    offenders = {
        m: sorted(t for t in targets if t.startswith("campaign_tools"))
        for m, targets in graph().items()
        if m.startswith("chalicelib") or m == "app"
    }
    assert {m: t for m, t in offenders.items() if t} == {}


def test_the_runtime_has_no_import_cycle():
    edges = {
        m: {t for t in ts if t.startswith("chalicelib") and not t.endswith("__init__")}
        for m, ts in graph().items()
        if m.startswith("chalicelib")
    }
    packages = {m for m in edges if (ROOT / m.replace(".", "/") / "__init__.py").exists()}
    edges = {m: ts - packages for m, ts in edges.items() if m not in packages}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_importing_app_loads_no_yaml_reader_moto_or_tool():
    code = "import json, sys, app; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert {m for m in loaded if m.split(".")[0] in ("yaml", "_yaml", "moto", "campaign_tools", "boto3")} == set()
    assert "chalicelib.domain.window" in loaded and "chalicelib.web.templates" in loaded


# The packages of chalicelib from the top down, as docs/architecture.md draws them: each may
# import only those after it (the root modules are the ground floor).
LAYERS = ["wiring", "webhooks", "web", "releases", "books", "homepage", "store", "domain"]
GROUND = {"settings", "clock", "errors", "observability", "metrics", "staleness", "deadline"}


def test_each_package_imports_only_the_layers_below_it():
    def layer(module: str) -> int:
        part = module.split(".")[1]
        return len(LAYERS) if part in GROUND else LAYERS.index(part)

    upward = sorted(
        f"{source} -> {target}"
        for source, targets in graph().items()
        if source.startswith("chalicelib.") and source != "chalicelib.__init__"
        for target in targets
        if target.startswith("chalicelib.")
        and target.split(".")[1] != source.split(".")[1]
        and (layer(target) <= layer(source) and not (layer(source) == len(LAYERS) and layer(target) == len(LAYERS)))
    )
    ground_reaching_up = sorted(
        f"{s} -> {t}"
        for s, ts in graph().items()
        if s.startswith("chalicelib.") and s.split(".")[1] in GROUND
        for t in ts
        if t.startswith("chalicelib.") and t.split(".")[1] not in GROUND
    )
    assert (upward, ground_reaching_up) == ([], [])
