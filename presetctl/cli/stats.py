"""``presetctl stats``: what a librarian wants to know about a library, as tables and charts.

The engine (``presetctl.engine.stats``) returns sections of generic tables and charts; this
module draws them with rich, or writes them as JSON, CSV (one fact per row) or an HTML page.
Every string from a preset goes through ``visible`` into ``rich.text.Text``: neither control
characters nor rich markup in a name reach the terminal.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from presetctl.cli import options as o
from presetctl.cli.console import progress_bar, use_color, width, write_stdout
from presetctl.cli.errors import EXIT_OK, guarded
from presetctl.cli.session import NoHistoryOpt, recorded_run
from presetctl.engine.errors import UsageError
from presetctl.engine.stats.model import SECTIONS, Chart, Section, StatsResult, Table
from presetctl.engine.stats.taxonomy import alias_toml, toml_string
from presetctl.engine.taxonomy import PROFILES
from presetctl.fsutil import atomic_write
from presetctl.report.html import HtmlPage
from presetctl.report.safe_text import csv_cell, encodable, json_dumps, visible

BAR_WIDTH = 40
CSV_HEADER = ("section", "table", "row", "column", "value")


# --- terminal -------------------------------------------------------------------------------

PATHS_SHOWN = 6  # paths listed per cell in the terminal; --json has them all


def _safe(text: object) -> str:
    """Controls as escapes, and undecodable file-name bytes too (a terminal cannot take them)."""
    return encodable(visible(str(text)))


def _cell(value: object) -> Text:
    if isinstance(value, tuple):
        shown = [_safe(v) for v in value[:PATHS_SHOWN]]
        if len(value) > PATHS_SHOWN:
            shown.append(f"... and {len(value) - PATHS_SHOWN} more")
        return Text("\n".join(shown))
    return Text(_safe(value))


def _csv_value(value: object) -> str:
    if isinstance(value, tuple):
        return "\n".join(encodable(csv_cell(v)) for v in value)
    return encodable(csv_cell(value))


def _table(t: Table) -> RichTable:
    caption = f"... and {t.more} more (see --json)" if t.more else None
    out = RichTable(title=Text(_safe(t.title)), title_justify="left", caption=caption, caption_justify="left", show_header=True,
                    header_style="bold", min_width=max(len(t.title), len(caption or "")))
    numeric = [all(isinstance(r[i], (int, float)) for r in t.rows) for i in range(len(t.columns))]
    for name, num in zip(t.columns, numeric, strict=True):
        out.add_column(Text(_safe(name)), justify="right" if num else "left", overflow="fold")
    for row in t.rows:
        out.add_row(*(_cell(c) for c in row))
    return out


def _chart(c: Chart) -> Text:
    """Bars drawn with block characters; histograms keep their order, flagged bars in red."""
    top = max((b.value for b in c.bars), default=0.0) or 1.0
    label_w = min(32, max((len(_safe(b.label)) for b in c.bars), default=1))
    out = Text(_safe(c.title) + (f" ({c.unit})" if c.unit else "") + "\n", style="bold")
    for b in c.bars:
        label = _safe(b.label)
        label = label if len(label) <= label_w else label[: label_w - 1] + "\u2026"
        filled = b.value / top * BAR_WIDTH
        full = int(filled)
        bar = "\u2588" * full + ("\u258c" if filled - full >= 0.5 else "")
        out.append(f"  {label:<{label_w}} ")
        out.append(bar or ("\u258f" if b.value else ""), style="red" if b.flagged else "cyan")
        value = f"{b.value:g}" if not b.value.is_integer() else f"{int(b.value)}"
        out.append(f" {value}\n")
    return out


def render_text(result: StatsResult, color: bool, term_width: int) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, color_system="standard" if color else None,
                      width=term_width, markup=False, emoji=False, highlight=False, soft_wrap=False)
    for section in result.sections:
        console.rule(Text(section.name.capitalize(), style="bold"), align="left")
        for t in section.tables:
            console.print(_table(t))
        for c in section.charts:
            if c.bars:
                console.print(_chart(c))
        for note in section.notes:
            console.print(Text(_safe(note), style="dim"))
        console.print()
    console.print(Text(f"{result.files} files, {result.presets} presets in {result.seconds:.2f} s "
                       f"({result.jobs} worker{'s' if result.jobs != 1 else ''})", style="dim"))
    return buf.getvalue()


# --- CSV and HTML ---------------------------------------------------------------------------

def render_csv(result: StatsResult) -> str:
    """Every table cell as one row: section, table, row label (first cell), column, value."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for section in result.sections:
        for t in section.tables:
            for row in t.rows:
                label = row[0]
                for column, value in zip(t.columns[1:], row[1:], strict=True):
                    writer.writerow([_csv_value(section.name), _csv_value(t.key), _csv_value(label),
                                     _csv_value(column), _csv_value(value)])
    return buf.getvalue()


def _html_section(page: HtmlPage, section: Section) -> None:
    page.heading(section.name.capitalize())
    for note in section.notes:
        page.paragraph(note, note=True)
    for c in section.charts:
        if c.bars:
            page.bar_chart(c.title, [(b.label, b.value, b.flagged) for b in c.bars], c.unit)
    for t in section.tables:
        page.table(t.columns, t.rows, caption=t.title, more=t.more)


def render_html(result: StatsResult) -> str:
    roots = ", ".join(result.roots)
    page = HtmlPage("presetctl stats", f"{roots}: {result.files} files, {result.presets} presets")
    for section in result.sections:
        _html_section(page, section)
    return page.render()


def aliases_config(result: StatsResult) -> str:
    """A presetctl.toml that `presetctl fix --config FILE` reads: the suggested category aliases."""
    tax = result.section("taxonomy")
    if tax is None:
        raise UsageError("--aliases needs the taxonomy section")
    table = tax.data["category_aliases"]
    extra = tax.data.get("taxonomy_additions") or []
    lines = ["# Written by `presetctl stats --aliases`: category spellings and the spelling fix turns them into.\n"]
    if extra:  # targets outside the taxonomy: fix keeps an alias only when its target is allowed
        profile = [*tax.data["taxonomy"], *extra]
        lines.append("taxonomy = [" + ", ".join(toml_string(p) for p in profile) + "]\n")
    lines.append("\n[category-aliases]\n")
    lines.append(alias_toml(table))
    return "".join(lines)


# --- the command ----------------------------------------------------------------------------

def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for v in values or [] for p in v.split(",") if p.strip()))


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
    no_history: NoHistoryOpt = False,
) -> None:
    """Statistics of a preset library: overview, taxonomy, duplicates, naming, sound design.

    Reads every format presetctl loads; changes nothing. Exit codes: 0 done, 2 usage, config
    or internal error, 130 interrupted.
    """
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    targets = o.path_strings(paths)
    options = o.build_options(targets, config, include=include, exclude=exclude, jobs=jobs, max_file_size=max_file_size)
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
                      color=color.value) as recorded:
        with progress_bar(not quiet and not as_json and not as_csv, "reading") as progress:
            # CSV is for further work: it keeps every row, as JSON does; --top only trims what is drawn.
            result = collect(targets, options, chosen, threshold=threshold, top=sys.maxsize if as_csv else top,
                             progress=progress)
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
