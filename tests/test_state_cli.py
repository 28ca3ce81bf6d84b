"""The state directory from the command line: locations, every command recorded, --failed, doctor, crash reports."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES, run_subprocess

from presetctl.state.paths import CACHEDIR_TAG, Locations
from presetctl.state.schema import SCHEMA_VERSION


def state_dir() -> Path:
    return Path(os.environ["PRESETCTL_STATE_DIR"])


def runs(state: Path | None = None) -> list[dict[str, object]]:
    path = (state or state_dir()) / "history.sqlite3"
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY started_at, id")]
    conn.close()
    return rows


# --- locations ------------------------------------------------------------------------------------

def test_platform_folders_without_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PRESETCTL_STATE_DIR")
    loc = Locations.resolve()
    home = Path(os.environ["HOME"])
    assert not loc.overridden
    assert loc.state == home / "state" / "presetctl"  # XDG_STATE_HOME from the isolation fixture
    assert loc.logs == home / "state" / "presetctl" / "log"
    assert loc.cache == home / "cache" / "presetctl"
    cache = loc.cache_dir()
    assert (cache / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert CACHEDIR_TAG.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    for folder in (loc.state_dir(), loc.log_dir(), cache):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_one_override_moves_everything(tmp_path: Path) -> None:
    loc = Locations.resolve(tmp_path / "mine")
    assert (loc.state, loc.logs, loc.cache) == (tmp_path / "mine", tmp_path / "mine" / "logs", tmp_path / "mine" / "cache")
    loc.log_dir()
    assert stat.S_IMODE((tmp_path / "mine").stat().st_mode) == 0o700  # created first, private


def test_global_state_dir_option_wins_over_the_environment(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chosen = tmp_path / "chosen"
    assert cli(["--state-dir", str(chosen), "validate", str(SAMPLES / "evening-pad.json")]).exit_code == 0
    assert len(runs(chosen)) == 1 and runs() == []
    assert (chosen / "logs" / "presetctl.log").is_file()


# --- every command recorded -------------------------------------------------------------------------

def test_every_command_is_recorded(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    shutil.copytree(SAMPLES, pack)
    assert cli(["validate", str(pack), "-o", "json"]).exit_code == 1
    assert cli(["scan-security", str(pack), "-q"]).exit_code in (0, 1)
    assert cli(["stats", str(pack), "--json"]).exit_code == 0
    assert cli(["fix", str(pack), "-q", "--unsafe-fixes"]).exit_code in (0, 1)
    assert cli(["fix", "--undo", "--dry-run"]).exit_code == 0  # a preview changes nothing: not recorded
    assert cli(["fix", "--undo", "-q"]).exit_code == 0
    rows = runs()
    assert [r["command"] for r in rows] == ["validate", "scan-security", "stats", "fix", "undo"]
    assert json.loads(str(rows[4]["status_counts"]))["restored"] == json.loads(str(rows[3]["status_counts"]))["fixed"] > 0
    assert all(r["ended_at"] is not None and r["exit_code"] is not None for r in rows)
    assert rows[0]["findings"] > 0 and json.loads(str(rows[0]["status_counts"]))["validated"] > 0
    assert json.loads(str(rows[2]["status_counts"])) == {"read": rows[2]["files"]} and rows[2]["files"] > 0
    assert json.loads(str(rows[0]["targets"])) == [str(pack)]
    assert json.loads(str(rows[0]["arguments"]))["output_format"] == "json"


@pytest.mark.parametrize("args", [["validate", "--no-history"], ["--no-history", "validate"]])
def test_no_history_opts_out(cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert cli([*args, str(SAMPLES / "evening-pad.json")]).exit_code == 0
    assert runs() == []


def test_history_never_changes_output_or_exit(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with_history = cli(["validate", str(SAMPLES), "-o", "concise"])
    without = cli(["--no-history", "validate", str(SAMPLES), "-o", "concise"])
    assert (with_history.exit_code, with_history.stdout, with_history.stderr) == (without.exit_code, without.stdout,
                                                                                  without.stderr)


def test_an_error_ending_the_run_is_recorded_once(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", str(SAMPLES), "--baseline", "missing.json"])
    assert result.exit_code == 2 and result.stderr == ("presetctl: config error: cannot read baseline missing.json: "
                                                       "No such file or directory\n")
    (row,) = runs()
    assert (row["exit_code"], row["outcome"], row["tool_errors"]) == (2, "error", 1)
    missing = cli(["validate", "no-such-folder"])
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1
    conn = sqlite3.connect(state_dir() / "history.sqlite3")
    codes = [r[0] for r in conn.execute("SELECT code FROM tool_errors ORDER BY at")]
    conn.close()
    assert codes == ["PE205", "PE202"]  # baseline-invalid, target-missing: the codes travel with the exceptions


# --- validate --failed -----------------------------------------------------------------------------

def test_failed_rechecks_only_what_failed_last_time(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    shutil.copytree(SAMPLES, pack)
    monkeypatch.chdir(tmp_path)
    first = cli(["validate", "pack", "-o", "json"])
    failing = sorted({f["path"] for f in json.loads(first.stdout)["findings"]})
    assert first.exit_code == 1 and 2 <= len(failing) < len(list(pack.rglob("*.json")))
    again = cli(["validate", "pack", "--failed", "-o", "json"])
    report = json.loads(again.stdout)
    assert report["summary"]["files"] == len(failing)  # only those files were read
    assert sorted({f["path"] for f in report["findings"]}) == failing
    # fix one file: the next --failed run checks the rest, and its history is the new "last run"
    fixed = failing[0]
    shutil.copy(SAMPLES / "evening-pad.json", tmp_path / fixed)
    (tmp_path / fixed).unlink()
    third = json.loads(cli(["validate", "pack", "--failed", "-o", "json"]).stdout)
    assert third["summary"]["files"] == len(failing) - 1
    assert len(runs()) == 3 and {json.loads(str(r["targets"]))[0] for r in runs()} == {str(pack)}


def test_failed_without_a_recorded_run_checks_everything(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", str(SAMPLES), "--failed", "-o", "json"])
    assert json.loads(result.stdout)["summary"]["files"] == len([p for p in SAMPLES.rglob("*") if p.is_file()])
    assert "no recorded run over these targets; checking everything" in result.stderr


def test_failed_and_no_history_contradict(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", str(SAMPLES), "--failed", "--no-history"])
    assert result.exit_code == 2 and "cannot be combined with --no-history" in result.stderr


def test_failed_after_a_clean_run_checks_everything(cli) -> None:  # type: ignore[no-untyped-def]
    one = str(SAMPLES / "evening-pad.json")
    assert cli(["validate", one]).exit_code == 0
    result = cli(["validate", one, "--failed", "-o", "json"])
    assert json.loads(result.stdout)["summary"]["files"] == 1 and "checking everything" in result.stderr


# --- doctor ------------------------------------------------------------------------------------------

def test_doctor_on_a_fresh_machine(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["doctor"])
    assert result.exit_code == 0, result.output
    assert "(not created yet)" in result.stdout and "no problems found" in result.stdout
    assert not state_dir().exists()  # looking changes nothing


def test_doctor_reports_locations_sizes_schema_and_quick_check(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(["validate", str(SAMPLES), "-o", "concise"]).exit_code == 1
    result = cli(["doctor"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"state folder    {state_dir()} (0700," in out and "[--state-dir / PRESETCTL_STATE_DIR]" in out
    assert f"schema {SCHEMA_VERSION} (this presetctl: {SCHEMA_VERSION}), 1 run from" in out and "quick_check ok" in out
    assert f"log folder      {state_dir() / 'logs'} (0700" in out
    data = json.loads(cli(["doctor", "--json"]).stdout)
    assert data["history"]["quick_check"] == ["ok"] and data["history"]["runs"] == 1
    assert data["history"]["schema"] == SCHEMA_VERSION and data["problems"] == []
    assert data["state"]["size"] > 0 and data["log"]["files"] == 1


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is damaged (the file is empty)"),
    (b"garbage" * 100, "is damaged (the file is not an SQLite database)"),
])
def test_doctor_on_a_damaged_history(cli, content: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    state_dir().mkdir()
    (state_dir() / "history.sqlite3").write_bytes(content)
    result = cli(["doctor"])
    assert result.exit_code == 1 and message in result.stdout and "Traceback" not in result.output


def test_doctor_on_foreign_and_newer_state(cli) -> None:  # type: ignore[no-untyped-def]
    state_dir().mkdir(mode=0o700)
    db = state_dir() / "history.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    result = cli(["doctor"])
    assert result.exit_code == 1 and "not a presetctl history database (a foreign SQLite file)" in result.stdout
    db.unlink()
    assert cli(["validate", str(SAMPLES / "evening-pad.json")]).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.close()
    result = cli(["doctor"])
    assert result.exit_code == 1 and "written by a newer presetctl" in result.stdout
    # and a recorded command says so once, and goes on
    run = cli(["validate", str(SAMPLES / "evening-pad.json")])
    assert run.exit_code == 0 and run.stderr.count("newer presetctl") == 1


def test_doctor_on_an_unreadable_state_folder(cli) -> None:  # type: ignore[no-untyped-def]
    state_dir().parent.mkdir(parents=True, exist_ok=True)
    state_dir().write_text("a file where the folder should be")
    result = cli(["doctor"])
    assert result.exit_code == 1 and "is not a folder" in result.stdout and "Traceback" not in result.output
    run = cli(["validate", str(SAMPLES / "evening-pad.json")])
    assert run.exit_code == 0 and len(run.stderr.splitlines()) == 1 and "off for this run" in run.stderr


def test_doctor_prune(cli) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert cli(["validate", str(SAMPLES), "-o", "concise"]).exit_code == 1
    conn = sqlite3.connect(state_dir() / "history.sqlite3")
    conn.execute("UPDATE runs SET started_at = started_at - 40 * 86400 WHERE id = (SELECT min(id) FROM runs)")
    conn.commit()
    conn.close()
    crash = state_dir() / "crash-reports" / "crash-old.txt"
    crash.parent.mkdir()
    crash.write_text("old")
    os.utime(crash, (1, 1))
    result = cli(["doctor", "--prune", "--older-than", "30d"])
    assert result.exit_code == 0, result.output
    assert "pruned: 1 runs and 1 files" in result.stdout and not crash.exists() and len(runs()) == 2
    result = cli(["doctor", "--prune", "--max-size", "1KB"])
    assert result.exit_code == 0 and runs() == []
    assert cli(["doctor", "--older-than", "3d"]).exit_code == 2  # only with --prune
    assert cli(["doctor", "--prune", "--max-size", "lots"]).exit_code == 2


# --- crash reports -----------------------------------------------------------------------------------

def _crash(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A real process whose engine raises a bug (sitecustomize patches the API before main runs)."""
    patch = ("import presetctl.api as a\n"
             "def boom(*x, **k):\n"
             "    secret = 'hunter2'\n"
             "    raise RuntimeError('the engine broke')\n"
             "a.validate = boom\n"
             "import presetctl.cli.validate as v\n"
             "v.run_validate = boom\n")
    code = patch + "from presetctl.cli.app import main\nimport sys\nsys.argv[0] = 'presetctl'\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


def test_an_internal_error_prints_one_line_and_writes_a_crash_report(tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    pack = home / "my pack"
    shutil.copytree(SAMPLES, pack)
    proc = _crash({}, "validate", str(pack), "-o", "concise")
    assert proc.returncode == 2 and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("presetctl: internal error: RuntimeError: the engine broke (a bug in presetctl); "
                           "crash report: ")
    report = Path(line.rsplit("crash report: ", 1)[1])
    assert report.parent == state_dir() / "crash-reports" and stat.S_IMODE(report.stat().st_mode) == 0o600
    text = report.read_text()
    assert "## command" in text and "presetctl validate ~/my pack -o concise" in text
    assert str(home) not in text  # the home folder is written as ~ everywhere, also in the traceback
    assert "RuntimeError: the engine broke" in text and ", in boom" in text and "validate.py" in text
    assert "presetctl 0.1.0" in text and "python 3." in text and "typer " in text and "## platform" in text
    assert "hunter2" not in text  # source lines, yes; local variables, never


@pytest.mark.parametrize("how", [["--traceback"], ["PRESETCTL_DEBUG"]])
def test_traceback_on_request(how: list[str]) -> None:
    env = {"PRESETCTL_DEBUG": "1"} if how == ["PRESETCTL_DEBUG"] else {}
    args = ["--traceback"] if how == ["--traceback"] else []
    proc = _crash(env, *args, "validate", str(SAMPLES))
    assert proc.returncode == 2
    assert proc.stderr.startswith("Traceback (most recent call last):")
    assert proc.stderr.splitlines()[-1].startswith("presetctl: internal error: RuntimeError: the engine broke")
    assert "crash report: " in proc.stderr and "hunter2" not in proc.stderr


def test_an_internal_error_is_recorded_in_history_and_log() -> None:
    proc = _crash({}, "validate", str(SAMPLES))
    assert proc.returncode == 2
    (row,) = runs()
    assert (row["exit_code"], row["outcome"], row["tool_errors"]) == (2, "error", 1)
    log = [json.loads(line) for line in (state_dir() / "logs" / "presetctl.log").read_text().splitlines()]
    assert [(r["event"], r["code"]) for r in log if r["event"] == "error"] == [("error", "PE901")]


def test_a_crash_report_that_cannot_be_written_still_gives_one_line(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    proc = _crash({"PRESETCTL_STATE_DIR": str(blocked)}, "validate", str(SAMPLES))
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert lines[-1].startswith("presetctl: internal error:") and "no crash report: cannot write to" in lines[-1]


def test_real_validate_runs_leave_the_state_private() -> None:
    proc = run_subprocess(["validate", str(SAMPLES / "evening-pad.json")])
    assert proc.returncode == 0 and proc.stderr == ""
    for path in (state_dir(), state_dir() / "logs"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in (state_dir() / "history.sqlite3", state_dir() / "logs" / "presetctl.log"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
