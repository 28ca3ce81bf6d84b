"""What presetctl writes to keep nothing lost, unit by unit: the atomic write (and its fsyncs), the
backup store, the fix journal, the state lock and the state folders.

Expectations are built here with the standard library (hashlib, json, os.stat); fsyncs are seen by
spying on ``os.fsync`` and asking what each descriptor is (a file, a folder).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from presetctl import fsutil
from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import StateError
from presetctl.fsutil import TMP_PREFIX, atomic_write, fsync_dir
from presetctl.state import journal as jn
from presetctl.state import paths as sp
from presetctl.state.backups import BackupStore, sha256
from presetctl.state.lock import StateLock


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fsync as "file" or "folder" (and the path of a folder), in order."""
    seen: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        seen.append(f"folder {os.readlink(f'/proc/self/fd/{fd}')}" if stat.S_ISDIR(mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- atomic_write -------------------------------------------------------------------------------------
def test_atomic_write_writes_fsyncs_the_file_then_its_folder(tmp_path: Path, fsyncs: list[str], umask: None) -> None:
    target = tmp_path / "Bass.json"
    atomic_write(target, b"new bytes")
    assert target.read_bytes() == b"new bytes" and os.listdir(tmp_path) == ["Bass.json"]
    assert fsyncs == ["file", f"folder {tmp_path}"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # a new file: 0666 less the umask


def test_atomic_write_without_fsync_syncs_nothing(tmp_path: Path, fsyncs: list[str]) -> None:
    atomic_write(tmp_path / "a", b"x", fsync=False)
    assert fsyncs == [] and (tmp_path / "a").read_bytes() == b"x"


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "a"
    target.write_bytes(b"old")
    for mode in (0o640, 0o750, 0o604):
        target.chmod(mode)
        atomic_write(target, b"new", fsync=False)
        assert stat.S_IMODE(target.stat().st_mode) == mode
    atomic_write(target, b"newer", fsync=False, mode=0o600)  # an explicit mode wins
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_bytes() == b"newer"


def test_a_new_file_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a", b"x", fsync=False)
        assert fsutil._umask() == 0o027  # reading the umask leaves it as it was
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o640


def test_atomic_write_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            fsyncs: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    atomic_write(Path("here"), b"x")
    assert (tmp_path / "here").read_bytes() == b"x" and fsyncs == ["file", f"folder {tmp_path}"]


@pytest.mark.parametrize("failing", ["replace", "chmod", "fsync"])
def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     failing: str) -> None:
    target = tmp_path / "a"
    target.write_bytes(b"old")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="Input/output error"):
        atomic_write(target, b"new")
    assert os.listdir(tmp_path) == ["a"] and target.read_bytes() == b"old"


def test_a_temporary_already_gone_does_not_hide_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace

    def replace_then_fail(src: str, dst: str) -> None:
        os.unlink(src)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", replace_then_fail)
    with pytest.raises(OSError, match="cross-device"):
        atomic_write(tmp_path / "a", b"x")
    monkeypatch.setattr(os, "replace", real_replace)
    assert os.listdir(tmp_path) == []


def test_temporaries_are_named_for_clean_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    real_replace = os.replace

    def record(src: str, dst: str) -> None:
        names.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", record)
    atomic_write(tmp_path / "a", b"x", fsync=False)
    assert TMP_PREFIX == ".presetctl-tmp-" and names[0].startswith(TMP_PREFIX) and os.path.dirname(names[0]) == ""


def test_fsync_dir_tolerates_folders_it_cannot_open_or_sync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsync_dir(tmp_path / "missing")  # nothing raised
    before = _fds()

    def refuse(fd: int) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "fsync", refuse)
    fsync_dir(tmp_path)
    assert _fds() == before  # the folder's descriptor is closed on failure too



def test_fsync_dir_opens_only_folders(tmp_path: Path, fsyncs: list[str]) -> None:
    """O_DIRECTORY: a file (or a FIFO, which would block the open) where a folder was is left alone."""
    (tmp_path / "not-a-folder").write_bytes(b"x")
    fsync_dir(tmp_path / "not-a-folder")
    assert fsyncs == []

# -- the backup store -----------------------------------------------------------------------------------
def test_put_stores_by_sha256_owner_only(tmp_path: Path, fsyncs: list[str]) -> None:
    root = tmp_path / "state" / "backups"  # parents missing: created
    digest = BackupStore(root).put(b"original")
    assert digest == hashlib.sha256(b"original").hexdigest() == sha256(b"original")
    blob = root / digest[:2] / digest
    assert blob.read_bytes() == b"original" and stat.S_IMODE(blob.stat().st_mode) == 0o600
    assert fsyncs == ["file", f"folder {blob.parent}"]


def test_put_stores_each_content_once_and_repairs_a_short_blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BackupStore(tmp_path, fsync=False)
    digest = store.put(b"same")
    blob = tmp_path / digest[:2] / digest
    blob.write_bytes(b"sa")  # damaged: wrong size
    assert store.put(b"same") == digest and blob.read_bytes() == b"same"
    writes: list[Path] = []
    monkeypatch.setattr("presetctl.state.backups.atomic_write", lambda path, *a, **k: writes.append(path))
    assert store.put(b"same") == digest and writes == []  # whole already: not written again
    assert store.put(b"other", digest="f" * 64) == "f" * 64 and writes == [tmp_path / "ff" / ("f" * 64)]


def test_put_without_fsync_syncs_nothing(tmp_path: Path, fsyncs: list[str]) -> None:
    BackupStore(tmp_path, fsync=False).put(b"x")
    BackupStore(tmp_path, fsync=False).put_pack({sha256(b"y"): b"y"})
    assert fsyncs == []


def test_put_pack_lays_the_originals_back_to_back(tmp_path: Path, fsyncs: list[str]) -> None:
    store = BackupStore(tmp_path / "b")
    a, b = sha256(b"first"), sha256(b"second!")
    where = store.put_pack({a: b"first", b: b"second!"})
    name = where[a][0]
    assert re.fullmatch(r"[0-9a-f]{16}\.pack", str(name))
    assert where == {a: [name, 0, 5], b: [name, 5, 7]}
    pack = tmp_path / "b" / "packs" / str(name)
    assert pack.read_bytes() == b"firstsecond!" and stat.S_IMODE(pack.stat().st_mode) == 0o600
    assert fsyncs == ["file", f"folder {pack.parent}"]
    assert store.get(b, where[b]) == b"second!" and store.get(a, where[a]) == b"first"
    assert store.put_pack({a: b"first"})[a][0] != name  # every batch its own pack


def test_get_reads_a_blob_when_the_place_is_not_a_pack_place(tmp_path: Path) -> None:
    store = BackupStore(tmp_path, fsync=False)
    digest = store.put(b"blob")
    assert store.get(digest) == store.get(digest, ["x.pack", 0]) == store.get(digest, []) == b"blob"


def test_get_refuses_a_missing_or_damaged_backup(tmp_path: Path) -> None:
    store = BackupStore(tmp_path, fsync=False)
    digest = sha256(b"gone")
    with pytest.raises(StateError) as missing:
        store.get(digest)
    assert str(missing.value) == f"backup {digest[:12]} is missing from {tmp_path}: No such file or directory"
    assert missing.value.code is ErrorCode.BACKUP_DAMAGED
    where = store.put_pack({digest: b"gone"})[digest]
    (tmp_path / "packs" / str(where[0])).write_bytes(b"GONE")
    with pytest.raises(StateError) as damaged:
        store.get(digest, where)
    assert str(damaged.value) == f"backup {digest[:12]} in {tmp_path} is damaged (hash mismatch)"
    assert damaged.value.code is ErrorCode.BACKUP_DAMAGED
    with pytest.raises(StateError) as bad_place:
        store.get(digest, [where[0], "x", 4])
    assert str(bad_place.value) == (f"backup {digest[:12]} is missing from {tmp_path}: "
                                    "invalid literal for int() with base 10: 'x'")
    assert bad_place.value.code is ErrorCode.BACKUP_DAMAGED


def test_a_pack_name_from_the_journal_never_leaves_the_packs_folder(tmp_path: Path) -> None:
    store = BackupStore(tmp_path / "backups", fsync=False)
    (tmp_path / "secret").write_bytes(b"secret")
    with pytest.raises(StateError, match="is missing from"):
        store.get(sha256(b"secret"), ["../../secret", 0, 6])


# -- the journal -------------------------------------------------------------------------------------------
def test_run_ids_and_times() -> None:
    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", jn.new_run_id())
    assert jn.new_run_id() != jn.new_run_id()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", jn.now_iso())


def test_a_journal_is_created_private_with_its_header_and_durable(tmp_path: Path, fsyncs: list[str]) -> None:
    with jn.Journal.create(tmp_path, "20250101T000000-abcdef", {"cwd": "/w", "paths": ["p"], "unsafe": True}) as j:
        path = tmp_path / "fix-runs" / "20250101T000000-abcdef.jsonl"
        assert j.path == path == jn.journal_path(tmp_path, "20250101T000000-abcdef")
        assert fsyncs == ["file", f"folder {path.parent}"]
        j.append({"t": "done", "path": "a"}, durable=False)
        assert fsyncs == ["file", f"folder {path.parent}"]  # not durable: no fsync
        j.append({"t": "fail", "path": "b", "error": "x"})
        j.sync()
        assert fsyncs[2:] == ["file", "file"]
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    header = json.loads(lines[0])
    assert (header["t"], header["id"], header["cwd"], header["paths"], header["unsafe"]) == (
        "run", "20250101T000000-abcdef", "/w", ["p"], True)
    assert re.fullmatch(r"\d{4}-.*\+00:00", header["started"])
    assert lines[1:3] == [b'{"t":"done","path":"a"}', b'{"t":"fail","path":"b","error":"x"}']
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_journal_without_fsync_syncs_nothing(tmp_path: Path, fsyncs: list[str]) -> None:
    with jn.Journal.create(tmp_path, "r1", {}, fsync=False) as j:
        j.append({"t": "done", "path": "a"})
        j.sync()
    assert fsyncs == []


def test_close_is_idempotent_and_releases_the_descriptor(tmp_path: Path) -> None:
    before = _fds()
    j = jn.Journal(tmp_path / "j.jsonl", fsync=False)
    assert _fds() == before + 1
    j.close()
    j.close()
    assert _fds() == before


def test_journal_errors_are_state_errors_with_the_errno_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StateError) as cannot_open:
        jn.Journal(tmp_path / "missing" / "j.jsonl")
    assert str(cannot_open.value) == f"cannot open the journal {tmp_path / 'missing' / 'j.jsonl'}: No such file or directory"
    assert cannot_open.value.code is ErrorCode.FILE_VANISHED
    j = jn.Journal(tmp_path / "j.jsonl")

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StateError) as on_write:
        j.append({"t": "done", "path": "a"})
    assert str(on_write.value) == f"cannot write the journal {tmp_path / 'j.jsonl'}: No space left on device"
    assert on_write.value.code is ErrorCode.DISK_FULL
    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StateError) as on_sync:
        j.sync()
    assert (str(on_sync.value), on_sync.value.code) == (str(on_write.value), ErrorCode.DISK_FULL)
    monkeypatch.undo()
    j.close()


def test_read_records_drops_torn_blank_and_foreign_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"t":"run","id":"r"}\n\n  \n[1,2]\n"text"\n{"t":"begin","path":"a"}\n{"t":"do')
    assert jn.read_records(path) == [{"t": "run", "id": "r"}, {"t": "begin", "path": "a"}]
    with pytest.raises(StateError) as unreadable:
        jn.read_records(tmp_path / "nope.jsonl")
    assert str(unreadable.value) == f"cannot read the journal {tmp_path / 'nope.jsonl'}: No such file or directory"
    assert unreadable.value.code is ErrorCode.BACKUP_DAMAGED


def _journal(root: Path, name: str, *records: dict[str, object]) -> None:
    folder = root / "fix-runs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_runs_are_listed_with_their_status_and_file_count(tmp_path: Path) -> None:
    assert jn.list_runs(tmp_path) == []
    begin = {"t": "begin", "path": "a"}
    _journal(tmp_path, "20250101T000000-aaaaaa", {"t": "run", "id": "20250101T000000-aaaaaa", "started": "s1"},
             begin, {**begin, "path": "b"}, {**begin, "path": "a"}, {"t": "done", "path": "a"}, {"t": "end"})
    _journal(tmp_path, "20250102T000000-bbbbbb", {"t": "run", "id": "20250102T000000-bbbbbb", "started": "s2"}, begin)
    _journal(tmp_path, "20250103T000000-cccccc", begin, {"t": "end"}, {"t": "undo"})  # no header line
    runs = jn.list_runs(tmp_path)
    assert [(r.run_id, r.started, r.status, r.files) for r in runs] == [
        ("20250101T000000-aaaaaa", "s1", "complete", 2),
        ("20250102T000000-bbbbbb", "s2", "interrupted", 1),
        ("20250103T000000-cccccc", "", "undone", 1),
    ]
    assert runs[0].header == {"t": "run", "id": "20250101T000000-aaaaaa", "started": "s1"}
    assert len(runs[0].records) == 6
    assert jn.load_run(tmp_path, None).run_id == "20250103T000000-cccccc"
    assert jn.load_run(tmp_path, "20250102").run_id == "20250102T000000-bbbbbb"
    assert jn.load_run(tmp_path, "20250101T000000-aaaaaa").run_id == "20250101T000000-aaaaaa"
    with pytest.raises(StateError, match=r"^more than one fix run matches '2025' \(see `presetctl fix --history`\)$"):
        jn.load_run(tmp_path, "2025")
    with pytest.raises(StateError, match=r"^no fix run matches '1999' \(see `presetctl fix --history`\)$"):
        jn.load_run(tmp_path, "1999")
    with pytest.raises(StateError, match=f"^no fix runs recorded in {re.escape(str(tmp_path / 'x'))}$"):
        jn.load_run(tmp_path / "x", None)


# -- the lock -------------------------------------------------------------------------------------------
def test_one_fix_run_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "fix.lock"
    lock = StateLock(path)
    assert lock.fileno() == -1
    with lock:
        assert lock.fileno() >= 0 and stat.S_IMODE(path.stat().st_mode) == 0o600
        before = _fds()
        with pytest.raises(StateError) as busy:
            with StateLock(path):
                pass
        assert str(busy.value) == f"another presetctl fix run holds {path}; wait for it to finish"
        assert busy.value.code is ErrorCode.FIX_LOCKED
        assert _fds() == before  # the refused attempt closed its descriptor
    assert lock.fileno() == -1
    with StateLock(path):  # released
        pass
    lock.__exit__(None, None, None)  # a second exit does nothing


def test_a_lock_that_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(StateError) as refused:
        with StateLock(tmp_path / "missing" / "fix.lock"):
            pass
    assert str(refused.value) == f"cannot open the lock file {tmp_path / 'missing' / 'fix.lock'}: No such file or directory"


# -- the state folders -------------------------------------------------------------------------------------
def test_ensure_dir_makes_a_private_folder_with_its_parents(tmp_path: Path, umask: None) -> None:
    target = tmp_path / "a" / "b" / "state"
    assert sp.ensure_dir(target) == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o755  # parents as the umask says
    assert sp.ensure_dir(target) == target  # already there


def test_ensure_dir_refuses_a_file_and_an_impossible_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StateError) as a_file:
        sp.ensure_dir(tmp_path / "file")
    assert (str(a_file.value), a_file.value.code, a_file.value.file) == (
        f"{tmp_path / 'file'} is not a folder", ErrorCode.STATE_DIR_UNUSABLE, str(tmp_path / "file"))
    with pytest.raises(StateError) as under_a_file:
        sp.ensure_dir(tmp_path / "file" / "state")  # its parent is the file
    assert (str(under_a_file.value), under_a_file.value.code, under_a_file.value.file) == (
        f"cannot create the folder {tmp_path / 'file' / 'state'}: File exists", ErrorCode.STATE_DIR_UNUSABLE,
        str(tmp_path / "file" / "state"))


def test_ensure_dir_when_another_process_creates_it_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state"
    real_mkdir = Path.mkdir

    def racing(self: Path, mode: int = 0o777, parents: bool = False, exist_ok: bool = False) -> None:
        if self == target:
            real_mkdir(self, mode=0o700)  # the other process wins
            raise FileExistsError(errno.EEXIST, "File exists")
        real_mkdir(self, mode=mode, parents=parents, exist_ok=exist_ok)

    monkeypatch.setattr(Path, "mkdir", racing)
    assert sp.ensure_dir(target) == target


def test_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = sp.Locations.resolve(tmp_path / "s")
    assert chosen == sp.Locations(tmp_path / "s", tmp_path / "s" / "logs", tmp_path / "s" / "cache", overridden=True)
    assert (chosen.history, chosen.crash_reports) == (tmp_path / "s" / "history.sqlite3", tmp_path / "s" / "crash-reports")
    monkeypatch.setenv("PRESETCTL_STATE_DIR", str(tmp_path / "env"))
    assert sp.Locations.resolve().state == tmp_path / "env" and sp.Locations.resolve(tmp_path / "s").state == chosen.state
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sp.Locations.resolve("~/x").state == tmp_path / "home" / "x"
    monkeypatch.delenv("PRESETCTL_STATE_DIR")
    plain = sp.Locations.resolve()
    xdg = Path(os.environ["XDG_STATE_HOME"])
    assert (plain.state, plain.logs, plain.cache, plain.overridden) == (
        xdg / "presetctl", xdg / "presetctl" / "log", Path(os.environ["XDG_CACHE_HOME"]) / "presetctl", False)
    assert sp.state_dir(tmp_path / "made") == tmp_path / "made" and (tmp_path / "made").is_dir()
    root = tmp_path / "r"
    assert (sp.runs_dir(root), sp.backups_dir(root), sp.lock_path(root)) == (
        root / "fix-runs", root / "backups", root / "fix.lock")


def test_logs_and_cache_inside_the_state_folder_keep_it_private(tmp_path: Path, umask: None) -> None:
    loc = sp.Locations.resolve(tmp_path / "s")
    assert loc.log_dir() == tmp_path / "s" / "logs"
    assert stat.S_IMODE((tmp_path / "s").stat().st_mode) == 0o700
    cache = loc.cache_dir()
    tag = cache / "CACHEDIR.TAG"
    assert tag.read_text(encoding="ascii") == sp.CACHEDIR_TAG
    assert sp.CACHEDIR_TAG.startswith("Signature: 8a477f597d28d172789f06886806bc55\n")  # the spec's signature
    tag.write_text("kept")
    loc.cache_dir()
    assert tag.read_text() == "kept"  # not rewritten


def test_a_cache_tag_that_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loc = sp.Locations(tmp_path / "s", tmp_path / "l", tmp_path / "c")

    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(StateError) as refused:
        loc.cache_dir()
    tag = tmp_path / "c" / "CACHEDIR.TAG"
    assert (str(refused.value), refused.value.code, refused.value.file) == (
        f"cannot write {tag}: Read-only file system", ErrorCode.READ_ONLY_FILE_SYSTEM, str(tag))
    assert not (tmp_path / "s").exists()  # a cache outside the state folder does not create it


def test_a_folder_the_system_refuses_carries_the_errno_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(StateError) as refused:
        sp.ensure_dir(tmp_path / "x" / "state")
    assert (str(refused.value), refused.value.code) == (
        f"cannot create the folder {tmp_path / 'x' / 'state'}: Permission denied", ErrorCode.PERMISSION_DENIED)


# -- found by mutation testing (docs/testing.md) ------------------------------------------------------------
def test_a_third_original_in_a_pack_starts_after_the_first_two(tmp_path: Path) -> None:
    store = BackupStore(tmp_path, fsync=False)
    blobs = {sha256(b"one"): b"one", sha256(b"three"): b"three", sha256(b"fifteen bytes!!"): b"fifteen bytes!!"}
    where = store.put_pack(blobs)
    name = where[sha256(b"one")][0]
    assert list(where.values()) == [[name, 0, 3], [name, 3, 5], [name, 8, 15]]  # offsets add up
    assert all(store.get(digest, where[digest]) == data for digest, data in blobs.items())


def test_run_ids_are_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    from datetime import UTC, datetime

    monkeypatch.setenv("TZ", "Etc/GMT-14")  # UTC+14: the local date is never the UTC date at the same hour
    time.tzset()
    try:
        before = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        run_id = jn.new_run_id()
        after = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert before <= run_id[:15] <= after  # ids sort by start time across machines and zones


def test_journal_errors_without_a_specific_errno_are_write_failures(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def too_big(*args: object) -> int:
        raise OSError(errno.EFBIG, "File too large")

    real_open = os.open
    monkeypatch.setattr(os, "open", too_big)
    with pytest.raises(StateError) as on_open:
        jn.Journal(tmp_path / "j.jsonl")
    assert (str(on_open.value), on_open.value.code) == (
        f"cannot open the journal {tmp_path / 'j.jsonl'}: File too large", ErrorCode.WRITE_FAILED)
    monkeypatch.setattr(os, "open", real_open)
    j = jn.Journal(tmp_path / "j.jsonl")
    monkeypatch.setattr(os, "write", too_big)
    with pytest.raises(StateError) as on_write:
        j.append({"t": "done", "path": "a"})
    assert on_write.value.code is ErrorCode.WRITE_FAILED
    monkeypatch.setattr(os, "fsync", too_big)
    with pytest.raises(StateError) as on_sync:
        j.sync()
    assert (str(on_sync.value), on_sync.value.code) == (
        f"cannot write the journal {tmp_path / 'j.jsonl'}: File too large", ErrorCode.WRITE_FAILED)
    monkeypatch.undo()
    j.close()


def test_a_journal_is_created_in_a_state_folder_not_made_yet_and_again_beside_others(tmp_path: Path) -> None:
    root = tmp_path / "new" / "state"
    jn.Journal.create(root, "r1", {}, fsync=False).close()
    jn.Journal.create(root, "r2", {}, fsync=False).close()  # the runs folder exists now
    assert sorted(p.name for p in (root / "fix-runs").iterdir()) == ["r1.jsonl", "r2.jsonl"]


def test_a_journal_on_descriptor_0_is_closed_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process started with stdin closed gets descriptor 0 for the first file it opens."""
    closed: list[int] = []
    monkeypatch.setattr(os, "open", lambda *args: 0)
    monkeypatch.setattr(os, "close", closed.append)
    j = jn.Journal(tmp_path / "j.jsonl")
    j.close()
    j.close()
    assert closed == [0]


def test_records_after_a_torn_line_are_read(tmp_path: Path) -> None:
    """A resumed run appends to the journal its crash tore: what follows the torn line counts."""
    path = tmp_path / "r.jsonl"
    path.write_bytes(b'{"t":"run","id":"r"}\n{"t":"begin","pa\n{"t":"begin","path":"a"}\n{"t":"done","path":"a"}\n')
    assert jn.read_records(path) == [{"t": "run", "id": "r"}, {"t": "begin", "path": "a"}, {"t": "done", "path": "a"}]


def test_a_cache_tag_refused_for_no_named_reason_leaves_the_cache_unusable(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(Path, "write_text", refuse)
    with pytest.raises(StateError) as refused:
        sp.Locations(tmp_path / "s", tmp_path / "l", tmp_path / "c").cache_dir()
    assert refused.value.code is ErrorCode.STATE_DIR_UNUSABLE
