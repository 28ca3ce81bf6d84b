"""Output that streams and survives pipes: first lines at once, whole lines, paths as given.

The ``| head -1`` test runs a real shell pipeline on a 20,000-file pack. Its bound is the CPU
time presetctl and its workers spent (2 s, against about 20 s for the whole pack), not wall
time, so a busy machine cannot make it flaky; a generous wall-clock guard only catches hangs.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_subprocess
from signal_helpers import broken_pack

BIG = 20_000


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.slow
def test_head_of_a_huge_run_returns_at_once(tmp_path: Path) -> None:
    broken_pack(tmp_path / "pack", BIG, params=12)
    cmd = f"{sys.executable} -m presetctl validate pack -o concise; echo \"exit=$?\" >&2"
    before, t0 = _children_cpu(), time.monotonic()
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; ({cmd}) | head -1"], cwd=tmp_path, capture_output=True,
                          timeout=120, check=False)
    wall, cpu = time.monotonic() - t0, _children_cpu() - before
    assert proc.stdout.count(b"\n") == 1 and b": V002 [error] " in proc.stdout
    assert proc.stderr == b"exit=141\n"  # presetctl saw the reader go, said nothing, and stopped (128 + SIGPIPE)
    assert cpu < 2.0, f"{cpu:.2f} s of CPU for one line (wall {wall:.2f} s)"
    assert wall < 60  # hang guard only


def test_piped_text_is_never_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / "pack" / ("Effects " * 8).strip() / ("Very Long Folder Name " * 4).strip()
    deep.mkdir(parents=True)
    (deep / "EFFECT-2 with a long name that goes on.json").write_text("{")
    for fmt in ("full", "concise"):
        out = run_subprocess(["validate", "pack", "-o", fmt], cwd=tmp_path, env={"COLUMNS": "40"}).stdout
        shown = f"pack/{deep.relative_to(tmp_path / 'pack')}/EFFECT-2 with a long name that goes on.json"
        line = next(line for line in out.splitlines() if "EFFECT-2" in line)
        assert line.startswith(shown if fmt == "full" else shown + ":1:2: P001 [error] invalid JSON"), line
        assert len(line) > 100


def test_absolute_paths_stay_absolute_and_relative_stay_relative(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "Bad.json").write_text("{")
    absolute = run_subprocess(["validate", str(tmp_path / "pack"), "-o", "concise", "-q"], cwd=tmp_path / "pack")
    assert absolute.stdout == f"{tmp_path}/pack/Bad.json:1:2: P001 [error] invalid JSON: unexpected end of data\n"
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    relative = run_subprocess(["validate", "../pack", "-o", "concise", "-q"], cwd=sub)
    assert relative.stdout == "../pack/Bad.json:1:2: P001 [error] invalid JSON: unexpected end of data\n"
    dotted = run_subprocess(["validate", "./pack/", "-o", "json"], cwd=tmp_path)
    assert [f["path"] for f in json.loads(dotted.stdout)["findings"]] == ["pack/Bad.json"]


def test_statistics_counts_findings_per_rule(tmp_path: Path) -> None:
    pack = broken_pack(tmp_path / "pack", 30, params=12)
    (pack / "Broken.json").write_text("{")
    result = run_subprocess(["validate", "pack", "--statistics"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "30\tV002\t[*] parameter-out-of-declared-range\n 1\tP001\tinvalid-json\n"
    as_json = run_subprocess(["validate", "pack", "--statistics", "-o", "json"], cwd=tmp_path)
    assert json.loads(as_json.stdout) == [
        {"code": "V002", "name": "parameter-out-of-declared-range", "count": 30, "fixable": True},
        {"code": "P001", "name": "invalid-json", "count": 1, "fixable": False}]


def test_report_into_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{")
    result = run_subprocess(["validate", ".", "--report", "json:missing/dir/x.json"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("presetctl: error: --report json:missing/dir/x.json: the folder 'missing/dir' "
                             "does not exist\n")


def test_report_files_are_written_whole_and_nothing_is_left_on_failure(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{")
    ok = run_subprocess(["validate", "a.json", "--report", "json:out.json", "--report", "junit:out.xml"], cwd=tmp_path)
    assert ok.returncode == 1
    assert json.loads((tmp_path / "out.json").read_text())["summary"]["findings"] == 1
    assert sorted(os.listdir(tmp_path)) == ["a.json", "out.json", "out.xml"]


@pytest.mark.parametrize("fmt", ["full", "concise", "json"])
def test_an_empty_folder_says_no_presets_found(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "empty").mkdir()
    result = run_subprocess(["validate", "empty", "-o", fmt], cwd=tmp_path)
    assert result.returncode == 0
    if fmt == "json":
        assert json.loads(result.stdout)["summary"]["files"] == 0
        assert result.stderr == "presetctl: no presets found\n"
    else:
        assert result.stdout == "No presets found.\n" and result.stderr == ""
