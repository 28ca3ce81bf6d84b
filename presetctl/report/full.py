"""``full``: the interactive report. Findings grouped by file, then a summary table.

All text from files goes through :func:`visible` and into ``rich.text.Text`` objects, so
neither control characters nor rich markup in a preset name can reach the terminal.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from presetctl.engine.model import Finding, RunResult, Severity
from presetctl.report.base import ReportContext, Reporter
from presetctl.report.safe_text import visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def make_console(ctx: ReportContext, buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=ctx.color, no_color=not ctx.color, color_system="standard" if ctx.color else None,
                   width=ctx.width, markup=False, emoji=False, highlight=False, soft_wrap=False)


def _finding_text(f: Finding, verbose: bool) -> Text:
    t = Text("  ")
    if f.line is not None:
        t.append(f"{f.line}:{f.column or 1}", style="dim")
        t.append(" ")
    t.append(f.code, style=STYLE[f.severity])
    t.append(f" {f.severity.label:<7} ", style=STYLE[f.severity])
    t.append(visible(f.message))
    loc = f.location.render()
    if loc:
        t.append(f"  [{visible(loc)}]", style="dim")
    if f.fixable:
        t.append("  (fixable)", style="green")
    if verbose and f.hint:
        t.append(f"\n      hint: {visible(f.hint)}", style="dim")
    return t


def summary_table(result: RunResult) -> Table:
    table = Table(title="Summary", show_header=True, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    table.add_row("files", str(len(result.files)))
    for status, n in result.status_counts.items():
        if n:
            table.add_row(f"  {status}", str(n))
    table.add_row("presets", str(sum(o.presets for o in result.files)))
    for sev in sorted(Severity, reverse=True):
        table.add_row(Text(f"{sev.label}s" if sev is not Severity.INFO else "info", style=STYLE[sev]),
                      str(result.counts[sev.label]))
    fixable = sum(1 for f in result.findings if f.fixable)
    if fixable:
        table.add_row(Text("fixable", style="green"), str(fixable))
    if result.baseline_suppressed:
        table.add_row("in baseline", str(result.baseline_suppressed))
    table.add_row("seconds", f"{result.duration():.2f}")
    return table


class FullReporter(Reporter):
    name = "full"
    description = "grouped by file, with a summary table (rich)"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        buf = io.StringIO()
        console = make_console(ctx, buf)
        for path, findings in result.findings_by_path().items():
            console.print(Text(visible(path), style="bold underline"))
            for f in findings:
                console.print(_finding_text(f, ctx.verbose))
            console.print()
        if ctx.show_unknown:
            unknown = [o.path for o in result.files if o.status.value == "unknown"]
            if unknown:
                console.print(Text(f"Unknown files ({len(unknown)}):", style="bold"))
                for p in unknown:
                    console.print(Text("  " + visible(p)))
                console.print()
        if not ctx.quiet:
            console.print(summary_table(result))
        return buf.getvalue()
