"""Fault injection at every step of a fix's write: every file stays old or new, always.

Each test makes one system call of the write sequence fail (the backup, the journal, the
temporary file, its fsync, the rename into place, the hard link of a rename) at each of its
calls in turn, on a small pack where every file needs a fix and one also a rename. After the
failure: every file is whole (its original or its fixed bytes, under its old or new name), no
temporary file is left, the journal says what happened, and ``--undo`` (or ``--resume`` for a
run the failure stopped) brings the pack back to exactly its original bytes.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from presetctl.engine.errors import StateError
from presetctl.engine.fix.model import FileFixStatus
from presetctl.engine.fix.run import FixSettings, fix
from presetctl.engine.fix.undo import resumable, undo
from presetctl.engine.options import Options
from presetctl.fsutil import TMP_PREFIX

BOM = b"\xef\xbb\xbf"
BODY = b'{"format_version": "1.0", "metadata": {"name": "%s"}, "parameters": []}'
# F009: the byte order mark goes (a safe fix of the bytes); N002: a file name that is not portable.
OPTIONS = Options(select=("F009", "N002"), jobs=1)


def original_pack(folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    files = {"A.json": BOM + BODY % b"A", "B.json": BOM + BODY % b"B", "C?.json": BODY % b"C?"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


# What each file becomes when its fix succeeds: (name, bytes).
FIXED = {"A.json": ("A.json", BODY % b"A"), "B.json": ("B.json", BODY % b"B"), "C?.json": ("C_.json", BODY % b"C?")}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def assert_whole(folder: Path, original: dict[str, bytes]) -> None:
    """Every file is its original or its fixed version (under the right name); nothing else is there."""
    now = snapshot(folder)
    assert not [n for n in now if n.startswith(TMP_PREFIX)], f"temporary file left: {sorted(now)}"
    expected_names: set[str] = set()
    for name, before in original.items():
        new_name, after = FIXED[name]
        at_old, at_new = now.get(name), now.get(new_name) if new_name != name else None
        if at_new is not None:
            assert at_new == after
        else:
            assert at_old in (before, after), f"{name} is neither original nor fixed: {at_old!r}"
        expected_names |= {name, new_name}
    assert set(now) <= expected_names


@contextmanager
def failing(target: Any, attribute: str, nth: int, error: OSError,
            when: Callable[..., bool] = lambda *a, **k: True) -> Iterator[list[int]]:
    """Make the ``nth`` call (1-based) of ``target.attribute`` that ``when`` accepts raise ``error``."""
    real = getattr(target, attribute)
    seen = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            seen[0] += 1
            if seen[0] == nth:
                raise error
        return real(*args, **kwargs)

    setattr(target, attribute, wrapper)
    try:
        yield seen
    finally:
        setattr(target, attribute, real)


def run_fix(pack: Path, state: Path) -> Any:
    return fix([str(pack)], OPTIONS, OPTIONS, FixSettings(state_dir=str(state), unsafe=True), cwd=str(pack.parent))


def recover(pack: Path, state: Path, original: dict[str, bytes]) -> None:
    """Whatever the failure left, the journal leads back: resume an interrupted run, then undo it."""
    try:
        info = resumable(str(state))
    except StateError:
        info = None
    if info is not None:
        fix([str(pack)], OPTIONS, OPTIONS, FixSettings(state_dir=str(state), unsafe=True), cwd=str(pack.parent),
            resume=info)
        assert snapshot(pack) == {new: data for new, data in FIXED.values()}
    while (result := undo(None, state=str(state))).run_id is not None:  # every recorded run, newest first
        assert result.ok, result.refused
    assert snapshot(pack) == original


ENOSPC = OSError(errno.ENOSPC, "No space left on device")
EIO = OSError(errno.EIO, "Input/output error")


def _not_a_folder(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


# (what fails, the call that fails it): each step of the write sequence in fsutil.atomic_write,
# the backup store, the journal and the rename.
STEPS: list[tuple[str, str, OSError, Callable[..., bool]]] = [
    ("tempfile", "mkstemp", ENOSPC, lambda *a, **k: True),  # the temporary file (backup packs, files)
    ("os", "fsync", EIO, lambda fd: _not_a_folder(fd)),  # data fsync (temporary files, the journal)
    ("os", "replace", EIO, lambda *a, **k: True),  # the atomic rename into place
    ("os", "chmod", EIO, lambda *a, **k: True),  # the mode of the new file
    ("os", "link", OSError(errno.EMLINK, "Too many links"), lambda *a, **k: True),  # a rename's hard link
    ("os", "write", ENOSPC, lambda fd, data: b'"t"' in data),  # a journal record
]


@pytest.mark.parametrize(("module", "name", "error", "when"), STEPS, ids=[f"{m}.{n}" for m, n, _, _ in STEPS])
def test_a_failing_step_leaves_every_file_old_or_new(tmp_path: Path, module: str, name: str, error: OSError,
                                                     when: Callable[..., bool]) -> None:
    """The step fails at its first call, then (on a fresh pack) at its second, and so on, until
    a run no longer reaches that many calls: every call of the step is a failure point once."""
    import tempfile

    target = {"os": os, "tempfile": tempfile}[module]
    failures = 0
    for nth in itertools.count(1):
        pack, state = tmp_path / f"pack{nth}", tmp_path / f"state{nth}"
        original = original_pack(pack)
        with failing(target, name, nth, error, when) as seen:
            try:
                result = run_fix(pack, state)
            except StateError:  # the journal could not be written: the run stops, nothing half-done
                result = None
        if seen[0] < nth:
            break  # this run never reached the nth call: every call was a failure point already
        failures += 1
        assert_whole(pack, original)
        for f in result.files if result is not None else ():  # fixed means fixed, failed means untouched
            new_name, after = FIXED[Path(f.path).name]
            if f.status is FileFixStatus.FIXED:
                assert (pack / new_name).read_bytes() == after
            elif f.status is FileFixStatus.FAILED:
                assert (pack / Path(f.path).name).read_bytes() == original[Path(f.path).name]
        recover(pack, state, original)
    assert failures >= 1


def test_a_write_that_fails_half_way_never_touches_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The new bytes go to a temporary file first: a write cut short (full disk) cannot have
    truncated or half-overwritten the file itself (an in-place write would have)."""
    pack, state = tmp_path / "pack", tmp_path / "state"
    original = original_pack(pack)
    inode = (pack / "A.json").stat().st_ino
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def write(self, data: bytes) -> int:
            self.fh.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, item: str) -> Any:
            return getattr(self.fh, item)

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        fh = real_fdopen(fd, *args, **kwargs)
        return HalfWriter(fh) if "presetctl-tmp" in os.readlink(f"/proc/self/fd/{fd}") and b"packs" not in \
            os.readlink(f"/proc/self/fd/{fd}").encode() else fh

    monkeypatch.setattr(os, "fdopen", fdopen)
    result = run_fix(pack, state)
    monkeypatch.undo()
    assert {Path(f.path).name: f.status for f in result.files} == {
        "A.json": FileFixStatus.FAILED, "B.json": FileFixStatus.FAILED, "C?.json": FileFixStatus.FIXED}  # C: a rename
    assert {n: d for n, d in snapshot(pack).items() if n != "C_.json"} == {
        n: d for n, d in original.items() if n != "C?.json"}
    assert (pack / "A.json").stat().st_ino == inode
    fixed = run_fix(pack, state)  # and the next run works
    assert {f.status for f in fixed.files} == {FileFixStatus.FIXED, FileFixStatus.UNCHANGED}
    assert (pack / "A.json").stat().st_ino != inode  # a new file took its place: replaced, not rewritten
    recover(pack, state, original)


def test_fix_and_undo_keep_permission_bits(tmp_path: Path) -> None:
    pack, state = tmp_path / "pack", tmp_path / "state"
    original = original_pack(pack)
    os.chmod(pack / "A.json", 0o640)
    os.chmod(pack / "C?.json", 0o604)
    run_fix(pack, state)
    assert stat.S_IMODE((pack / "A.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((pack / "C_.json").stat().st_mode) == 0o604
    assert undo(None, state=str(state)).ok
    assert snapshot(pack) == original
    assert stat.S_IMODE((pack / "A.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((pack / "C?.json").stat().st_mode) == 0o604


def test_a_link_swapped_in_after_planning_is_never_written_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from presetctl.engine.fix import run as fix_run

    pack, state = tmp_path / "pack", tmp_path / "state"
    original = original_pack(pack)
    outside = tmp_path / "outside.json"
    outside.write_bytes(BOM + b"{}")
    real = fix_run._Writer.write_batch

    def swap_then_write(self: Any, items: Any) -> Any:
        (pack / "A.json").unlink()
        (pack / "A.json").symlink_to(outside)  # an attacker (or a sync tool) swaps the file for a link
        return real(self, items)

    monkeypatch.setattr(fix_run._Writer, "write_batch", swap_then_write)
    result = run_fix(pack, state)
    a = next(f for f in result.files if Path(f.path).name == "A.json")
    assert (a.status, a.error) == (FileFixStatus.FAILED, "no longer a regular file; not changed")
    assert outside.read_bytes() == BOM + b"{}" and (pack / "A.json").is_symlink()
    assert (pack / "B.json").read_bytes() == FIXED["B.json"][1]  # the batch went on
    assert original  # the other files are undone as usual
    assert undo(None, state=str(state)).ok


def test_a_damaged_backup_is_refused_never_restored(tmp_path: Path) -> None:
    pack, state = tmp_path / "pack", tmp_path / "state"
    original_pack(pack)
    run_fix(pack, state)
    (packfile,) = (state / "backups" / "packs").iterdir()
    data = bytearray(packfile.read_bytes())
    data[5] ^= 0xFF
    packfile.write_bytes(bytes(data))
    with pytest.raises(StateError, match=r"is damaged \(hash mismatch\)"):
        undo(None, state=str(state))
    # A's original was first in the pack: its bytes are damaged, so A keeps its fixed bytes, never wrong ones.
    assert (pack / "A.json").read_bytes() == FIXED["A.json"][1]


def test_a_failing_backup_changes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from presetctl.state.backups import BackupStore

    pack, state = tmp_path / "pack", tmp_path / "state"
    original = original_pack(pack)

    def full(self: Any, blobs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BackupStore, "put_pack", full)
    result = run_fix(pack, state)
    assert {(f.status, f.error) for f in result.files} == {
        (FileFixStatus.FAILED, "backup failed (No space left on device); file not changed")}
    assert snapshot(pack) == original
