"""The one place where exceptions become exit codes and messages.

Exit codes: 0 clean (below the fail threshold), 1 findings at or above it, 2 usage, config or
internal error, 130 interrupted. A traceback is shown only with PRESETCTL_DEBUG=1, and never
with local variables (they could leak secrets from the environment or the files).
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer

from presetctl.engine.errors import ConfigError, PresetctlError, StateError, UsageError
from presetctl.report.safe_text import visible

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

# (exception type, exit code, message prefix), most specific first.
ERROR_TABLE: tuple[tuple[type[BaseException], int, str], ...] = (
    (KeyboardInterrupt, EXIT_INTERRUPTED, "interrupted"),
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
    for kind, code, prefix in ERROR_TABLE:
        if isinstance(exc, kind):
            detail = str(exc) if not isinstance(exc, KeyboardInterrupt) else ""
            if prefix == "internal error":
                detail = f"{type(exc).__name__}: {detail} (a bug in presetctl; PRESETCTL_DEBUG=1 shows a traceback)"
            return code, f"presetctl: {prefix}" + (f": {visible(detail)}" if detail else "")
    return EXIT_ERROR, f"presetctl: {visible(str(exc))}"  # pragma: no cover - Exception catches all


def guarded(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command under the error table."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except BaseException as exc:  # noqa: BLE001 - this is the single place that maps every error
            if isinstance(exc, SystemExit):
                raise
            code, message = explain(exc)
            if os.environ.get("PRESETCTL_DEBUG") and code != EXIT_INTERRUPTED:
                traceback.print_exception(exc, file=sys.stderr)  # no locals: capture_locals is off
            sys.stderr.write(message + "\n")
            raise typer.Exit(code) from None

    return wrapper


def fail_usage(message: str) -> Any:
    raise UsageError(message)
