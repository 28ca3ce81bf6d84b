"""Render caches: a voice's measurements, stored under the sha256 of its sound bytes.

Rendering is the most expensive thing presetctl does, and the same voices come back in every
run (and across banks: re-saved and renamed copies). A cache maps ``(version, key)`` to the
bytes of a :class:`~presetctl.engine.audio.analysis.VoiceSound`; ``version`` names the
renderer, the test note and the analysis layout, so a change to any of them never reads stale
values. Two implementations of the :class:`RenderCache` protocol:

- :class:`MemoryCache`: a dict, for one process (tests, API callers).
- :class:`SqliteCache`: one SQLite file in WAL mode. Every write is one transaction, so a
  crash leaves each entry old or new; WAL lets readers in any number of processes run beside the
  one writer, and a busy timeout makes concurrent writers wait their turn instead of failing.

The default file is ``render-cache.sqlite3`` in ``PRESETCTL_CACHE_DIR``, else in the user cache
folder (``~/.cache/presetctl`` on Linux). Deleting it is always safe.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import platformdirs

FILE_NAME = "render-cache.sqlite3"
BUSY_TIMEOUT_MS = 60_000
_CHUNK = 500  # keys per SELECT (SQLite allows 32,766 parameters; smaller keeps statements cheap)


class RenderCache(Protocol):
    def get_many(self, version: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored values of those ``keys`` that are present."""

    def put_many(self, version: str, items: Mapping[str, bytes]) -> None:
        """Store values (replacing any under the same key), all or none."""


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[tuple[str, str], bytes] = {}

    def get_many(self, version: str, keys: Sequence[str]) -> dict[str, bytes]:
        return {k: self._data[(version, k)] for k in keys if (version, k) in self._data}

    def put_many(self, version: str, items: Mapping[str, bytes]) -> None:
        self._data.update(((version, k), v) for k, v in items.items())

    def __len__(self) -> int:
        return len(self._data)


def cache_dir() -> Path:
    """``PRESETCTL_CACHE_DIR``, else the cache folder of the state directory (``PRESETCTL_STATE_DIR``
    moves it, as it moves the check cache: ``state/paths.py``), else the platform's user cache folder."""
    explicit = os.environ.get("PRESETCTL_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    moved = os.environ.get("PRESETCTL_STATE_DIR")
    if moved:
        return Path(moved).expanduser() / "cache"
    return Path(platformdirs.user_cache_dir("presetctl")).expanduser()


class SqliteCache:
    """A cache in one SQLite file, safe to share between concurrent processes."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else cache_dir() / FILE_NAME
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable up to the last checkpoint
                conn.execute("CREATE TABLE IF NOT EXISTS render (version TEXT NOT NULL, key TEXT NOT NULL, "
                             "value BLOB NOT NULL, PRIMARY KEY (version, key)) WITHOUT ROWID")
            except sqlite3.Error:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def get_many(self, version: str, keys: Sequence[str]) -> dict[str, bytes]:
        conn = self._connect()
        out: dict[str, bytes] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), _CHUNK):
            part = unique[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            rows = conn.execute(f"SELECT key, value FROM render WHERE version = ? AND key IN ({marks})",
                                (version, *part))
            out.update((k, bytes(v)) for k, v in rows)
        return out

    def put_many(self, version: str, items: Mapping[str, bytes]) -> None:
        if not items:
            return
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock upgrading a read
        try:
            conn.executemany("INSERT OR REPLACE INTO render (version, key, value) VALUES (?, ?, ?)",
                             ((version, k, v) for k, v in items.items()))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def versions(self) -> list[tuple[str, int]]:
        """Each stored version with its number of entries."""
        rows = self._connect().execute("SELECT version, COUNT(*) FROM render GROUP BY version ORDER BY version")
        return [(str(v), int(n)) for v, n in rows]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SqliteCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def usable(cache: RenderCache, version: str) -> tuple[RenderCache, str]:
    """``cache`` if it can be read, else an empty in-memory cache and why (a read-only home, a
    file that is not a database): rendering then still works, only uncached."""
    try:
        cache.get_many(version, ["0" * 64])
    except (sqlite3.Error, OSError) as exc:
        where = getattr(cache, "path", "")
        return MemoryCache(), f"render cache {where} unusable ({type(exc).__name__}: {exc}); rendering without it"
    return cache, ""

