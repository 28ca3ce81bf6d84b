"""Terminal decisions (colour, width, progress) made once per command from its options."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from presetctl.cli.options import Color
from presetctl.report.base import ReportContext

if TYPE_CHECKING:
    from presetctl.engine.workers import Progress as ProgressFn


def use_color(mode: str, stream: TextIO) -> bool:
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def width(stream: TextIO) -> int:
    try:
        return max(60, min(os.get_terminal_size(stream.fileno()).columns, 200)) if stream.isatty() else 100
    except (OSError, ValueError):
        return 100


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:
        return False


def report_context(color: Color, *, verbose: bool, quiet: bool, show_unknown: bool, fail_threshold: str,
                   exit_zero: bool = False, show_related: bool = False, security: bool = False) -> ReportContext:
    """How stdout reports look: colour and wrapping only on a terminal (a pipe gets whole lines)."""
    return ReportContext(color=use_color(color.value, sys.stdout), width=width(sys.stdout), wrap=is_terminal(sys.stdout),
                         verbose=verbose, quiet=quiet, show_unknown=show_unknown, fail_threshold=fail_threshold,
                         exit_zero=exit_zero, show_related=show_related, security=security)


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[ProgressFn | None]:
    """A progress callback drawing on stderr, or None when stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    # rich.progress costs 20 ms to import: only a terminal that shows the bar pays it.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=sys.stderr, markup=False, emoji=False, highlight=False)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def write_stdout(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()
