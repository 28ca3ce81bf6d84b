"""Where presetctl keeps its state: journals, backups, locks.

``--state-dir`` wins, then ``PRESETCTL_STATE_DIR``, then the platform's user state folder
(``~/.local/state/presetctl`` on Linux), so tests and throwaway runs never touch a user's history.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from presetctl.engine.errors import StateError


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The state folder, created if missing (raises StateError when it cannot be)."""
    chosen = override or os.environ.get("PRESETCTL_STATE_DIR") or platformdirs.user_state_dir("presetctl")
    path = Path(chosen).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the state folder {path}: {exc.strerror or exc}") from None
    if not path.is_dir():
        raise StateError(f"state folder {path} is not a folder")
    return path


def runs_dir(root: Path) -> Path:
    return root / "fix-runs"


def backups_dir(root: Path) -> Path:
    return root / "backups"


def lock_path(root: Path) -> Path:
    return root / "fix.lock"
