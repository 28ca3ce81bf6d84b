"""The fix engine's write and undo paths, asserted exactly: what each journal record holds, every
refusal of the writer and its message, renames that never replace a file, and undo in each state
a file can be found in (fixed, original, changed since, renamed, half renamed, a link).

Packs are a few presetctl JSON files whose fixes are known: F009 removes a byte order mark (a
change of bytes), N002 renames ``C?.json`` to ``C_.json``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from presetctl.engine.errors import StateError, UsageError
from presetctl.engine.fix import run as fix_run
from presetctl.engine.fix import undo as fix_undo
from presetctl.engine.fix.model import FileFixStatus
from presetctl.engine.fix.run import FixSettings, fix
from presetctl.engine.fix.undo import history, in_flight, repair_in_flight, resumable, undo
from presetctl.engine.options import Options
from presetctl.fsutil import TMP_PREFIX
from presetctl.state.backups import BackupStore
from presetctl.state.journal import RunInfo, list_runs, read_records

BOM = b"\xef\xbb\xbf"
BODY = b'{"format_version": "1.0", "metadata": {"name": "%s"}, "parameters": []}'
OPTIONS = Options(select=("F009", "N002"), jobs=1)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "A.json").write_bytes(BOM + BODY % b"A")
    (folder / "C?.json").write_bytes(BODY % b"C?")
    (folder / "Clean.json").write_bytes(BODY % b"Clean")
    return folder


def _fix(tmp_path: Path, resume: RunInfo | None = None, **settings: Any):  # type: ignore[no-untyped-def]
    return fix(["pack"], OPTIONS, OPTIONS, FixSettings(fsync=False, state_dir=str(tmp_path / "state"), **settings),
               cwd=str(tmp_path), resume=resume)


def _records(tmp_path: Path, run_id: str) -> list[dict[str, Any]]:
    return read_records(tmp_path / "state" / "fix-runs" / f"{run_id}.jsonl")


def test_the_journal_of_a_run(tmp_path: Path, pack: Path) -> None:
    os.utime(pack / "A.json", ns=(1_000_000_000, 1_234_567_890_123))
    (pack / "A.json").chmod(0o640)
    result = _fix(tmp_path)
    assert result.run_id is not None and result.mode == "write"
    by_path = {f.path: f for f in result.files}
    assert {p: (f.status, f.new_path) for p, f in by_path.items()} == {
        "pack/A.json": (FileFixStatus.FIXED, None), "pack/C?.json": (FileFixStatus.FIXED, "pack/C_.json"),
        "pack/Clean.json": (FileFixStatus.UNCHANGED, None)}
    recs = _records(tmp_path, result.run_id)
    assert [r["t"] for r in recs] == ["run", "begin", "begin", "done", "done", "end"]
    assert recs[0]["cwd"] == str(tmp_path) and recs[0]["id"] == result.run_id
    a, c = recs[1], recs[2]
    assert {k: a[k] for k in ("path", "to", "before", "after", "mode", "mtime_ns", "fixes")} == {
        "path": str(pack / "A.json"), "to": None, "before": sha(BOM + BODY % b"A"), "after": sha(BODY % b"A"),
        "mode": 0o640, "mtime_ns": 1_234_567_890_123, "fixes": ["F009"]}
    assert (c["path"], c["to"], c["before"], c["after"], c["fixes"]) == (
        str(pack / "C?.json"), str(pack / "C_.json"), sha(BODY % b"C?"), sha(BODY % b"C?"), ["N002"])
    assert a["blob"][0] == c["blob"][0] and [a["blob"][1:], c["blob"][1:]] == [[0, len(BOM + BODY % b"A")],
                                                                              [len(BOM + BODY % b"A"), len(BODY % b"C?")]]
    assert recs[3:5] == [{"t": "done", "path": str(pack / "A.json")}, {"t": "done", "path": str(pack / "C?.json")}]
    assert {k: recs[5][k] for k in ("t", "files")} == {"t": "end", "files": 2}
    assert (pack / "A.json").read_bytes() == BODY % b"A" and stat.S_IMODE((pack / "A.json").stat().st_mode) == 0o640
    assert sorted(os.listdir(pack)) == ["A.json", "C_.json", "Clean.json"]
    assert [t.stage for t in result.timings] == ["discover", "plan", "plan-check", "write", "total"]


def test_nothing_to_fix_writes_no_journal(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "Clean.json").write_bytes(BODY % b"Clean")
    result = _fix(tmp_path)
    assert result.run_id is None and [f.status for f in result.files] == [FileFixStatus.UNCHANGED]
    assert list_runs(tmp_path / "state") == []


@pytest.mark.parametrize("mode", ["diff", "dry-run"])
def test_previews_change_nothing(tmp_path: Path, pack: Path, mode: str) -> None:
    before = {p.name: p.read_bytes() for p in pack.iterdir()}
    result = _fix(tmp_path, mode=mode)
    assert result.run_id is None and result.mode == mode
    assert {f.path: (f.status, f.new_path) for f in result.files} == {
        "pack/A.json": (FileFixStatus.WOULD_FIX, None), "pack/C?.json": (FileFixStatus.WOULD_FIX, "pack/C_.json"),
        "pack/Clean.json": (FileFixStatus.UNCHANGED, None)}
    assert ({p.name: p.read_bytes() for p in pack.iterdir()}, (tmp_path / "state").exists()) == (before, False)
    diffs = {f.path: f.diff for f in result.files}
    assert (diffs["pack/A.json"] != "") is (mode == "diff") and diffs["pack/Clean.json"] == ""


def test_an_unknown_mode_is_a_usage_error(tmp_path: Path, pack: Path) -> None:
    with pytest.raises(UsageError, match=r"^unknown fix mode 'sideways'$"):
        _fix(tmp_path, mode="sideways")


def test_an_interrupted_run_must_be_finished_first(tmp_path: Path, pack: Path) -> None:
    first = _fix(tmp_path)
    assert first.run_id is not None
    journal = tmp_path / "state" / "fix-runs" / f"{first.run_id}.jsonl"
    journal.write_bytes(b"".join(line + b"\n" for line in journal.read_bytes().splitlines()[:-1]))  # no "end"
    (pack / "B.json").write_bytes(BOM + BODY % b"B")
    with pytest.raises(StateError) as refused:
        _fix(tmp_path)
    assert str(refused.value) == (f"fix run {first.run_id} was interrupted: finish it with `presetctl fix --resume` or "
                                  f"roll it back with `presetctl fix --undo {first.run_id}`")
    assert resumable(str(tmp_path / "state")).run_id == first.run_id
    assert resumable(str(tmp_path / "state"), first.run_id[:12]).run_id == first.run_id
    resumed = _fix(tmp_path, resume=resumable(str(tmp_path / "state")))
    assert resumed.run_id == first.run_id
    assert [f.path for f in resumed.files if f.status is FileFixStatus.FIXED] == ["pack/B.json"]
    assert [r["t"] for r in _records(tmp_path, first.run_id)][-3:] == ["begin", "done", "end"]
    with pytest.raises(StateError) as not_interrupted:
        resumable(str(tmp_path / "state"), first.run_id)
    assert str(not_interrupted.value) == (f"fix run {first.run_id} is complete; only an interrupted run can be "
                                          "resumed")
    with pytest.raises(StateError, match=r"^no interrupted fix run to resume$"):
        resumable(str(tmp_path / "state"))
    assert [r.run_id for r in history(str(tmp_path / "state"))] == [first.run_id]


def test_a_resumed_run_with_nothing_left_is_closed(tmp_path: Path, pack: Path) -> None:
    first = _fix(tmp_path)
    assert first.run_id is not None
    journal = tmp_path / "state" / "fix-runs" / f"{first.run_id}.jsonl"
    journal.write_bytes(b"".join(line + b"\n" for line in journal.read_bytes().splitlines()[:-1]))
    resumed = _fix(tmp_path, resume=resumable(str(tmp_path / "state")))
    assert resumed.run_id == first.run_id and [r["t"] for r in _records(tmp_path, first.run_id)][-1] == "end"
    assert list_runs(tmp_path / "state")[0].status == "complete"


# -- what the writer refuses -------------------------------------------------------------------------------
def _plan_then(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Any) -> Any:
    """Run fix with ``change()`` called after planning and before writing."""
    real = fix_run._Writer.write_batch

    def late(self: Any, items: Any) -> Any:
        change()
        return real(self, items)

    monkeypatch.setattr(fix_run._Writer, "write_batch", late)
    return _fix(tmp_path)


@pytest.mark.parametrize(("change", "error"), [
    (lambda p: p.chmod(0o444), "file is read-only; not changed"),
    (lambda p: p.chmod(0o445), "file is read-only; not changed"),  # executable by others is not writable
    (lambda p: p.write_bytes(BOM + BODY % b"a"), "file changed while it was being fixed; not changed"),  # same size
    (lambda p: p.write_bytes(BOM + BODY % b"AA"), "file changed while it was being fixed; not changed"),
    (lambda p: (p.unlink(), os.mkfifo(p)), "no longer a regular file; not changed"),
    (lambda p: p.unlink(), "cannot stat: No such file or directory"),
])
def test_the_writer_refuses_a_file_that_changed(tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch,
                                                change: Any, error: str) -> None:
    result = _plan_then(tmp_path, monkeypatch, lambda: change(pack / "A.json"))
    a = next(f for f in result.files if f.path == "pack/A.json")
    assert (a.status, a.error) == (FileFixStatus.FAILED, error)
    assert (a.format, [x.code for x in a.applied], a.passes) == ("presetctl", ["F009"], 1)  # what the plan was
    assert (a.rolled_back, a.unsafe_left) == ((), 0) and a.seconds >= a.check_seconds > 0  # and how long it took
    assert next(f for f in result.files if f.path == "pack/C?.json").status is FileFixStatus.FIXED


def test_no_free_name_for_a_rename(tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def take_names() -> None:
        (pack / "C_.json").write_bytes(b"x")
        for n in range(2, 100):
            (pack / f"C_ ({n}).json").write_bytes(b"x")

    result = _plan_then(tmp_path, monkeypatch, take_names)
    c = next(f for f in result.files if f.path == "pack/C?.json")
    assert (c.status, c.error) == (FileFixStatus.FAILED, "no free file name like 'C_.json'; not renamed")
    assert (pack / "C?.json").read_bytes() == BODY % b"C?"


def test_renames_take_the_next_free_number(tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def take() -> None:
        (pack / "C_.json").write_bytes(b"taken")
        (pack / "C_ (2).json").symlink_to("nowhere")  # a dangling link takes its name too

    result = _plan_then(tmp_path, monkeypatch, take)
    c = next(f for f in result.files if f.path == "pack/C?.json")
    assert (c.status, c.new_path) == (FileFixStatus.FIXED, "pack/C_ (3).json")
    assert (pack / "C_ (3).json").read_bytes() == BODY % b"C?" and (pack / "C_.json").read_bytes() == b"taken"


def test_free_names_are_claimed_within_a_run(tmp_path: Path) -> None:
    claimed: set[Path] = set()
    assert fix_run._free_name(tmp_path, "x.json", "y.json", claimed) == "x.json"
    assert fix_run._free_name(tmp_path, "y.json", "y.json", claimed) == "y.json"  # its own name
    claimed.add(tmp_path / "x.json")
    assert fix_run._free_name(tmp_path, "x.json", "y.json", claimed) == "x (2).json"


def test_a_rename_never_replaces_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"a")
    dst.write_bytes(b"b")
    with pytest.raises(FileExistsError):
        fix_run._rename_no_replace(src, dst, False)

    def no_links(a: object, b: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(FileExistsError, match=f"^{dst} exists$"):
        fix_run._rename_no_replace(src, dst, False)
    assert (src.read_bytes(), dst.read_bytes()) == (b"a", b"b")
    dst.unlink()
    synced: list[str] = []
    monkeypatch.setattr(fix_run, "fsync_dir", lambda folder: synced.append(str(folder)))
    fix_run._rename_no_replace(src, dst, True)  # no hard links: a plain rename
    assert (os.listdir(tmp_path), dst.read_bytes(), synced) == (["b"], b"a", [str(tmp_path)])
    monkeypatch.undo()
    monkeypatch.setattr(fix_run, "fsync_dir", lambda folder: synced.append(str(folder)))
    fix_run._rename_no_replace(dst, src, False)  # with hard links: link, then unlink
    assert (os.listdir(tmp_path), src.read_bytes(), synced) == (["a"], b"a", [str(tmp_path)])


def test_a_failed_backup_changes_no_file_of_its_batch(tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Any, blobs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BackupStore, "put_pack", full)
    result = _fix(tmp_path)
    assert {f.path: (f.status, f.error) for f in result.files if f.status is not FileFixStatus.UNCHANGED} == {
        "pack/A.json": (FileFixStatus.FAILED, "backup failed (No space left on device); file not changed"),
        "pack/C?.json": (FileFixStatus.FAILED, "backup failed (No space left on device); file not changed")}
    assert (pack / "A.json").read_bytes() == BOM + BODY % b"A" and (pack / "C?.json").exists()


def test_a_failed_write_puts_the_original_back_with_its_time(tmp_path: Path, pack: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    os.utime(pack / "C?.json", ns=(5_000_000_000, 7_000_000_123))
    (pack / "C?.json").write_bytes(BOM + BODY % b"C?")  # needs both fixes: bytes, then the rename
    os.utime(pack / "C?.json", ns=(5_000_000_000, 7_000_000_123))

    def refuse(src: Path, dst: Path, fsync: bool) -> None:
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(fix_run, "_rename_no_replace", refuse)
    result = _fix(tmp_path)
    c = next(f for f in result.files if f.path == "pack/C?.json")
    assert (c.status, c.error) == (FileFixStatus.FAILED, "write failed (Permission denied); file left as it was")
    assert (pack / "C?.json").read_bytes() == BOM + BODY % b"C?"
    assert (pack / "C?.json").stat().st_mtime_ns == 7_000_000_123
    assert result.run_id is not None
    assert {"t": "fail", "path": str(pack / "C?.json"), "error": "Permission denied"} in _records(tmp_path, result.run_id)


def test_batches_share_a_backup_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pack").mkdir()
    for i in range(5):
        (tmp_path / "pack" / f"{i}.json").write_bytes(BOM + BODY % str(i).encode())
    packs: list[int] = []
    real = BackupStore.put_pack

    def count(self: BackupStore, blobs: Any) -> Any:
        packs.append(len(blobs))
        return real(self, blobs)

    monkeypatch.setattr(BackupStore, "put_pack", count)
    monkeypatch.setattr(fix_run, "BATCH_FILES", 2)
    _fix(tmp_path)
    assert packs == [1, 1, 1, 1, 1] or packs == [2, 2, 1]  # identical originals share one blob
    packs.clear()
    for i in range(5):
        (tmp_path / "pack" / f"{i}.json").write_bytes(BOM + BODY % str(i).encode())
    monkeypatch.setattr(fix_run, "BATCH_FILES", 64)
    monkeypatch.setattr(fix_run, "BATCH_BYTES", 2 * len(BOM + BODY % b"0"))
    _fix(tmp_path)
    assert packs == [2, 2, 1]
    packs.clear()
    for i in range(6):
        (tmp_path / "pack" / f"{i}.json").write_bytes(BOM + BODY % str(i).encode())
    monkeypatch.setattr(fix_run, "BATCH_BYTES", 2 * len(BOM + BODY % b"0") + 1)  # one byte more: three files
    _fix(tmp_path)
    assert packs == [3, 3]  # each batch counts its bytes from zero


# -- undo -----------------------------------------------------------------------------------------------
def _state(tmp_path: Path) -> str:
    return str(tmp_path / "state")


def test_undo_restores_bytes_names_modes_and_times(tmp_path: Path, pack: Path) -> None:
    originals = {p.name: p.read_bytes() for p in pack.iterdir()}
    (pack / "A.json").chmod(0o640)
    os.utime(pack / "A.json", ns=(1, 1_111_111_111_111))
    result = _fix(tmp_path)
    (pack / "A.json").chmod(0o600)  # what undo restores is the recorded mode, not what is there now
    assert result.run_id is not None
    restored = undo(None, state=_state(tmp_path), fsync=False)
    assert restored.run_id == result.run_id and restored.ok and not restored.dry_run
    assert set(restored.restored) == {str(pack / "A.json"), str(pack / "C?.json")} and restored.unchanged == ()
    assert {p.name: p.read_bytes() for p in pack.iterdir()} == originals
    assert stat.S_IMODE((pack / "A.json").stat().st_mode) == 0o640
    assert (pack / "A.json").stat().st_mtime_ns == 1_111_111_111_111
    recs = _records(tmp_path, result.run_id)
    assert sorted(r["path"] for r in recs if r["t"] == "undone") == sorted(restored.restored)
    assert {k: recs[-1][k] for k in ("t", "restored")} == {"t": "undo", "restored": 2}
    again = undo(result.run_id, state=_state(tmp_path), fsync=False)
    assert (again.run_id, again.already_undone, again.restored) == (result.run_id, True, ())
    assert undo(None, state=_state(tmp_path), fsync=False) == fix_undo.UndoResult(None)
    forced = undo(result.run_id, state=_state(tmp_path), force=True, fsync=False)  # undone, forced: files are original
    assert (forced.already_undone, sorted(forced.unchanged)) == (False, [str(pack / "A.json"), str(pack / "C?.json")])


def test_undo_dry_run_changes_nothing(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    fixed = {p.name: p.read_bytes() for p in pack.iterdir()}
    journal = (tmp_path / "state" / "fix-runs" / f"{result.run_id}.jsonl").read_bytes()
    preview = undo(result.run_id, state=_state(tmp_path), fsync=False, dry_run=True)
    assert preview.dry_run and set(preview.restored) == {str(pack / "A.json"), str(pack / "C?.json")}
    assert {p.name: p.read_bytes() for p in pack.iterdir()} == fixed
    assert (tmp_path / "state" / "fix-runs" / f"{result.run_id}.jsonl").read_bytes() == journal
    assert undo(None, state=_state(tmp_path), fsync=False, dry_run=True).dry_run


def test_undo_refuses_a_file_changed_since_unless_forced(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    (pack / "A.json").write_bytes(b"edited by hand")
    (pack / "C_.json").write_bytes(b"renamed and edited")
    refused = undo(result.run_id, state=_state(tmp_path), fsync=False)
    assert not refused.ok and refused.restored == ()
    assert sorted(refused.refused) == [
        (str(pack / "A.json"), "changed since the fix (use --force to restore anyway)"),
        (str(pack / "C_.json"), "changed since the fix (use --force to restore anyway)")]
    assert [r["t"] for r in _records(tmp_path, result.run_id)][-1] == "end"  # not marked undone
    assert (pack / "A.json").read_bytes() == b"edited by hand"
    forced = undo(result.run_id, state=_state(tmp_path), force=True, fsync=False)
    assert forced.ok and (pack / "A.json").read_bytes() == BOM + BODY % b"A"
    assert sorted(os.listdir(pack)) == ["A.json", "C?.json", "Clean.json"]
    store = BackupStore(tmp_path / "state" / "backups")
    assert store.get(sha(b"edited by hand")) == b"edited by hand"  # what --force overwrote is kept
    assert store.get(sha(b"renamed and edited")) == b"renamed and edited"


def test_undo_never_follows_a_link_put_where_the_file_was(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    outside = tmp_path / "outside.json"
    outside.write_bytes(BODY % b"A")  # the fixed bytes, somewhere else
    (pack / "A.json").unlink()
    (pack / "A.json").symlink_to(outside)
    refused = undo(result.run_id, state=_state(tmp_path), fsync=False)
    assert refused.refused == ((str(pack / "A.json"), "changed since the fix (use --force to restore anyway)"),)
    assert outside.read_bytes() == BODY % b"A" and (pack / "A.json").is_symlink()


def test_undo_of_a_half_done_rename(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    os.link(pack / "C_.json", pack / "C?.json")  # the crash came between link and unlink
    restored = undo(result.run_id, state=_state(tmp_path), fsync=False)
    assert restored.ok and sorted(os.listdir(pack)) == ["A.json", "C?.json", "Clean.json"]
    assert (pack / "C?.json").read_bytes() == BODY % b"C?"


def test_undo_of_a_rename_whose_old_name_was_taken_again(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    (pack / "C?.json").write_bytes(b"a new file under the old name")
    refused = undo(result.run_id, state=_state(tmp_path), fsync=False)
    assert (str(pack / "C?.json"), "changed since the fix (use --force to restore anyway)") in refused.refused
    assert (pack / "C_.json").exists() and (pack / "C?.json").read_bytes() == b"a new file under the old name"


def test_undo_restores_the_default_mode_when_the_journal_has_none(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = tmp_path / "x.json"
    target.write_bytes(b"fixed")
    target.chmod(0o600)
    store = BackupStore(state / "backups", fsync=False)
    store.put(b"original")
    (state / "fix-runs").mkdir(parents=True)
    (state / "fix-runs" / "r1.jsonl").write_text(
        json.dumps({"t": "run", "id": "r1"}) + "\n"
        + json.dumps({"t": "begin", "path": str(target), "to": None, "before": sha(b"original"), "after": sha(b"fixed"),
                      "fixes": ["F009"]}) + "\n" + json.dumps({"t": "done", "path": str(target)}) + "\n"
        + json.dumps({"t": "end"}) + "\n")
    assert undo("r1", state=str(state), fsync=False).restored == (str(target),)
    assert target.read_bytes() == b"original" and stat.S_IMODE(target.stat().st_mode) == 0o644


def test_in_flight_and_the_repair_before_a_resume(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    records: tuple[dict[str, Any], ...] = (
        {"t": "run"}, {"t": "begin", "path": str(a), "to": str(tmp_path / "a2.json")},
        {"t": "begin", "path": str(b), "to": str(tmp_path / "b2.json")}, {"t": "begin", "path": str(c)},
        {"t": "done", "path": str(c)}, {"t": "begin", "path": 7}, {"t": "fail", "path": str(tmp_path / "zz")},
    )
    info = RunInfo("r", "", "interrupted", 3, records=records)
    assert in_flight(info) == [records[1], records[2]]
    a.write_bytes(b"a")
    os.link(a, tmp_path / "a2.json")  # half renamed: both names
    b.write_bytes(b"b")
    (tmp_path / "b2.json").write_bytes(b"other")  # another file under the target name
    (tmp_path / f"{TMP_PREFIX}abc").write_bytes(b"half written")
    (tmp_path / f"{TMP_PREFIX}dir").mkdir()  # not a file: kept
    (tmp_path / f"{TMP_PREFIX}link").symlink_to(b)  # a link: kept, its target untouched
    repair_in_flight(info)
    assert sorted(os.listdir(tmp_path)) == sorted(["a2.json", "b.json", "b2.json", f"{TMP_PREFIX}dir", f"{TMP_PREFIX}link"])
    assert b.read_bytes() == b"b"


def test_temporaries_are_cleaned_in_every_folder_even_after_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / f"{TMP_PREFIX}1").write_bytes(b"")
    (tmp_path / "x" / "keep.json").write_bytes(b"")
    fix_undo._clean_temporaries({tmp_path / "missing", tmp_path / "x", tmp_path / "x" / "keep.json"})
    assert os.listdir(tmp_path / "x") == ["keep.json"]


def test_a_forced_undo_dry_run_backs_nothing_up(tmp_path: Path, pack: Path) -> None:
    """--force keeps what it overwrites, but a dry run overwrites nothing and so keeps nothing."""
    result = _fix(tmp_path)
    assert result.run_id is not None
    (pack / "A.json").write_bytes(b"edited by hand")
    (pack / "C_.json").unlink()  # the renamed file is gone: nothing there to keep
    backups = tmp_path / "state" / "backups"
    before = sorted(p.relative_to(backups) for p in backups.rglob("*"))
    preview = undo(result.run_id, state=_state(tmp_path), force=True, fsync=False, dry_run=True)
    assert sorted(preview.restored) == [str(pack / "A.json"), str(pack / "C?.json")] and preview.refused == ()
    assert sorted(p.relative_to(backups) for p in backups.rglob("*")) == before
    assert (pack / "A.json").read_bytes() == b"edited by hand"


# -- durability and the run named (found by mutation testing, docs/testing.md) ------------------------------
@pytest.fixture
def fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fsync as "file FOLDER" or "folder FOLDER" (relative to tmp_path), in order."""
    seen: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        where = Path(os.readlink(f"/proc/self/fd/{fd}"))
        is_dir = stat.S_ISDIR(os.fstat(fd).st_mode)
        seen.append(f"folder {where.relative_to(tmp_path)}" if is_dir else f"file {where.parent.relative_to(tmp_path)}")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


def test_fix_and_undo_sync_each_step_in_the_documented_order(tmp_path: Path, pack: Path, fsyncs: list[str]) -> None:
    result = fix(["pack"], OPTIONS, OPTIONS, FixSettings(fsync=True, state_dir=_state(tmp_path)), cwd=str(tmp_path))
    assert fsyncs == [
        "file state/backups/packs", "folder state/backups/packs",  # 1. the originals, one pack for the batch
        "file state/fix-runs", "folder state/fix-runs",  # the journal's header, and its name
        "file state/fix-runs",  # 2. the begin records of the batch, together
        "file pack", "folder pack",  # 3. A.json replaced atomically
        "folder pack",  # 4. C?.json renamed
        "file state/fix-runs"]  # the end record (done records ride on it)
    fsyncs.clear()
    assert result.run_id is not None
    (pack / "A.json").write_bytes(b"edited by hand")
    undo(result.run_id, state=_state(tmp_path), force=True)  # durable by default
    assert fsyncs == [
        "file pack", "folder pack",  # C?.json back (undone records are not synced one by one)
        f"file state/backups/{sha(b'edited by hand')[:2]}", f"folder state/backups/{sha(b'edited by hand')[:2]}",
        "file pack", "folder pack",  # A.json back, after what --force overwrites was kept
        "file state/fix-runs"]  # the undo record


def test_without_fsync_nothing_is_synced(tmp_path: Path, pack: Path, fsyncs: list[str]) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    (pack / "A.json").write_bytes(b"edited by hand")
    assert undo(result.run_id, state=_state(tmp_path), force=True, fsync=False).ok
    assert fsyncs == []


def _hand_journal(state: Path, run_id: str, *records: dict[str, Any]) -> None:
    (state / "fix-runs").mkdir(parents=True, exist_ok=True)
    (state / "fix-runs" / f"{run_id}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def test_undo_of_a_half_done_rename_of_a_changed_file(tmp_path: Path) -> None:
    """Fixed and renamed, and the crash came between link and unlink: both names hold the fixed bytes."""
    state, src, dst = tmp_path / "state", tmp_path / "Old.json", tmp_path / "New.json"
    BackupStore(state / "backups", fsync=False).put(b"original")
    src.write_bytes(b"fixed")
    os.link(src, dst)
    _hand_journal(state, "r1", {"t": "run", "id": "r1"}, {"t": "begin", "path": str(src), "to": str(dst),
                  "before": sha(b"original"), "after": sha(b"fixed"), "mode": 0o644, "fixes": ["N002"]})
    assert undo("r1", state=str(state), fsync=False).restored == (str(src),)
    assert src.read_bytes() == b"original" and not dst.exists()


def test_a_forced_undo_keeps_the_file_that_took_the_old_name(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    (pack / "C?.json").write_bytes(b"a new file under the old name")
    assert undo(result.run_id, state=_state(tmp_path), force=True, fsync=False).ok
    store = BackupStore(tmp_path / "state" / "backups")
    assert store.get(sha(b"a new file under the old name")) == b"a new file under the old name"
    assert (pack / "C?.json").read_bytes() == BODY % b"C?" and not (pack / "C_.json").exists()


def test_undo_restores_the_run_it_is_given_not_the_latest(tmp_path: Path, pack: Path) -> None:
    first = _fix(tmp_path)
    (pack / "B.json").write_bytes(BOM + BODY % b"B")
    second = _fix(tmp_path)
    assert first.run_id is not None and second.run_id is not None
    done = undo(first.run_id, state=_state(tmp_path), fsync=False)
    assert done.run_id == first.run_id and sorted(done.restored) == [str(pack / "A.json"), str(pack / "C?.json")]
    assert (pack / "B.json").read_bytes() == BODY % b"B"  # the second run's fix stays
    last = _records(tmp_path, first.run_id)[-1]
    assert sorted(last) == ["at", "restored", "t"] and re.fullmatch(r"\d{4}-\d\d-\d\dT.*\+00:00", last["at"])
    again = undo(first.run_id, state=_state(tmp_path), fsync=False, dry_run=True)
    assert again == fix_undo.UndoResult(first.run_id, dry_run=True, already_undone=True)
    undo(second.run_id, state=_state(tmp_path), fsync=False)
    assert undo(None, state=_state(tmp_path), fsync=False, dry_run=True) == fix_undo.UndoResult(None, dry_run=True)


def test_resume_finds_the_interrupted_run_it_is_given(tmp_path: Path) -> None:
    state = tmp_path / "state"
    _hand_journal(state, "20250101T000000-aaaaaa", {"t": "run", "id": "20250101T000000-aaaaaa"},
                  {"t": "begin", "path": "a"})
    _hand_journal(state, "20250102T000000-bbbbbb", {"t": "run", "id": "20250102T000000-bbbbbb"}, {"t": "end"})
    assert resumable(str(state), "20250101").run_id == "20250101T000000-aaaaaa"


def test_only_done_and_fail_close_a_file_in_flight(tmp_path: Path) -> None:
    begins = [{"t": "begin", "path": p} for p in ("a", "b", "c")]
    records = (*begins, {"t": "undone", "path": "a"}, {"t": "fail", "path": "b"}, {"t": "done", "path": "c"})
    assert in_flight(RunInfo("r", "", "interrupted", 3, records=records)) == [begins[0]]


def test_temporaries_are_cleaned_in_a_folder_after_a_missing_one(tmp_path: Path) -> None:
    class MissingFirst(set[Path]):  # a set in a known order: the missing folder is met first
        def __iter__(self) -> Iterator[Path]:
            return iter(sorted(super().__iter__(), key=lambda p: p.exists()))

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / f"{TMP_PREFIX}1").write_bytes(b"")
    fix_undo._clean_temporaries(MissingFirst({tmp_path / "missing", tmp_path / "x"}))
    assert os.listdir(tmp_path / "x") == []


@pytest.mark.parametrize("durable", [True, False])
def test_a_failed_rename_puts_the_fixed_original_back_as_durably_as_it_wrote(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fsyncs: list[str], durable: bool) -> None:
    (tmp_path / "pack").mkdir()
    both = tmp_path / "pack" / "D?.json"  # F009 changes its bytes, N002 its name
    both.write_bytes(BOM + BODY % b"D?")
    both.chmod(0o640)

    def refuse(*args: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "link", refuse)
    monkeypatch.setattr(os, "rename", refuse)
    result = fix(["pack"], OPTIONS, OPTIONS, FixSettings(fsync=durable, state_dir=_state(tmp_path)),
                 cwd=str(tmp_path))
    (d,) = result.files
    assert (d.status, d.error) == (FileFixStatus.FAILED, "write failed (Permission denied); file left as it was")
    assert both.read_bytes() == BOM + BODY % b"D?" and stat.S_IMODE(both.stat().st_mode) == 0o640
    assert fsyncs == ([
        "file state/backups/packs", "folder state/backups/packs", "file state/fix-runs", "folder state/fix-runs",
        "file state/fix-runs",
        "file pack", "folder pack",  # the fixed bytes
        "file pack", "folder pack",  # the original back
        "file state/fix-runs", "file state/fix-runs"] if durable else [])  # the fail record, the end record


def test_a_file_that_cannot_be_read_again_before_its_write_is_not_changed(tmp_path: Path, pack: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(*args: object) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    result = _plan_then(tmp_path, monkeypatch, lambda: monkeypatch.setattr(fix_run, "read_bounded", unreadable))
    assert {f.path: (f.status, f.error) for f in result.files if f.status is not FileFixStatus.UNCHANGED} == {
        "pack/A.json": (FileFixStatus.FAILED, "file changed while it was being fixed; not changed"),
        "pack/C?.json": (FileFixStatus.FAILED, "file changed while it was being fixed; not changed")}
    assert (pack / "A.json").read_bytes() == BOM + BODY % b"A"


def test_two_files_wanting_the_same_new_name_in_one_batch(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "C?.json").write_bytes(BODY % b"C?")
    (tmp_path / "pack" / "C*.json").write_bytes(BODY % b"C*")
    result = _fix(tmp_path)
    assert sorted((f.path, f.status, f.new_path) for f in result.files) == [
        ("pack/C*.json", FileFixStatus.FIXED, "pack/C_.json"), ("pack/C?.json", FileFixStatus.FIXED, "pack/C_ (2).json")]


def test_progress_every_fifty_files_and_at_the_end(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    for i in range(100):
        (tmp_path / "pack" / f"{i:03}.json").write_bytes(BODY % b"Clean")
    (tmp_path / "pack" / "000.json").write_bytes(BOM + BODY % b"Clean")  # one to write, so the writer runs
    calls: list[tuple[int, int]] = []
    fix(["pack"], OPTIONS, OPTIONS, FixSettings(fsync=False, state_dir=_state(tmp_path)), cwd=str(tmp_path),
        progress=lambda done, total: calls.append((done, total)))
    assert calls == [(50, 100), (100, 100)]


def test_a_run_records_when_it_started_and_ended_in_utc(tmp_path: Path, pack: Path) -> None:
    result = _fix(tmp_path)
    assert result.run_id is not None
    utc = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"
    assert re.fullmatch(utc, result.started_at)
    end = _records(tmp_path, result.run_id)[-1]
    assert sorted(end) == ["at", "files", "t"] and re.fullmatch(utc, end["at"])


def test_a_file_skipped_while_planning_is_reported_in_a_write_run(tmp_path: Path, pack: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (pack / "Bad.json").write_bytes(BODY % b"Bad")
    real = fix_run.read_bounded

    def failing(path: str, limit: int) -> bytes:
        if path.endswith("Bad.json"):
            raise OSError(errno.EIO, "Input/output error")
        return real(path, limit)

    monkeypatch.setattr(fix_run, "read_bounded", failing)
    result = _fix(tmp_path)
    assert [(f.path, f.status, f.error) for f in result.files] == [
        ("pack/A.json", FileFixStatus.FIXED, ""),
        ("pack/Bad.json", FileFixStatus.SKIPPED, "not read: [Errno 5] Input/output error"),
        ("pack/C?.json", FileFixStatus.FIXED, ""), ("pack/Clean.json", FileFixStatus.UNCHANGED, "")]


V_BODY = (b'{"format_version": "1.0", "metadata": {"name": "V"}, "parameters": '
          b'[{"name": "cutoff", "type": "float", "value": 1.40, "min": 0, "max": 1.0}]}')
V_OPTIONS = Options(select=("F009", "V002"), jobs=1)


def _fix_v(tmp_path: Path, **settings: Any):  # type: ignore[no-untyped-def]
    return fix(["pack"], V_OPTIONS, V_OPTIONS, FixSettings(fsync=False, state_dir=_state(tmp_path), **settings),
               cwd=str(tmp_path))


def test_unsafe_fixes_only_when_asked_and_counted_when_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pack").mkdir()
    v = tmp_path / "pack" / "V.json"
    v.write_bytes(BOM + V_BODY)
    (safe,) = _fix_v(tmp_path).files
    assert (safe.status, safe.unsafe_left, v.read_bytes()) == (FileFixStatus.FIXED, 1, V_BODY)  # V002 (unsafe) left
    v.write_bytes(BOM + V_BODY)
    (unsafe,) = _fix_v(tmp_path, unsafe=True).files
    assert (unsafe.status, unsafe.unsafe_left) == (FileFixStatus.FIXED, 0)
    assert v.read_bytes() == V_BODY.replace(b'"value": 1.40', b'"value": 1.0')  # clamped to the bound as written
    v.write_bytes(BOM + V_BODY)
    real = fix_run._Writer.write_batch

    def read_only_first(self: Any, items: Any) -> Any:
        v.chmod(0o444)
        return real(self, items)

    monkeypatch.setattr(fix_run._Writer, "write_batch", read_only_first)
    (refused,) = _fix_v(tmp_path).files
    assert (refused.status, refused.error, refused.unsafe_left) == (
        FileFixStatus.FAILED, "file is read-only; not changed", 1)  # the plan's count, kept


@pytest.mark.parametrize("mode", ["dry-run", "diff"])
def test_previews_report_progress_and_start_in_utc(tmp_path: Path, mode: str) -> None:
    (tmp_path / "pack").mkdir()
    for i in range(100):
        (tmp_path / "pack" / f"{i:03}.json").write_bytes(BODY % b"Clean")
    calls: list[tuple[int, int]] = []
    result = fix(["pack"], OPTIONS, OPTIONS, FixSettings(mode=mode, fsync=False, state_dir=_state(tmp_path)),
                 cwd=str(tmp_path), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(50, 100), (100, 100)]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", result.started_at)


@pytest.mark.parametrize("durable", [True, False])
def test_a_resumed_run_writes_its_journal_as_durably_as_asked(tmp_path: Path, pack: Path, fsyncs: list[str],
                                                              durable: bool) -> None:
    first = _fix(tmp_path)
    assert first.run_id is not None
    journal = tmp_path / "state" / "fix-runs" / f"{first.run_id}.jsonl"
    journal.write_bytes(b"".join(line + b"\n" for line in journal.read_bytes().splitlines()[:-1]))  # no "end"
    fsyncs.clear()
    fix(["pack"], OPTIONS, OPTIONS, FixSettings(fsync=durable, state_dir=_state(tmp_path)), cwd=str(tmp_path),
        resume=resumable(_state(tmp_path)))
    assert fsyncs == (["file state/fix-runs"] if durable else [])  # the end record, and nothing else to write


@pytest.mark.parametrize("mode", ["write", "dry-run"])
def test_progress_of_a_single_file_is_reported_once_when_it_is_done(tmp_path: Path, mode: str) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "A.json").write_bytes(BOM + BODY % b"A")
    calls: list[tuple[int, int]] = []
    fix(["pack"], OPTIONS, OPTIONS, FixSettings(mode=mode, fsync=False, state_dir=_state(tmp_path)),
        cwd=str(tmp_path), progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 1)]  # counted from one: "1 of 1", never "0 of 1" or nothing


def test_a_refused_file_still_reports_the_fixes_its_plan_rolled_back(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pack").mkdir()
    bass = tmp_path / "pack" / "Bass.json"
    bass.write_bytes(b'{"format_version": "1.0", "metadata": {"name": "Bass", "category": "basses", '
                     b'"tags": ["Dark", "dark "]}, "parameters": []}')
    opts = Options(category_aliases={"basses": "Bassy"}, profiles=("marketplace",), jobs=1)  # M004's fix fails
    real = fix_run._Writer.write_batch

    def read_only_first(self: Any, items: Any) -> Any:
        bass.chmod(0o444)
        return real(self, items)

    monkeypatch.setattr(fix_run._Writer, "write_batch", read_only_first)
    (refused,) = fix(["pack"], opts, opts, FixSettings(fsync=False, state_dir=_state(tmp_path)),
                     cwd=str(tmp_path)).files
    assert (refused.status, refused.error) == (FileFixStatus.FAILED, "file is read-only; not changed")
    assert [r.code for r in refused.rolled_back] == ["M004"]


@pytest.mark.parametrize("mode", ["write", "dry-run"])
def test_a_plan_too_big_to_hold_for_the_pack_check_is_planned_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    mode: str) -> None:
    (tmp_path / "pack").mkdir()
    bass = tmp_path / "pack" / "Bass.json"
    body = b'{"format_version": "1.0", "metadata": {"name": "Bass", "category": "basses"}, "parameters": []}'
    bass.write_bytes(body)
    monkeypatch.setattr(fix_run, "HOLD_BYTES", 0)  # its category changes: it waits for the pack check, bytes dropped
    market = Options(profiles=("marketplace",), jobs=1)
    (result,) = fix(["pack"], market, market, FixSettings(mode=mode, fsync=False, state_dir=_state(tmp_path)),
                    cwd=str(tmp_path)).files
    assert [a.code for a in result.applied] == ["M004"]
    if mode == "write":
        assert result.status is FileFixStatus.FIXED and bass.read_bytes() == body.replace(b'"basses"', b'"Bass"')
    else:
        assert result.status is FileFixStatus.WOULD_FIX and bass.read_bytes() == body


def test_planning_workers_do_not_hold_the_state_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock must die with the fix run: a worker that kept its descriptor would hold it after a crash."""
    (tmp_path / "pack").mkdir()
    for i in range(100):  # enough files for worker processes
        (tmp_path / "pack" / f"{i:03}.json").write_bytes(BOM + BODY % str(i).encode())
    lock = (tmp_path / "state" / "fix.lock").resolve()
    marks = tmp_path / "marks"
    marks.mkdir()
    real = fix_run._plan_chunk

    def looking(state: Any, chunk: Any) -> Any:  # runs in the worker
        fds = os.listdir("/proc/self/fd")
        held = [fd for fd in fds if os.path.realpath(f"/proc/self/fd/{fd}") == str(lock)]
        (marks / f"{os.getpid()}-{len(held)}").touch()
        return real(state, chunk)

    monkeypatch.setattr(fix_run, "_plan_chunk", looking)
    result = fix(["pack"], replace(OPTIONS, jobs=2), OPTIONS, FixSettings(fsync=False, state_dir=_state(tmp_path)),
                 cwd=str(tmp_path))
    assert sum(f.status is FileFixStatus.FIXED for f in result.files) == 100
    seen = [name.split("-") for name in os.listdir(marks)]
    assert seen and {pid for pid, _ in seen} != {str(os.getpid())}  # workers did the planning
    assert {held for _, held in seen} == {"0"}
