"""The editor's JSON Schema and `campaign validate` never disagree on a valid file.

Every single-change file of ``tests/schema_corpus.py`` (made from the real campaigns) goes
through `campaign validate` and through ``check-jsonschema`` with ``campaigns/schema.json``
(both read the YAML as the editor does: YAML 1.2). The schema accepts every file the
validator accepts, and refuses every file it refuses except those of
``SCHEMA_CANNOT_REFUSE``, the rules docs/yaml.md lists as beyond a JSON Schema.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from campaign_tools.authoring.campaign_yaml import validate_paths
from tests.schema_corpus import MUTATIONS, ROOT, SCHEMA_CANNOT_REFUSE

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, tuple[bool, bool]]:
    """``name -> (validate accepts, the schema accepts)`` for every file of the corpus."""
    folder = tmp_path_factory.mktemp("corpus")
    files: dict[str, Path] = {}
    for i, (name, base, old, new) in enumerate(MUTATIONS):
        text = (ROOT / "campaigns" / base).read_text(encoding="utf-8")
        if old is not None:
            assert old in text, (name, old)
            text = text.replace(old, new, 1)
        (folder / f"{i:03d}").mkdir()
        files[name] = folder / f"{i:03d}" / base  # the file name is the campaign id
        files[name].write_text(text, encoding="utf-8")
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(ROOT / "campaigns" / "schema.json"), "-o", "json", *map(str, files.values())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(done.stdout)
    refused = {e["filename"] for e in report.get("errors", []) + report.get("parse_errors", [])}
    return {name: (validate_paths([path]).ok, str(path) not in refused) for name, path in files.items()}


def test_the_corpus_is_large_and_holds_both_kinds():
    names = [m[0] for m in MUTATIONS]
    assert len(names) == len(set(names)) >= 60


def test_the_schema_accepts_every_file_validate_accepts(verdicts):
    accepted = [name for name, (valid, _) in verdicts.items() if valid]
    assert len(accepted) >= 25
    assert [name for name in accepted if not verdicts[name][1]] == []


def test_the_schema_refuses_what_validate_refuses_but_the_rules_it_cannot_express(verdicts):
    refused = [name for name, (valid, _) in verdicts.items() if not valid]
    assert len(refused) >= 35
    let_through = {name for name in refused if verdicts[name][1]}
    assert let_through == set(SCHEMA_CANNOT_REFUSE)


def test_docs_list_every_rule_the_schema_cannot_express():
    docs = (ROOT / "docs" / "yaml.md").read_text(encoding="utf-8")
    section = docs[docs.index("## What the editor's schema cannot check") :]
    for name in SCHEMA_CANNOT_REFUSE:
        assert f"`{name}`" in section, name
