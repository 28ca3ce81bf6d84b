"""The static report: what ``presetctl report`` prints when it is not interactive (piped, CI).

The same grouping and filters as the viewer, as Rich text: the run header, then one line per
group with its counts (worst severity first), each followed by its first ``top`` findings. A
``diff`` of two runs renders as a table by rule followed by the new and the fixed findings.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from presetctl.engine.model import Finding
from presetctl.report.browse.diff import RunDiff
from presetctl.report.browse.richtext import (
    STYLE,
    counts_text,
    finding_text,
    group_text,
    header_text,
    safe,
    sparkline_text,
)
from presetctl.report.browse.source import LoadedRun, RunHeader
from presetctl.report.browse.view import Filter, GroupBy, by_severity, counts_by_severity, group
from presetctl.report.browse.voices import VoicePictures


def make_console(buffer: io.StringIO, color: bool, width: int) -> Console:
    return Console(file=buffer, force_terminal=color, no_color=not color, color_system="standard" if color else None,
                   width=width, markup=False, emoji=False, highlight=False, soft_wrap=False)


def render_report(run: LoadedRun, findings: Sequence[Finding], by: GroupBy, flt: Filter, top: int,
                  color: bool = False, width: int = 100, pictures: VoicePictures | None = None) -> str:
    """``findings`` are the filtered ones; ``top`` findings are listed per group (0: none, only counts).

    With ``pictures``, each listed audio finding (W101-W105) is followed by its voice's envelope.
    """
    buf = io.StringIO()
    console = make_console(buf, color, width)
    console.print(header_text(run.header, run.counts(), shown=len(findings)))
    if flt.active:
        console.print(Text(f"filter: {safe(flt.describe())}", style="dim"))
    console.print()
    groups = group(findings, by)
    if not groups:
        console.print(Text("no findings" + (" match the filter" if flt.active else ""), style="green"))
        return buf.getvalue()
    console.print(Text(f"{len(groups):,} {by.value} groups, {len(findings):,} findings", style="bold underline"))
    if pictures is not None:
        pictures.prefetch(f for g in groups for f in g.findings[:top])  # one cache query, one batch render
    for g in groups:
        console.print(group_text(g))
        for f in g.findings[:top]:
            line = Text("    ")
            line.append_text(finding_text(f, show_path=by is not GroupBy.file))
            console.print(line)
            picture = pictures.picture(f) if pictures is not None else None
            if picture is not None:
                console.print(Text("      ").append_text(sparkline_text(picture)))
        if top and len(g) > top:
            console.print(Text(f"    ... and {len(g) - top:,} more", style="dim"))
    return buf.getvalue()


def _header_line(label: str, header: RunHeader, counts: dict[str, int]) -> Text:
    t = Text(f"{label}: ", style="bold")
    t.append(safe(header.source))
    t.append(f"  {safe(header.started_at)}  ", style="dim")
    t.append_text(counts_text(counts))
    return t


def render_diff(before: LoadedRun, after: LoadedRun, diff: RunDiff, top: int, color: bool = False,
                width: int = 100) -> str:
    buf = io.StringIO()
    console = make_console(buf, color, width)
    console.print(_header_line("before", before.header, before.counts()))
    console.print(_header_line("after ", after.header, after.counts()))
    console.print()
    summary = Text()
    summary.append(f"{len(diff.new):,} new", style="bold red" if diff.new else "green")
    summary.append(f"   {len(diff.fixed):,} fixed", style="bold green" if diff.fixed else "dim")
    summary.append(f"   {len(diff.unchanged):,} unchanged", style="dim")
    console.print(summary)
    rows = diff.by_rule()
    if rows:
        table = Table(title="By rule", title_justify="left")
        for name, justify in (("code", "left"), ("name", "left"), ("new", "right"), ("fixed", "right"),
                              ("unchanged", "right")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for r in rows:
            table.add_row(Text(safe(r.code)), Text(safe(r.name)),
                          Text(f"{r.new:,}", style="bold red" if r.new else "dim"),
                          Text(f"{r.fixed:,}", style="green" if r.fixed else "dim"), Text(f"{r.unchanged:,}"))
        console.print(table)
    for title, findings in (("New", diff.new), ("Fixed", diff.fixed)):
        if not findings:
            continue
        ordered = by_severity(findings)
        counts = counts_by_severity(findings)
        head = Text(f"{title} findings ({len(findings):,}): ", style="bold underline")
        head.append_text(counts_text(counts))
        console.print()
        console.print(head)
        for f in ordered[:top]:
            line = Text("  ")
            line.append_text(finding_text(f))
            console.print(line)
        if len(ordered) > top:
            console.print(Text(f"  ... and {len(ordered) - top:,} more (-o json lists them all)", style="dim"))
    return buf.getvalue()


__all__ = ["STYLE", "make_console", "render_diff", "render_report"]
