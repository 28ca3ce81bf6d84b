"""``presetctl scan-security``: the security rules (plus rated file/parse codes) over files and folders."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from presetctl.api import scan_security as run_scan
from presetctl.cli import options as o
from presetctl.cli.console import report_context
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.reporting import CheckRequest, OutputFormatOpt, costliest_rules, fan_out, run_and_report, stage_line
from presetctl.cli.session import MetricsFileOpt, NoCacheOpt, NoHistoryOpt, recorded_run
from presetctl.engine.baseline import read_baseline
from presetctl.engine.model import SecuritySeverity
from presetctl.engine.security.scope import scan_options
from presetctl.report.registry import REPORTERS


class SecurityFailOn(enum.StrEnum):
    """The ratings, and validate's severity words for the same thresholds (error = high, warning =
    medium, info = low), so either word list works with scan-security."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    error = "error"
    warning = "warning"
    info = "info"


# A validate severity word as the rating threshold it stands for (SecuritySeverity.severity inverted).
_AS_RATING = {"error": SecuritySeverity.HIGH, "warning": SecuritySeverity.MEDIUM, "info": SecuritySeverity.LOW}


def rating_threshold(word: str) -> SecuritySeverity:
    return _AS_RATING.get(word) or SecuritySeverity.parse(word)


@guarded
def scan_security(
    typer_ctx: typer.Context,
    paths: o.PathsArg = None,
    output_format: OutputFormatOpt = "full",  # type: ignore[assignment]
    report: o.ReportOpt = None,
    fail_on: Annotated[SecurityFailOn, typer.Option("--fail-on", help="Lowest security rating that makes the exit "
                                                    "code 1 (error, warning and info stand for high, medium and "
                                                    "low).")] = SecurityFailOn.high,
    exit_zero: o.ExitZeroOpt = False,
    baseline: o.BaselineOpt = None,
    statistics: o.StatisticsOpt = False,
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
    shard: o.ShardOpt = None,
    metrics_file: MetricsFileOpt = None,
    no_history: NoHistoryOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Scan for hostile content: executables, scripts, Lua, zip slip, bombs, XXE, spoofed names, leaks.

    Runs the security rules (X codes), the file and parse codes that are security facts
    (symlinks, special files, oversized, unreadable, disguised or unparsable files, packaging junk)
    and every format rule of error severity (a file that cannot be fully understood is not clean),
    each with a security rating: critical, high, medium or low. Every output shows the rating.
    Limits come from [tool.presetctl.limits]. Nothing is written, fetched or extracted.

    Exit codes: 0 no finding rated at or above --fail-on, 1 findings at or above it, 2 usage,
    config or internal error, 130 interrupted (143 on SIGTERM, 129 on SIGHUP).
    """
    targets = o.path_strings(paths)
    resolved = o.build_options(targets, config, select, extend_select, ignore, include, exclude, jobs,
                               max_file_size, show_unknown)
    threshold = rating_threshold(fail_on.value)
    options = o.with_shard(resolved.options, shard)
    # Reports show each finding's rating and mark failures against the rating threshold.
    ctx = report_context(color, verbose=verbose, quiet=quiet, show_unknown=show_unknown,
                         fail_threshold=threshold.label, exit_zero=exit_zero, security=True)
    request = CheckRequest(
        targets, options, output_format.value, o.parse_report_specs(report, set(REPORTERS)),
        o.shard_context(ctx, scan_options(options), baseline is not None),
        baseline=read_baseline(baseline, resolved.config) if baseline is not None else None,
        statistics=statistics, exit_zero=exit_zero)
    with recorded_run(typer_ctx, "scan-security", targets, options=request.options, no_history=no_history,
                      quiet=quiet, color=color.value, metrics_file=metrics_file) as recorded:
        setup = recorded.worker_setup()
        cache = recorded.check_cache(no_cache)
        result = run_and_report(
            request, lambda sink: run_scan(targets, request.options, baseline=request.baseline,
                                           sink=fan_out(sink, recorded.sink), worker_setup=setup, cache=cache,
                                           metrics=recorded.metrics), "scanning")
        if verbose:
            sys.stderr.write(stage_line(result) + costliest_rules(recorded.metrics))
        failed = result.fails_security(threshold)
        raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)
