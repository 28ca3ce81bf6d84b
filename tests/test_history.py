"""The history database in-process: pragmas, migrations, repair, streamed recording, failures, queries, prune."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from presetctl.api import Options, validate
from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import HistoryError
from presetctl.engine.events import replay
from presetctl.engine.incidents import Incident, Outcome, RecoveryAttempt
from presetctl.engine.model import FileOutcome, FileStatus, Finding, Location, RunResult, Severity, StageTiming
from presetctl.engine.recovery import Recovery
from presetctl.report.json_report import finding_dict
from presetctl.state.history import HistoryStore, damage, inspect, migrate, open_for_reading, quarantined
from presetctl.state.prune import prune
from presetctl.state.queries import (
    error_stats,
    failed_files,
    find_run,
    findings_of,
    last_run,
    list_runs,
    tool_errors_of,
)
from presetctl.state.recorder import HistoryRecorder, RunHeader
from presetctl.state.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION

SAMPLES = Path(__file__).resolve().parents[1] / "sample_presets"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite3"


def header(run_id: str, targets: tuple[str, ...] = ("/pack",), command: str = "validate", cwd: str = "/",
           started: float | None = None) -> RunHeader:
    return RunHeader(run_id, command, json.dumps({"paths": list(targets)}), targets, cwd, "0.1.0", "cfg",
                     started if started is not None else time.time())


def finding(path: str, code: str = "S001", severity: Severity = Severity.ERROR, **kw: object) -> Finding:
    return Finding(path=path, code=code, severity=severity, message=f"problem in {path}", **kw)  # type: ignore[arg-type]


def record(store: HistoryStore, run_id: str, findings: list[Finding], *, targets: tuple[str, ...] = ("/pack",),
           exit_code: int = 1, started: float | None = None, incidents: tuple[Incident, ...] = ()) -> HistoryRecorder:
    rec = HistoryRecorder(store, header(run_id, targets, started=started))
    rec.begin()
    for path in sorted({f.path for f in findings}):
        rec.file_done(FileOutcome(path, "presetctl", FileStatus.VALIDATED, 10))
    rec.findings(findings)
    for inc in incidents:
        rec.incident(inc)
    rec.finish(exit_code)
    return rec


def test_a_new_database_has_the_documented_settings(db: Path) -> None:
    store = HistoryStore.open(db)
    conn = store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 2000
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental: prune can shrink the file
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "findings", "tool_errors", "recovery_attempts", "meta"} <= tables
    store.close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_migrations_run_forward_and_keep_data(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, migrations=MIGRATIONS[:1]) == 1
    conn.execute("INSERT INTO meta (key, value) VALUES ('kept', 'yes')")
    later = (*MIGRATIONS, ("ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT ''",
                           "CREATE INDEX runs_by_host ON runs (host)"))
    assert migrate(conn, migrations=later) == len(later)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(later)
    assert conn.execute("SELECT value FROM meta WHERE key = 'kept'").fetchone()[0] == "yes"
    assert "host" in {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    assert migrate(conn, migrations=later) == len(later)  # nothing left to do: idempotent
    conn.close()


def test_a_newer_database_is_left_alone(db: Path) -> None:
    HistoryStore.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(db)
    assert info.value.code is ErrorCode.HISTORY_NEWER and "newer presetctl" in str(info.value)
    assert db.read_bytes() == before and quarantined(db) == []
    with pytest.raises(HistoryError) as again:
        open_for_reading(db)
    assert again.value.code is ErrorCode.HISTORY_NEWER


def test_a_foreign_sqlite_file_is_left_alone(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(HistoryError) as info:
        HistoryStore.open(db)
    assert info.value.code is ErrorCode.HISTORY_FOREIGN
    assert db.read_bytes() == before and quarantined(db) == []
    assert inspect(db).owner == "foreign"


def _damaged(db: Path, kind: str) -> bytes:
    store = HistoryStore.open(db)
    record(store, "r1", [finding(f"f{i}.json") for i in range(300)])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = db.read_bytes()
    bad = {"garbage": bytes(random.Random(3).randrange(256) for _ in range(5000)),
           "truncated": data[: len(data) // 2 + 100], "empty": b""}[kind]
    db.write_bytes(bad)
    return bad


@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty"])
def test_a_damaged_database_is_moved_aside_and_rebuilt(db: Path, kind: str) -> None:
    bad = _damaged(db, kind)
    assert damage(db) is not None
    incidents: list[Incident] = []
    store = HistoryStore.open(db, on_incident=incidents.append)
    assert [i.code for i in incidents] == [ErrorCode.HISTORY_CORRUPT] and incidents[0].critical
    aside = quarantined(db)
    assert len(aside) == 1 and aside[0].read_bytes() == bad  # kept as it was, renamed with a timestamp
    assert ".corrupt-" in aside[0].name
    record(store, "r2", [finding("a.json")])
    assert [r.id for r in list_runs(store.conn)] == ["r2"]
    store.close()


def test_recording_is_streamed_in_batches(db: Path) -> None:
    store = HistoryStore.open(db)
    rec = HistoryRecorder(store, header("r1"), batch=10)
    rec.begin()
    high = 0
    for i in range(35):
        rec.findings([finding(f"f{i:02d}.json")])
        high = max(high, len(rec.pending_findings))
    assert high < 10 and rec.flushes == 3  # never more than one batch held
    assert store.conn.execute("SELECT count(*) FROM findings").fetchone()[0] == 30  # written as they came
    rec.finish(1)
    assert store.conn.execute("SELECT count(*) FROM findings").fetchone()[0] == 35
    store.close()


def test_a_run_row_holds_what_the_brief_lists(db: Path) -> None:
    store = HistoryStore.open(db)
    result = validate([str(SAMPLES)], Options(jobs=1))
    rec = HistoryRecorder(store, header("r1", (str(SAMPLES),), cwd=os.getcwd()))
    rec.begin()
    replay(result, rec, batch=7)
    rec.finish(1)
    run = find_run(store.conn, "r1")
    assert (run.command, run.exit_code, run.outcome, run.files) == ("validate", 1, "findings", len(result.files))
    assert (run.errors, run.warnings, run.infos) == (result.counts["error"], result.counts["warning"],
                                                     result.counts["info"])
    assert run.status_counts == {k: v for k, v in result.status_counts.items() if v}
    assert run.format_counts == result.format_counts and run.to_json()["by_format"] == result.format_counts
    assert set(run.timings) == {"discover", "check", "pack", "total"}
    assert run.targets == (str(SAMPLES),) and run.version == "0.1.0" and run.config_hash == "cfg"
    assert run.ended_at is not None and run.ended_at >= run.started_at and run.pid == os.getpid()
    # the same fields as the JSON report, in the same order
    assert list(findings_of(store.conn, "r1")) == [finding_dict(f) for f in result.findings]
    store.close()


def test_undecodable_file_names_round_trip(db: Path) -> None:
    store = HistoryStore.open(db)
    name = "pack/bad\udcff.json"
    record(store, "r1", [finding(name, location=Location(pointer="/a\udcfe"))], targets=("/w/pack",))
    assert [f["path"] for f in findings_of(store.conn, "r1")] == [name]
    assert findings_of(store.conn, "r1").__next__()["pointer"] == "/a\udcfe"
    store.close()


def test_queries(db: Path) -> None:
    store = HistoryStore.open(db)
    t0 = time.time() - 100
    record(store, "20250101T000000-aaaaaa", [finding("a.json"), finding("b.json")], targets=("/w/pack",), started=t0)
    record(store, "20250101T000001-bbbbbb", [finding("c.json")], targets=("/w/other",), started=t0 + 1)
    record(store, "20250101T000002-cccccc", [finding("b.json", severity=Severity.WARNING)], targets=("/w/pack",),
           started=t0 + 2, incidents=(Incident(ErrorCode.TRY_AGAIN, "again", outcome=Outcome.RECOVERED,
                                               attempts=(RecoveryAttempt(1, 0.01, True),), at=t0 + 2),))
    running = HistoryRecorder(store, header("20250101T000003-dddddd", ("/w/pack",), started=t0 + 3))
    running.begin()  # never finished: a run in progress (or one whose process died)
    conn = store.conn
    assert [r.id[-6:] for r in list_runs(conn)] == ["dddddd", "cccccc", "bbbbbb", "aaaaaa"]
    assert [r.id[-6:] for r in list_runs(conn, limit=2)] == ["dddddd", "cccccc"]
    last = last_run(conn, targets=["/w/pack"])
    assert last is not None and last.id.endswith("cccccc")  # finished runs only
    assert last_run(conn, targets=["/w/./pack/"]) == last  # the same targets, however they are spelled
    assert last_run(conn, targets=["/w/nothing"]) is None
    assert find_run(conn, "last").id.endswith("dddddd")
    assert find_run(conn, "20250101T000001").id.endswith("bbbbbb")
    with pytest.raises(Exception, match="more than one"):
        find_run(conn, "2025")
    failed = failed_files(conn, ["/w/pack"])
    assert failed.run == last and failed.paths == ("/b.json",)  # relative to the recorded cwd "/"
    stats = {s.code: s for s in error_stats(conn)}
    assert stats["PE110"].retries == 1 and stats["PE110"].recovered == 1 and stats["PE110"].success_rate == 1.0
    assert [e.code for e in tool_errors_of(conn, last.id)] == ["PE110"]
    store.close()


def test_a_locked_database_is_retried_and_the_retries_recorded(db: Path) -> None:
    seen: list[Incident] = []
    store = HistoryStore.open(db, on_incident=seen.append)
    store.conn.execute("PRAGMA busy_timeout = 5")  # the test should not wait the real 2 s per attempt
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing

    def sleep(_: float) -> None:
        if holder.in_transaction:
            holder.execute("COMMIT")  # ... which finishes while we back off

    store.recovery = Recovery(sleep=sleep, rng=random.Random(1))
    rec = HistoryRecorder(store, header("r1"))
    rec.begin()
    assert [(i.code, i.outcome) for i in seen] == [(ErrorCode.HISTORY_LOCKED, Outcome.RECOVERED)]
    rec.incident(seen[0])
    rec.finish(0)
    assert rec.active and find_run(store.conn, "r1").tool_errors == 1
    stats = error_stats(store.conn)
    assert stats[0].code == "PE302" and stats[0].recovered == 1 and stats[0].retries >= 1
    holder.close()
    store.close()


def test_a_full_disk_turns_history_off_without_raising(db: Path) -> None:
    problems: list[HistoryError] = []
    store = HistoryStore.open(db)
    rec = HistoryRecorder(store, header("r1"), on_problem=problems.append, batch=100)
    rec.begin()
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    rec.findings([finding(f"pack/{'x' * 200}{i}.json") for i in range(500)])
    rec.finish(1)
    assert [p.code for p in problems] == [ErrorCode.DISK_FULL]  # once, however many writes failed
    assert not rec.active and rec.finding_count == 500
    store.close()


def test_prune_by_age_and_size(db: Path, tmp_path: Path) -> None:
    store = HistoryStore.open(db)
    now = time.time()
    for i in range(30):
        record(store, f"r{i:02d}", [finding(f"pack/{'n' * 100}{j}.json") for j in range(200)],
               started=now - (40 - i) * 86400)  # r00 is 40 days old, r29 11 days
    crash = tmp_path / "crash.txt"
    crash.write_text("x")
    os.utime(crash, (now - 50 * 86400, now - 50 * 86400))
    result = prune(store, [crash], [], older_than=30 * 86400, now=now)
    assert result.runs_deleted == 10 and result.files_deleted == (crash,) and not crash.exists()
    assert [r.id for r in list_runs(store.conn, limit=None)][-1] == "r10"
    assert store.conn.execute("SELECT count(*) FROM findings").fetchone()[0] == 20 * 200
    size = db.stat().st_size
    result = prune(store, [], [], max_bytes=size // 3, now=now)
    assert result.bytes_after <= size // 3 and result.runs_deleted > 0
    left = list_runs(store.conn, limit=None)
    assert left and left[-1].id > "r10"  # the oldest went first
    store.close()
    assert db.stat().st_size < size  # the file itself shrank (incremental vacuum + checkpoint)


def test_reading_a_missing_history_is_none(tmp_path: Path) -> None:
    assert open_for_reading(tmp_path / "nothing.sqlite3") is None
    assert inspect(tmp_path / "nothing.sqlite3").exists is False


def test_stage_timings_accumulate(db: Path) -> None:
    store = HistoryStore.open(db)
    rec = HistoryRecorder(store, header("r1"))
    rec.begin()
    rec.stage_done(StageTiming("check", 1.0))
    rec.stage_done(StageTiming("check", 0.5))
    rec.finish(0)
    assert find_run(store.conn, "r1").timings == {"check": 1.5}
    store.close()
    assert isinstance(RunResult, type)
