"""`presetctl report` on the run history: recorded runs load exactly as their JSON report does,
`last`, `last~N`, ids and prefixes, diffs across recorded runs, one clear message for a history
that is missing, off, foreign, newer or damaged, and browsing never records a run."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import run_subprocess
from report_data import EVIL_NAME, make_pack
from test_report_tui import detail_text, drive, plain, rows
from textual.pilot import Pilot
from textual.widgets import Static

from presetctl.cli.report import rule_docs
from presetctl.engine.errors import HistoryError, UsageError
from presetctl.engine.model import Finding, Location, Related, SecuritySeverity, Severity
from presetctl.report.browse.source import JSON_HINT, HistorySource, load_run
from presetctl.report.browse.tui import ReportApp
from presetctl.state.history import HistoryStore
from presetctl.state.queries import finding_values, list_runs
from presetctl.state.recorder import HistoryRecorder, RunHeader
from presetctl.state.schema import SCHEMA_VERSION


def state() -> Path:
    return Path(os.environ["PRESETCTL_STATE_DIR"])


def history() -> HistorySource:
    return HistorySource(state() / "history.sqlite3")


def runs() -> list[str]:
    conn = sqlite3.connect(state() / "history.sqlite3")
    try:
        return [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY started_at, id")]
    finally:
        conn.close()


@pytest.fixture
def recorded(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    """A real `validate` of the hostile pack, recorded, with its JSON report written beside."""
    monkeypatch.chdir(tmp_path)
    make_pack(tmp_path)
    result = cli(["validate", "pack", "--profile", "marketplace", "--report", "json:run.json", "-o", "concise"])
    assert result.exit_code == 1, result.output
    return tmp_path


def test_a_recorded_run_loads_exactly_as_its_json_report(recorded: Path) -> None:
    from_history, from_json = load_run("last", history()), load_run("run.json")
    assert from_history.findings == from_json.findings  # every field, the hostile text and `related` too
    assert len(from_history.findings) > 50 and any(f.related for f in from_history.findings)
    h, j = from_history.header, from_json.header
    (run_id,) = runs()
    assert (h.source, h.run_id, h.finished) == (run_id, run_id, True)
    assert h.roots == (str(recorded / "pack"),) and h.shown_roots == ("pack",) == j.roots
    for name in ("command", "cwd", "started_at", "exit_code", "fail_on", "tool_version", "files", "by_format"):
        assert getattr(h, name) == getattr(j, name), name
    assert dict(h.by_format) == {"dx7-syx": 1, "presetctl": 11}
    assert {k: v for k, v in j.by_status.items() if v} == h.by_status
    assert from_history.counts() == from_json.counts()


def test_run_references(cli, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    (pack := recorded / "pack" / "truncated.json").unlink()
    assert cli(["validate", "pack", "--profile", "marketplace", "-q"]).exit_code == 1
    assert cli(["scan-security", "pack", "-q"]).exit_code in (0, 1)  # the last run now: another command
    assert cli(["stats", "pack", "-s", "overview", "-q"]).exit_code == 0
    first, second, scan, stats = runs()
    src = history()
    assert load_run("last", src).header.run_id == scan  # the latest validate or scan-security run
    assert load_run(second, src).header.run_id == second
    assert load_run(first[:-2], src).header.run_id == first  # a unique prefix
    with pytest.raises(UsageError, match=f"cannot open run 'last~1': the history holds no earlier finished "
                                         f"scan-security runs over the targets of the last one \\({scan}\\)"):
        load_run("last~1", src)
    with pytest.raises(UsageError, match="more than one recorded run matches"):
        load_run(first[:8], src)
    with pytest.raises(UsageError, match="no recorded run matches '19990101T000000'"):
        load_run("19990101T000000", src)
    with pytest.raises(UsageError, match=f"run {stats} is a `stats` run: only validate and scan-security runs"):
        load_run(stats, src)
    assert not pack.exists()
    # last~N walks back over runs of the last run's command and targets: scan-security has no earlier one,
    # so record another and compare.
    assert cli(["scan-security", "pack", "-q"]).exit_code in (0, 1)
    assert load_run("last~1", src).header.run_id == scan


def test_diff_across_recorded_runs_and_files(cli, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    (recorded / "pack" / "truncated.json").unlink()  # fixes one error (P001)
    (recorded / "pack" / "new.json").write_bytes(b'{"format_version": "1.0", "metadata": {"name": "New", "author": '
                                                 b'"QA"}, "parameters": [{"name": "x", "value": 2.0, "min": 0.0, '
                                                 b'"max": 1.0}]}')
    assert cli(["validate", "pack", "--profile", "marketplace", "-q"]).exit_code == 1
    first, second = runs()
    by_ref = cli(["report", "diff", "last~1", "last", "-o", "json"])
    assert by_ref.exit_code == 1, by_ref.output  # a new error (V002)
    doc = json.loads(by_ref.stdout)
    assert (doc["before"], doc["after"]) == (first, second)
    assert {(f["code"], f["path"]) for f in doc["fixed"]} == {("P001", "pack/truncated.json")}
    assert ("V002", "pack/new.json", "error") in {(f["code"], f["path"], f["severity"]) for f in doc["new"]}
    mixed = json.loads(cli(["report", "diff", "run.json", second[:-1], "-o", "json"]).stdout)  # a file and a prefix
    assert {k: mixed[k] for k in ("summary", "by_rule", "new", "fixed")} == \
        {k: doc[k] for k in ("summary", "by_rule", "new", "fixed")}
    assert cli(["report", "diff", first, "run.json"]).exit_code == 0  # the same run both ways: nothing new
    text = cli(["report", "diff", "last~1", "last"]).stdout
    assert text.startswith(f"before: {first}  ") and f"after : {second}  " in text and "1 fixed" in text


def test_browsing_records_nothing_and_shows_the_run_id(cli, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    before = runs()
    db = state() / "history.sqlite3"
    result = cli(["report", "--no-interactive", "--top", "1"])
    assert result.exit_code == 0, result.output
    (run_id,) = before
    head = result.stdout.splitlines()
    assert head[0].startswith("presetctl validate pack   ") and head[0].endswith("   exit 1 (fail-on error)")
    assert head[2] == f"run {run_id}   12 files   presetctl 11, dx7-syx 1"
    assert cli(["report", "last", "--html", "page.html"]).exit_code == 0
    assert f"run {run_id} from the run history" in (recorded / "page.html").read_text()
    assert cli(["report", "diff", "last", "last"]).exit_code == 0
    assert runs() == before and list(state().glob("history.sqlite3.corrupt-*")) == []
    assert db.exists()


def test_report_last_after_a_real_validate_in_processes(tmp_path: Path) -> None:
    make_pack(tmp_path)
    env = {"PRESETCTL_STATE_DIR": str(tmp_path / "state")}
    done = run_subprocess(["validate", "pack", "--profile", "marketplace", "--report", "json:run.json", "-q"],
                          cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    shown = run_subprocess(["report", "last"], cwd=tmp_path, env=env)  # piped: the static report
    assert shown.returncode == 0 and shown.stderr == ""
    from_file = run_subprocess(["report", "run.json"], cwd=tmp_path, env=env)
    body = shown.stdout.split("\n\n", 1)[1]
    assert body == from_file.stdout.split("\n\n", 1)[1]  # the same groups and findings as the JSON report
    assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout
    assert "presetctl validate pack   " in shown.stdout.splitlines()[0]


def test_a_run_with_no_end(cli, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    """A run whose process died (or is still running) is not `last`, but opens by id and says so."""
    (finished,) = runs()
    store = HistoryStore.open(state() / "history.sqlite3")
    rec = HistoryRecorder(store, RunHeader("29990101T000000-dead00", "validate", "{}", (str(recorded / "pack"),),
                                           str(recorded), "t"))
    rec.begin()
    rec.findings([Finding("pack/evil.json", "M001", Severity.ERROR, "found before the crash")])
    rec.flush()
    store.close()
    assert load_run("last", history()).header.run_id == finished
    died = load_run("29990101", history())
    assert (died.header.finished, died.header.exit_code, died.header.files) == (False, None, None)
    assert [f.message for f in died.findings] == ["found before the crash"]
    first = cli(["report", "29990101", "--no-interactive"]).stdout.splitlines()[0]
    assert first.endswith("   no end: still running, or its process died")


# -- the one clear message ------------------------------------------------------------------------------
def _message(cli, args: list[str]) -> str:  # type: ignore[no-untyped-def]
    result = cli(args)
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    return str(result.stderr)


def test_a_missing_history(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    db = state() / "history.sqlite3"
    assert _message(cli, ["report"]) == (f"presetctl: history error: cannot open run 'last': no run history yet ({db} "
                                         "does not exist); recorded validate and scan-security runs appear there; "
                                         f"or {JSON_HINT}\n")
    assert not state().exists()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_history_off(cli, recorded: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:  # type: ignore[no-untyped-def]
    if how == "environment":
        monkeypatch.setenv("PRESETCTL_NO_HISTORY", "1")
    args = ["--no-history", "report", "last"] if how == "option" else ["report", "last"]
    assert _message(cli, args) == ("presetctl: history error: cannot open run 'last': run history is off "
                                   "(--no-history or PRESETCTL_NO_HISTORY): runs are neither recorded nor read; "
                                   f"or {JSON_HINT}\n")
    assert cli([*args[:-1], "run.json", "--no-interactive"]).exit_code == 0  # a JSON report still works


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_foreign_or_newer_history_is_left_alone(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    state().mkdir(parents=True)
    db = state() / "history.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = _snapshot(state())
    assert _message(cli, ["report", "diff", "last~1", "last"]) == (
        f"presetctl: history error: cannot open run 'last~1': {db} is not a presetctl history database; "
        f"or {JSON_HINT}\n")
    assert _snapshot(state()) == before
    db.unlink()
    HistoryStore.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    assert f"{db} was written by a newer presetctl (history schema {SCHEMA_VERSION + 1}" in _message(cli, ["report"])
    assert db.read_bytes() == before  # (SQLite's read-only WAL reader may leave its -shm index beside it)


def test_a_damaged_history(cli, recorded: Path) -> None:  # type: ignore[no-untyped-def]
    db = state() / "history.sqlite3"
    store = HistoryStore.open(db)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    # Damage every page but the first: the header is fine, so the damage shows only while reading.
    for at in range(page, len(data), page):
        data[at : at + page] = b"\xa5" * page
    db.write_bytes(bytes(data))
    message = _message(cli, ["report"])
    assert message.startswith(f"presetctl: history error: cannot open run 'last': the history database {db} is "
                              "damaged (") and message.endswith(f"the next recorded run moves it aside; or {JSON_HINT}\n")
    assert db.read_bytes() == bytes(data) and list(state().glob("*.corrupt-*")) == []  # left for `validate` to repair
    db.write_bytes(b"not a database at all" * 100)
    assert "is damaged (the file is not an SQLite database)" in _message(cli, ["report", "last"])


# -- the read API -----------------------------------------------------------------------------------------
def test_finding_values_streams_every_field_exactly(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    store = HistoryStore.open(db)
    findings = [
        Finding("pack/bad\udcff.json", "X061", Severity.INFO, f"name {EVIL_NAME!r}", Location(pointer="/a\udcfe"),
                3, 7, "remove it", True, SecuritySeverity.LOW, "control-character"),
        Finding("bank.syx", "Q002", Severity.WARNING, "same name", Location(offset=134, voice=2, entry="in.zip"),
                rule_name="duplicate-name",
                related=(Related("b.syx", Location(voice=4), "BRASS 1"), Related("c\udcfe.syx", Location()))),
        *(Finding(f"pack/{i}.json", "M001", Severity.ERROR, "missing name") for i in range(2500)),
    ]
    rec = HistoryRecorder(store, RunHeader("r1", "validate", "{}", ("/w/pack",), "/w", "t"), batch=1000)
    rec.begin()
    rec.findings(findings)
    rec.finish(1)
    stream = finding_values(store.conn, "r1")
    assert next(stream) == findings[0]  # a generator over the cursor: one row at a time
    assert [findings[0], *stream] == findings
    got = list(finding_values(store.conn, "r1"))
    assert got[2].path is not got[3].path and got[2].code is got[3].code  # repeated texts are shared
    store.conn.execute("UPDATE findings SET severity = 'fatal' WHERE seq = 5")
    with pytest.raises(HistoryError, match="severity 'fatal'"):
        list(finding_values(store.conn, "r1"))
    store.close()


def test_the_schema_migration_keeps_older_runs(tmp_path: Path) -> None:
    """A history written before files by format were kept: its runs load, without the format counts."""
    from presetctl.state.history import migrate
    from presetctl.state.schema import APPLICATION_ID, MIGRATIONS

    db = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, migrations=MIGRATIONS[:2])
    conn.execute("INSERT INTO runs (id, command, arguments, targets, targets_key, cwd, version, started_at, ended_at, "
                 "exit_code, outcome) VALUES ('r1', 'validate', '{}', '[\"/w\"]', 'k', '/w', 'old', 1.0, 2.0, 0, "
                 "'clean')")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.close()
    HistoryStore.open(db).close()  # any recorded run migrates it
    run = load_run("last", HistorySource(db))
    assert run.header.by_format == {} and run.findings == () and run.header.run_id == "r1"
    store = HistoryStore.open(db)
    assert [r.format_counts for r in list_runs(store.conn)] == [{}]
    store.close()


# -- the viewer on a recorded run -----------------------------------------------------------------------
def test_the_viewer_opens_a_recorded_run(recorded: Path) -> None:
    run = load_run("last", history())
    app = ReportApp(run, rule_docs, baseline=recorded / "baseline.json")

    async def scenario(pilot: Pilot[None]) -> None:
        header = plain(app.query_one("#header", Static).content)
        assert f"run {run.header.run_id}" in header and "presetctl validate pack" in header
        await pilot.press("g")  # by file
        assert any(r[1] == "pack/bank.syx" for r in rows(app, "#groups"))
        await pilot.press("slash", *"code:D001", "enter")
        assert [r[1] for r in rows(app, "#groups")] == ["pack/bank.syx"]
        detail = detail_text(app)
        assert "D001 dx7-checksum-mismatch" in detail
        assert "byte 4102 of 4104" in detail  # the hex context: read through the recorded cwd and targets

    drive(app, scenario)

