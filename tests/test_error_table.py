"""The error table and the stop signals, in-process: every row's exit code and exact message, the
wrapper every command runs under (crash report, traceback only on request, a closed output), and
the handler that turns SIGINT, SIGTERM and SIGHUP into one exception but never inside a write.

tests/test_exit_codes.py and tests/test_signals.py check the same contract through real processes;
these are the fast checks of each branch (mutation testing runs them against every small change).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from presetctl.cli import errors
from presetctl.cli.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_ERROR,
    EXIT_HANGUP,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    crash_line,
    exit_code_for,
    explain,
    guarded,
    is_internal,
    say,
)
from presetctl.cli.session import GlobalOptions
from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import (
    ConfigError,
    FileSystemError,
    HistoryError,
    InternalError,
    Interrupted,
    LimitError,
    PresetctlError,
    StateError,
    UsageError,
    WorkerError,
)
from presetctl.engine.interrupts import STOP_SIGNALS, StopSignals, stops_deferred


# -- the table ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("exc", "code", "message"), [
    (UsageError("no such path"), 2, "presetctl: error: no such path"),
    (ConfigError("bad select"), 2, "presetctl: config error: bad select"),
    (HistoryError("locked"), 2, "presetctl: history error: locked"),  # before StateError, its base
    (StateError("no journal"), 2, "presetctl: state error: no journal"),
    (FileSystemError("disk"), 2, "presetctl: I/O error: disk"),
    (LimitError("too big"), 2, "presetctl: limit exceeded: too big"),
    (WorkerError("died"), 2, "presetctl: worker error: died"),
    (InternalError("oops"), 2, "presetctl: internal error: InternalError: oops (a bug in presetctl)"),
    (PresetctlError("generic"), 2, "presetctl: error: generic"),
    (MemoryError(), 2, "presetctl: out of memory"),
    (PermissionError(13, "Permission denied"), 2, "presetctl: I/O error: [Errno 13] Permission denied"),
    (ValueError("bug"), 2, "presetctl: internal error: ValueError: bug (a bug in presetctl)"),
    (UsageError(""), 2, "presetctl: error"),  # no detail: no colon
    (UsageError("name \x1b]52;c;x\x07"), 2, "presetctl: error: name \\x1b]52;c;x\\x07"),  # made visible
    (KeyboardInterrupt(), 130, "presetctl: interrupted"),
    (Interrupted(signal.SIGTERM), 143, "presetctl: terminated"),
    (Interrupted(signal.SIGHUP, hint="finish it with `presetctl fix --resume`"), 129,
     "presetctl: hang-up; finish it with `presetctl fix --resume`"),
    (BrokenPipeError(), 141, ""),  # the reader left: nothing is said
])
def test_every_row_gives_its_exit_code_and_one_line(exc: BaseException, code: int, message: str) -> None:
    assert explain(exc) == (code, message)


def test_exit_codes_are_the_documented_numbers() -> None:
    assert (EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_HANGUP, EXIT_BROKEN_PIPE) == (2, 130, 143, 129, 141)
    assert [exit_code_for(c) for c in (ErrorCode.USAGE, ErrorCode.INTERNAL, ErrorCode.INTERRUPTED)] == [2, 2, 130]


def test_only_bugs_are_internal() -> None:
    assert is_internal(ValueError()) and is_internal(InternalError())
    assert not any(is_internal(e) for e in (UsageError(), StateError(), OSError(), BrokenPipeError(), MemoryError(),
                                            KeyboardInterrupt()))


# -- the wrapper ---------------------------------------------------------------------------------------
def _app(raising: BaseException, state_dir: Path, traceback: bool = False) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = GlobalOptions(state_dir=str(state_dir), traceback=traceback)

    @app.command()
    @guarded
    def boom(ctx: typer.Context) -> None:
        raise raising

    return app


def test_an_internal_error_exits_2_with_one_line_and_a_crash_report(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The report names the command line: pin it (pytest's own argv differs between `make test` and a
    # developer's `pytest -q FILE`).
    monkeypatch.setattr(sys, "argv", ["/usr/bin/presetctl", "boom", "--flag"])
    result = CliRunner().invoke(_app(ValueError("bad value"), tmp_path / "state"), ["boom"])
    assert result.exit_code == 2
    reports = sorted((tmp_path / "state" / "crash-reports").iterdir())
    assert len(reports) == 1
    assert result.stderr == (f"presetctl: internal error: ValueError: bad value (a bug in presetctl); "
                             f"crash report: {reports[0]}\n")
    text = reports[0].read_text()
    assert "ValueError: bad value" in text and "\n## command\npresetctl boom --flag\ncwd: " in text
    assert "Traceback" not in result.stderr  # only on request


def test_the_state_dir_option_chooses_where_the_crash_report_goes(tmp_path: Path) -> None:
    CliRunner().invoke(_app(KeyError("k"), tmp_path / "elsewhere"), ["boom"])
    assert len(list((tmp_path / "elsewhere" / "crash-reports").iterdir())) == 1


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_traceback_only_on_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "environment":
        monkeypatch.setenv("PRESETCTL_DEBUG", "1")
    result = CliRunner().invoke(_app(UsageError("no such path"), tmp_path, traceback=how == "option"), ["boom"])
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr and "UsageError: no such path" in result.stderr
    assert result.stderr.endswith("presetctl: error: no such path\n")


def test_no_traceback_for_an_interrupt_even_when_asked(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(Interrupted(signal.SIGTERM), tmp_path, traceback=True), ["boom"])
    assert (result.exit_code, result.stderr) == (143, "presetctl: terminated\n")


def test_a_user_error_writes_no_crash_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(ConfigError("bad"), tmp_path), ["boom"])
    assert (result.exit_code, result.stderr) == (2, "presetctl: config error: bad\n")
    assert not (tmp_path / "crash-reports").exists()


def test_a_closed_output_exits_141_silently(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(BrokenPipeError(), tmp_path), ["boom"])
    assert (result.exit_code, result.stderr) == (141, "")


@pytest.mark.parametrize("exit_", [typer.Exit(7), SystemExit(5)])
def test_exits_pass_through(tmp_path: Path, exit_: BaseException) -> None:
    result = CliRunner().invoke(_app(exit_, tmp_path), ["boom"])
    assert (result.exit_code, result.stderr) == (7 if isinstance(exit_, typer.Exit) else 5, "")


def test_no_crash_report_when_the_folder_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    result = CliRunner().invoke(_app(ValueError("x"), blocker), ["boom"])
    assert result.exit_code == 2
    assert result.stderr == (f"presetctl: internal error: ValueError: x (a bug in presetctl); no crash report: "
                             f"cannot write to {blocker / 'crash-reports'}: Not a directory\n")


def test_crash_line_records_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESETCTL_STATE_DIR", str(tmp_path))
    line = crash_line(RuntimeError("r"), None, ["fix", "pack"])
    path = Path(line.removeprefix("crash report: "))
    assert path.parent == tmp_path / "crash-reports" and "\n## command\npresetctl fix pack\n" in path.read_text()
    monkeypatch.setattr(sys, "argv", ["python -m presetctl", "validate", "x.vital"])
    path = Path(crash_line(RuntimeError("r"), None).removeprefix("crash report: "))
    assert "\n## command\npresetctl validate x.vital\n" in path.read_text()


def test_the_context_is_found_among_positional_and_keyword_arguments(tmp_path: Path) -> None:
    class Ctx:
        def __init__(self, obj: object) -> None:
            self.obj = obj

        def find_root(self) -> Ctx:
            return self

    class NoRoot:
        obj = GlobalOptions(traceback=True)

    ctx = Ctx(GlobalOptions(state_dir="s", traceback=True))
    assert errors._context((1, ctx), {}) is ctx and errors._context((), {"ctx": ctx}) is ctx
    assert errors._context((NoRoot(),), {}) is None
    assert errors._setting(ctx, "state_dir") == "s"  # type: ignore[arg-type]
    assert errors._setting(None, "traceback") is None
    assert errors._setting(Ctx(None), "traceback") is None  # type: ignore[arg-type]


def test_say_writes_one_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    say("presetctl: terminated")
    assert capsys.readouterr() == ("", "presetctl: terminated\n")


def test_say_survives_a_closed_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    class Closed:
        def write(self, text: str) -> int:
            raise OSError(5, "Input/output error")

        def flush(self) -> None:
            raise ValueError("closed")

    monkeypatch.setattr(sys, "stderr", Closed())
    say("presetctl: hang-up")  # nothing raised


def test_after_a_broken_pipe_stdout_points_at_dev_null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out"
    with open(target, "w") as fh:
        before = len(os.listdir("/proc/self/fd"))
        saved = os.dup(fh.fileno())
        monkeypatch.setattr(sys, "stdout", fh)
        try:
            errors._silence_stdout()
            os.write(fh.fileno(), b"lost")
            assert os.path.samefile(f"/proc/self/fd/{fh.fileno()}", os.devnull)
            assert len(os.listdir("/proc/self/fd")) == before + 1  # the saved copy only: no descriptor leaked
        finally:
            os.dup2(saved, fh.fileno())
            os.close(saved)
    assert target.read_bytes() == b""


def test_silencing_a_stdout_without_a_descriptor_is_harmless(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr(sys, "stdout", io.StringIO())  # fileno() raises io.UnsupportedOperation
    before = len(os.listdir("/proc/self/fd"))
    errors._silence_stdout()
    assert len(os.listdir("/proc/self/fd")) == before



def test_say_survives_a_stderr_closed_by_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fh = open(tmp_path / "err", "w")  # closed: writing raises ValueError, not OSError
    fh.close()
    monkeypatch.setattr(sys, "stderr", fh)
    say("presetctl: interrupted")  # nothing raised


def test_silencing_a_closed_stdout_or_without_dev_null_is_harmless(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    closed = open(tmp_path / "closed", "w")  # closed: fileno() raises ValueError
    closed.close()
    monkeypatch.setattr(sys, "stdout", closed)
    errors._silence_stdout()
    with open(tmp_path / "out", "w") as fh:
        monkeypatch.setattr(sys, "stdout", fh)

        def no_more_descriptors(*args: object) -> int:
            raise OSError(24, "Too many open files")

        monkeypatch.setattr(os, "open", no_more_descriptors)
        errors._silence_stdout()  # nothing raised, and stdout is left as it was
        monkeypatch.undo()
        assert os.path.samefile(f"/proc/self/fd/{fh.fileno()}", tmp_path / "out")

# -- the stop signals --------------------------------------------------------------------------------
@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, h in saved.items():
            signal.signal(sig, h)


@pytest.mark.parametrize(("sig", "code", "exit_code"), [
    (signal.SIGINT, ErrorCode.INTERRUPTED, 130), (signal.SIGTERM, ErrorCode.TERMINATED, 143),
    (signal.SIGHUP, ErrorCode.TERMINATED, 129),
])
def test_each_stop_signal_raises_interrupted(handlers: None, sig: int, code: ErrorCode, exit_code: int) -> None:
    stop = StopSignals().install()
    assert all(signal.getsignal(s) is stop for s in STOP_SIGNALS)
    with pytest.raises(Interrupted) as raised:
        os.kill(os.getpid(), sig)
    assert (raised.value.signum, raised.value.code, raised.value.exit_code) == (sig, code, exit_code)
    assert stop.stopping and stop.pending is None
    stop(signal.SIGTERM, None)  # one stop is enough: a second signal is ignored while cleaning up


def test_a_signal_inside_a_deferred_block_lands_when_it_ends(handlers: None) -> None:
    stop = StopSignals().install()
    done = []
    with pytest.raises(Interrupted) as raised:
        with stops_deferred():
            with stops_deferred():  # nested: only the outermost end raises
                os.kill(os.getpid(), signal.SIGHUP)
                os.kill(os.getpid(), signal.SIGTERM)  # the first signal is the one reported
                assert stop.depth == 2 and stop.pending == signal.SIGHUP
            done.append("inner")
            assert stop.depth == 1 and not stop.stopping
        done.append("outer")  # never reached: the signal lands as the block ends
    assert done == ["inner"]
    assert (raised.value.signum, raised.value.code) == (signal.SIGHUP, ErrorCode.TERMINATED)
    assert (stop.depth, stop.pending, stop.stopping) == (0, None, True)


def test_a_deferred_block_without_a_signal_raises_nothing(handlers: None) -> None:
    stop = StopSignals().install()
    with stops_deferred():
        pass
    assert (stop.depth, stop.pending, stop.stopping) == (0, None, False)


def test_a_block_ending_after_the_stop_does_not_raise_again(handlers: None) -> None:
    stop = StopSignals()
    stop.stopping = True
    with stop.deferred():
        stop(signal.SIGTERM, None)
    assert stop.pending is None


def test_without_the_cli_handler_the_signal_mask_holds_stops(handlers: None) -> None:
    seen: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    with stops_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        assert signal.SIGTERM in signal.sigpending() and seen == []
    assert seen == [signal.SIGTERM] and signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
