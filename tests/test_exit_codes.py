"""The exit-code contract, end to end, through real processes: each row of the error table.

0 nothing at or above the fail threshold, 1 findings at or above it, 2 usage / config / state /
I/O / internal error, 130 / 143 / 129 interrupted by SIGINT / SIGTERM / SIGHUP (tests/test_signals.py
sends those), 141 when the reader goes away. Each case asserts the exact code and the one line on
stderr. An internal error is injected into a real process with a ``sitecustomize`` module (no test
hook in presetctl itself) and must exit 2, never 1: CI must not read "findings" when the tool crashed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_subprocess

CLEAN = b'{"format_version": "1.0", "metadata": {"name": "Pad", "author": "A", "category": "Pad", ' \
        b'"description": "d", "license": "CC0-1.0", "tags": ["warm"]}, "parameters": []}'


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "Pad.json").write_bytes(CLEAN)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Broken.json").write_text("{")
    return tmp_path


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    r = run_subprocess(args, cwd=cwd, env=env)
    return r.returncode, r.stdout, r.stderr


def test_0_clean(work: Path) -> None:
    code, out, err = _run(["validate", "good", "-o", "concise", "-q"], work)
    assert (code, out, err) == (0, "", "")


def test_1_findings_at_or_above_the_threshold(work: Path) -> None:
    code, out, err = _run(["validate", "bad", "-o", "concise", "-q"], work)
    assert (code, err) == (1, "") and out.startswith("bad/Broken.json:1:2: P001 [error]")
    assert _run(["validate", "bad", "-q", "--exit-zero"], work)[0] == 0


@pytest.mark.parametrize(("args", "line"), [
    (["validate", "missing"], "presetctl: error: cannot access 'missing': No such file or directory"),
    (["validate", "good", "--select", "Z999"],
     "presetctl: config error: select: 'Z999' matches no rule code (see `presetctl rules`)"),
    (["validate", "good", "--config", "nope.toml"], "presetctl: config error: config file 'nope.toml' does not exist"),
    (["validate", "good", "--report", "xml:out.x"],
     "presetctl: error: --report: unknown format 'xml' (known: concise, full, github, gitlab, json, json-lines, junit, "
     "sarif)"),
    (["fix", "--resume"], "presetctl: state error: no interrupted fix run to resume"),
])
def test_2_usage_config_and_state_errors(work: Path, args: list[str], line: str) -> None:
    code, out, err = _run(args, work)
    assert (code, out, err) == (2, "", line + "\n")


def test_2_usage_error_from_the_option_parser(work: Path) -> None:
    code, _, err = _run(["validate", "--no-such-option"], work)
    assert code == 2 and "No such option: --no-such-option" in err


def test_2_an_unreadable_config_is_a_config_error_not_a_crash(work: Path) -> None:
    (work / "good" / "presetctl.toml").write_text("select = [")
    code, out, err = _run(["validate", "good"], work)
    assert (code, out) == (2, "") and err.startswith("presetctl: config error: ") and "invalid TOML" in err


def _inject(tmp_path: Path, body: str) -> dict[str, str]:
    """A sitecustomize that patches presetctl in the child process before it runs."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(body)
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_2_internal_error_never_1(work: Path) -> None:
    env = _inject(work, "import presetctl.engine.runner as r\n"
                        "def boom(*a, **k):\n    raise RuntimeError('injected bug')\n"
                        "r.run = boom\n")
    code, out, err = _run(["validate", "bad"], work, env)
    assert (code, out) == (2, "")
    found = re.fullmatch(r"presetctl: internal error: RuntimeError: injected bug \(a bug in presetctl\); "
                         r"crash report: (\S+)\n", err)
    assert found, err
    crash = Path(found.group(1)).read_text()  # one line on the terminal, the details in the report
    assert "Traceback (most recent call last)" in crash and "RuntimeError: injected bug" in crash
    debug = _run(["validate", "bad"], work, {**env, "PRESETCTL_DEBUG": "1"})
    assert debug[0] == 2 and "Traceback (most recent call last)" in debug[2] and "RuntimeError: injected bug" in debug[2]


def test_2_an_io_error_of_the_tool(work: Path) -> None:
    env = _inject(work, "import errno, presetctl.engine.runner as r\n"
                        "def boom(*a, **k):\n    raise OSError(errno.EIO, 'Input/output error')\n"
                        "r.run = boom\n")
    code, out, err = _run(["validate", "good"], work, env)
    assert (code, out, err) == (2, "", "presetctl: I/O error: [Errno 5] Input/output error\n")


def test_2_out_of_memory(work: Path) -> None:
    env = _inject(work, "import presetctl.engine.runner as r\n"
                        "def boom(*a, **k):\n    raise MemoryError()\n"
                        "r.run = boom\n")
    code, out, err = _run(["validate", "good"], work, env)
    assert (code, out, err) == (2, "", "presetctl: out of memory\n")


def test_2_internal_error_in_process(cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def bug(*a: object, **k: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("presetctl.api.run", bug)
    monkeypatch.chdir(work)
    result = cli(["validate", "bad"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("presetctl: internal error: ZeroDivisionError: division by zero (a bug in "
                                    "presetctl); crash report: ")
    assert result.stderr.count("\n") == 1


def test_130_ctrl_c_in_process(cli, work: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def interrupted(*a: object, **k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("presetctl.api.run", interrupted)
    monkeypatch.chdir(work)
    result = cli(["validate", "good"])
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "presetctl: interrupted\n")


def test_141_when_the_reader_goes_away(work: Path) -> None:
    many = work / "many"
    many.mkdir()
    for i in range(400):
        (many / f"b{i:03d}.json").write_text("{")
    proc = subprocess.Popen([sys.executable, "-m", "presetctl", "validate", "many", "-o", "concise"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader leaves after one line
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (141, b"")
