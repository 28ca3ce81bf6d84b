"""Run a check command and stream its reports: the body validate and scan-security share.

A command builds a :class:`CheckRequest` (options, outputs, gate) from its flags, then calls
:func:`run_and_report` with the engine call. Reports are written as the run goes: stdout
piece by piece (flushed, so ``| head`` sees lines at once), each ``--report`` file into a
temporary file beside it that replaces the destination only when the run completes.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Annotated

import typer

from presetctl.cli.console import progress_bar
from presetctl.engine.baseline import Baseline
from presetctl.engine.events import Event, FileChecked, PackChecked, RunFinished, RunStarted, Sink
from presetctl.engine.metrics import Metrics
from presetctl.engine.model import RunResult
from presetctl.engine.options import Options
from presetctl.fsutil import TMP_PREFIX
from presetctl.report.base import ReportContext, ReportWriter
from presetctl.report.registry import REPORTERS

OutputFormat = enum.Enum("OutputFormat", {name: name for name in REPORTERS}, type=str)  # type: ignore[misc]
OutputFormatOpt = Annotated[OutputFormat, typer.Option("--output-format", "-o", help="Format of the report on stdout.")]


def stage_line(result: RunResult) -> str:
    """The ``-v`` line of stage timings on stderr."""
    return " ".join(f"{t.stage}={t.seconds:.3f}s" for t in result.timings) + f" jobs={result.jobs}\n"


def costliest_rules(metrics: Metrics, top: int = 5) -> str:
    """The ``-v`` line of the rules that cost the most (seconds across all worker processes)."""
    costs = metrics.rule_costs()
    total = sum(s for _, s, _ in costs)
    if not costs or total <= 0:
        return ""
    shown = ", ".join(f"{code} {_duration(seconds)} ({seconds / total:.0%})" for code, seconds, _ in costs[:top])
    return f"costliest rules: {shown}; {_duration(total)} in {len(costs)} rules\n"


def _duration(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f}us"
    return f"{seconds * 1000:.1f}ms" if seconds < 1 else f"{seconds:.2f}s"


@dataclass(frozen=True)
class CheckRequest:
    """Everything a check command decided from its flags (check-jsonschema's ParseResult)."""

    targets: list[str]
    options: Options
    output_format: str
    reports: list[tuple[str, Path]]
    ctx: ReportContext
    baseline: Baseline | None = None
    statistics: bool = False
    exit_zero: bool = False


def _feed(writer: ReportWriter, event: Event) -> str:
    if isinstance(event, FileChecked):
        return writer.file(event.outcome)
    if isinstance(event, PackChecked):
        return writer.pack(event.findings)
    if isinstance(event, RunStarted):
        return writer.begin(event)
    if isinstance(event, RunFinished):
        return writer.end(event.result)
    return ""  # tool errors go to the log and the history, not into reports


class _Output:
    def __init__(self, writer: ReportWriter, stream: IO[str]) -> None:
        self.writer = writer
        self.stream = stream

    def __call__(self, event: Event) -> None:
        text = _feed(self.writer, event)
        if text:
            self.stream.write(text)
            self.stream.flush()


@contextmanager
def _report_file(dest: Path) -> Iterator[IO[str]]:
    """A temporary file beside ``dest`` that becomes ``dest`` when the block completes."""
    folder = dest.parent if str(dest.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def fan_out(*sinks: Sink | None) -> Sink:
    chosen = [s for s in sinks if s is not None]

    def sink(event: Event) -> None:
        for s in chosen:
            s(event)

    return sink


def progress_sink(progress: Callable[[int, int], None] | None) -> Sink | None:
    if progress is None:
        return None

    def sink(event: Event) -> None:
        if isinstance(event, FileChecked) and (event.done % 25 == 0 or event.done == event.total):
            progress(event.done, event.total)

    return sink


def run_and_report(request: CheckRequest, run: Callable[[Sink], RunResult], label: str) -> RunResult:
    """Run ``run`` with a sink that streams every report; returns the result."""
    # Everything alive now (the modules, the options) lives as long as the process: out of the
    # collector's sight, a run that builds 20,000 outcomes does not walk it again at each full
    # collection (a tenth of a warm cached run's CPU). Objects are still freed when unreferenced.
    gc.freeze()
    ctx = request.ctx
    if request.statistics:  # --statistics only: its module is not imported otherwise
        from presetctl.report.statistics import StatisticsWriter

        stdout_writer: ReportWriter = StatisticsWriter(request.output_format, ctx)
    else:
        stdout_writer = REPORTERS[request.output_format].writer(ctx)
    plain = replace(ctx, color=False, wrap=False)  # files never get colour or wrapping
    with contextlib.ExitStack() as stack:
        outputs: list[Sink | None] = [_Output(stdout_writer, sys.stdout)]
        for fmt, dest in request.reports:
            outputs.append(_Output(REPORTERS[fmt].writer(plain), stack.enter_context(_report_file(dest))))
        progress = stack.enter_context(progress_bar(not ctx.quiet, label))
        outputs.append(progress_sink(progress))
        result = run(fan_out(*outputs))
    if not result.files and not ctx.quiet and (request.statistics or request.output_format not in ("full", "concise")):
        sys.stderr.write("presetctl: no presets found\n")
    return result
