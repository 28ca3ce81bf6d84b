"""``presetctl validate`` over the whole real corpus: it completes, accounts for every file, exit 1.

Loaders for more formats are being added, so only invariants are asserted here, never counts
per format: every file the walk finds (computed independently with os.walk, honouring the
default excludes) is one testcase of the JUnit report and one status in the summary.
"""

from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from fnmatch import fnmatch
from pathlib import Path

import pytest
from conftest import run_subprocess

EXCLUDED_DIRS = {".git", ".hg", ".svn", "__pycache__"}  # presetctl.engine.discover.DEFAULT_EXCLUDES
EXCLUDED_FILES = ".presetctl-tmp-*"


def walk_entries(root: Path) -> tuple[set[str], int]:
    """(every non-folder entry as a path relative to root's parent, number of regular files)."""
    entries: set[str] = set()
    regular = 0
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d not in EXCLUDED_DIRS and not fnmatch(d, EXCLUDED_FILES)
                   and not os.path.islink(os.path.join(folder, d))]
        links = [d for d in os.listdir(folder) if os.path.islink(os.path.join(folder, d)) and d not in files]
        for name in [*files, *links]:
            if fnmatch(name, EXCLUDED_FILES):
                continue
            full = os.path.join(folder, name)
            entries.add(os.path.relpath(full, root.parent).replace(os.sep, "/"))
            regular += stat.S_ISREG(os.lstat(full).st_mode)
    return entries, regular


@pytest.mark.corpus
@pytest.mark.slow
def test_validate_accounts_for_every_corpus_file(corpus: Path, tmp_path: Path) -> None:
    expected, regular = walk_entries(corpus)
    assert regular > 1000  # the corpus is all there
    junit = tmp_path / "junit.xml"
    proc = run_subprocess(["validate", corpus.name, "-o", "json", "--report", f"junit:{junit}"], cwd=corpus.parent,
                          timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "internal error" not in proc.stderr
    doc = json.loads(proc.stdout)
    summary = doc["summary"]
    assert summary["files"] == len(expected) == regular  # no links or special files in the corpus
    assert sum(summary["by_status"].values()) == regular
    assert sum(summary["by_format"].values()) == regular
    assert summary["findings"] == len(doc["findings"]) == summary["error"] + summary["warning"] + summary["info"]
    assert summary["error"] > 0
    # Every file has its own testcase: nothing is lost, nothing counted twice.
    names = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase")]
    files = [n for n in names if n in expected]
    assert sorted(files) == sorted(expected)
    # No finding is an engine failure, and every finding names a file that exists.
    assert [f["path"] for f in doc["findings"] if f["code"] == "E001"] == []
    assert {f["path"] for f in doc["findings"]} <= expected
