"""Log handlers: a size-rotated file that concurrent presetctl processes share, and the console.

``logging.handlers.RotatingFileHandler`` assumes one writer: two processes that both see the
file full both rotate it, and one pushes the other's fresh file down the chain. Here each record
is one ``write`` on an O_APPEND descriptor (lines from several processes never interleave), the
rotation itself runs under an ``flock`` and re-checks the size, and a process whose file was
rotated by another notices the new inode and reopens. A failed write (disk full, the folder
removed) turns the handler off and is reported once through ``on_failure``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from presetctl.obs.records import LOGGER

LOG_NAME = f"{LOGGER}.log"


def rotated_name(path: Path, n: int) -> Path:
    return path.with_name(f"{path.name}.{n}")


def log_files(folder: Path, name: str = LOG_NAME) -> list[Path]:
    """The log and its rotated predecessors, oldest first (``name.N`` ... ``name.1``, ``name``)."""
    base = folder / name
    numbered: list[tuple[int, Path]] = []
    try:
        for p in folder.glob(f"{name}.*"):
            suffix = p.name[len(name) + 1:]
            if suffix.isdigit():
                numbered.append((int(suffix), p))
    except OSError:
        return []
    out = [p for _, p in sorted(numbered, reverse=True)]
    if base.exists():
        out.append(base)
    return out


class SharedRotatingFileHandler(logging.Handler):
    def __init__(self, path: Path, max_bytes: int, backups: int,
                 on_failure: Callable[[OSError], None] | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.on_failure = on_failure
        self.failed: OSError | None = None
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._fd = -1
        self._ino = -1
        self._open()  # raises OSError: the caller decides what a missing log means

    def _open(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self._ino = os.fstat(fd).st_ino

    def emit(self, record: logging.LogRecord) -> None:
        if self.failed is not None:
            return
        try:
            data = (self.format(record) + "\n").encode("ascii", "backslashreplace")
            self._before_write(len(data))
            written = os.write(self._fd, data)
            if written < len(data):  # a regular file takes all of it unless the disk is full
                os.write(self._fd, data[written:])
        except OSError as exc:
            self._fail(exc)

    def _before_write(self, size: int) -> None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._open()  # deleted (by prune, or by hand): start a new file
            return
        if st.st_ino != self._ino:
            self._open()  # another process rotated it
            st = os.fstat(self._fd)
        if self.max_bytes > 0 and st.st_size + size > self.max_bytes and st.st_size > 0:
            self._rotate(size)

    def _rotate(self, size: int) -> None:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.stat(self.path)
            if st.st_ino != self._ino:  # rotated while we waited for the lock
                self._open()
                return
            if st.st_size + size <= self.max_bytes:
                return
            if self.backups > 0:
                for n in range(self.backups - 1, 0, -1):
                    src = rotated_name(self.path, n)
                    if src.exists():
                        os.replace(src, rotated_name(self.path, n + 1))
                os.replace(self.path, rotated_name(self.path, 1))
            else:
                os.unlink(self.path)
            self._open()
        finally:
            # Unlock before closing: a worker forked meanwhile shares this open file description, and
            # closing our descriptor alone would leave the lock held until that worker exits.
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _fail(self, exc: OSError) -> None:
        self.failed = exc
        if self.on_failure is not None:
            self.on_failure(exc)

    def close(self) -> None:
        try:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
        finally:
            super().close()


ANSI = {logging.DEBUG: "2", logging.INFO: "36", logging.WARNING: "33", logging.ERROR: "31", logging.CRITICAL: "1;31"}


class ConsoleHandler(logging.Handler):
    """``presetctl: warning: message`` on stderr; the level word coloured unless NO_COLOR or not a terminal.

    ``safe`` makes untrusted text (file names, messages quoting a preset) safe for a terminal.
    Records marked ``deferred`` are left out: the command shows them later, in one block.
    """

    def __init__(self, level: int, color: bool, safe: Callable[[str], str] = str,
                 stream: TextIO | None = None) -> None:
        super().__init__(level)
        self.color = color
        self.safe = safe
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "deferred", False):
            return
        word = record.levelname.lower()
        if self.color:
            word = f"\x1b[{ANSI.get(record.levelno, '0')}m{word}\x1b[0m"
        code = getattr(record, "code", "")
        where = getattr(record, "file", "")
        text = self.safe(record.getMessage())
        line = f"{LOGGER}: {word}: " + (f"{code} " if code else "") + (f"{self.safe(where)}: " if where else "") + text
        stream = self.stream or sys.stderr
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # stderr closed (a pipe whose reader went away): nowhere left to tell
