"""Recording one run into the history database, streamed: a RunSink (engine/events.py) for the CLI.

Findings are buffered up to ``batch`` and written in one short transaction each, so a
100,000-file run holds at most one batch beyond what the engine itself holds. The run row is
inserted when the run begins (outcome ``running``) and completed when it ends; a process that
dies leaves a ``running`` row with no end, which is the truth.

History must never change what a command does: every database failure is caught here, turns
history off for the rest of the run and is handed once to ``on_problem``. A database found
damaged in the middle of a run is moved aside and recording goes on in a new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from presetctl.engine.error_codes import ErrorCode, from_errno
from presetctl.engine.errors import HistoryError
from presetctl.engine.incidents import Incident
from presetctl.engine.model import FileOutcome, Finding, StageTiming
from presetctl.state.history import HistoryStore, classify_sqlite, quarantine

FLUSH_EVERY = 1000


def targets_key(targets: Sequence[str]) -> str:
    """Identity of "the same targets": the sorted set of absolute, normalized paths."""
    norm = sorted({os.path.normpath(os.path.abspath(t)) for t in targets})
    return hashlib.sha256("\0".join(norm).encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class RunHeader:
    """What the history records of a run when it starts: the command as typed and where it ran."""

    run_id: str
    command: str
    arguments: str  # JSON object: the command's parameters as parsed
    targets: tuple[str, ...]  # absolute
    cwd: str
    version: str
    config_hash: str = ""
    started_at: float = field(default_factory=time.time)

    @property
    def targets_key(self) -> str:
        return targets_key(self.targets)


def outcome_for(exit_code: int) -> str:
    return {0: "clean", 1: "findings", 130: "interrupted"}.get(exit_code, "error")


def db_text(text: str) -> str | bytes:
    """Text for SQLite. A file name with undecodable bytes (lone surrogates via surrogateescape) cannot
    be stored as TEXT: it is stored as a BLOB of its original bytes, and ``from_db`` gives it back exactly."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")
    return text


def from_db(value: str | bytes | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value or ""


def _opt(text: str) -> str | bytes | None:
    return db_text(text) if text else None


def _finding_row(run_id: str, seq: int, f: Finding) -> tuple[object, ...]:
    loc = f.location
    related = json.dumps([{"path": r.path, "location": r.location.render(), "voice": r.location.voice,
                           "name": r.name or None} for r in f.related])
    return (run_id, seq, db_text(f.path), f.code, f.rule_name, f.severity.label,
            f.security.label if f.security else None, db_text(f.message), db_text(loc.render()), _opt(loc.pointer),
            loc.offset, loc.voice, _opt(loc.entry), f.line, f.column, int(f.fixable), _opt(f.hint), related)


class HistoryRecorder:
    """Writes one run. Implements RunSink; call ``begin`` first and ``finish`` last."""

    def __init__(self, store: HistoryStore, header: RunHeader, *,
                 on_problem: Callable[[HistoryError], None] | None = None, batch: int = FLUSH_EVERY) -> None:
        self.store = store
        self.header = header
        self.on_problem = on_problem
        self.batch = batch
        self.active = True
        self.files = 0
        self.status: Counter[str] = Counter()
        self.formats: Counter[str] = Counter()
        self.severity: Counter[str] = Counter()
        self.timings: dict[str, float] = {}
        self.finding_count = 0
        self.incident_count = 0
        self.pending_findings: list[Finding] = []
        self.pending_incidents: list[Incident] = []
        self.flushes = 0
        self._finding_seq = 0
        self._incident_seq = 0

    # --- RunSink -----------------------------------------------------------------------------
    def file_done(self, outcome: FileOutcome) -> None:
        self.files += 1
        self.status[outcome.status.value] += 1
        self.formats[outcome.format] += 1
        for inc in outcome.incidents:
            self.incident(inc)

    def findings(self, batch: Sequence[Finding]) -> None:
        for f in batch:
            self.severity[f.severity.label] += 1
        self.finding_count += len(batch)
        if not self.active:
            return
        for f in batch:
            self.pending_findings.append(f)
            if len(self.pending_findings) >= self.batch:
                self.flush()

    def incident(self, incident: Incident) -> None:
        self.incident_count += 1
        if self.active:
            self.pending_incidents.append(incident)
            if len(self.pending_incidents) >= self.batch:
                self.flush()

    def stage_done(self, timing: StageTiming) -> None:
        self.timings[timing.stage] = self.timings.get(timing.stage, 0.0) + timing.seconds

    # --- for commands whose results are not RunResults (fix, stats) --------------------------
    def count_files(self, status: Counter[str] | dict[str, int]) -> None:
        for key, n in status.items():
            self.status[key] += n
            self.files += n

    # --- life cycle ----------------------------------------------------------------------------
    def begin(self) -> None:
        h = self.header

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO runs (id, command, arguments, targets, targets_key, cwd, version, config_hash, pid, "
                "started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (h.run_id, h.command, h.arguments, json.dumps(list(h.targets)), h.targets_key,
                 db_text(h.cwd), h.version, h.config_hash, os.getpid(), h.started_at))

        self._guarded(lambda: self.store.write(insert))

    def flush(self) -> None:
        if not self.active or not (self.pending_findings or self.pending_incidents):
            return
        findings, incidents = self.pending_findings, self.pending_incidents
        first_f, first_i = self._finding_seq, self._incident_seq

        def write(conn: sqlite3.Connection) -> None:
            run_id = self.header.run_id
            conn.executemany(
                'INSERT INTO findings (run_id, seq, path, code, name, severity, security_severity, message, location, '
                'pointer, "offset", voice, entry, line, "column", fixable, hint, related) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_finding_row(run_id, first_f + i, f) for i, f in enumerate(findings)))
            for i, inc in enumerate(incidents):
                seq = first_i + i
                conn.execute(
                    "INSERT INTO tool_errors (run_id, seq, at, code, message, file, stage, rule, outcome, retries, "
                    "critical) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, seq, inc.at or time.time(), inc.code.value, db_text(inc.message), db_text(inc.file),
                     inc.stage, inc.rule, inc.outcome.value, inc.retries, int(inc.critical)))
                conn.executemany(
                    "INSERT INTO recovery_attempts (run_id, error_seq, number, delay, succeeded, detail, at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    ((run_id, seq, a.number, a.delay, int(a.succeeded), db_text(a.detail), a.at or time.time())
                     for a in inc.attempts))

        # Swap the buffers first: an incident reported while this very write retries (a locked
        # database) lands in the next batch instead of being written twice or lost.
        self.pending_findings, self.pending_incidents = [], []
        self._finding_seq += len(findings)
        self._incident_seq += len(incidents)
        self.flushes += 1
        self._guarded(lambda: self.store.write(write))

    def finish(self, exit_code: int, outcome: str | None = None) -> None:
        self.flush()
        h = self.header
        ended = time.time()

        def update(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE runs SET ended_at = ?, exit_code = ?, outcome = ?, files = ?, findings = ?, errors = ?, "
                "warnings = ?, infos = ?, tool_errors = ?, status_counts = ?, format_counts = ?, timings = ? WHERE id = ?",
                (ended, exit_code, outcome or outcome_for(exit_code), self.files, self.finding_count,
                 self.severity["error"], self.severity["warning"], self.severity["info"], self.incident_count,
                 json.dumps(dict(sorted(self.status.items()))), json.dumps(dict(sorted(self.formats.items()))),
                 json.dumps({k: round(v, 6) for k, v in self.timings.items()}), h.run_id))

        self._guarded(lambda: self.store.write(update))

    # --- failures ------------------------------------------------------------------------------
    def _guarded(self, action: Callable[[], None]) -> None:
        if not self.active:
            return
        try:
            action()
        except HistoryError as exc:
            self._fail(exc)
        except (sqlite3.Error, OSError, ValueError) as exc:  # ValueError: text SQLite cannot take
            code = classify_sqlite(exc) or from_errno(getattr(exc, "errno", None), ErrorCode.HISTORY_UNAVAILABLE)
            if code is ErrorCode.HISTORY_CORRUPT and self._rebuild(str(exc)):
                return
            self._fail(HistoryError(f"cannot write the history database {self.store.path}: {exc}", code=code,
                                    file=str(self.store.path)))

    def _rebuild(self, why: str) -> bool:
        """The database broke under us: move it aside, start a new one, record this run's rest there."""
        path = self.store.path
        self.store.close()
        try:
            moved = quarantine(path)
            self.store = HistoryStore.open(path, recovery=self.store.recovery, on_incident=self.store.on_incident)
        except (OSError, HistoryError) as exc:
            self._fail(HistoryError(f"the history database {path} is damaged ({why}) and could not be rebuilt: {exc}",
                                    code=ErrorCode.HISTORY_CORRUPT, file=str(path)))
            return False
        self.begin()
        # The store's listener (the CLI) logs it and hands it back to ``incident``; without one, keep it here.
        report = self.store.on_incident or self.incident
        report(Incident(ErrorCode.HISTORY_CORRUPT,
                        f"the history database was damaged during the run ({why}); kept as {moved.name}, a new one "
                        "was created and this run's earlier findings are only in the old one",
                        file=str(path), stage="history", at=time.time()))
        return True

    def _fail(self, exc: HistoryError) -> None:
        self.active = False
        self.pending_findings, self.pending_incidents = [], []
        if self.on_problem is not None:
            self.on_problem(exc)
