"""``presetctl validate``: parse options, run the engine, stream the result to reporters and history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from presetctl.api import validate as run_validate
from presetctl.cli import options as o
from presetctl.cli.console import report_context
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.reporting import CheckRequest, OutputFormatOpt, costliest_rules, fan_out, run_and_report, stage_line
from presetctl.cli.session import FailedOpt, MetricsFileOpt, NoCacheOpt, NoHistoryOpt, recorded_run
from presetctl.engine.baseline import baseline_bytes, project_root, read_baseline
from presetctl.engine.model import Severity
from presetctl.fsutil import atomic_write
from presetctl.report.plural import plural
from presetctl.report.registry import REPORTERS


@guarded
def validate(
    typer_ctx: typer.Context,
    paths: o.PathsArg = None,
    output_format: OutputFormatOpt = "full",  # type: ignore[assignment]
    report: o.ReportOpt = None,
    fail_on: Annotated[o.FailOn, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")] = o.FailOn.error,
    exit_zero: o.ExitZeroOpt = False,
    baseline: o.BaselineOpt = None,
    write_baseline: Annotated[Path | None, typer.Option("--write-baseline", metavar="FILE",
                              help="Write all current findings to a baseline file and exit 0.")] = None,
    statistics: o.StatisticsOpt = False,
    show_duplicates: Annotated[bool, typer.Option("--show-duplicates", help="List every member of each group "
                                                  "finding (duplicates Q001 and Q002, packaging junk F012) under "
                                                  "it (full and concise output; json and sarif always hold them).")]
    = False,
    config: o.ConfigOpt = None,
    select: o.SelectOpt = None,
    extend_select: o.ExtendSelectOpt = None,
    ignore: o.IgnoreOpt = None,
    profile: o.ProfileOpt = None,
    include: o.IncludeOpt = None,
    exclude: o.ExcludeOpt = None,
    jobs: o.JobsOpt = None,
    max_file_size: o.MaxSizeOpt = None,
    show_unknown: o.ShowUnknownOpt = False,
    color: o.ColorOpt = o.Color.auto,
    quiet: o.QuietOpt = False,
    verbose: o.VerboseOpt = False,
    only_failed: FailedOpt = False,
    shard: o.ShardOpt = None,
    metrics_file: MetricsFileOpt = None,
    no_history: NoHistoryOpt = False,
    no_cache: NoCacheOpt = False,
) -> None:
    """Check presets: file, parse, schema, metadata, naming, parameters, performance and security rules.

    Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage, config or
    internal error, 130 interrupted (143 on SIGTERM, 129 on SIGHUP).
    """
    targets = o.path_strings(paths)
    resolved = o.build_options(targets, config, select, extend_select, ignore, include, exclude, jobs,
                               max_file_size, show_unknown, profile=profile)
    reports = o.parse_report_specs(report, set(REPORTERS))
    options = o.with_shard(resolved.options, shard)
    with recorded_run(typer_ctx, "validate", targets, options=options, no_history=no_history, quiet=quiet,
                      color=color.value, metrics_file=metrics_file) as recorded:
        checked = (recorded.failed_targets(targets) if only_failed else None) or targets
        setup = recorded.worker_setup()
        cache = recorded.check_cache(no_cache)
        if write_baseline is not None:
            root = project_root(resolved.config, write_baseline)
            result = run_validate(checked, options, sink=recorded.sink, worker_setup=setup, cache=cache,
                                  metrics=recorded.metrics)
            atomic_write(write_baseline, baseline_bytes(result.findings, root))
            if not quiet:
                sys.stderr.write(f"wrote {plural(len(result.findings), 'finding')} to {write_baseline}\n")
            raise typer.Exit(EXIT_OK)
        ctx = report_context(color, verbose=verbose, quiet=quiet, show_unknown=show_unknown,
                             fail_threshold=fail_on.value, exit_zero=exit_zero, show_related=show_duplicates)
        request = CheckRequest(
            checked, options, output_format.value, reports, o.shard_context(ctx, options, baseline is not None),
            baseline=read_baseline(baseline, resolved.config) if baseline is not None else None,
            statistics=statistics, exit_zero=exit_zero)
        result = run_and_report(
            request, lambda sink: run_validate(checked, options, baseline=request.baseline,
                                               sink=fan_out(sink, recorded.sink), worker_setup=setup, cache=cache,
                                               metrics=recorded.metrics), "validating")
        if verbose:
            sys.stderr.write(stage_line(result) + costliest_rules(recorded.metrics))
        failed = result.fails(Severity.parse(fail_on.value))
        raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)
