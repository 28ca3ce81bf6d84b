"""``presetctl scan-security``: the security rules (plus rated file/parse codes) over files and folders."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from presetctl.cli import options as o
from presetctl.cli.console import progress_bar, use_color, width, write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.session import NoHistoryOpt, recorded_run
from presetctl.cli.validate import OutputFormat, write_reports
from presetctl.engine.baseline import read_baseline
from presetctl.engine.model import SecuritySeverity
from presetctl.engine.runner import run
from presetctl.engine.security.scope import rate, scan_options
from presetctl.report.base import ReportContext
from presetctl.report.registry import REPORTERS


class SecurityFailOn(enum.StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


@guarded
def scan_security(
    typer_ctx: typer.Context,
    paths: o.PathsArg = None,
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-o", help="Format of the report on stdout.")] = "full",  # type: ignore[assignment]
    report: Annotated[list[str] | None, typer.Option("--report", metavar="FORMAT:PATH",
                      help="Also write a report in FORMAT to PATH (repeatable).")] = None,
    fail_on: Annotated[SecurityFailOn, typer.Option("--fail-on", help="Lowest security rating that makes the exit "
                                                    "code 1.")] = SecurityFailOn.high,
    exit_zero: o.ExitZeroOpt = False,
    baseline: Annotated[Path | None, typer.Option("--baseline", help="Report only findings not in this baseline file.")] = None,
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
    no_history: NoHistoryOpt = False,
) -> None:
    """Scan for hostile content: executables, scripts, Lua, zip slip, bombs, XXE, spoofed names, leaks.

    Runs the security rules (X codes) and the file and parse codes that are security facts
    (symlinks, special files, oversized, unreadable, disguised or unparsable files), each with a
    security rating: critical, high, medium or low. Limits come from [tool.presetctl.limits].
    Nothing is written, fetched or extracted.

    Exit codes: 0 no finding rated at or above --fail-on, 1 findings at or above it, 2 usage,
    config or internal error, 130 interrupted.
    """
    targets = o.path_strings(paths)
    options = scan_options(o.build_options(targets, config, select, extend_select, ignore, include, exclude, jobs,
                                           max_file_size, show_unknown))
    extra_reports = o.parse_report_specs(report, set(REPORTERS))
    keys = read_baseline(baseline) if baseline is not None else None
    with recorded_run(typer_ctx, "scan-security", targets, options=options, no_history=no_history, quiet=quiet,
                      color=color.value) as recorded:
        with progress_bar(not quiet, "scanning") as progress:
            result = rate(run(targets, options, command="scan-security", progress=progress, baseline=keys))
        recorded.record(result)
        threshold = SecuritySeverity.parse(fail_on.value)
        # Reporters that mark failures compare validate severities: pass the one this rating maps to.
        ctx = ReportContext(color=use_color(color.value, sys.stdout), width=width(sys.stdout), verbose=verbose,
                            quiet=quiet, show_unknown=show_unknown, fail_threshold=threshold.severity.label)
        write_stdout(REPORTERS[output_format.value].render(result, ctx))
        write_reports(result, extra_reports, ctx)
        if verbose:
            sys.stderr.write(" ".join(f"{t.stage}={t.seconds:.3f}s" for t in result.timings) + f" jobs={result.jobs}\n")
        failed = result.fails_security(threshold)
        raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)
