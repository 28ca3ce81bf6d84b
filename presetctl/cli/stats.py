"""``presetctl stats``: what a librarian wants to know about a library, as tables and charts.

This module parses options and calls the engine (``presetctl.engine.stats``); the renderers
(terminal, CSV, HTML, alias config) are in ``presetctl.report.stats``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from presetctl.cli import options as o
from presetctl.cli.console import progress_bar, use_color, width, write_stdout
from presetctl.cli.errors import EXIT_OK, guarded
from presetctl.cli.session import MetricsFileOpt, NoHistoryOpt, history_location, recorded_run
from presetctl.engine.errors import HistoryError, UsageError
from presetctl.engine.stats.history import WINDOW
from presetctl.engine.stats.model import SECTIONS, HistoryFacts
from presetctl.engine.taxonomy import PROFILES
from presetctl.fsutil import atomic_write
from presetctl.report.stats import aliases_config, render_csv, render_html, render_text
from presetctl.safe_text import json_dumps
from presetctl.state import queries

# --- the command ----------------------------------------------------------------------------

def read_history(ctx: typer.Context, targets: list[str], run_id: str, no_history: bool) -> HistoryFacts:
    """The history section's input: the recorded runs over ``targets`` but this one, or why there are none."""
    path, off = history_location(ctx, no_history)
    try:
        with queries.reading(path, off=off) as conn:
            return queries.stats_history(conn, targets, window=WINDOW, exclude=(run_id,))
    except HistoryError as exc:
        return HistoryFacts(tuple(os.path.abspath(t) for t in targets), problem=str(exc))


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(o.split(values)))


SectionOpt = Annotated[list[str] | None, typer.Option("--section", "-s", help=f"Sections to show (repeatable or "
                       f"comma-separated; default all): {', '.join(SECTIONS)}.")]
TaxonomyOpt = Annotated[list[str] | None, typer.Option("--taxonomy", help="Taxonomy profile(s) to compare categories "
                        f"with (default: config, else each format's own): auto, {', '.join(sorted(PROFILES))}.")]


@guarded
def stats(
    typer_ctx: typer.Context,
    paths: o.PathsArg = None,
    section: SectionOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with a key per section.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the tables as CSV: section,table,row,column,value.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML page to FILE.",
                                              metavar="FILE")] = None,
    aliases: Annotated[Path | None, typer.Option("--aliases", metavar="FILE", help="Write the suggested category "
                       "aliases as a config file `presetctl fix --config FILE` applies.")] = None,
    threshold: Annotated[float, typer.Option("--threshold", min=0.0, help="Near-duplicate distance: root-mean-square "
                         "difference of parameters, as a share of each parameter's range.")] = 0.02,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows shown per ranked table (JSON keeps all).")] = 20,
    taxonomy: TaxonomyOpt = None,
    config: o.ConfigOpt = None,
    include: o.IncludeOpt = None,
    exclude: o.ExcludeOpt = None,
    jobs: o.JobsOpt = None,
    max_file_size: o.MaxSizeOpt = None,
    color: o.ColorOpt = o.Color.auto,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    metrics_file: MetricsFileOpt = None,
    no_history: NoHistoryOpt = False,
) -> None:
    """Statistics of a preset library: overview, taxonomy, duplicates, naming, sound design.

    Reads every format presetctl loads; changes nothing. Exit codes: 0 done, 2 usage, config
    or internal error, 130 interrupted.
    """
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    targets = o.path_strings(paths)
    options = o.build_options(targets, config, include=include, exclude=exclude, jobs=jobs,
                              max_file_size=max_file_size).options
    profiles = _split(taxonomy)
    unknown = [p for p in profiles if p != "auto" and p not in PROFILES]
    if unknown:
        raise UsageError(f"--taxonomy: unknown profile {unknown[0]!r} (known: auto, {', '.join(sorted(PROFILES))})")
    if profiles:
        options = replace(options, taxonomy=profiles)
    chosen = _split(section)
    if aliases is not None and chosen and "taxonomy" not in chosen:
        chosen = (*chosen, "taxonomy")
    from presetctl.engine.stats.run import collect  # here: it loads numpy, which other commands never need

    with recorded_run(typer_ctx, "stats", targets, options=options, no_history=no_history, quiet=quiet,
                      color=color.value, metrics_file=metrics_file) as recorded:
        past = read_history(typer_ctx, targets, recorded.run_id, no_history) if not chosen or "history" in chosen else None
        with progress_bar(not quiet and not as_json and not as_csv, "reading") as progress:
            # CSV is for further work: it keeps every row, as JSON does; --top only trims what is drawn.
            result = collect(targets, options, chosen, threshold=threshold, top=sys.maxsize if as_csv else top,
                             progress=progress, history=past)
        recorded.record_stats(result.files, result.seconds)
        if as_json:
            write_stdout(json_dumps(result.to_json()) + "\n")
        elif as_csv:
            write_stdout(render_csv(result))
        else:
            write_stdout(render_text(result, use_color(color.value, sys.stdout), width(sys.stdout)))
        if html is not None:
            atomic_write(html, render_html(result).encode("utf-8"))
        if aliases is not None:
            atomic_write(aliases, aliases_config(result).encode("utf-8"))
        raise typer.Exit(EXIT_OK)
