"""Undo, resume and history of fix runs, from the journal and the backup store.

Undo walks a run's ``begin`` records backwards and looks at each file's bytes now: still the
fixed version -> the original comes back byte for byte (with its mode and mtime); already the
original -> nothing to do; anything else was changed since the fix and is refused, unless
``force``, which first backs up what is there now. Undo is itself idempotent, so an undo that
was interrupted is simply run again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from presetctl.engine.errors import StateError
from presetctl.engine.fix.model import UndoResult
from presetctl.engine.interrupts import stops_deferred
from presetctl.fsutil import TMP_PREFIX, atomic_write
from presetctl.state.backups import BackupStore, sha256
from presetctl.state.journal import Journal, RunInfo, journal_path, list_runs, load_run, now_iso
from presetctl.state.lock import StateLock
from presetctl.state.paths import backups_dir, lock_path, state_dir


def _digest(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as fh:
            return sha256(fh.read())
    except OSError:
        return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def in_flight(info: RunInfo) -> list[dict[str, Any]]:
    """``begin`` records with no ``done`` or ``fail`` after them: files a crash caught mid-way."""
    open_: dict[str, dict[str, Any]] = {}
    for rec in info.records:
        kind, path = rec.get("t"), rec.get("path")
        if kind == "begin" and isinstance(path, str):
            open_[path] = dict(rec)
        elif kind in ("done", "fail") and isinstance(path, str):
            open_.pop(path, None)
    return list(open_.values())


def _clean_temporaries(folders: set[Path]) -> None:
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(TMP_PREFIX) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)


def repair_in_flight(info: RunInfo) -> None:
    """Before a resume: finish half-done renames (both names linked) and drop temporary files."""
    folders: set[Path] = set()
    for rec in in_flight(info):
        src = Path(rec["path"])
        folders.add(src.parent)
        to = rec.get("to")
        if to and _same_file(src, Path(to)):
            os.unlink(src)
    _clean_temporaries(folders)


class _Restorer:
    def __init__(self, store: BackupStore, fsync: bool, force: bool, journal: Journal | None) -> None:
        self.store = store
        self.fsync = fsync
        self.force = force
        self.journal = journal  # None: a dry run, which only says what it would do
        self.restored: list[str] = []
        self.unchanged: list[str] = []
        self.refused: list[tuple[str, str]] = []

    def _put_back(self, rec: dict[str, Any], src: Path) -> None:
        if self.journal is None:
            return
        original = self.store.get(rec["before"], rec.get("blob"))
        atomic_write(src, original, fsync=self.fsync, mode=int(rec.get("mode", 0o644)))
        mtime = rec.get("mtime_ns")
        if isinstance(mtime, int):
            os.utime(src, ns=(mtime, mtime))

    def _changed_since(self, path: Path, now: str | None) -> bool:
        """True when the file changed since the fix and may not be overwritten."""
        if not self.force:
            self.refused.append((str(path), "changed since the fix (use --force to restore anyway)"))
            return True
        if now is not None and self.journal is not None:
            self.store.put(path.read_bytes())  # keep what --force overwrites
        return False

    def _restored(self, src: Path) -> None:
        self.restored.append(str(src))
        if self.journal is not None:  # progress: what an interrupted undo had already put back
            self.journal.append({"t": "undone", "path": str(src)}, durable=False)

    def undo(self, rec: dict[str, Any]) -> None:
        src = Path(rec["path"])
        dst = Path(rec["to"]) if rec.get("to") else None
        before, after = rec["before"], rec["after"]
        now_src, now_dst = _digest(src), _digest(dst)
        if dst is not None and now_dst is not None:  # the rename happened (perhaps half: both names linked)
            linked = _same_file(src, dst)
            if now_dst != after and self._changed_since(dst, now_dst):
                return
            if now_src is not None and not linked and now_src != before and self._changed_since(src, now_src):
                return
            self._put_back(rec, src)
            if self.journal is not None:
                os.unlink(dst)
            self._restored(src)
            return
        if now_src == before:
            self.unchanged.append(str(src))
            return
        if now_src != after and self._changed_since(src, now_src):
            return
        self._put_back(rec, src)
        self._restored(src)


def undo(run_id: str | None, *, state: str | None = None, force: bool = False, fsync: bool = True,
         dry_run: bool = False) -> UndoResult:
    """Restore the files of fix run ``run_id`` (default: the latest run not undone yet).

    Undoing when every run is undone already is not an error: there is nothing left to undo.
    ``dry_run`` reports what would be restored and changes nothing.
    """
    root = state_dir(state)
    with StateLock(lock_path(root)):
        if run_id is None:
            live = [r for r in list_runs(root) if r.status != "undone"]
            if not live:
                return UndoResult(None, dry_run=dry_run)
            info = live[-1]
        else:
            info = load_run(root, run_id)
        if info.status == "undone" and not force:
            return UndoResult(info.run_id, dry_run=dry_run, already_undone=True)
        begins = [dict(r) for r in info.records if r.get("t") == "begin"]
        store = BackupStore(backups_dir(root), fsync=fsync)
        if dry_run:
            restorer = _Restorer(store, fsync, force, None)
            for rec in reversed(begins):
                restorer.undo(rec)
        else:
            with Journal(journal_path(root, info.run_id), fsync=fsync) as journal:
                restorer = _Restorer(store, fsync, force, journal)
                for rec in reversed(begins):
                    with stops_deferred():  # each file is put back whole before an interrupt lands
                        restorer.undo(rec)
                _clean_temporaries({Path(r["path"]).parent for r in in_flight(info)})
                if not restorer.refused:
                    journal.append({"t": "undo", "at": now_iso(), "restored": len(restorer.restored)})
    return UndoResult(info.run_id, tuple(restorer.restored), tuple(restorer.unchanged), tuple(restorer.refused),
                      dry_run=dry_run)


def history(state: str | None = None) -> list[RunInfo]:
    return list_runs(state_dir(state))


def resumable(state: str | None = None, run_id: str | None = None) -> RunInfo:
    """The interrupted run to resume (the latest, or the one named)."""
    root = state_dir(state)
    if run_id is not None:
        info = load_run(root, run_id)
        if info.status != "interrupted":
            raise StateError(f"fix run {info.run_id} is {info.status}; only an interrupted run can be resumed")
        return info
    stuck = [r for r in list_runs(root) if r.status == "interrupted"]
    if not stuck:
        raise StateError("no interrupted fix run to resume")
    return stuck[-1]
