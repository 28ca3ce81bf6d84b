"""Values of the fix engine: proposed fixes (defined in edits.py), per-file outcomes and the result of a run."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from presetctl.engine.fix.edits import FixAction as FixAction
from presetctl.engine.fix.edits import FixContext as FixContext
from presetctl.engine.fix.edits import Fixer as Fixer
from presetctl.engine.fix.edits import Splice as Splice
from presetctl.engine.model import NOWHERE, Location, StageTiming


@dataclass(frozen=True, slots=True)
class AppliedFix:
    code: str
    description: str
    location: Location = NOWHERE
    safety: str = "safe"


@dataclass(frozen=True, slots=True)
class RolledBackFix:
    code: str
    description: str
    location: Location
    reason: str


class FileFixStatus(enum.Enum):
    UNCHANGED = "unchanged"  # nothing to fix
    FIXED = "fixed"  # written (and/or renamed)
    WOULD_FIX = "would-fix"  # --diff / --dry-run: would be changed
    FAILED = "failed"  # a write, rename or backup failed; the file was left as it was
    SKIPPED = "skipped"  # not read, unknown format, or not parsed


@dataclass(frozen=True)
class FileFix:
    path: str  # as shown (relative to the working folder)
    status: FileFixStatus
    format: str = "unknown"
    new_path: str | None = None  # after a rename
    applied: tuple[AppliedFix, ...] = ()
    rolled_back: tuple[RolledBackFix, ...] = ()
    error: str = ""
    before_sha: str = ""
    after_sha: str = ""
    diff: str = ""  # filled in --diff mode
    passes: int = 0
    seconds: float = 0.0  # planning (load, fix, re-validate) time
    check_seconds: float = 0.0  # of which loading and validating
    write_seconds: float = 0.0  # backup, journal and write time
    unsafe_left: int = 0  # findings an unsafe fix would address with --unsafe-fixes


@dataclass(frozen=True)
class FixResult:
    mode: str  # "write", "diff" or "dry-run"
    run_id: str | None
    files: tuple[FileFix, ...]
    timings: tuple[StageTiming, ...] = ()
    started_at: str = ""

    @cached_property
    def changed(self) -> tuple[FileFix, ...]:
        return tuple(f for f in self.files if f.status in (FileFixStatus.FIXED, FileFixStatus.WOULD_FIX))

    @cached_property
    def failed(self) -> tuple[FileFix, ...]:
        return tuple(f for f in self.files if f.status is FileFixStatus.FAILED)

    @cached_property
    def applied_count(self) -> int:
        return sum(len(f.applied) for f in self.changed)

    @cached_property
    def unsafe_available(self) -> int:
        """Fixes held back because they are unsafe (``--unsafe-fixes`` would apply them)."""
        return sum(f.unsafe_left for f in self.files)

    @cached_property
    def rolled_back_count(self) -> int:
        return sum(len(f.rolled_back) for f in self.files)

    def seconds(self, stage: str) -> float:
        return sum(t.seconds for t in self.timings if t.stage == stage)


@dataclass(frozen=True)
class UndoResult:
    run_id: str | None  # None: no run was left to undo
    restored: tuple[str, ...] = ()  # with ``dry_run``: the files that would be restored
    unchanged: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # (path, why)
    dry_run: bool = False
    already_undone: bool = False  # the run named was undone before: nothing was left to do

    @property
    def ok(self) -> bool:
        return not self.refused


def counts_by_code(files: Sequence[FileFix]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in files:
        for a in f.applied:
            out[a.code] = out.get(a.code, 0) + 1
    return dict(sorted(out.items()))
