"""`campaign validate` (the CLI entry, campaign_tools.cli.main) fed random and mutated YAML files.

Whatever the bytes, the command never raises, never prints a traceback, and
reports every problem as ``PATH:LINE:COL: error: MESSAGE`` (1-based, inside the
file) on stderr with exit status 1; a file that survives its mutations intact
is exit 0. (The 2 s-per-file budget is measured by ``make bench``, not here.)
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from tests.conftest import ROOT
from tests.yaml_inputs import FRAGMENTS, mutate

SEEDS = {p.name: p.read_bytes() for p in sorted((ROOT / "campaigns").glob("*.yaml"))}
SUMMARY = re.compile(r"^campaign validate: error: (\d+) error\(s\), (\d+) warning\(s\); nothing was done$")

OPS = st.tuples(
    st.sampled_from(["delete-line", "duplicate-line", "swap-lines", "insert", "replace-value", "indent", "truncate"]),
    st.integers(0, 400),
    st.integers(0, 400),
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)),
)
MUTATED = st.tuples(st.sampled_from(sorted(SEEDS)), st.lists(OPS, min_size=1, max_size=6)).map(
    lambda t: (t[0], mutate(SEEDS[t[0]], t[1]))
)
RANDOM = st.tuples(st.just("random.yaml"), st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))


def run_validate(paths: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["validate", *paths])
    return status, out.getvalue(), err.getvalue()


def check_report(status: int, out: str, err: str, files: dict[str, bytes]) -> None:
    assert "Traceback" not in err + out
    lines = err.splitlines()
    errors = 0
    if status == 0:
        assert re.fullmatch(r"\d+ campaign\(s\) valid, \d+ warning\(s\)\n", out), out
    else:
        assert status == 1, (status, err)
        assert lines and SUMMARY.match(lines[-1]), err
        lines = lines[:-1]
    for line in lines:
        path, sep, rest = line.partition(".yaml:")
        assert sep, f"not PATH:LINE:COL: {line!r}"
        path += ".yaml"
        assert path in files, line
        match = re.match(r"^(\d+):(\d+): (error|warning): (.+)$", rest)
        assert match, f"not PATH:LINE:COL: severity: message: {line!r}"
        row, col = int(match.group(1)), int(match.group(2))
        text = files[path]
        assert 1 <= row <= max(1, len(re.split(rb"\r\n|\r|\n", text)) + 1), line
        assert col >= 1, line
        errors += match.group(3) == "error"
    if status == 1:
        assert errors == int(SUMMARY.match(err.splitlines()[-1]).group(1)) >= 1
    else:
        assert errors == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(MUTATED, MUTATED, MUTATED, RANDOM))
def test_validate_reports_any_file_with_locations_and_never_a_traceback(named):
    name, data = named
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        status, out, err = run_validate([str(path)])
        event(f"exit status {status}")
        check_report(status, out, err, {str(path): data})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATED, min_size=2, max_size=3))
def test_validate_reports_a_folder_of_mutated_files_with_locations(files):
    with tempfile.TemporaryDirectory() as tmp:
        written: dict[str, bytes] = {}
        for i, (name, data) in enumerate(files):
            path = Path(tmp) / (name if i == 0 else f"copy{i}-{name}")
            path.write_bytes(data)
            written[str(path)] = data
        status, out, err = run_validate([tmp])
        check_report(status, out, err, written)
        if any(p.name.startswith("copy") for p in map(Path, written)):
            assert status == 1  # a copy's id never equals its file name


def test_the_seeds_themselves_are_valid():
    status, out, err = run_validate([str(ROOT / "campaigns")])
    assert (status, err) == (0, "") and out.startswith(f"{len(SEEDS)} campaign(s) valid")
