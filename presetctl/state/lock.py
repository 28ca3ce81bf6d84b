"""One fix run (or undo, or resume) at a time per state folder: an advisory ``flock``.

The kernel drops the lock when the process dies, even by SIGKILL, so a crash never leaves a
stale lock behind; the journal, not the lock, says whether a run was interrupted.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import StateError


class StateLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> StateLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot open the lock file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateError(f"another presetctl fix run holds {self.path}; wait for it to finish",
                             code=ErrorCode.FIX_LOCKED) from None
        self._fd = fd
        return self

    def fileno(self) -> int:
        """The locked descriptor: a forked child must close it, or it keeps the lock after we die."""
        return -1 if self._fd is None else self._fd

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
