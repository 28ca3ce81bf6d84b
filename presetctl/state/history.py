"""The run-history database: opening, checking, migrating, recovering, and short write transactions.

SQLite through the standard ``sqlite3`` module, in WAL mode (readers never block the writer) with
``synchronous=NORMAL`` (a commit is durable at the next checkpoint; a power cut may lose the last
runs, never the database) and a 2 s ``busy_timeout``. Every write is one short ``BEGIN IMMEDIATE``
transaction, retried with backoff and full jitter (HISTORY_LOCKED policy) when other processes hold
the lock beyond the timeout: sixteen presetctl processes started at once all get their rows in.

Opening takes an advisory lock (``.history.lock``) for the few milliseconds it checks the file,
sets the journal mode and migrates, so concurrent first runs never race to create or repair it.
A damaged file (empty, garbage, truncated, or one SQLite calls malformed) is renamed aside with a
timestamp, kept, and a new database is created: that is reported as a HISTORY_CORRUPT incident. A
file written by a newer presetctl, or a foreign SQLite file, is left alone (HistoryError).
"""

from __future__ import annotations

import fcntl
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from presetctl.engine.error_codes import ErrorCode, from_errno
from presetctl.engine.errors import HistoryError, StateError
from presetctl.engine.incidents import Incident
from presetctl.engine.recovery import Recovery, RetriesExhausted
from presetctl.state.paths import ensure_dir
from presetctl.state.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

T = TypeVar("T")
BUSY_TIMEOUT_MS = 2000
OPEN_LOCK_SECONDS = 15.0  # a process holds the open lock for milliseconds; this is only a safety net
LOCK_NAME = ".history.lock"
SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")


def classify_sqlite(exc: BaseException) -> ErrorCode | None:
    """The error code of an sqlite3 exception (by its SQLITE_* name), None for anything else."""
    if not isinstance(exc, sqlite3.Error):
        return None
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return ErrorCode.HISTORY_LOCKED
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return ErrorCode.HISTORY_CORRUPT
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return ErrorCode.DISK_FULL
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "readonly" in text:
        return ErrorCode.HISTORY_UNAVAILABLE
    if name.startswith("SQLITE_IOERR") or "i/o error" in text:
        return ErrorCode.IO_ERROR
    return ErrorCode.HISTORY_UNAVAILABLE


def damage(path: Path) -> str | None:
    """Why ``path`` cannot be a healthy SQLite database, or None (also None when it does not exist).

    Cheap header checks only (no page is read): an empty file, a missing SQLite header, a size
    that is not whole pages, or fewer pages than the header counts (a truncated copy).
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return None
    if size == 0:
        return "the file is empty"
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        return "the file is not an SQLite database"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "the header is damaged (impossible page size)"
    pages = int.from_bytes(head[28:32], "big")
    header_valid = head[24:28] == head[92:96]  # the page count is valid only when these agree
    if size % page_size:
        return f"the file is truncated ({size} bytes is not a whole number of {page_size}-byte pages)"
    if header_valid and pages and size < pages * page_size:
        return f"the file is truncated ({size} bytes; the header counts {pages * page_size})"
    return None


def quarantine(path: Path) -> Path:
    """Rename a damaged database (and its WAL files) aside with a UTC timestamp; returns the new name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}-{os.getpid()}")
    os.replace(path, target)
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        try:
            os.replace(side, target.with_name(target.name + suffix))
        except FileNotFoundError:
            pass
    return target


def quarantined(path: Path) -> list[Path]:
    """Damaged databases moved aside earlier, oldest first."""
    try:
        return sorted(p for p in path.parent.glob(f"{path.name}.corrupt-*") if not p.name.endswith(SIDE_FILES))
    except OSError:
        return []


@contextmanager
def _open_lock(folder: Path, recovery: Recovery) -> Iterator[None]:
    """Exclusive ``flock`` on the folder's history lock; the kernel drops it if we die.

    Polled with short jittered pauses rather than blocking, so a stopped process that holds it
    cannot hang every other presetctl forever.
    """
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise HistoryError(f"cannot write to the state folder {folder}: {exc.strerror or exc}",
                           code=_unavailable(exc, folder), file=str(folder)) from None
    rng = recovery.rng or random.Random()
    deadline = time.monotonic() + OPEN_LOCK_SECONDS
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HistoryError("another presetctl process kept the history lock for "
                                       f"{OPEN_LOCK_SECONDS:.0f} s", code=ErrorCode.HISTORY_LOCKED,
                                       file=str(folder / LOCK_NAME)) from None
                recovery.sleep(rng.uniform(0.001, 0.02))
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)  # explicitly: a process forked meanwhile shares the descriptor's lock
        os.close(fd)


def _unavailable(exc: OSError, folder: Path) -> ErrorCode:
    code = from_errno(exc.errno, ErrorCode.HISTORY_UNAVAILABLE)
    if code in (ErrorCode.DISK_FULL, ErrorCode.READ_ONLY_FILE_SYSTEM):
        return code
    return ErrorCode.HISTORY_UNAVAILABLE


def read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@dataclass
class HistoryStore:
    """One connection to the history database, held for one command."""

    path: Path
    conn: sqlite3.Connection
    recovery: Recovery
    on_incident: Callable[[Incident], None] | None = None

    @classmethod
    def open(cls, path: Path, *, recovery: Recovery | None = None,
             on_incident: Callable[[Incident], None] | None = None) -> HistoryStore:
        """Open (creating, migrating or repairing as needed) for reading and writing.

        Raises HistoryError (code HISTORY_NEWER, HISTORY_FOREIGN, HISTORY_UNAVAILABLE, DISK_FULL,
        READ_ONLY_FILE_SYSTEM or HISTORY_LOCKED) when history cannot be kept; a repaired file is
        reported through ``on_incident`` and the store opens on a new database.
        """
        rec = recovery or Recovery()
        try:
            folder = ensure_dir(path.parent)
        except StateError as exc:
            raise HistoryError(str(exc), code=_code_for_state(exc, path.parent), file=str(path)) from None
        with _open_lock(folder, rec):
            for repaired in (False, True):
                try:
                    why = damage(path)
                except OSError as exc:  # the file cannot even be read (permissions, EIO)
                    raise HistoryError(f"cannot read the history database {path}: {exc.strerror or exc}",
                                       code=_unavailable(exc, path.parent), file=str(path)) from None
                if why is not None:
                    cls._repair(path, why, on_incident)
                created = _create_private(path)
                try:
                    conn = _connect(path)
                    try:
                        _prepare(conn, path, rec)
                    except BaseException:
                        conn.close()
                        raise
                except sqlite3.Error as exc:
                    if classify_sqlite(exc) is ErrorCode.HISTORY_CORRUPT and not repaired:
                        cls._repair(path, str(exc), on_incident)
                        continue
                    _forget_empty(path, created)
                    raise _history_error(exc, path) from None
                except BaseException:
                    _forget_empty(path, created)
                    raise
                return cls(path, conn, rec, on_incident)
        raise HistoryError(f"{path} could not be repaired", code=ErrorCode.HISTORY_CORRUPT)  # pragma: no cover

    @staticmethod
    def _repair(path: Path, why: str, on_incident: Callable[[Incident], None] | None) -> None:
        try:
            moved = quarantine(path)
        except OSError as exc:
            raise HistoryError(f"{path} is damaged ({why}) and cannot be moved aside: {exc.strerror or exc}",
                               code=_unavailable(exc, path.parent), file=str(path)) from None
        if on_incident is not None:
            on_incident(Incident(ErrorCode.HISTORY_CORRUPT,
                                 f"the history database was damaged ({why}); kept as {moved.name}, a new one was "
                                 "created", file=str(path), stage="history", at=time.time()))

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one short BEGIN IMMEDIATE transaction, retried while the database is locked.

        sqlite3 errors other than a lock pass through (classify them with ``classify_sqlite``);
        a lock that outlasts every retry raises HistoryError(HISTORY_LOCKED).
        """

        def once() -> T:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                value = fn(self.conn)
                self.conn.execute("COMMIT")
                return value
            except BaseException:
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # the transaction is gone already (SQLite rolls back on some errors itself)
                raise

        try:
            value, incident = self.recovery.call(once, stage="history", classify=classify_sqlite)
        except RetriesExhausted as exc:
            if self.on_incident is not None:
                self.on_incident(exc.incident)
            raise HistoryError("the history database stayed locked by other presetctl processes",
                               code=ErrorCode.HISTORY_LOCKED, file=str(self.path)) from None
        if incident is not None and self.on_incident is not None:
            self.on_incident(incident)
        return value

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass  # closing a connection whose file vanished: nothing left to save


def _create_private(path: Path) -> bool:
    """Create a missing database file 0600 (SQLite would use the umask; its -wal and -shm copy the mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise HistoryError(f"cannot create the history database {path}: {exc.strerror or exc}",
                           code=_unavailable(exc, path.parent), file=str(path)) from None


def _forget_empty(path: Path, created: bool) -> None:
    """Remove the empty file this open created before it failed: left behind, it would look truncated."""
    if created:
        try:
            if path.stat().st_size == 0:
                path.unlink()
        except OSError:
            pass  # it is gone, or the folder stopped being writable: nothing more to tidy


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, recovery: Recovery) -> None:
    """Journal mode, durability, the owner check and forward migrations."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app != APPLICATION_ID and (app != 0 or tables):
        raise HistoryError(f"{path} is not a presetctl history database (it is left alone; move it away to "
                           "start a new history)", code=ErrorCode.HISTORY_FOREIGN, file=str(path))
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path} was written by a newer presetctl (history schema {version}; this version "
                           f"knows {SCHEMA_VERSION}); it is left alone", code=ErrorCode.HISTORY_NEWER, file=str(path))
    if tables == 0:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # only possible before the first table: lets prune shrink
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # a file system without shared memory: rollback journal still works
        conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    if version < SCHEMA_VERSION:
        migrate(conn, recovery)


def migrate(conn: sqlite3.Connection, recovery: Recovery | None = None,
            migrations: tuple[tuple[str, ...], ...] = MIGRATIONS) -> int:
    """Apply the missing migrations in one transaction; returns the version reached."""

    def once() -> int:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for target in range(current, len(migrations)):
                for statement in migrations[target]:
                    conn.execute(statement)
            if current < len(migrations):
                conn.execute(f"PRAGMA user_version = {len(migrations)}")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('migrated_at', ?)",
                             (datetime.now(UTC).isoformat(timespec="seconds"),))
            conn.execute("COMMIT")
            return max(current, len(migrations))
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    return (recovery or Recovery()).call(once, stage="history", classify=classify_sqlite)[0]


def _history_error(exc: sqlite3.Error, path: Path) -> HistoryError:
    code = classify_sqlite(exc) or ErrorCode.HISTORY_UNAVAILABLE
    if code in (ErrorCode.HISTORY_UNAVAILABLE, ErrorCode.IO_ERROR) and read_only_fs(path.parent):
        code = ErrorCode.READ_ONLY_FILE_SYSTEM
    return HistoryError(f"cannot use the history database {path}: {exc}", code=code, file=str(path))


def _code_for_state(exc: StateError, folder: Path) -> ErrorCode:
    if exc.code in (ErrorCode.DISK_FULL, ErrorCode.READ_ONLY_FILE_SYSTEM):
        return exc.code
    return ErrorCode.READ_ONLY_FILE_SYSTEM if read_only_fs(folder.parent) else ErrorCode.HISTORY_UNAVAILABLE


@dataclass(frozen=True)
class Inspection:
    """What doctor reports about the database without changing it."""

    exists: bool
    size: int
    damage: str | None = None
    version: int | None = None
    owner: str = ""  # "presetctl", "foreign" or "" when unknown
    quick_check: tuple[str, ...] = ()
    runs: int = 0
    oldest: float | None = None
    newest: float | None = None
    problem: str = ""


def inspect(path: Path, *, check: bool = True) -> Inspection:
    """Read-only look at the database: header damage, owner, schema version, ``PRAGMA quick_check``."""
    try:
        size = path.stat().st_size + sum(_size(path.with_name(path.name + s)) for s in SIDE_FILES)
    except FileNotFoundError:
        return Inspection(False, 0)
    except OSError as exc:
        return Inspection(True, 0, problem=f"cannot read {path}: {exc.strerror or exc}")
    try:
        why = damage(path)
    except OSError as exc:
        return Inspection(True, size, problem=f"cannot read {path}: {exc.strerror or exc}")
    if why is not None:
        return Inspection(True, size, damage=why)
    try:
        conn = _connect_read_only(path)
    except sqlite3.Error as exc:
        return Inspection(True, size, problem=f"cannot open {path}: {exc}")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        owner = "presetctl" if app == APPLICATION_ID else "foreign"
        checks: tuple[str, ...] = ()
        if check:
            checks = tuple(str(r[0]) for r in conn.execute("PRAGMA quick_check"))
        runs, oldest, newest = 0, None, None
        if owner == "presetctl" and 1 <= version:
            runs, oldest, newest = conn.execute("SELECT count(*), min(started_at), max(started_at) FROM runs").fetchone()
        return Inspection(True, size, None, version, owner, checks, runs, oldest, newest)
    except sqlite3.Error as exc:
        if classify_sqlite(exc) is ErrorCode.HISTORY_CORRUPT:
            return Inspection(True, size, damage=str(exc))
        return Inspection(True, size, problem=f"cannot read {path}: {exc}")
    finally:
        conn.close()


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A reader that creates nothing; falls back to ``immutable`` where the WAL index cannot be made."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if classify_sqlite(exc) is ErrorCode.HISTORY_CORRUPT:
            raise
        return sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)


def open_for_reading(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to a presetctl history database, None when there is none yet.

    Raises HistoryError with a clear message for a damaged, foreign or newer file.
    """
    if not path.exists():
        return None
    why = damage(path)
    if why is not None:
        raise HistoryError(f"the history database {path} is damaged ({why}); the next recorded run moves it aside",
                           code=ErrorCode.HISTORY_CORRUPT, file=str(path))
    try:
        conn = _connect_read_only(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        app = conn.execute("PRAGMA application_id").fetchone()[0]
    except sqlite3.Error as exc:
        raise _history_error(exc, path) from None
    if app != APPLICATION_ID:
        conn.close()
        raise HistoryError(f"{path} is not a presetctl history database", code=ErrorCode.HISTORY_FOREIGN,
                           file=str(path))
    if version > SCHEMA_VERSION:
        conn.close()
        raise HistoryError(f"{path} was written by a newer presetctl (history schema {version}; this version "
                           f"knows {SCHEMA_VERSION})", code=ErrorCode.HISTORY_NEWER, file=str(path))
    if version < SCHEMA_VERSION:
        conn.close()
        raise HistoryError(f"{path} has history schema {version}; any recorded run migrates it to {SCHEMA_VERSION}",
                           code=ErrorCode.HISTORY_UNAVAILABLE, file=str(path))
    return conn


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
