"""`presetctl report` for real: a terminal (tmux), a process, keys sent and the screen read back.

The pilot tests (test_report_tui.py) drive the app inside pytest; this one proves the command
opens the viewer on a real terminal, that hostile text reaches the screen as text (if an escape
sequence had gone through, tmux would have acted on it instead of showing it), and that `q`
ends the process with exit code 0 and leaves nothing running.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import psutil
from browser import assert_no_children
from report_data import make_pack, write_report

TIMEOUT = 60.0


class Tmux:
    def __init__(self, tmux: str, socket: Path) -> None:
        self.base = [tmux, "-S", str(socket), "-f", "/dev/null"]

    def __call__(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=30, check=False)
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "report")

    def wait_for(self, *texts: str, absent: tuple[str, ...] = ()) -> str:
        """The screen once it shows every one of ``texts`` and none of ``absent`` (polled: the app
        draws when it is ready)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            screen = self.screen()
            if all(t in screen for t in texts) and not any(t in screen for t in absent):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never showed {texts!r}:\n{screen}")
            time.sleep(0.1)


def test_viewer_in_a_real_terminal(tmux: str, tmp_path: Path) -> None:
    report = write_report(tmp_path, make_pack(tmp_path))
    done = tmp_path / "exit-code"
    command = (f"cd {shlex.quote(str(tmp_path))} && {shlex.quote(sys.executable)} -m presetctl report "
               f"{shlex.quote(report.name)} --baseline baseline.json; echo $? > {shlex.quote(str(done))}")
    t = Tmux(tmux, tmp_path / "tmux.sock")
    # COLUMNS and LINES (set by conftest for CliRunner) would override the terminal's own size in Textual.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    subprocess.run([*t.base, "new-session", "-d", "-s", "report", "-x", "200", "-y", "50", command],
                   env=env, check=True, timeout=30)
    server = psutil.Process(int(t("display-message", "-p", "#{pid}").strip()))  # a daemon: not our child
    try:
        screen = t.wait_for("grouped by rule", "presetctl validate pack", "D001 dx7-checksum-mismatch")
        assert "exit 1 (fail-on error)" in screen
        t("send-keys", "-t", "report", "g")
        t.wait_for("grouped by file", "pack/bank.syx")
        t("send-keys", "-t", "report", "/")
        t.wait_for("typing a filter")  # Textual routes keys by focus: type once the box has it
        t("send-keys", "-t", "report", "-l", "code:N006")
        t("send-keys", "-t", "report", "Enter")
        screen = t.wait_for("1 groups", "N006 name-control-characters", '"name": "[bold]Evil[/bold]\\u001b[31m<script>',
                            absent=("typing a filter",))
        assert "\\u202egnp" in screen  # the bidi override as an escape, not acting on the line
        t("send-keys", "-t", "report", "a")
        t.wait_for("1 accepted into baseline.json")
        t("send-keys", "-t", "report", "q")
        deadline = time.monotonic() + TIMEOUT
        while not done.exists() or not done.read_text().strip():
            assert time.monotonic() < deadline, t.screen()
            time.sleep(0.1)
        assert done.read_text() == "0\n"
        assert (tmp_path / "baseline.json").read_text().count('"code": "N006"') == 1
    finally:
        t("kill-server")
        server.wait(timeout=30)
    assert_no_children()
