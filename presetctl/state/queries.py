"""Questions asked of the run history: runs, the last run over some targets, findings, error statistics.

Every function takes an open ``sqlite3.Connection`` (from ``HistoryStore.conn`` or
``history.open_for_reading``) and returns frozen values; nothing here writes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import UsageError
from presetctl.state.recorder import from_db, targets_key

_RUN_COLUMNS = ("id, command, arguments, targets, cwd, version, config_hash, pid, started_at, ended_at, exit_code, "
                "outcome, files, findings, errors, warnings, infos, tool_errors, status_counts, timings")


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
            "tool_errors": self.tool_errors, "by_status": self.status_counts, "timings": self.timings,
        }


def _run(row: Sequence[Any]) -> RunRow:
    return RunRow(row[0], row[1], json.loads(row[2]), tuple(json.loads(row[3])), from_db(row[4]), row[5], row[6],
                  row[7], row[8], row[9], row[10], row[11], row[12], row[13], row[14], row[15], row[16], row[17],
                  json.loads(row[18]), json.loads(row[19]))


def list_runs(conn: sqlite3.Connection, *, limit: int | None = 20, command: str | None = None,
              since: float | None = None) -> list[RunRow]:
    """Most recent first."""
    where, args = _where(command=command, since=since)
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


def error_stats(conn: sqlite3.Connection, *, since: float | None = None) -> list[ErrorStat]:
    """Tool errors by code across recorded runs: occurrences, retries, recovery success."""
    where = " WHERE at >= ?" if since is not None else ""
    args = (since,) if since is not None else ()
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
