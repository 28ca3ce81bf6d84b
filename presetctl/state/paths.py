"""Where presetctl keeps what it writes: state (history, fix journals, backups, crash reports), logs, caches.

``--state-dir`` wins, then ``PRESETCTL_STATE_DIR``; either one moves everything (logs and caches
go into ``logs/`` and ``cache/`` inside it), so tests and throwaway runs never touch a user's
history. Otherwise the platform's user folders (platformdirs): on Linux
``~/.local/state/presetctl``, ``~/.local/state/presetctl/log`` and ``~/.cache/presetctl``.
Folders are created on first use, readable by their owner only (0700); the cache folder gets a
``CACHEDIR.TAG`` so backup tools skip it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from presetctl.engine.error_codes import ErrorCode, from_errno
from presetctl.engine.errors import StateError

APP = "presetctl"
ENV = "PRESETCTL_STATE_DIR"
HISTORY_NAME = "history.sqlite3"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by presetctl.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (0700 for the folder itself; parents as the umask says); StateError when impossible."""
    try:
        if not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                pass  # created meanwhile by another presetctl process, or a file: checked below
    except OSError as exc:
        raise StateError(f"cannot create the folder {path}: {exc.strerror or exc}",
                         code=from_errno(exc.errno, ErrorCode.STATE_DIR_UNUSABLE), file=str(path)) from None
    if not path.is_dir():
        raise StateError(f"{path} is not a folder", code=ErrorCode.STATE_DIR_UNUSABLE, file=str(path))
    return path


@dataclass(frozen=True)
class Locations:
    """The three folders; nothing is created until a ``*_dir()`` method is called."""

    state: Path
    logs: Path
    cache: Path
    overridden: bool = False

    @classmethod
    def resolve(cls, override: str | os.PathLike[str] | None = None) -> Locations:
        chosen = override or os.environ.get(ENV)
        if chosen:
            root = Path(chosen).expanduser()
            return cls(root, root / "logs", root / "cache", overridden=True)
        return cls(Path(platformdirs.user_state_dir(APP)), Path(platformdirs.user_log_dir(APP)),
                   Path(platformdirs.user_cache_dir(APP)))

    @property
    def history(self) -> Path:
        return self.state / HISTORY_NAME

    @property
    def crash_reports(self) -> Path:
        return self.state / "crash-reports"

    def state_dir(self) -> Path:
        return ensure_dir(self.state)

    def _inside_state(self, path: Path) -> None:
        # The override holds all three, and on Linux the log folder is inside the state folder: create
        # that one 0700 first, or making the inner folder would make it with the umask's mode.
        if path.is_relative_to(self.state):
            self.state_dir()

    def log_dir(self) -> Path:
        self._inside_state(self.logs)
        return ensure_dir(self.logs)

    def cache_dir(self) -> Path:
        self._inside_state(self.cache)
        path = ensure_dir(self.cache)
        tag = path / "CACHEDIR.TAG"
        if not tag.exists():
            try:
                tag.write_text(CACHEDIR_TAG, encoding="ascii")
            except OSError as exc:
                raise StateError(f"cannot write {tag}: {exc.strerror or exc}",
                                 code=from_errno(exc.errno, ErrorCode.STATE_DIR_UNUSABLE), file=str(tag)) from None
        return path


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The state folder, created if missing (raises StateError when it cannot be)."""
    return Locations.resolve(override).state_dir()


def runs_dir(root: Path) -> Path:
    return root / "fix-runs"


def backups_dir(root: Path) -> Path:
    return root / "backups"


def lock_path(root: Path) -> Path:
    return root / "fix.lock"
