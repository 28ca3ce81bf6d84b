"""``presetctl validate``: parse options, run the engine, hand the result to reporters."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from presetctl.api import validate as run_validate
from presetctl.cli import options as o
from presetctl.cli.console import progress_bar, use_color, width, write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.session import FailedOpt, NoHistoryOpt, recorded_run
from presetctl.engine.baseline import baseline_bytes
from presetctl.engine.model import RunResult, Severity
from presetctl.fsutil import atomic_write
from presetctl.report.base import ReportContext
from presetctl.report.registry import REPORTERS

OutputFormat = enum.Enum("OutputFormat", {name: name for name in REPORTERS}, type=str)  # type: ignore[misc]


def write_reports(result: RunResult, reports: list[tuple[str, Path]], ctx: ReportContext) -> None:
    plain = ReportContext(color=False, width=ctx.width, verbose=ctx.verbose, show_unknown=ctx.show_unknown,
                          fail_threshold=ctx.fail_threshold)
    for fmt, dest in reports:
        atomic_write(dest, REPORTERS[fmt].render(result, plain).encode("utf-8"))


@guarded
def validate(
    typer_ctx: typer.Context,
    paths: o.PathsArg = None,
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-o", help="Format of the report on stdout.")] = "full",  # type: ignore[assignment]
    report: Annotated[list[str] | None, typer.Option("--report", metavar="FORMAT:PATH",
                      help="Also write a report in FORMAT to PATH (repeatable).")] = None,
    fail_on: Annotated[o.FailOn, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")] = o.FailOn.error,
    exit_zero: o.ExitZeroOpt = False,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Report only findings not in this baseline file.")] = None,
    write_baseline: Annotated[Path | None, typer.Option("--write-baseline", help="Write all current findings to a baseline file and exit 0.")] = None,
    config: o.ConfigOpt = None,
    select: o.SelectOpt = None,
    extend_select: o.ExtendSelectOpt = None,
    ignore: o.IgnoreOpt = None,
    include: o.IncludeOpt = None,
    exclude: o.ExcludeOpt = None,
    jobs: o.JobsOpt = None,
    max_file_size: o.MaxSizeOpt = None,
    show_unknown: o.ShowUnknownOpt = False,
    color: o.ColorOpt = o.Color.auto,
    quiet: o.QuietOpt = False,
    verbose: o.VerboseOpt = False,
    only_failed: FailedOpt = False,
    no_history: NoHistoryOpt = False,
) -> None:
    """Check presets: file, parse, schema, metadata, naming, parameters, performance and security rules.

    Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage, config or
    internal error, 130 interrupted.
    """
    targets = o.path_strings(paths)
    options = o.build_options(targets, config, select, extend_select, ignore, include, exclude, jobs,
                              max_file_size, show_unknown)
    extra_reports = o.parse_report_specs(report, set(REPORTERS))
    with recorded_run(typer_ctx, "validate", targets, options=options, no_history=no_history, quiet=quiet,
                      color=color.value) as recorded:
        checked = (recorded.failed_targets(targets) if only_failed else None) or targets
        with progress_bar(not quiet, "validating") as progress:
            result = run_validate(checked, options, baseline=baseline if write_baseline is None else None,
                                  progress=progress)
        recorded.record(result)
        ctx = ReportContext(color=use_color(color.value, sys.stdout), width=width(sys.stdout), verbose=verbose,
                            quiet=quiet, show_unknown=show_unknown, fail_threshold=fail_on.value)
        if write_baseline is not None:
            atomic_write(write_baseline, baseline_bytes(result.findings))
            if not quiet:
                sys.stderr.write(f"wrote {len(result.findings)} findings to {write_baseline}\n")
            raise typer.Exit(EXIT_OK)
        write_stdout(REPORTERS[output_format.value].render(result, ctx))
        write_reports(result, extra_reports, ctx)
        if verbose:
            sys.stderr.write(" ".join(f"{t.stage}={t.seconds:.3f}s" for t in result.timings) + f" jobs={result.jobs}\n")
        failed = result.fails(Severity.parse(fail_on.value))
        raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)
