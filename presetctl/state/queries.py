"""Questions asked of the run history: runs, the last run over some targets, findings, error statistics.

Every function takes an open ``sqlite3.Connection`` (from ``HistoryStore.conn`` or
``history.open_for_reading``) and returns frozen values; nothing here writes.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import HistoryError, UsageError
from presetctl.engine.model import NOWHERE, Finding, Location, Related, SecuritySeverity, Severity
from presetctl.engine.stats.model import HistoryFacts, RecordedRun, RecoveryStat
from presetctl.state.history import classify_sqlite, open_for_reading
from presetctl.state.recorder import from_db, targets_key

_RUN_COLUMNS = ("id, command, arguments, targets, cwd, version, config_hash, pid, started_at, ended_at, exit_code, "
                "outcome, files, findings, errors, warnings, infos, tool_errors, status_counts, timings, format_counts")


@dataclass(frozen=True)
class RunRow:
    id: str
    command: str
    arguments: dict[str, Any]
    targets: tuple[str, ...]
    cwd: str
    version: str
    config_hash: str
    pid: int
    started_at: float
    ended_at: float | None
    exit_code: int | None
    outcome: str
    files: int
    findings: int
    errors: int
    warnings: int
    infos: int
    tool_errors: int
    status_counts: dict[str, int]
    timings: dict[str, float]
    format_counts: dict[str, int]  # files by format ({} for runs recorded before history schema 3)

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "command": self.command, "arguments": self.arguments, "targets": list(self.targets),
            "cwd": self.cwd, "version": self.version, "config_hash": self.config_hash, "started_at": self.started_at,
            "ended_at": self.ended_at, "exit_code": self.exit_code, "outcome": self.outcome, "files": self.files,
            "findings": self.findings, "counts": {"error": self.errors, "warning": self.warnings, "info": self.infos},
            "tool_errors": self.tool_errors, "by_status": self.status_counts, "by_format": self.format_counts,
            "timings": self.timings,
        }


def _run(row: Sequence[Any]) -> RunRow:
    return RunRow(row[0], row[1], json.loads(row[2]), tuple(json.loads(row[3])), from_db(row[4]), row[5], row[6],
                  row[7], row[8], row[9], row[10], row[11], row[12], row[13], row[14], row[15], row[16], row[17],
                  json.loads(row[18]), json.loads(row[19]), json.loads(row[20]))


def list_runs(conn: sqlite3.Connection, *, limit: int | None = 20, command: str | None = None,
              since: float | None = None, targets: Sequence[str] | None = None) -> list[RunRow]:
    """Most recent first; ``targets``: only runs over the same targets (however they were spelled)."""
    where, args = _where(command=command, since=since, key=targets_key(targets) if targets is not None else None)
    sql = f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY started_at DESC, id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_run(r) for r in conn.execute(sql, args)]


def _where(*, command: str | None = None, since: float | None = None, key: str | None = None,
           finished: bool = False) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if command is not None:
        clauses.append("command = ?")
        args.append(command)
    if since is not None:
        clauses.append("started_at >= ?")
        args.append(since)
    if key is not None:
        clauses.append("targets_key = ?")
        args.append(key)
    if finished:
        clauses.append("ended_at IS NOT NULL")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def last_run(conn: sqlite3.Connection, *, targets: Sequence[str] | None = None, command: str | None = None,
             finished: bool = True) -> RunRow | None:
    """The latest run (finished ones only, by default), optionally over the same targets."""
    where, args = _where(command=command, key=targets_key(targets) if targets is not None else None,
                         finished=finished)
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs{where} ORDER BY started_at DESC, id DESC LIMIT 1",
                       args).fetchone()
    return _run(row) if row else None


def find_run(conn: sqlite3.Connection, ref: str) -> RunRow:
    """A run by id, unique id prefix, or ``last``; UsageError when none or several match."""
    if ref == "last":
        run = last_run(conn, finished=False)
        if run is None:
            raise UsageError("no runs recorded yet")
        return run
    rows = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                        (ref, ref + "\U0010ffff")).fetchall()
    if len(rows) != 1:
        raise UsageError(f"{'no' if not rows else 'more than one'} recorded run matches {ref!r} "
                         "(see `presetctl logs runs`)")
    return _run(rows[0])


FINDING_FIELDS = ("path", "code", "name", "severity", "security_severity", "message", "location", "pointer", "offset",
                  "voice", "entry", "line", "column", "fixable", "hint", "related")


def findings_of(conn: sqlite3.Connection, run_id: str) -> Iterator[dict[str, Any]]:
    """The run's findings as the JSON report writes them (report/json_report.py finding_dict), in order."""
    cols = ", ".join(f'"{c}"' for c in FINDING_FIELDS)
    for row in conn.execute(f"SELECT {cols} FROM findings WHERE run_id = ? ORDER BY seq", (run_id,)):
        item = dict(zip(FINDING_FIELDS, row, strict=True))
        for key in ("path", "message", "location", "pointer", "entry", "hint"):
            if item[key] is not None:
                item[key] = from_db(item[key])
        item["fixable"] = bool(item["fixable"])
        item["related"] = json.loads(item["related"])  # ASCII JSON: even undecodable name bytes come back exact
        yield item


# -- reading the history for one question ------------------------------------------------------------

@contextmanager
def reading(path: Path, *, off: str = "") -> Iterator[sqlite3.Connection]:
    """A read-only connection to the history at ``path`` for the ``with`` block; nothing is created.

    Raises HistoryError with one sentence a user can act on when the history is off (``off`` says
    why), missing, damaged, foreign or of another schema, and when SQLite fails while the block
    reads (a page damaged past the header shows only then): never a traceback.
    """
    if off:
        raise HistoryError(f"run history is off ({off}): runs are neither recorded nor read",
                           code=ErrorCode.HISTORY_UNAVAILABLE)
    conn = open_for_reading(path)
    if conn is None:
        raise HistoryError(f"no run history yet ({path} does not exist); recorded validate and scan-security runs "
                           "appear there", code=ErrorCode.HISTORY_UNAVAILABLE, file=str(path))
    try:
        yield conn
    except sqlite3.Error as exc:
        damaged = classify_sqlite(exc) is ErrorCode.HISTORY_CORRUPT
        why = (f"the history database {path} is damaged ({exc}); the next recorded run moves it aside"
               if damaged else f"cannot read the history database {path}: {exc}")
        raise HistoryError(why, code=classify_sqlite(exc) or ErrorCode.HISTORY_UNAVAILABLE, file=str(path)) from None
    finally:
        conn.close()


# -- runs and findings for `presetctl report` --------------------------------------------------------

REPORTED_COMMANDS = ("validate", "scan-security")  # the commands whose runs record findings
_LAST = re.compile(r"^last(?:~(\d+))?$")


def is_last_ref(ref: str) -> bool:
    """``last`` or ``last~N``: words that always mean the history, never a file of that name."""
    return _LAST.match(ref) is not None


def report_run(conn: sqlite3.Connection, ref: str, commands: Sequence[str] = REPORTED_COMMANDS) -> RunRow:
    """The run ``ref`` names for ``presetctl report``; UsageError when none (or several) match.

    ``last``: the latest finished run of ``commands``. ``last~N``: the N-th finished run before it
    of the same command over the same targets (``last~1`` is the run to compare ``last`` with).
    Anything else: a run id or a unique prefix of one, which must be a run of ``commands``.
    """
    found = _LAST.match(ref)
    if found is None:
        run = find_run(conn, ref)
        if run.command not in commands:
            raise UsageError(f"run {run.id} is a `{run.command}` run: only {' and '.join(commands)} runs have "
                             "findings to show")
        return run
    marks = ", ".join("?" * len(commands))
    row = conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE command IN ({marks}) AND ended_at IS NOT NULL "
                       "ORDER BY started_at DESC, id DESC LIMIT 1", tuple(commands)).fetchone()
    if row is None:
        raise UsageError(f"no finished {' or '.join(commands)} run is recorded yet")
    last = _run(row)
    back = int(found.group(1) or 0)
    if back == 0:
        return last
    row = conn.execute(
        f"SELECT {_RUN_COLUMNS} FROM runs WHERE targets_key = ? AND command = ? AND ended_at IS NOT NULL "
        "AND (started_at < ? OR (started_at = ? AND id < ?)) ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?",
        (targets_key(last.targets), last.command, last.started_at, last.started_at, last.id, back - 1)).fetchone()
    if row is None:
        earlier = "no earlier finished" if back == 1 else f"fewer than {back} earlier finished"
        raise UsageError(f"the history holds {earlier} {last.command} runs over the targets of the last one "
                         f"({last.id})")
    return _run(row)


_SEVERITY = {s.label: s for s in Severity}
_SECURITY = {s.label: s for s in SecuritySeverity}
_VALUE_COLUMNS = ('path, code, name, severity, security_severity, message, pointer, "offset", voice, entry, line, '
                  '"column", fixable, hint, related')


def _related_values(text: str) -> tuple[Related, ...]:
    if text == "[]":  # nearly every finding: skip the parser
        return ()
    return tuple(Related(r["path"], Location(voice=r.get("voice")), r.get("name") or "")
                 for r in json.loads(text) if isinstance(r, dict) and isinstance(r.get("path"), str))


def finding_values(conn: sqlite3.Connection, run_id: str) -> Iterator[Finding]:
    """The run's findings as the engine's own values, in order, one row at a time from the cursor.

    What :func:`findings_of` gives as JSON-report dicts, without the dicts: a 100,000-finding run
    is never held twice. Repeated texts (paths, codes, rule names, hints) are shared, as a run
    repeats them thousands of times. Raises HistoryError for a row this presetctl cannot read.
    """
    shared: dict[str, str] = {}
    keep = shared.setdefault
    cursor = conn.execute(f"SELECT {_VALUE_COLUMNS} FROM findings WHERE run_id = ? ORDER BY seq", (run_id,))
    for path, code, name, sev, sec, msg, ptr, off, voice, entry, line, col, fixable, hint, related in cursor:
        severity = _SEVERITY.get(sev)
        if severity is None or (sec is not None and sec not in _SECURITY):
            raise HistoryError(f"run {run_id} holds a finding of severity {sev!r}/{sec!r}, which this presetctl "
                               "does not know (recorded by a newer version?)", code=ErrorCode.HISTORY_NEWER)
        yield Finding(
            keep(path, path) if isinstance(path, str) else from_db(path), keep(code, code), severity,
            msg if isinstance(msg, str) else from_db(msg),
            Location(from_db(ptr), off, voice, from_db(entry)) if (ptr or entry or off is not None
                                                                   or voice is not None) else NOWHERE,
            line, col, keep(hint, hint) if isinstance(hint, str) else from_db(hint), bool(fixable),
            _SECURITY[sec] if sec is not None else None, keep(name, name), _related_values(related))


@dataclass(frozen=True)
class FailedFiles:
    run: RunRow | None  # the run they come from; None when no run over these targets was recorded
    paths: tuple[str, ...]  # absolute, sorted


def failed_files(conn: sqlite3.Connection, targets: Sequence[str], command: str = "validate") -> FailedFiles:
    """Files with findings in the last finished run of ``command`` over the same targets (``validate --failed``)."""
    run = last_run(conn, targets=targets, command=command)
    if run is None:
        return FailedFiles(None, ())
    rows = conn.execute("SELECT DISTINCT path FROM findings WHERE run_id = ?", (run.id,))
    paths = sorted({os.path.normpath(os.path.join(run.cwd, from_db(r[0]))) for r in rows})
    return FailedFiles(run, tuple(paths))


@dataclass(frozen=True)
class ErrorStat:
    code: str
    occurrences: int
    runs: int
    retries: int
    recovered: int
    failed: int
    last_seen: float

    @property
    def success_rate(self) -> float | None:
        """Share of occurrences a recovery was tried for that it saved; None when none was tried."""
        tried = self.recovered + self.failed
        return self.recovered / tried if tried else None

    @property
    def name(self) -> str:
        try:
            return ErrorCode(self.code).slug
        except ValueError:
            return "unknown"  # a code from a newer presetctl

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "occurrences": self.occurrences, "runs": self.runs,
                "retries": self.retries, "recovered": self.recovered, "failed": self.failed,
                "success_rate": self.success_rate, "last_seen": self.last_seen}


def error_stats(conn: sqlite3.Connection, *, since: float | None = None,
                targets: Sequence[str] | None = None) -> list[ErrorStat]:
    """Tool errors by code across recorded runs (``targets``: only runs over those): occurrences,
    retries, recovery success."""
    clauses: list[str] = []
    args: list[Any] = []
    if since is not None:
        clauses.append("at >= ?")
        args.append(since)
    if targets is not None:
        clauses.append("run_id IN (SELECT id FROM runs WHERE targets_key = ?)")
        args.append(targets_key(targets))
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = conn.execute(
        "SELECT code, count(*), count(DISTINCT run_id), sum(retries), sum(outcome = 'recovered'), "
        f"sum(outcome = 'failed'), max(at) FROM tool_errors{where} GROUP BY code ORDER BY count(*) DESC, code", args)
    return [ErrorStat(r[0], r[1], r[2], r[3] or 0, r[4] or 0, r[5] or 0, r[6]) for r in rows]


@dataclass(frozen=True)
class ToolErrorRow:
    run_id: str
    at: float
    code: str
    message: str
    file: str
    stage: str
    rule: str
    outcome: str
    retries: int


def tool_errors_of(conn: sqlite3.Connection, run_id: str) -> list[ToolErrorRow]:
    rows = conn.execute("SELECT run_id, at, code, message, file, stage, rule, outcome, retries FROM tool_errors "
                        "WHERE run_id = ? ORDER BY seq", (run_id,))
    return [ToolErrorRow(r[0], r[1], r[2], from_db(r[3]), from_db(r[4]), r[5], r[6], r[7], r[8]) for r in rows]


# -- the `stats` history section ---------------------------------------------------------------------

def rule_counts(conn: sqlite3.Connection, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Findings per rule code of each run (runs without findings are absent)."""
    out: dict[str, dict[str, int]] = {}
    if not run_ids:
        return out
    marks = ", ".join("?" * len(run_ids))
    for run_id, code, n in conn.execute(f"SELECT run_id, code, count(*) FROM findings WHERE run_id IN ({marks}) "
                                        "GROUP BY run_id, code", tuple(run_ids)):
        out.setdefault(run_id, {})[code] = n
    return out


def _recorded(run: RunRow, by_rule: dict[str, int] | None) -> RecordedRun:
    return RecordedRun(run.id, run.command, run.started_at, run.outcome if run.finished else "no end",
                       run.exit_code, run.files, run.findings,
                       {"error": run.errors, "warning": run.warnings, "info": run.infos}, by_rule)


def stats_history(conn: sqlite3.Connection, targets: Sequence[str], *, window: int,
                  commands: Sequence[str] = REPORTED_COMMANDS, exclude: Sequence[str] = ()) -> HistoryFacts:
    """What ``presetctl stats`` shows in its history section: the runs over ``targets`` (oldest
    first, without ``exclude``: the stats run itself), the findings per rule of the last ``window``
    finished runs of each of ``commands``, and the tool errors of the runs over ``targets``."""
    runs = [r for r in reversed(list_runs(conn, limit=None, targets=targets)) if r.id not in exclude]
    counted: set[str] = set()
    for command in commands:
        counted.update(r.id for r in [r for r in runs if r.command == command and r.finished][-window:])
    counts = rule_counts(conn, sorted(counted))
    recovery = tuple(RecoveryStat(s.code, s.name, s.occurrences, s.runs, s.retries, s.recovered, s.failed)
                     for s in error_stats(conn, targets=targets))
    return HistoryFacts(tuple(os.path.abspath(t) for t in targets),
                        tuple(_recorded(r, counts.get(r.id, {}) if r.id in counted else None) for r in runs),
                        recovery)
