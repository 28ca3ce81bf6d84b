"""`presetctl report` and `presetctl report diff` as users run them: static output byte for byte,
filters as options, exports, exit codes, errors, the pager on a real terminal, real processes."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from conftest import run_subprocess
from report_data import big_report, make_pack, write_report
from test_reporters import GOLDEN, UPDATE, render

from presetctl.report.browse.pager import pager_command
from presetctl.report.browse.source import JSON_HINT


@pytest.fixture
def golden_run(tmp_path: Path) -> Path:
    """The hostile hand-built run of test_reporters.py, as a JSON report file."""
    path = tmp_path / "run.json"
    path.write_text(render("json"))
    return path


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert text == path.read_text()


def test_static_report_matches_golden(cli, golden_run: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["report", golden_run, "--no-interactive"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout and "\x9b" not in result.stdout
    check_golden("browse.rule.txt", result.stdout)
    assert result.stdout.startswith("presetctl validate pack   2026-01-02T03:04:05+00:00   exit 1 (fail-on error)\n"
                                    "6 error  4 warning  1 info\n")
    assert "E M001 missing-name  1\n" in result.stdout


def test_static_report_by_file_with_filters(cli, golden_run: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["report", golden_run, "--no-interactive", "--group-by", "file", "--top", "1",
                  "--severity", "warning+", "--select", "M,P", "--path", "*.json"])
    assert result.exit_code == 0, result.output
    check_golden("browse.file-filtered.txt", result.stdout)
    assert "filter: sev:error,warning code:M code:P path:'*.json'\n" in result.stdout
    assert "2 file groups, 5 findings" in result.stdout and "... and 3 more" in result.stdout
    assert cli(["report", golden_run, "--grep", "no such text"]).stdout.endswith("no findings match the filter\n")


def test_exports_on_stdout(cli, golden_run: Path) -> None:  # type: ignore[no-untyped-def]
    as_json = json.loads(cli(["report", golden_run, "-o", "json", "--select", "P"]).stdout)
    assert [f["code"] for f in as_json["findings"]] == ["P001", "P002", "P002"]
    rows = list(csv.reader(io.StringIO(cli(["report", golden_run, "-o", "csv", "--severity", "info"]).stdout)))
    assert len(rows) == 2 and rows[1][:2] == ["info", "M006"]
    md = cli(["report", golden_run, "-o", "markdown", "--grep", "<script"]).stdout
    assert md.startswith("# presetctl findings\n\n3 findings.\n") and "<script" not in md


NO_HISTORY = ("no run history yet ({state}/history.sqlite3 does not exist); recorded validate and scan-security "
              f"runs appear there; or {JSON_HINT}")


@pytest.mark.parametrize(("args", "message"), [
    (["report"], f"presetctl: history error: cannot open run 'last': {NO_HISTORY}\n"),
    (["report", "last"], f"presetctl: history error: cannot open run 'last': {NO_HISTORY}\n"),
    (["report", "diff", "7", "last"], f"presetctl: history error: cannot open run '7': {NO_HISTORY}\n"),
    (["report", "missing.json"], "presetctl: error: no such report file or run: 'missing.json'\n"),
    (["report", "run.json", "--severity", "fatal"],
     "presetctl: error: unknown severity 'fatal' (expected error, warning or info)\n"),
    (["report", "run.json", "-o", "csv", "--interactive"],
     "presetctl: error: --interactive needs a terminal on standard output\n"),
])
def test_errors_exit_2(cli, golden_run: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],  # type: ignore[no-untyped-def]
                       message: str) -> None:
    monkeypatch.chdir(golden_run.parent)
    result = cli(args)
    message = message.replace("{state}", os.environ["PRESETCTL_STATE_DIR"])
    assert result.exit_code == 2 and result.stderr == message and result.stdout == ""
    assert not Path(os.environ["PRESETCTL_STATE_DIR"]).exists()  # reading the history creates nothing


def test_help_lists_the_subcommands(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(["report", "--help"]).stdout
    assert "show  Show the findings of a run" in out and "diff  Compare two runs" in out
    assert "--group-by" in cli(["report", "show", "--help"]).stdout


# -- diff ------------------------------------------------------------------------------------------------
def test_diff_between_two_versions_of_a_pack(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    pack = make_pack(tmp_path)
    before = write_report(tmp_path, pack, "before.json")
    (pack / "truncated.json").unlink()  # fixes one error (P001)
    (pack / "new.json").write_bytes(b'{"format_version": "1.0", "metadata": {"name": "New", "author": "QA"},'
                                    b' "parameters": [{"name": "x", "value": 2.0, "min": 0.0, "max": 1.0}]}')
    after = write_report(tmp_path, pack, "after.json")

    result = cli(["report", "diff", before, after, "-o", "json"])
    assert result.exit_code == 1, result.output  # a new error (V002) at the default --fail-on error
    doc = json.loads(result.stdout)
    assert {(f["code"], f["path"]) for f in doc["fixed"]} == {("P001", "pack/truncated.json")}
    new = {(f["code"], f["path"], f["severity"]) for f in doc["new"]}
    assert ("V002", "pack/new.json", "error") in new
    assert doc["summary"]["unchanged"] == len(json.loads(before.read_text())["findings"]) - 1
    assert {r["code"]: r["fixed"] for r in doc["by_rule"]}["P001"] == 1

    assert cli(["report", "diff", before, after, "--exit-zero"]).exit_code == 0
    assert cli(["report", "diff", before, after, "--select", "M,N,Q"]).exit_code == 0  # only warnings/info are new
    assert cli(["report", "diff", before, after, "--select", "M,N,Q", "--fail-on", "info"]).exit_code == 1
    assert cli(["report", "diff", after, after]).exit_code == 0
    text = cli(["report", "diff", before, after]).stdout
    assert "fixed" in text and "New findings (" in text and "Fixed findings (1): 1 error" in text
    assert "\x1b" not in text


# -- real processes and a real terminal ------------------------------------------------------------------
def test_piped_output_is_the_static_report(golden_run: Path) -> None:
    done = run_subprocess(["report", str(golden_run)], cwd=golden_run.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (GOLDEN / "browse.rule.txt").read_text() and done.stderr == ""


def _on_a_terminal(args: list[str], env: dict[str, str], cwd: Path, rows: int = 20) -> tuple[int, bytes]:
    """Run presetctl with stdout on a pseudo-terminal of ``rows`` rows; (exit code, what reached it)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "presetctl", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=subprocess.PIPE, cwd=cwd, env={**os.environ, **env})
    os.close(slave)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=60), bytes(seen)


def test_long_output_goes_through_the_pager(tmp_path: Path) -> None:
    report = big_report(tmp_path / "big.json", 2000)
    paged = tmp_path / "paged.txt"
    pager = {"PAGER": f"sh -c 'cat > {paged}'", "NO_COLOR": "1"}
    code, screen = _on_a_terminal(["report", report.name, "--no-interactive"], pager, tmp_path)
    assert code == 0 and screen == b""  # everything went to the pager
    expected = run_subprocess(["report", report.name], cwd=tmp_path).stdout
    assert paged.read_text() == expected and expected.count("\n") > 20

    paged.unlink()
    code, screen = _on_a_terminal(["report", report.name, "--no-interactive", "--no-pager"], pager, tmp_path)
    assert code == 0 and not paged.exists() and screen.count(b"\n") > 20
    code, screen = _on_a_terminal(["report", report.name, "--no-interactive", "--top", "0", "--select", "M001"],
                                  pager, tmp_path, rows=40)
    assert code == 0 and not paged.exists() and b"M001 missing-name" in screen  # short: printed directly


def test_pager_choice() -> None:
    assert pager_command({}) == ["less", "-FRX"] or pager_command({}) is None  # None only where less is missing
    assert pager_command({"PAGER": ""}) is None and pager_command({"PAGER": "cat"}) is None
    assert pager_command({"PAGER": "sh -c 'cat'"}) == ["sh", "-c", "cat"]
    assert pager_command({"PAGER": "no-such-pager-here"}) is None and pager_command({"PAGER": "'"}) is None


def test_required_tools_fail_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    """What .ci/run relies on: with the variable set, a missing browser or tmux is a failure."""
    from conftest import require_tool

    require_tool("x", True, "PRESETCTL_REQUIRE_X", "install x")  # present: nothing happens
    monkeypatch.delenv("PRESETCTL_REQUIRE_X", raising=False)
    with pytest.raises(pytest.skip.Exception, match="x is missing"):
        require_tool("x", False, "PRESETCTL_REQUIRE_X", "install x")
    monkeypatch.setenv("PRESETCTL_REQUIRE_X", "1")
    with pytest.raises(pytest.fail.Exception, match="PRESETCTL_REQUIRE_X is set but x is missing"):
        require_tool("x", False, "PRESETCTL_REQUIRE_X", "install x")
