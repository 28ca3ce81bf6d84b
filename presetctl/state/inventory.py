"""What is in the state, log and cache folders, how big it is, and what is wrong with it (for ``doctor``).

Nothing here creates or changes anything: a folder that does not exist yet is reported as such.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FolderInfo:
    path: Path
    exists: bool
    mode: int | None = None  # permission bits
    size: int = 0  # bytes of every regular file below it
    files: int = 0
    problem: str = ""  # why it cannot be read, or why it is not a folder

    @property
    def private(self) -> bool:
        return self.mode is not None and not self.mode & 0o077


def folder_info(path: Path) -> FolderInfo:
    try:
        st = path.stat()
    except FileNotFoundError:
        return FolderInfo(path, False)
    except OSError as exc:
        return FolderInfo(path, True, problem=f"cannot be read: {exc.strerror or exc}")
    if not stat.S_ISDIR(st.st_mode):
        return FolderInfo(path, True, stat.S_IMODE(st.st_mode), problem="is not a folder")
    size = files = 0
    problem = ""

    def unreadable(exc: OSError) -> None:
        nonlocal problem
        problem = problem or f"{exc.filename or path} cannot be read: {exc.strerror or exc}"

    for root, _dirs, names in os.walk(path, onerror=unreadable):  # os.walk never follows links by default
        for name in names:
            try:
                fst = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if stat.S_ISREG(fst.st_mode):
                size += fst.st_size
                files += 1
    if not problem and not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        problem = "is not writable by this user"
    return FolderInfo(path, True, stat.S_IMODE(st.st_mode), size, files, problem)


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
