"""``presetctl bench``: each engine stage measured per preset, next to the design's claims and a peer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from presetctl.bench.render import render_text
from presetctl.bench.run import (
    BenchResult,
    BenchSettings,
    compare,
    load_baseline,
    parse_stages,
    run_bench,
    save_baseline,
)
from presetctl.bench.stages import STAGES
from presetctl.cli import options as o
from presetctl.cli.console import write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.session import MetricsFileOpt, recorded_run
from presetctl.engine.errors import UsageError
from presetctl.engine.metrics import Metrics
from presetctl.engine.options import Options
from presetctl.safe_text import json_dumps

StageOpt = Annotated[list[str] | None, typer.Option("--stage", metavar="NAMES", help="Stages to measure "
                     f"(comma-separated or repeated; default all): {', '.join(s.name for s in STAGES)}.")]


@guarded
def bench(
    typer_ctx: typer.Context,
    presets: Annotated[int, typer.Option("--presets", min=1, help="Presets in the generated pack.")] = 500,
    params: Annotated[int, typer.Option("--params", min=1, help="Parameters per generated preset (400: about "
                                        "21 KB, a Helm or Vital preset without wavetables).")] = 400,
    corpus: Annotated[Path | None, typer.Option("--corpus", metavar="DIR", help="Measure on these files instead of "
                                                "a generated pack.")] = None,
    stage: StageOpt = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Measured rounds per stage.")] = 5,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Rounds run first and thrown away.")] = 1,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=2, metavar="N", help="Also time a whole "
                    "validate with 1 process and with N workers (scaling).")] = None,
    no_peer: Annotated[bool, typer.Option("--no-peer", help="Do not time check-jsonschema.")] = False,
    peer_files: Annotated[int, typer.Option("--peer-files", min=2, help="Files check-jsonschema is timed on.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (every number, the stability "
                       "of each stage, the claims).")] = False,
    save: Annotated[str | None, typer.Option("--save", metavar="NAME", help="Keep this result as baseline NAME "
                    "in the state folder.")] = None,
    compare_with: Annotated[str | None, typer.Option("--compare", metavar="NAME", help="Compare medians with "
                            "baseline NAME; exit 1 when a stage is slower by more than --threshold.")] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, metavar="PERCENT", help="Slow-down of a "
                         "median that counts as a regression.")] = 10.0,
    config: o.ConfigOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    metrics_file: MetricsFileOpt = None,
) -> None:
    """Measure each stage of the engine per preset: discovery, read, parse, quick and comprehensive
    validation, auto-fix, security scan, report rendering, one log record (queued and direct), one
    history write. Per stage: p50/p95/p99/max, throughput, CPU time, peak memory, the design's claim
    and whether it is met; check-jsonschema on the same files when installed.

    Runs in this process, one file at a time (--jobs adds a whole validate with workers). Exit
    codes: 0 done, 1 a regression against --compare, 2 usage error, 130 interrupted.
    """
    stages = parse_stages(o.split(stage) or ("all",))
    if corpus is not None and not corpus.is_dir():
        raise UsageError(f"--corpus {corpus}: not a folder")
    settings = BenchSettings(presets=presets, params=params, corpus=corpus, stages=stages, rounds=rounds,
                             warmup=warmup, jobs=jobs, peer=not no_peer, peer_files=peer_files)
    options = o.build_options([str(corpus)] if corpus else [], config).options if config or corpus else Options()
    with recorded_run(typer_ctx, "bench", [str(corpus)] if corpus else [], options=options, no_history=True,
                      quiet=quiet, metrics_file=metrics_file) as recorded:
        state = recorded.locations.state_dir()
        saved = load_baseline(state, compare_with) if compare_with is not None else None  # fail before measuring

        def progress(text: str) -> None:
            if not quiet:
                sys.stderr.write(f"bench: {text}\n")
                sys.stderr.flush()

        result = run_bench(settings, options, progress)
        if saved is not None and compare_with is not None:
            result = compare(result, saved, compare_with, threshold / 100)
        _export(recorded.metrics, result)
        write_stdout(json_dumps(result.to_json()) + "\n" if as_json else render_text(result))
        if save is not None:
            path = save_baseline(state, save, result)
            if not quiet:
                sys.stderr.write(f"bench: saved as {save!r} ({path})\n")
        raise typer.Exit(EXIT_FINDINGS if result.regressions else EXIT_OK)


def _export(metrics: Metrics, result: BenchResult) -> None:
    """The stage percentiles as gauges, for --metrics-file (a CI job can chart them)."""
    g = metrics.gauge("presetctl_bench_seconds", "Seconds per item of each benchmarked stage, by quantile")
    for s in result.stages:
        for q, v in (("0.5", s.stats.p50), ("0.95", s.stats.p95), ("0.99", s.stats.p99), ("1", s.stats.max)):
            g.set(v, stage=s.name, quantile=q)
