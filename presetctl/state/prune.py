"""Capping what presetctl keeps: history runs, and files (crash reports, damaged databases, old logs), by age and size.

Age first: runs started and files last changed before the cut-off go. Then size: while the
history's used pages plus every counted file exceed the budget, the oldest deletable file goes,
then the oldest runs, a tenth at a time. The database is shrunk in place afterwards
(``incremental_vacuum`` and a WAL checkpoint), without the full copy a VACUUM would need.
Fix journals and backups are never pruned here: they are what ``fix --undo`` restores from.
"""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from presetctl.state.history import HistoryStore

DELETE_CHUNK = 500


@dataclass(frozen=True)
class PruneResult:
    runs_deleted: int
    files_deleted: tuple[Path, ...]
    bytes_before: int
    bytes_after: int


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def history_bytes(conn: sqlite3.Connection) -> int:
    """Bytes the database's live pages take (free pages will be given back by the vacuum)."""
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return int((pages - free) * page_size)


def _delete_chunk(conn: sqlite3.Connection, ids: Sequence[str]) -> None:
    for table, column in (("recovery_attempts", "run_id"), ("tool_errors", "run_id"), ("findings", "run_id"),
                          ("runs", "id")):
        conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", ((i,) for i in ids))


def _delete_runs(store: HistoryStore, ids: Sequence[str]) -> None:
    for start in range(0, len(ids), DELETE_CHUNK):  # short transactions: other processes keep recording
        store.write(functools.partial(_delete_chunk, ids=ids[start : start + DELETE_CHUNK]))


class _Pruner:
    """What one prune deletes: files oldest first, then history runs oldest first."""

    def __init__(self, store: HistoryStore | None, deletable: Sequence[Path], counted: Sequence[Path]) -> None:
        self.store = store
        self.conn = store.conn if store is not None else None
        self.files = sorted((p for p in deletable if p.exists()), key=_mtime)
        self.counted = counted
        self.removed: list[Path] = []
        self.runs_deleted = 0

    def total(self) -> int:
        return ((history_bytes(self.conn) if self.conn else 0) + sum(map(_file_size, self.files))
                + sum(map(_file_size, self.counted)))

    def remove(self, path: Path) -> None:
        self.files.remove(path)
        try:
            path.unlink()
            self.removed.append(path)
        except FileNotFoundError:
            pass

    def delete_runs(self, ids: Sequence[str]) -> None:
        if self.store is not None:
            _delete_runs(self.store, ids)
            self.runs_deleted += len(ids)

    def by_age(self, cutoff: float) -> None:
        for path in [p for p in self.files if _mtime(p) < cutoff]:
            self.remove(path)
        if self.conn is not None:
            self.delete_runs([r[0] for r in self.conn.execute(
                "SELECT id FROM runs WHERE started_at < ? ORDER BY started_at", (cutoff,))])

    def by_size(self, max_bytes: int) -> None:
        while self.files and self.total() > max_bytes:
            self.remove(self.files[0])
        while self.conn is not None and self.total() > max_bytes:
            count = self.conn.execute("SELECT count(*) FROM runs").fetchone()[0]
            if count == 0:
                break
            self.delete_runs([r[0] for r in self.conn.execute("SELECT id FROM runs ORDER BY started_at, id LIMIT ?",
                                                               (max(1, count // 10),))])


def prune(store: HistoryStore | None, deletable: Sequence[Path], counted: Sequence[Path], *,
          older_than: float | None = None, max_bytes: int | None = None, now: float | None = None) -> PruneResult:
    """Delete by age (seconds) and total size (bytes); ``counted`` files count toward the size but stay."""
    now = time.time() if now is None else now
    pruner = _Pruner(store, deletable, counted)
    before = pruner.total()
    if older_than is not None:
        pruner.by_age(now - older_than)
    if max_bytes is not None:
        pruner.by_size(max_bytes)
    if pruner.conn is not None and (pruner.runs_deleted or max_bytes is not None):
        pruner.conn.execute("PRAGMA incremental_vacuum")
        pruner.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return PruneResult(pruner.runs_deleted, tuple(pruner.removed), before, pruner.total())
