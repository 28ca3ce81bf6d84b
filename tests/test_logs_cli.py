"""``presetctl logs``: every filter, the table and --json, runs and errors, and following across rotation."""

from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from presetctl.obs.handlers import SharedRotatingFileHandler, log_files
from presetctl.obs.reader import parse_when
from presetctl.obs.records import JsonLineFormatter, iso

SAMPLES = Path(__file__).resolve().parents[1] / "sample_presets"
NOW = time.time()


def state_dir() -> Path:
    return Path(os.environ["PRESETCTL_STATE_DIR"])


def rec(age_s: float, msg: str, *, level: str = "info", run: str = "20250101T000000-aaaaaa", event: str = "log",
        file: str = "", code: str = "", cmd: str = "validate") -> dict[str, object]:
    return {"ts": iso(NOW - age_s), "level": level, "run": run, "cmd": cmd, "event": event, "file": file, "rule": "",
            "code": code, "dur": None, "msg": msg, "pid": 1}


LOG = [
    rec(5 * 3600, "old start", event="run.start", run="20250101T000000-aaaaaa"),
    rec(4 * 3600, "old warning", level="warning", run="20250101T000000-aaaaaa", file="pack/Old Pad.vital",
        code="PE103"),
    rec(3600, "new start", event="run.start", run="20250102T000000-bbbbbb"),
    rec(1800, "locked, retrying", level="info", run="20250102T000000-bbbbbb", code="PE302", event="recovery.attempt"),
    rec(600, "Disk Full while writing", level="error", run="20250102T000000-bbbbbb", code="PE105",
        file="pack/sub/Bass.fxp"),
    rec(60, "new end", event="run.end", run="20250102T000000-bbbbbb"),
]


@pytest.fixture
def logfile(monkeypatch: pytest.MonkeyPatch) -> Path:
    # Ages (--since 45m) are read against the reader's clock: pin it to the NOW the records were written
    # against, or a slow machine that reaches this test minutes after import moves "new end" into the window.
    from presetctl.obs import reader

    monkeypatch.setattr(reader, "time", SimpleNamespace(time=lambda: NOW, sleep=time.sleep))
    folder = state_dir() / "logs"
    folder.mkdir(parents=True)
    rotated, current = LOG[:2], LOG[2:]  # one rotation: both files are read, oldest first
    (folder / "presetctl.log.1").write_text("".join(json.dumps(r) + "\n" for r in rotated))
    (folder / "presetctl.log").write_text("".join(json.dumps(r) + "\n" for r in current) + '{"torn": ')
    return folder / "presetctl.log"


def messages(stdout: str) -> list[str]:
    return [json.loads(line)["msg"] for line in stdout.splitlines()]


@pytest.mark.parametrize(("args", "expected"), [
    ([], ["old start", "old warning", "new start", "locked, retrying", "Disk Full while writing", "new end"]),
    (["--since", "2h"], ["new start", "locked, retrying", "Disk Full while writing", "new end"]),
    (["--since", "45m", "--until", "5m"], ["locked, retrying", "Disk Full while writing"]),
    (["--until", "3h"], ["old start", "old warning"]),
    (["--level", "warning"], ["old warning", "Disk Full while writing"]),
    (["--level", "ERROR"], ["Disk Full while writing"]),
    (["--run", "20250101"], ["old start", "old warning"]),
    (["--run", "last"], ["new start", "locked, retrying", "Disk Full while writing", "new end"]),
    (["--code", "pe302"], ["locked, retrying"]),
    (["--file", "Bass"], ["Disk Full while writing"]),
    (["--file", "*.vital"], ["old warning"]),
    (["--file", "pack/*/*.fxp"], ["Disk Full while writing"]),
    (["--grep", "disk full"], ["Disk Full while writing"]),  # lower case: case-insensitive
    (["--grep", "disk Full"], []),  # a capital letter: case-sensitive (smart case)
    (["--grep", "^(old|new) (start|end)$"], ["old start", "new start", "new end"]),
    (["-n", "2"], ["Disk Full while writing", "new end"]),
    (["--tail", "all", "--level", "warning"], ["old warning", "Disk Full while writing"]),
    (["-n", "0"], []),
    (["--level", "info", "--run", "last", "--code", "PE105", "--file", "Bass"], ["Disk Full while writing"]),
])
def test_filters(cli, logfile: Path, args: list[str], expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = cli(["logs", "--json", *args])
    assert result.exit_code == 0, result.output
    assert messages(result.stdout) == expected


def test_dates_and_iso_times(cli, logfile: Path) -> None:  # type: ignore[no-untyped-def]
    when = datetime.fromtimestamp(NOW - 1700).isoformat(timespec="seconds")  # local time, as journalctl reads it
    assert messages(cli(["logs", "--json", "--since", when]).stdout) == ["Disk Full while writing", "new end"]
    utc = iso(NOW - 1700)
    assert messages(cli(["logs", "--json", "--since", utc]).stdout) == ["Disk Full while writing", "new end"]
    tomorrow = datetime.fromtimestamp(NOW + 86400).strftime("%Y-%m-%d")
    assert messages(cli(["logs", "--json", "--until", tomorrow]).stdout)[-1] == "new end"
    assert parse_when("2025-01-31") == datetime(2025, 1, 31).timestamp()


def test_json_prints_the_raw_lines(cli, logfile: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["logs", "--json", "--code", "PE105"]).stdout
    assert out == json.dumps(LOG[4]) + "\n"


def test_the_table(cli, logfile: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["logs", "--level", "warning"]).stdout.splitlines()
    assert len(out) == 2
    assert "WARNING" in out[0] and "aaaaaa" in out[0] and "PE103" in out[0] and "pack/Old Pad.vital: old warning" in out[0]
    assert out[1].split()[2:6] == ["ERROR", "bbbbbb", "validate", "PE105"]


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterdayish"], "expected 30m, 2h"),
    (["--level", "loud"], "--level: expected one of"),
    (["--grep", "(unclosed"], "--grep: invalid regular expression"),
    (["--tail", "few"], "--tail takes a number"),
])
def test_bad_arguments_are_usage_errors(cli, logfile: Path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(["logs", *args])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_no_log_yet(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["logs"])
    assert (result.exit_code, result.stdout) == (0, "") and "no log records" in result.stderr


def test_control_characters_never_reach_the_terminal(cli, logfile: Path) -> None:  # type: ignore[no-untyped-def]
    with logfile.open("a") as fh:
        fh.write("\n" + json.dumps(rec(1, "evil \x1b]52;c;payload\x07 name", file="a\u202eb.json")) + "\n")
    out = cli(["logs", "-n", "1"]).stdout
    assert "\x1b" not in out and "\u202e" not in out and "\\x1b]52" in out


def test_runs_and_errors_from_real_runs(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(["validate", str(SAMPLES), "-o", "concise"]).exit_code == 1
    assert cli(["validate", str(SAMPLES / "evening-pad.json")]).exit_code == 0
    table = cli(["logs", "runs"]).stdout.splitlines()
    assert table[0].split()[:4] == ["run", "started", "command", "outcome"] and len(table) == 3
    assert table[1].split()[3:6] == ["validate", "clean", "0"] and table[2].split()[3:6] == ["validate", "findings", "1"]
    rows = [json.loads(line) for line in cli(["logs", "runs", "--json"]).stdout.splitlines()]
    assert [r["exit_code"] for r in rows] == [0, 1] and rows[1]["counts"]["error"] >= 1
    assert rows[1]["targets"] == [str(SAMPLES)] and rows[1]["by_status"]["validated"] >= 1
    one = cli(["logs", "runs", "--run", rows[1]["id"], "--json"]).stdout
    assert json.loads(one)["id"] == rows[1]["id"]
    assert cli(["logs", "runs", "--command", "fix"]).stderr == "no runs match\n"
    # the log of those runs: start and end of each, with the run id of the history
    started = [r for r in map(json.loads, cli(["logs", "--json"]).stdout.splitlines()) if r["event"] == "run.start"]
    assert [r["run"] for r in started] == [rows[1]["id"], rows[0]["id"]]
    assert cli(["logs", "errors"]).stderr == "no tool errors recorded\n"


def test_errors_statistics(cli) -> None:  # type: ignore[no-untyped-def]
    db = state_dir() / "history.sqlite3"
    assert cli(["validate", str(SAMPLES / "evening-pad.json")]).exit_code == 0
    db.write_bytes(b"not a database at all" * 100)  # the next run repairs it: one PE303, recorded there
    assert cli(["validate", str(SAMPLES / "evening-pad.json")]).exit_code == 0
    table = cli(["logs", "errors"]).stdout.splitlines()
    assert table[1].split()[:4] == ["PE303", "history-corrupt", "1", "1"]
    (row,) = [json.loads(line) for line in cli(["logs", "errors", "--json"]).stdout.splitlines()]
    assert (row["code"], row["occurrences"], row["retries"], row["success_rate"]) == ("PE303", 1, 0, None)


def test_a_damaged_or_foreign_history_is_a_clear_message(cli) -> None:  # type: ignore[no-untyped-def]
    db = state_dir() / "history.sqlite3"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"")
    result = cli(["logs", "runs"])
    assert result.exit_code == 2 and "is damaged (the file is empty)" in result.stderr
    assert "Traceback" not in result.output


# --- following ------------------------------------------------------------------------------------

class Lines:
    """Lines of a child's stdout, waited for by content (never by time) up to a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.sel = selectors.DefaultSelector()
        self.sel.register(proc.stdout, selectors.EVENT_READ)
        self.buf = b""
        self.lines: list[str] = []

    def wait_for(self, done: Callable[[list[str]], bool], timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while not done(self.lines):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; got {self.lines[-5:]}"
            if self.sel.select(left):
                chunk = os.read(self.proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
                assert chunk, f"the follower ended: {self.proc.wait()}"
                self.buf += chunk
                *complete, self.buf = self.buf.split(b"\n")
                self.lines += [c.decode() for c in complete]
        return self.lines


def test_follow_across_rotation(tmp_path: Path) -> None:
    state = tmp_path / "state"
    folder = state / "logs"
    folder.mkdir(parents=True)
    handler = SharedRotatingFileHandler(folder / "presetctl.log", max_bytes=1500, backups=100)
    handler.setFormatter(JsonLineFormatter())
    log = logging.getLogger("presetctl.test.follow")
    log.propagate = False
    log.addHandler(handler)
    log.warning("m000")
    proc = subprocess.Popen([sys.executable, "-m", "presetctl", "logs", "-f", "--json", "--tail", "all", "--grep", "^m"],
                            env={**os.environ, "PRESETCTL_STATE_DIR": str(state)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out = Lines(proc)
        out.wait_for(lambda lines: len(lines) >= 1)  # it showed the tail: from here on it is following
        for burst in range(5):  # each burst rotates the log at least three times before we look
            for i in range(burst * 40 + 1, burst * 40 + 41):
                log.warning("m%03d %s", i, "y" * 60)
            out.wait_for(lambda lines, n=burst * 40 + 41: len(lines) >= n)
        log.info("not shown")  # filtered out by --grep
        log.warning("m999 last")
        lines = out.wait_for(lambda lines: any("m999" in line for line in lines))
        got = [json.loads(line)["msg"].split()[0] for line in lines]
        assert got == [f"m{i:03d}" for i in range(201)] + ["m999"]  # each once, in order, none lost
        assert len(log_files(folder)) > 20  # it really rotated, many times
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130 and err.decode() == "presetctl: interrupted\n"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.removeHandler(handler)
        handler.close()
