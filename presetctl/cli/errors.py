"""The one place where exceptions become exit codes and messages, and signals become exceptions.

Exit codes: 0 clean (below the fail threshold), 1 findings at or above it, 2 usage, config, state
or internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hang-up (SIGHUP), 141
output closed (a reader such as ``head`` stopped reading). Every error code of the taxonomy
(engine/error_codes.py) picks an exception class and this table maps the class, so
``exit_code_for`` answers for a code too.

SIGTERM and SIGHUP are turned into an :class:`Interrupted` exception in the main thread, as
Python does for SIGINT, so every command unwinds the same way on any of them: the worker pool
kills and reaps its processes, ``fix`` leaves every file old or new with its journal saying
so, temporary report files are removed, and one line says what happened.

An internal error (a bug) prints one line with the path of a crash report written to the state
folder (presetctl/state/crash.py). The traceback is printed only with ``--traceback`` or
PRESETCTL_DEBUG=1, and never with local variables (they could leak secrets from the environment
or the files).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import signal
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

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
    exception_class,
)
from presetctl.engine.interrupts import StopSignals
from presetctl.safe_text import visible
from presetctl.state.paths import Locations

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
EXIT_HANGUP = 128 + signal.SIGHUP  # 129
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # 141, what a shell reports for a writer killed by SIGPIPE
INTERNAL = "internal error"

def install_signal_handlers() -> None:
    """Ctrl-C, SIGTERM and SIGHUP all stop a command the same way (called once, at the entry point)."""
    StopSignals().install()


# (exception type, exit code, message prefix), most specific first. Interrupts (128 + the signal)
# and a closed output (141) are answered by ``explain`` before this table.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (KeyboardInterrupt, EXIT_INTERRUPTED, "interrupted"),  # Interrupted too: 128 + its signal
    (UsageError, EXIT_ERROR, "error"),
    (ConfigError, EXIT_ERROR, "config error"),
    (HistoryError, EXIT_ERROR, "history error"),
    (StateError, EXIT_ERROR, "state error"),
    (FileSystemError, EXIT_ERROR, "I/O error"),
    (LimitError, EXIT_ERROR, "limit exceeded"),
    (WorkerError, EXIT_ERROR, "worker error"),
    (InternalError, EXIT_ERROR, INTERNAL),
    (PresetctlError, EXIT_ERROR, "error"),
    (MemoryError, EXIT_ERROR, "out of memory"),
    (OSError, EXIT_ERROR, "I/O error"),
    (Exception, EXIT_ERROR, INTERNAL),
)

P = ParamSpec("P")
R = TypeVar("R")


def _row(kind: type[BaseException]) -> tuple[int, str]:
    for cls, code, prefix in ERROR_TABLE:
        if issubclass(kind, cls):
            return code, prefix
    return EXIT_ERROR, INTERNAL  # pragma: no cover - Exception catches all but BaseExceptions we do not raise


def exit_code_for(code: ErrorCode) -> int:
    """The exit code a run stopped by ``code`` ends with."""
    return _row(exception_class(code))[0]


def is_internal(exc: BaseException) -> bool:
    return _row(type(exc))[1] == INTERNAL and not isinstance(exc, BrokenPipeError)


def explain(exc: BaseException) -> tuple[int, str]:
    """Exit code and the one-line message for ``exc`` ("" when nothing should be said)."""
    if isinstance(exc, KeyboardInterrupt):
        stop = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        return stop.exit_code, stop.message()
    if isinstance(exc, BrokenPipeError):
        return EXIT_BROKEN_PIPE, ""  # the reader left: nobody to tell
    code, prefix = _row(type(exc))
    detail = str(exc)
    if prefix == INTERNAL:
        detail = f"{type(exc).__name__}: {detail} (a bug in presetctl)"
    return code, f"presetctl: {prefix}" + (f": {visible(detail)}" if detail else "")


def _context(args: Sequence[Any], kwargs: Mapping[str, Any]) -> typer.Context | None:
    """The Typer context among a command's arguments. Typer passes its own click Context class, of which
    ``typer.Context`` is a typing subclass only: recognise it by what it does, not by isinstance."""
    for value in (*args, *kwargs.values()):
        if callable(getattr(value, "find_root", None)) and hasattr(value, "obj"):
            return value  # type: ignore[no-any-return]
    return None


def _setting(ctx: typer.Context | None, name: str) -> Any:
    """A global option from the app callback's context object (cli/app.py GlobalOptions)."""
    obj = ctx.find_root().obj if ctx is not None else None
    return getattr(obj, name, None)


def crash_line(exc: BaseException, ctx: typer.Context | None, argv: Sequence[str] | None = None) -> str:
    """Write a crash report for an internal error; the one line that points to it (or says why not)."""
    from presetctl.state.crash import write_report  # a bug's path only: no command's start-up pays for it

    where = Locations.resolve(_setting(ctx, "state_dir")).crash_reports
    try:
        path: Path = write_report(where, exc, ["presetctl", *(sys.argv[1:] if argv is None else argv)])
    except OSError as err:
        return f"no crash report: cannot write to {visible(str(where))}: {err.strerror or err}"
    return f"crash report: {visible(str(path))}"


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit-time flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        target = sys.stdout.fileno()  # first: a stdout without a descriptor must not leak the one opened below
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, target)
        os.close(null)


def say(message: str) -> None:
    """One line on stderr; a closed terminal (SIGHUP) or pipe cannot be written to, and that is fine."""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command under the error table."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():  # start-up is over (cli/app.py main() turned the collector off)
            gc.freeze()
            gc.enable()
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BaseException as exc:  # the single place that maps every error (BaseException: signals too)
            if isinstance(exc, SystemExit):
                raise
            code, message = explain(exc)
            ctx = _context(args, kwargs)
            if code == EXIT_BROKEN_PIPE:
                _silence_stdout()
            elif is_internal(exc):
                message += f"; {crash_line(exc, ctx)}"
            show = bool(_setting(ctx, "traceback")) or bool(os.environ.get("PRESETCTL_DEBUG"))
            if show and code == EXIT_ERROR:
                traceback.print_exception(exc, file=sys.stderr)  # no locals: capture_locals is off
            if message:
                say(message)
            raise typer.Exit(code) from None

    return wrapper
