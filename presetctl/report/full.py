"""``full``: the interactive report. Findings grouped by file, then a summary table.

All text from files goes through :func:`visible` and into ``rich.text.Text`` objects, so
neither control characters nor rich markup in a preset name can reach the terminal. Lines
are never hard-wrapped unless ``ctx.wrap`` (a terminal), and a path is never split.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from presetctl.engine.model import FileOutcome, Finding, RunResult, SecuritySeverity, Severity
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.safe_text import visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def make_console(ctx: ReportContext, buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=ctx.color, no_color=not ctx.color, color_system="standard" if ctx.color else None,
                   width=ctx.width, markup=False, emoji=False, highlight=False, soft_wrap=not ctx.wrap)


def _finding_text(f: Finding, ctx: ReportContext) -> Text:
    verbose, show_related = ctx.verbose, ctx.show_related
    style = STYLE[ctx.level(f)]
    t = Text("  ")
    if f.line is not None:
        t.append(f"{f.line}:{f.column or 1}", style="dim")
        t.append(" ")
    t.append(f.code, style=style)
    t.append(f" {ctx.label(f):<8} " if ctx.security else f" {ctx.label(f):<7} ", style=style)
    t.append(visible(f.message))
    loc = f.location.render()
    if loc:
        t.append(f"  [{visible(loc)}]", style="dim")
    if f.fixable:
        t.append("  (fixable)", style="green")
    if verbose and f.hint:
        t.append(f"\n      hint: {visible(f.hint)}", style="dim")
    if show_related:
        for r in f.related:
            t.append(f"\n      = {visible(r.render())}" + (f" {visible(repr(r.name))}" if r.name else ""), style="dim")
    return t


def summary_table(result: RunResult, security: bool = False) -> Table:
    table = Table(title="Summary", show_header=True, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("count", justify="right")
    table.add_row("files", str(len(result.files)))
    for status, n in result.status_counts.items():
        if n:
            table.add_row(f"  {status}", str(n))
    table.add_row("presets", str(result.presets))
    if security:
        for rating in sorted(SecuritySeverity, reverse=True):
            table.add_row(Text(rating.label, style=STYLE[rating.severity]), str(result.security_counts[rating.label]))
    else:
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


class _FullWriter(ReportWriter):
    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.buf = io.StringIO()
        self.console = make_console(ctx, self.buf)

    def _take(self) -> str:
        text = self.buf.getvalue()
        self.buf.seek(0)
        self.buf.truncate()
        return text

    def _group(self, path: str, findings: Iterable[Finding]) -> None:
        self.console.print(Text(visible(path), style="bold underline", no_wrap=True, overflow="ignore"))
        for f in findings:
            self.console.print(_finding_text(f, self.ctx))
        self.console.print()

    def file(self, outcome: FileOutcome) -> str:
        if outcome.findings:
            self._group(outcome.path, outcome.findings)
        return self._take()

    def pack(self, findings: tuple[Finding, ...]) -> str:
        if findings:
            self.console.print(Text("Across files", style="bold"))
            by_path: dict[str, list[Finding]] = {}
            for f in findings:
                by_path.setdefault(f.path, []).append(f)
            for path, group in by_path.items():
                self._group(path, group)
        return self._take()

    def end(self, result: RunResult) -> str:
        if self.ctx.show_unknown:
            unknown = [o.path for o in result.files if o.status.value == "unknown"]
            if unknown:
                self.console.print(Text(f"Unknown files ({len(unknown)}):", style="bold"))
                for p in unknown:
                    self.console.print(Text("  " + visible(p), no_wrap=True, overflow="ignore"))
                self.console.print()
        if not self.ctx.quiet:
            if not result.files:
                self.console.print("No presets found.")
            else:
                self.console.print(summary_table(result, self.ctx.security))
        return self._take()


class FullReporter(Reporter):
    name = "full"
    description = "grouped by file, with a summary table (rich)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _FullWriter(ctx)
