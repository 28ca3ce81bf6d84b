"""The check cache on disk: one SQLite file in the cache folder, shared by concurrent runs.

What an entry means and when it holds is the engine's business (engine/cache.py); this module
only keeps entries. WAL mode lets a run read while another writes; every write is one short
transaction of ``INSERT OR REPLACE`` (two runs that checked the same file store the same
outcome, the last one wins). A cache must never cost a run: a database that cannot be opened,
read or written turns the cache off for the rest of the run, and :attr:`problem` says why (the
command logs it). Deleting the file is always safe.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from presetctl.engine.cache import Entry, Stamp

FILE_NAME = "outcomes.sqlite3"
BUSY_TIMEOUT_MS = 2000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcome (
    scope TEXT NOT NULL,
    key BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    dev INTEGER NOT NULL,
    digest TEXT NOT NULL,
    trusted INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID
"""


def _successor(prefix: bytes) -> bytes | None:
    """The least byte string above every string that starts with ``prefix`` (None: there is none,
    the prefix is empty or all 0xff). BLOBs compare by ``memcmp``, so this bounds the range."""
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else None


def _raw(key: str) -> bytes:
    """Keys hold file names, which need not be UTF-8 (``os.fsdecode`` keeps such bytes as surrogates)."""
    return key.encode("utf-8", "surrogateescape")


class SqliteOutcomeStore:
    """:class:`presetctl.engine.cache.OutcomeStore` in ``<cache folder>/outcomes.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem = ""
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def open(cls, folder: Path) -> SqliteOutcomeStore:
        store = cls(folder / FILE_NAME)
        try:
            conn = sqlite3.connect(store.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            store._conn = conn
        except sqlite3.Error as exc:
            store._fail(exc)
        return store

    def fetch(self, scope: str, keys: Sequence[str]) -> dict[str, Entry]:
        if self._conn is None or not keys:
            return {}
        marks = ",".join("?" * len(keys))
        try:
            rows = self._conn.execute(
                f"SELECT key, size, mtime_ns, ctime_ns, ino, dev, digest, trusted, payload FROM outcome "
                f"WHERE scope = ? AND key IN ({marks})", (scope, *map(_raw, keys))).fetchall()
        except sqlite3.Error as exc:
            self._fail(exc)
            return {}
        return self._entries(rows)

    @staticmethod
    def _entries(rows: Sequence[tuple[Any, ...]]) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        for r in rows:
            key = r[0].decode("utf-8", "surrogateescape")
            out[key] = Entry(key, Stamp(r[1], r[2], r[3], r[4], r[5]), r[6], bool(r[7]), r[8])
        return out

    def fetch_prefix(self, scope: str, prefix: str) -> dict[str, Entry]:
        """Every entry of ``scope`` whose key starts with ``prefix``: one range of the primary key."""
        if self._conn is None:
            return {}
        low = _raw(prefix)
        high = _successor(low)
        where, args = ("key >= ? AND key < ?", (scope, low, high)) if high is not None else ("key >= ?", (scope, low))
        try:
            rows = self._conn.execute(
                f"SELECT key, size, mtime_ns, ctime_ns, ino, dev, digest, trusted, payload FROM outcome "
                f"WHERE scope = ? AND {where}", args).fetchall()
        except sqlite3.Error as exc:
            self._fail(exc)
            return {}
        return self._entries(rows)

    def save(self, scope: str, entries: Sequence[Entry]) -> None:
        if self._conn is None or not entries:
            return
        rows = [(scope, _raw(e.key), e.stamp.size, e.stamp.mtime_ns, e.stamp.ctime_ns, e.stamp.ino, e.stamp.dev, e.digest,
                 int(e.trusted), e.payload) for e in entries]
        try:
            with self._conn:
                self._conn.execute("BEGIN IMMEDIATE")
                self._conn.executemany("INSERT OR REPLACE INTO outcome VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._fail(exc)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _fail(self, exc: sqlite3.Error) -> None:
        """The cache is off for the rest of the run; the command says why once."""
        self.problem = f"the check cache {self.path} is off for this run: {exc}"
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass  # already failing: the problem above is what the user needs to know
            self._conn = None
