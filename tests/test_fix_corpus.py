"""Undo after fix is byte-identical on every real corpus file that has a fix.

The corpus is copied to tmp_path first (it is never written). Every file of the copy is
compared with the original corpus file itself, so the check does not depend on presetctl
reading anything right.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from presetctl.engine.fix.model import FileFixStatus
from presetctl.engine.fix.run import FixSettings, fix
from presetctl.engine.fix.undo import undo
from presetctl.engine.options import Options, PackConfig


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.corpus
@pytest.mark.slow
def test_fix_then_undo_restores_every_corpus_file(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy, symlinks=True, copy_function=shutil.copyfile)  # the corpus is read-only
    for d in [copy, *(p for p in copy.rglob("*") if p.is_dir() and not p.is_symlink())]:
        d.chmod(0o755)
    original = _tree(corpus)
    options = Options(pack=PackConfig(author="Corpus Author", license="CC-BY-4.0"), jobs=1)
    state = str(tmp_path / "state")
    result = fix(["corpus"], options, options, FixSettings(unsafe=True, fsync=False, state_dir=state), cwd=str(tmp_path))
    assert not result.failed, [(f.path, f.error) for f in result.failed]
    fixed = [f for f in result.files if f.status is FileFixStatus.FIXED]
    now = _tree(copy)
    for f in fixed:  # every file reported fixed really changed (content or name)
        rel = str(Path(f.path).relative_to("corpus"))
        assert f.new_path is not None or now[rel] != original[rel], f.path
    if result.run_id is not None:
        restored = undo(result.run_id, state=state, fsync=False)
        assert restored.ok and len(restored.restored) == len(fixed)
    assert _tree(copy) == original
