"""The fix journal: one JSON-lines file per run, appended and fsynced before each change.

Records (``"t"`` names the kind):
  ``run``    header: id, start time, working folder, the paths and settings of the run
  ``begin``  written after the backup and before the file is touched: path, rename target,
             SHA-256 before and after, original mode and mtime, the fixes
  ``done``   the file (and its rename) is complete
  ``fail``   the write failed; the file was left as it was
  ``end``    the run finished; ``undo`` the run was rolled back
A crash can tear only the last line; readers drop a line that does not parse. A ``begin``
without ``done`` is a file in flight: undo and resume look at its bytes to see how far it got.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

import orjson

from presetctl.engine.error_codes import ErrorCode, from_errno
from presetctl.engine.errors import StateError
from presetctl.fsutil import fsync_dir
from presetctl.state.ids import new_run_id as new_run_id
from presetctl.state.paths import runs_dir

SUFFIX = ".jsonl"


class RunHeader(TypedDict, total=False):
    """What a run was asked to do: enough for ``--resume`` to do it again, and for ``--history``."""

    paths: list[str]  # as given, relative to ``cwd``
    cwd: str
    select: list[str] | None
    extend_select: list[str] | None
    ignore: list[str] | None
    include: list[str] | None
    exclude: list[str] | None
    profile: list[str] | None
    config: str | None
    unsafe: bool


class RunRecord(RunHeader, total=False):
    t: Literal["run"]
    id: str
    started: str


class BeginRecord(TypedDict):
    t: Literal["begin"]
    path: str
    to: str | None  # the rename target
    before: str  # SHA-256 of the original bytes
    after: str  # SHA-256 of the fixed bytes
    mode: int
    mtime_ns: int
    blob: list[str | int]  # where the backup store keeps the original: [pack, offset, length]
    fixes: list[str]


class PathRecord(TypedDict):
    t: Literal["done", "undone"]
    path: str


class FailRecord(TypedDict):
    t: Literal["fail"]
    path: str
    error: str


class EndRecord(TypedDict):
    t: Literal["end"]
    at: str
    files: int


class UndoRecord(TypedDict):
    t: Literal["undo"]
    at: str
    restored: int


Record = RunRecord | BeginRecord | PathRecord | FailRecord | EndRecord | UndoRecord


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.path = path
        self.fsync = fsync
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot open the journal {path}: {exc.strerror or exc}",
                             code=from_errno(exc.errno, ErrorCode.WRITE_FAILED)) from None

    @classmethod
    def create(cls, root: Path, run_id: str, header: RunHeader, *, fsync: bool = True) -> Journal:
        folder = runs_dir(root)
        folder.mkdir(parents=True, exist_ok=True)
        journal = cls(folder / f"{run_id}{SUFFIX}", fsync=fsync)
        record: RunRecord = {"t": "run", "id": run_id, "started": now_iso(), **header}
        journal.append(record)
        if fsync:  # the new journal's name must survive a crash too
            fsync_dir(folder)
        return journal

    def append(self, record: Record, *, durable: bool = True) -> None:
        line = orjson.dumps(record) + b"\n"
        try:
            os.write(self._fd, line)
            if durable and self.fsync:
                os.fsync(self._fd)
        except OSError as exc:
            raise StateError(f"cannot write the journal {self.path}: {exc.strerror or exc}",
                             code=from_errno(exc.errno, ErrorCode.WRITE_FAILED)) from None

    def sync(self) -> None:
        """Make every record appended so far durable (one fsync for a batch of records)."""
        if self.fsync:
            try:
                os.fsync(self._fd)
            except OSError as exc:
                raise StateError(f"cannot write the journal {self.path}: {exc.strerror or exc}",
                                 code=from_errno(exc.errno, ErrorCode.WRITE_FAILED)) from None

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a journal as written (a torn last line dropped). Read back from disk, so
    untrusted in shape: readers use ``.get``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateError(f"cannot read the journal {path}: {exc.strerror or exc}",
                         code=ErrorCode.BACKUP_DAMAGED) from None
    out: list[dict[str, Any]] = []
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line torn by a crash: the record before it is what counts
        if isinstance(rec, dict):
            out.append(rec)
    return out


@dataclass(frozen=True)
class RunInfo:
    """One fix run as its journal tells it: id, start, status, files changed, records."""

    run_id: str
    started: str
    status: str  # "complete", "interrupted", "undone"
    files: int  # files changed (or being changed when interrupted)
    header: RunHeader = field(default_factory=lambda: RunHeader())
    records: tuple[Mapping[str, Any], ...] = ()


def _info(path: Path) -> RunInfo:
    records = read_records(path)
    header = next((r for r in records if r.get("t") == "run"), {})
    kinds = {r.get("t") for r in records}
    status = "undone" if "undo" in kinds else "complete" if "end" in kinds else "interrupted"
    files = len({r.get("path") for r in records if r.get("t") == "begin"})
    run_id = str(header.get("id") or path.name.removesuffix(SUFFIX))
    return RunInfo(run_id, str(header.get("started", "")), status, files, cast(RunHeader, header), tuple(records))


def list_runs(root: Path) -> list[RunInfo]:
    folder = runs_dir(root)
    if not folder.is_dir():
        return []
    return [_info(p) for p in sorted(folder.glob(f"*{SUFFIX}"))]


def load_run(root: Path, run_id: str | None) -> RunInfo:
    """The named run, or the latest one; raises StateError when there is none."""
    runs = list_runs(root)
    if not runs:
        raise StateError(f"no fix runs recorded in {root}")
    if run_id is None:
        return runs[-1]
    matches = [r for r in runs if r.run_id == run_id or r.run_id.startswith(run_id)]
    if len(matches) != 1:
        what = "no" if not matches else "more than one"
        raise StateError(f"{what} fix run matches {run_id!r} (see `presetctl fix --history`)")
    return matches[0]


def journal_path(root: Path, run_id: str) -> Path:
    return runs_dir(root) / f"{run_id}{SUFFIX}"
