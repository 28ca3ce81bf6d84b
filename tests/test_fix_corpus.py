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


def _dx7_bank(data: bytes) -> bool:
    """A single DX7 32-voice bulk dump (F0 43 0n 09, byte count, 4096 bytes, checksum, F7), read here
    from the bytes with no help from presetctl."""
    return len(data) == 4104 and data[:2] == b"\xf0\x43" and data[2] < 0x10 and data[3] == 9 and data[-1] == 0xF7


def _dexed_accepts(data: bytes) -> bool:
    """What Dexed checks: the 4096-byte count (20 00), 7-bit data and checksum, data + checksum = 0 mod 128."""
    body = data[6:4103]
    return data[4:6] == b"\x20\x00" and max(body) < 0x80 and sum(body) & 0x7F == 0


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
    # The DX7 banks Dexed refuses, found from their bytes here: every one is fixed, and Dexed accepts it now.
    refused = {rel for rel, data in original.items() if _dx7_bank(data) and not _dexed_accepts(data)}
    assert len(refused) == 20, sorted(refused)  # the corpus has 10 00 byte counts, bit-7 checksums, 8-bit data
    assert refused <= {str(Path(f.path).relative_to("corpus")) for f in fixed}
    assert all(_dexed_accepts(now[rel]) for rel in refused), [rel for rel in refused if not _dexed_accepts(now[rel])]
    assert result.run_id is not None
    restored = undo(result.run_id, state=state, fsync=False)
    assert restored.ok and len(restored.restored) == len(fixed)
    assert _tree(copy) == original
