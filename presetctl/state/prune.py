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


def prune(store: HistoryStore | None, deletable: Sequence[Path], counted: Sequence[Path], *,
          older_than: float | None = None, max_bytes: int | None = None, now: float | None = None) -> PruneResult:
    """Delete by age (seconds) and total size (bytes); ``counted`` files count toward the size but stay."""
    now = time.time() if now is None else now
    files = sorted((p for p in deletable if p.exists()), key=_mtime)
    conn = store.conn if store is not None else None
    before = (history_bytes(conn) if conn else 0) + sum(map(_file_size, files)) + sum(map(_file_size, counted))
    runs_deleted = 0
    removed: list[Path] = []

    def remove(path: Path) -> None:
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass

    if older_than is not None:
        cutoff = now - older_than
        for path in [p for p in files if _mtime(p) < cutoff]:
            remove(path)
            files.remove(path)
        if store is not None and conn is not None:
            old = [r[0] for r in conn.execute("SELECT id FROM runs WHERE started_at < ? ORDER BY started_at", (cutoff,))]
            _delete_runs(store, old)
            runs_deleted += len(old)

    if max_bytes is not None:
        def total() -> int:
            return (history_bytes(conn) if conn else 0) + sum(map(_file_size, files)) + sum(map(_file_size, counted))

        while files and total() > max_bytes:
            remove(files.pop(0))
        while store is not None and conn is not None and total() > max_bytes:
            count = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
            if count == 0:
                break
            ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY started_at, id LIMIT ?",
                                              (max(1, count // 10),))]
            _delete_runs(store, ids)
            runs_deleted += len(ids)

    if conn is not None and (runs_deleted or max_bytes is not None):
        conn.execute("PRAGMA incremental_vacuum")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    after = (history_bytes(conn) if conn else 0) + sum(map(_file_size, files)) + sum(map(_file_size, counted))
    return PruneResult(runs_deleted, tuple(removed), before, after)
