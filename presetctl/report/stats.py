"""Drawing ``presetctl stats`` results: the terminal (rich), CSV (one fact per row), HTML, and
the category-alias config. The engine (``presetctl.engine.stats``) returns sections of generic
tables and charts; these renderers draw them without knowing the sections.

Every string from a preset goes through ``visible`` into ``rich.text.Text``: neither control
characters nor rich markup in a name reach the terminal.
"""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from presetctl.engine.errors import UsageError
from presetctl.engine.stats.model import Chart, Envelope, Section, StatsResult, Table
from presetctl.engine.stats.taxonomy import alias_toml, toml_string
from presetctl.report.html import HtmlPage
from presetctl.report.pictures import sparkline
from presetctl.safe_text import csv_cell, encodable, visible

BAR_WIDTH = 40
CSV_HEADER = ("section", "table", "row", "column", "value")


# --- terminal -------------------------------------------------------------------------------

PATHS_SHOWN = 6  # paths listed per cell in the terminal; --json has them all


def _safe(text: object) -> str:
    """Controls as escapes, and undecodable file-name bytes too (a terminal cannot take them)."""
    return encodable(visible(str(text)))


def _cell(value: object) -> Text:
    if isinstance(value, Envelope):  # a picture: one block character per point
        return Text(sparkline(value.points), style="cyan")
    if isinstance(value, tuple):
        shown = [_safe(v) for v in value[:PATHS_SHOWN]]
        if len(value) > PATHS_SHOWN:
            shown.append(f"... and {len(value) - PATHS_SHOWN} more")
        return Text("\n".join(shown))
    return Text(_safe(value))


def _csv_value(value: object) -> str:
    if isinstance(value, Envelope):  # the picture's numbers, for further work
        return csv_cell(" ".join(f"{p:g}" for p in value.points))  # "-23.5 ..." would read as a formula
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
