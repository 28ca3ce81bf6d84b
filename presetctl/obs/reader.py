"""Reading the log back: records from the rotated files in order, filters, and following a growing log.

Filters work like ``journalctl`` and ``docker logs``: ``--since``/``--until`` take a relative age
(``30s``, ``30m``, ``2h``, ``3d``, ``1w``), a date (``2025-01-31``, local midnight) or an ISO time
(local unless it names a zone); ``--level`` is a minimum; ``--grep`` is a regular expression,
case-insensitive unless it has a capital letter (smart case).
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from presetctl.engine.errors import UsageError
from presetctl.obs.handlers import LOG_NAME, log_files
from presetctl.obs.records import LEVELS, parse_line

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.I)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

Record = dict[str, Any]


def parse_age(text: str) -> float:
    """Seconds from ``30s``, ``30m``, ``2h``, ``3d``, ``1w``."""
    m = _AGE.match(text)
    if not m:
        raise UsageError(f"expected an age like 30m, 2h or 7d, got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def parse_when(text: str, now: float | None = None) -> float:
    """A point in time (Unix seconds) from an age before now, a date or an ISO time."""
    now = time.time() if now is None else now
    if _AGE.match(text):
        return now - parse_age(text)
    raw = text.strip()
    if raw.lower() in ("today", "yesterday"):
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        return midnight - (86400 if raw.lower() == "yesterday" else 0)
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise UsageError(f"expected 30m, 2h, a date (2025-01-31) or an ISO time (2025-01-31T12:00), got {text!r}") from None
    return when.timestamp()  # naive: local time, as journalctl reads it


@dataclass(frozen=True)
class LogQuery:
    """Which log records to show: time range, level, run, code, file and text."""

    since: float | None = None
    until: float | None = None
    min_level: int = 0
    run: str | None = None  # an id or a unique prefix ("last" is resolved by the caller)
    code: str | None = None
    file: str | None = None  # a substring, or a glob when it has * ? [
    grep: re.Pattern[str] | None = None

    @staticmethod
    def compile_grep(pattern: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern, 0 if any(c.isupper() for c in pattern) else re.I)
        except re.error as exc:
            raise UsageError(f"--grep: invalid regular expression: {exc}") from None

    @staticmethod
    def level(name: str) -> int:
        try:
            return LEVELS[name.lower()]
        except KeyError:
            raise UsageError(f"--level: expected one of {', '.join(LEVELS)}, got {name!r}") from None

    def matches(self, rec: Record) -> bool:
        t = rec["_t"]
        if self.since is not None and t < self.since:
            return False
        if self.until is not None and t > self.until:
            return False
        if self.min_level and LEVELS.get(str(rec.get("level", "")).lower(), 0) < self.min_level:
            return False
        if self.run is not None and not str(rec.get("run", "")).startswith(self.run):
            return False
        if self.code is not None and str(rec.get("code", "")).upper() != self.code.upper():
            return False
        if self.file is not None:
            name = str(rec.get("file", ""))
            if any(c in self.file for c in "*?["):
                if not (fnmatch.fnmatchcase(name, self.file) or fnmatch.fnmatchcase(os.path.basename(name), self.file)):
                    return False
            elif self.file not in name:
                return False
        return self.grep is None or bool(self.grep.search(str(rec.get("msg", ""))))


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with open(path, "rb") as fh:
            yield from fh
    except FileNotFoundError:
        return  # rotated away while we were getting to it


def parsed(lines: Iterable[bytes]) -> Iterator[tuple[Record, bytes]]:
    for line in lines:
        rec = parse_line(line)
        if rec is not None:
            yield rec, line.rstrip(b"\n")


def records(folder: Path, name: str = LOG_NAME, *, rotated_only: bool = False) -> Iterator[tuple[Record, bytes]]:
    """Every parsable record of the log and its rotations, oldest first, with its raw line."""
    files = log_files(folder, name)
    if rotated_only:
        files = [p for p in files if p.name != name]
    for path in files:
        yield from parsed(_lines(path))


def select(items: Iterable[tuple[Record, bytes]], query: LogQuery, tail: int | None) -> list[tuple[Record, bytes]]:
    matching = (item for item in items if query.matches(item[0]))
    if tail is None:
        return list(matching)
    return list(deque(matching, maxlen=tail)) if tail > 0 else []


def last_run_id(folder: Path, name: str = LOG_NAME) -> str | None:
    """The run id of the latest ``run.start`` record in the logs."""
    found = None
    for rec, _ in records(folder, name):
        if rec.get("event") == "run.start" and rec.get("run"):
            found = str(rec["run"])
    return found


@dataclass
class Follower:
    """Follows the log by name, like ``tail -F``, across rotations.

    After a rotation the rest of the old file is read, then every rotated file not seen yet (the
    log may have rotated more than once between two looks), then the new file from its start; a
    file that shrank in place is read again from its start. Nothing is shown twice or skipped,
    as long as rotation does not delete a file before it is read.
    """

    path: Path
    poll: float = 0.2
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self._fh: Any = None
        self._ino: int = -1
        self._partial = b""
        self._seen: set[int] = set()

    def read_available(self) -> list[bytes]:
        """Open the log at its start and return its complete lines so far; ``lines()`` goes on from there,
        so nothing between showing the tail and following is lost or shown twice. Rotated files that
        exist now count as read (the caller shows them from ``records``)."""
        for p in log_files(self.path.parent, self.path.name):
            ino = _inode(p)
            if ino is not None:
                self._seen.add(ino)
        if self._fh is None:
            self._open()
        return self._drain()

    def _open(self, path: Path | None = None) -> bool:
        try:
            fh = open(path or self.path, "rb")
        except FileNotFoundError:
            return False
        if self._fh is not None:
            self._fh.close()
        self._fh, self._ino, self._partial = fh, os.fstat(fh.fileno()).st_ino, b""
        self._seen.add(self._ino)
        return True

    def lines(self, stop: Callable[[], bool] = lambda: False) -> Iterator[bytes]:
        """Complete lines as they are appended, until ``stop()`` says so."""
        if self._fh is None:
            self._open()
        while not stop():
            got = self._drain()
            yield from got
            if got:
                continue
            if self._rotated():
                yield from self._drain()  # what writers appended to the old file before they reopened
                yield from self._catch_up()
                self._open()
                continue
            self.sleep(self.poll)

    def _catch_up(self) -> Iterator[bytes]:
        """Rotated files written since the one we had open (oldest first), each read whole."""
        for p in log_files(self.path.parent, self.path.name):
            if p.name == self.path.name:
                break
            ino = _inode(p)
            if ino is None or ino in self._seen:
                continue
            if self._open(p):
                yield from self._drain()
                if self._partial:
                    yield self._partial
                    self._partial = b""

    def _drain(self) -> list[bytes]:
        if self._fh is None:
            return []
        chunk = self._fh.read()
        if not chunk:
            return []
        data: bytes = self._partial + chunk
        *complete, self._partial = data.split(b"\n")
        return list(complete)

    def _rotated(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # between the rename and the new file: wait
        if self._fh is None or st.st_ino != self._ino:
            return True
        if st.st_size < self._fh.tell():  # truncated in place
            self._fh.seek(0)
            self._partial = b""
        return False

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None
