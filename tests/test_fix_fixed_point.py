"""`fix --unsafe-fixes` reaches its fixed point in one run on every corpus folder, and never adds
a finding.

For each subfolder of the corpus, on a copy: the findings of `validate`, then `fix
--unsafe-fixes`, the findings again, and `fix --unsafe-fixes` once more. The second fix changes
no byte and renames nothing; the findings after the first fix are a subset of those before,
compared by code, path and location (a file the fix renamed is compared under its old path).
Once with the default rule set, once with every opt-in profile (`profile = ["all"]` in a
config file): the naming and metadata fixes, the duplicate rules and the rendered-audio checks
then all take part. Everything goes through the CLI, as a user would run it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import corpus_root

ROOT = corpus_root()
FOLDERS = sorted(p.name for p in ROOT.iterdir() if p.is_dir()) if ROOT.is_dir() else ["(no corpus)"]
Key = tuple[str, str, str]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _findings(cli, target: Path, config: list[str]) -> set[Key]:  # type: ignore[no-untyped-def]
    r = cli(["validate", "-o", "json-lines", "--exit-zero", *config, str(target)])
    assert r.exit_code == 0, r.output
    out = set()
    for line in r.stdout.splitlines():
        f = json.loads(line)
        if "code" in f:
            out.add((f["code"], f["path"], f["location"]))
    return out


RENAMED = re.compile(r"^(.+) -> (.+): \d+ fix(?:es)?$")


def _fix(cli, target: Path, config: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Run the fix; returns the renames it made (new path -> old path, as shown)."""
    r = cli(["fix", "--unsafe-fixes", "--show-fixes", "--no-fsync", *config, str(target)])
    assert r.exit_code == 0, r.output
    return {m.group(2): m.group(1) for m in map(RENAMED.match, r.stdout.splitlines()) if m}


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("profile", ["default", "all"])
@pytest.mark.parametrize("folder", FOLDERS)
def test_fix_twice_changes_nothing_the_second_time_and_adds_no_finding(cli, corpus: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                        folder: str, profile: str) -> None:
    copy = tmp_path / folder
    shutil.copytree(corpus / folder, copy, symlinks=True, copy_function=shutil.copyfile)  # the corpus is read-only
    for d in [copy, *(p for p in copy.rglob("*") if p.is_dir() and not p.is_symlink())]:
        d.chmod(0o755)
    config: list[str] = []
    if profile == "all":
        (tmp_path / "presetctl.toml").write_text('profile = ["all"]\n')
        config = ["--config", str(tmp_path / "presetctl.toml")]

    before = _findings(cli, copy, config)
    renamed = _fix(cli, copy, config)
    once = _tree(copy)
    after = {(code, renamed.get(path, path), where) for code, path, where in _findings(cli, copy, config)}
    assert sorted(after - before) == []

    assert _fix(cli, copy, config) == {}
    assert _tree(copy) == once
