"""``presetctl merge-reports``: the JSON reports of ``--shard 1/N`` ... ``N/N`` as one run's report."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from presetctl.cli import options as o
from presetctl.cli.console import report_context, write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.reporting import OutputFormatOpt
from presetctl.cli.security import rating_threshold
from presetctl.cli.session import MetricsFileOpt, NoHistoryOpt, recorded_run
from presetctl.engine.baseline import read_baseline
from presetctl.engine.errors import UsageError
from presetctl.engine.merge import merge
from presetctl.engine.model import Severity
from presetctl.engine.shard import ShardInfo
from presetctl.fsutil import atomic_write
from presetctl.report.registry import REPORTERS
from presetctl.report.shards import load_shard

ReportsArg = Annotated[list[Path], typer.Argument(help="The JSON reports of every shard (`--shard K/N -o json`).",
                                                  show_default=False, metavar="REPORT")]
MergeFailOnOpt = Annotated[str | None, typer.Option("--fail-on", metavar="LEVEL", help="Lowest severity (validate: "
                           "error, warning, info) or rating (scan-security: critical, high, medium, low) that makes "
                           "the exit code 1 (default: error, or high for scan-security).")]


@guarded
def merge_reports(
    typer_ctx: typer.Context,
    reports: ReportsArg,
    output_format: OutputFormatOpt = "full",  # type: ignore[assignment]
    report: o.ReportOpt = None,
    fail_on: MergeFailOnOpt = None,
    exit_zero: o.ExitZeroOpt = False,
    baseline: o.BaselineOpt = None,
    show_duplicates: Annotated[bool, typer.Option("--show-duplicates", help="List every member of each group "
                                                  "finding under it (full and concise output).")] = False,
    color: o.ColorOpt = o.Color.auto,
    quiet: o.QuietOpt = False,
    metrics_file: MetricsFileOpt = None,
    no_history: NoHistoryOpt = False,
) -> None:
    """Merge the JSON reports of a sharded run into one report in any format, as if one process had
    checked every file: per-file findings as the shards found them, cross-file findings (duplicates
    across shards, case collisions, drift, packaging junk) computed again over all shards.

    Every shard of the run must be given once (same command, targets, settings and presetctl
    version). Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage
    error (a missing shard, a report that is not a shard report), 130 interrupted.
    """
    specs = o.parse_report_specs(report, set(REPORTERS))
    parts = [load_shard(str(p)) for p in reports]
    security = bool(parts) and parts[0].command == "scan-security"
    threshold = fail_on or ("high" if security else "error")
    try:
        label = rating_threshold(threshold).label if security else Severity.parse(threshold).label
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    with recorded_run(typer_ctx, "merge-reports", [str(p) for p in reports], no_history=no_history, quiet=quiet,
                      color=color.value, metrics_file=metrics_file) as recorded:
        base = read_baseline(baseline, None) if baseline is not None else None
        with recorded.metrics.gauge("presetctl_stage_seconds", "Wall seconds of each stage of the run").time(
                stage="merge"):
            result = merge(parts, base)
        recorded.record(result)
        ctx = report_context(color, verbose=False, quiet=quiet, show_unknown=False, fail_threshold=label,
                             exit_zero=exit_zero, show_related=show_duplicates, security=security)
        ctx = replace(ctx, shard=ShardInfo(1, 1, parts[0].settings))  # the merged run is the whole run: 1 of 1
        write_stdout(REPORTERS[output_format.value].render(result, ctx))
        plain = replace(ctx, color=False, wrap=False)
        for fmt, dest in specs:
            atomic_write(dest, REPORTERS[fmt].render(result, plain).encode("utf-8"))
        if not quiet:
            sys.stderr.write(f"merged {len(parts)} shard report{'s' if len(parts) != 1 else ''}: "
                             f"{len(result.files)} files, {len(result.findings)} findings\n")
        failed = any(ctx.fails(f) for f in result.findings)
        raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)
