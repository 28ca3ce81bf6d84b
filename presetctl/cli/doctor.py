"""``presetctl doctor``: where presetctl keeps things, how big they are, whether they are healthy; ``--prune``."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from presetctl import __version__
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.globals import GlobalOptions
from presetctl.cli.units import format_size, parse_age, parse_size
from presetctl.engine.errors import HistoryError, UsageError
from presetctl.obs.handlers import LOG_NAME, log_files
from presetctl.safe_text import visible
from presetctl.state.crash import reports
from presetctl.state.history import HistoryStore, Inspection, inspect, quarantined
from presetctl.state.inventory import FolderInfo, file_size, folder_info
from presetctl.state.paths import Locations, backups_dir, runs_dir
from presetctl.state.prune import PruneResult, prune
from presetctl.state.schema import SCHEMA_VERSION

DEFAULT_AGE, DEFAULT_SIZE = "90d", "500MB"


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def line(self, label: str, text: str) -> None:
        self.lines.append(f"{label:<15} {visible(text)}")


def _folder(report: Report, label: str, info: FolderInfo, extra: str = "") -> None:
    key = label.split()[0]
    report.data[key] = {"path": str(info.path), "exists": info.exists, "size": info.size, "files": info.files,
                        "mode": oct(info.mode) if info.mode is not None else None, "problem": info.problem or None}
    if not info.exists:
        report.line(label, f"{info.path} (not created yet)")
        return
    mode = f"{info.mode:04o}" if info.mode is not None else "?"
    files = f"{info.files} file{'s' if info.files != 1 else ''}"
    report.line(label, f"{info.path} ({mode}, {format_size(info.size)} in {files}){extra}")
    if info.problem:
        report.problems.append(f"{info.path} {info.problem}")
    elif not info.private:
        report.problems.append(f"{info.path} is readable by other users (mode {mode}); presetctl creates it 0700")


def _history(report: Report, path: Path, db: Inspection) -> None:
    report.data["history"] = {"path": str(path), "exists": db.exists, "size": db.size, "schema": db.version,
                              "schema_supported": SCHEMA_VERSION, "owner": db.owner or None,
                              "quick_check": list(db.quick_check), "runs": db.runs, "damage": db.damage,
                              "problem": db.problem or None}
    if not db.exists:
        report.line("  history", f"{path.name}: none yet (created by the first recorded run)")
        return
    if db.problem:
        report.line("  history", f"{path.name}: {db.problem}")
        report.problems.append(db.problem)
        return
    if db.damage:
        report.line("  history", f"{path.name} ({format_size(db.size)}): damaged: {db.damage}")
        report.problems.append(f"the history database is damaged ({db.damage}); the next recorded run moves it aside "
                               "and starts a new one")
        return
    if db.owner != "presetctl":
        report.line("  history", f"{path.name}: not a presetctl database")
        report.problems.append(f"{path} is not a presetctl history database (a foreign SQLite file); presetctl leaves "
                               "it alone and keeps no history until it is moved away")
        return
    check = "ok" if db.quick_check == ("ok",) else "FAILED"
    span = ""
    if db.runs and db.oldest is not None and db.newest is not None:
        span = f", {db.runs} run{'s' if db.runs != 1 else ''} from {_date(db.oldest)} to {_date(db.newest)}"
    report.line("  history", f"{path.name} ({format_size(db.size)}), schema {db.version} (this presetctl: "
                f"{SCHEMA_VERSION}){span or ', no runs'}, quick_check {check}")
    if db.version is not None and db.version > SCHEMA_VERSION:
        report.problems.append(f"the history database was written by a newer presetctl (schema {db.version} > "
                               f"{SCHEMA_VERSION}); this version keeps no history until you upgrade")
    if check != "ok":
        report.problems.append("PRAGMA quick_check: " + "; ".join(db.quick_check[:5]))


def _date(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def examine(loc: Locations, max_bytes: int, backups: int) -> Report:
    report = Report()
    report.lines.append(f"presetctl {__version__}, Python {platform.python_version()}, {platform.platform()}")
    report.data["version"] = __version__
    state = folder_info(loc.state)
    _folder(report, "state folder", state, " [--state-dir / PRESETCTL_STATE_DIR]" if loc.overridden else "")
    if state.exists and not state.problem:
        _history(report, loc.history, inspect(loc.history))
        journals = list(runs_dir(loc.state).glob("*.jsonl")) if runs_dir(loc.state).is_dir() else []
        report.line("  fix runs", f"{len(journals)} journals, {format_size(sum(map(file_size, journals)))}")
        backups_info = folder_info(backups_dir(loc.state))
        report.line("  backups", f"{format_size(backups_info.size)} in {backups_info.files} files (kept for "
                    "`fix --undo`; never pruned)")
        crashes = reports(loc.crash_reports)
        report.line("  crash reports", f"{len(crashes)}" + (f", newest {crashes[-1]}" if crashes else ""))
        aside = quarantined(loc.history)
        if aside:
            report.line("  moved aside", f"{len(aside)} damaged databases, {format_size(sum(map(file_size, aside)))}")
        report.data.update(crash_reports=[str(p) for p in crashes], moved_aside=[str(p) for p in aside])
    logs = folder_info(loc.logs)
    _folder(report, "log folder", logs, f", rotates at {format_size(max_bytes)}, keeps {backups}")
    cache = folder_info(loc.cache)
    tag = (loc.cache / "CACHEDIR.TAG").is_file()
    _folder(report, "cache folder", cache, (", CACHEDIR.TAG present" if tag else ", no CACHEDIR.TAG")
            if cache.exists else "")
    return report


def _prune(loc: Locations, older_than: float | None, max_size: int | None) -> PruneResult:
    deletable = [*reports(loc.crash_reports), *quarantined(loc.history)]
    logs = log_files(loc.logs)
    deletable += [p for p in logs if p.name != LOG_NAME]
    deletable += [p.with_name(p.name + s) for p in quarantined(loc.history) for s in ("-wal", "-shm")]
    counted = [p for p in logs if p.name == LOG_NAME]
    store = HistoryStore.open(loc.history) if loc.history.exists() else None
    try:
        return prune(store, deletable, counted, older_than=older_than, max_bytes=max_size)
    finally:
        if store is not None:
            store.close()


@guarded
def doctor(
    ctx: typer.Context,
    do_prune: Annotated[bool, typer.Option("--prune", help=f"Delete old history runs, crash reports, damaged "
                        f"databases moved aside and rotated logs (default: --older-than {DEFAULT_AGE} --max-size "
                        f"{DEFAULT_SIZE}). Fix backups are kept.")] = False,
    older_than: Annotated[str | None, typer.Option("--older-than", metavar="AGE", help="With --prune: delete what is "
                          "older than AGE (30d, 12h, 2w).")] = None,
    max_size: Annotated[str | None, typer.Option("--max-size", metavar="SIZE", help="With --prune: then delete the "
                        "oldest until everything totals at most SIZE (500MB, 1GiB).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show where presetctl keeps history, logs, caches, backups and crash reports, their sizes, the history
    schema version and an integrity check (PRAGMA quick_check).

    Exit codes: 0 healthy (or pruned), 1 problems found (listed), 2 usage error or --prune failed, 130 interrupted.
    """
    g = GlobalOptions.of(ctx)
    loc = Locations.resolve(g.state_dir)
    if (older_than or max_size) and not do_prune:
        raise UsageError("--older-than and --max-size go with --prune")
    pruned: PruneResult | None = None
    if do_prune:
        age = parse_age(older_than or DEFAULT_AGE)
        size = parse_size(max_size or DEFAULT_SIZE)
        try:
            pruned = _prune(loc, age, size)
        except HistoryError as exc:
            raise HistoryError(f"cannot prune: {exc}", code=exc.code, file=exc.file) from None
    report = examine(loc, g.log_max_bytes, g.log_backups)
    if pruned is not None:
        report.lines.append(f"pruned: {pruned.runs_deleted} runs and {len(pruned.files_deleted)} files; "
                            f"{format_size(pruned.bytes_before)} -> {format_size(pruned.bytes_after)}")
        report.data["pruned"] = {"runs": pruned.runs_deleted, "files": [str(p) for p in pruned.files_deleted],
                                 "bytes_before": pruned.bytes_before, "bytes_after": pruned.bytes_after}
    report.data["problems"] = report.problems
    if as_json:
        sys.stdout.write(json.dumps(report.data, indent=2, ensure_ascii=True) + "\n")
    else:
        out = report.lines + ([""] + ["problems:"] + [f"  - {visible(p)}" for p in report.problems]
                              if report.problems else ["", "no problems found"])
        sys.stdout.write("\n".join(out) + "\n")
    raise typer.Exit(EXIT_FINDINGS if report.problems and pruned is None else EXIT_OK)
