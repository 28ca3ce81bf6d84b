"""The one place where exceptions become exit codes and messages, and signals become exceptions.

Exit codes: 0 clean (below the fail threshold), 1 findings at or above it, 2 usage, config or
internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hang-up (SIGHUP),
141 output closed (a reader such as ``head`` stopped reading). A traceback is shown only with
PRESETCTL_DEBUG=1, and never with local variables (they could leak secrets from the
environment or the files).

SIGTERM and SIGHUP are turned into an :class:`Interrupted` exception in the main thread, as
Python does for SIGINT, so every command unwinds the same way on any of them: the worker pool
kills and reaps its processes, ``fix`` leaves every file old or new with its journal saying
so, temporary report files are removed, and one line says what happened.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import traceback
from collections.abc import Callable
from types import FrameType
from typing import ParamSpec, TypeVar

import typer

from presetctl.engine.errors import ConfigError, PresetctlError, StateError, UsageError
from presetctl.safe_text import visible

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
EXIT_HANGUP = 128 + signal.SIGHUP  # 129
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # 141, what a shell reports for a writer killed by SIGPIPE

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_SIGNAL_WORDS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hang-up"}


class Interrupted(BaseException):
    """The user or the system asked the run to stop (SIGINT, SIGTERM or SIGHUP).

    A BaseException like KeyboardInterrupt, so ``except Exception`` never swallows it.
    ``hint`` tells what to do next (``fix`` names its ``--resume``).
    """

    def __init__(self, signum: int, hint: str = "") -> None:
        super().__init__(signum)
        self.signum = signum
        self.hint = hint

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def message(self) -> str:
        word = _SIGNAL_WORDS.get(signal.Signals(self.signum), "stopped by a signal")
        return f"presetctl: {word}" + (f"; {self.hint}" if self.hint else "")


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    # One stop is enough: a second signal must not cut the clean-up short (SIGKILL still works).
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """Ctrl-C, SIGTERM and SIGHUP all stop a command the same way (called once, at the entry point)."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _raise_interrupted)


# (exception type, exit code, message prefix), most specific first.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (UsageError, EXIT_ERROR, "error"),
    (ConfigError, EXIT_ERROR, "config error"),
    (StateError, EXIT_ERROR, "state error"),
    (PresetctlError, EXIT_ERROR, "error"),
    (MemoryError, EXIT_ERROR, "out of memory"),
    (OSError, EXIT_ERROR, "I/O error"),
    (Exception, EXIT_ERROR, "internal error"),
)

P = ParamSpec("P")
R = TypeVar("R")


def explain(exc: BaseException) -> tuple[int, str]:
    """Exit code and the one-line message for ``exc`` ("" when nothing should be said)."""
    if isinstance(exc, KeyboardInterrupt):
        exc = Interrupted(signal.SIGINT)
    if isinstance(exc, Interrupted):
        return exc.exit_code, exc.message()
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE, ""  # the reader left: nobody to tell
    for kind, code, prefix in ERROR_TABLE:
        if isinstance(exc, kind):
            detail = str(exc)
            if prefix == "internal error":
                detail = f"{type(exc).__name__}: {detail} (a bug in presetctl; PRESETCTL_DEBUG=1 shows a traceback)"
            return code, f"presetctl: {prefix}" + (f": {visible(detail)}" if detail else "")
    return EXIT_ERROR, f"presetctl: {visible(str(exc))}"  # pragma: no cover - Exception catches all


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit-time flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def _say(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP) cannot be written to
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command under the error table."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BaseException as exc:  # the single place that maps every error (BaseException: signals too)
            if isinstance(exc, SystemExit):
                raise
            code, message = explain(exc)
            if code == EXIT_BROKEN_PIPE:
                _silence_stdout()
            elif os.environ.get("PRESETCTL_DEBUG") and code == EXIT_ERROR:
                traceback.print_exception(exc, file=sys.stderr)  # no locals: capture_locals is off
            if message:
                _say(message)
            raise typer.Exit(code) from None

    return wrapper
