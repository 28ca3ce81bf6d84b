"""``full``: the interactive report. Findings grouped by file, then a summary table.

All text from files goes through :func:`visible`. On a terminal (colour or hard wrapping) the
report is drawn by rich (``full_rich.py``: ``Text`` objects, so neither control characters nor
rich markup in a preset name reach the terminal). Anywhere else (a pipe, a file, ``--report``)
the same bytes are built here as plain strings, without importing rich, which costs a validate
of one file a sixth of its start-up; tests/test_full_plain.py holds the two to each other.
Lines are never hard-wrapped unless ``ctx.wrap`` (a terminal), and a path is never split.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from presetctl.engine.model import FileOutcome, Finding, RunResult, SecuritySeverity, Severity
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.safe_text import visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
TITLE = "Summary"
HEADER = ("", "count")

Part = tuple[str, str | None]  # a piece of a line and its rich style (None: unstyled)


def finding_parts(f: Finding, ctx: ReportContext) -> list[Part]:
    """One finding's line (and its hint and group lines) as styled pieces."""
    style = STYLE[ctx.level(f)]
    parts: list[Part] = [("  ", None)]
    if f.line is not None:
        parts += [(f"{f.line}:{f.column or 1}", "dim"), (" ", None)]
    parts.append((f.code, style))
    parts.append((f" {ctx.label(f):<8} " if ctx.security else f" {ctx.label(f):<7} ", style))
    parts.append((visible(f.message), None))
    loc = f.location.render()
    if loc:
        parts.append((f"  [{visible(loc)}]", "dim"))
    if f.fixable:
        parts.append(("  (fixable)", "green"))
    if ctx.verbose and f.hint:
        parts.append((f"\n      hint: {visible(f.hint)}", "dim"))
    if ctx.show_related:
        for r in f.related:
            parts.append((f"\n      = {visible(r.render())}" + (f" {visible(repr(r.name))}" if r.name else ""), "dim"))
    return parts


def summary_rows(result: RunResult, security: bool = False) -> list[tuple[str, str, str | None]]:
    """The summary table's rows: label, count, and the label's style."""
    rows: list[tuple[str, str, str | None]] = [("files", str(len(result.files)), None)]
    for status, n in result.status_counts.items():
        if n:
            rows.append((f"  {status}", str(n), None))
    rows.append(("presets", str(result.presets), None))
    if security:
        for rating in sorted(SecuritySeverity, reverse=True):
            rows.append((rating.label, str(result.security_counts[rating.label]), STYLE[rating.severity]))
    else:
        for sev in sorted(Severity, reverse=True):
            rows.append((f"{sev.label}s" if sev is not Severity.INFO else "info", str(result.counts[sev.label]),
                         STYLE[sev]))
    fixable = sum(1 for f in result.findings if f.fixable)
    if fixable:
        rows.append(("fixable", str(fixable), "green"))
    if result.baseline_suppressed:
        rows.append(("in baseline", str(result.baseline_suppressed), None))
    rows.append(("seconds", f"{result.duration():.2f}", None))
    return rows


def plain_table(rows: Sequence[tuple[str, str, str | None]]) -> str:
    """The summary table as rich draws it without colour (its default heavy-head box, a cell of
    padding each side, the label column left- and the count column right-justified)."""
    w0 = max(len(r[0]) for r in [(*HEADER, None), *rows])
    w1 = max(len(r[1]) for r in [(*HEADER, None), *rows])
    bar0, bar1 = w0 + 2, w1 + 2
    lines = [TITLE,
             f"┏{'━' * bar0}┳{'━' * bar1}┓",
             f"┃ {HEADER[0]:<{w0}} ┃ {HEADER[1]:>{w1}} ┃",
             f"┡{'━' * bar0}╇{'━' * bar1}┩"]
    lines += [f"│ {label:<{w0}} │ {count:>{w1}} │" for label, count, _ in rows]
    lines.append(f"└{'─' * bar0}┴{'─' * bar1}┘")
    return "\n".join(lines) + "\n"


class FullWriter(ReportWriter):
    """The report as plain text; :class:`~presetctl.report.full_rich.RichFullWriter` overrides
    how a line and the table are drawn, nothing else."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.out: list[str] = []

    def line(self, parts: Iterable[Part], *, no_wrap: bool = False) -> None:
        self.out.append("".join(text for text, _ in parts) + "\n")

    def table(self, result: RunResult) -> None:
        self.out.append(plain_table(summary_rows(result, self.ctx.security)))

    def _take(self) -> str:
        text = "".join(self.out)
        self.out.clear()
        return text

    def _group(self, path: str, findings: Iterable[Finding]) -> None:
        self.line([(visible(path), "bold underline")], no_wrap=True)
        for f in findings:
            self.line(finding_parts(f, self.ctx))
        self.line([])

    def file(self, outcome: FileOutcome) -> str:
        if outcome.findings:
            self._group(outcome.path, outcome.findings)
        return self._take()

    def pack(self, findings: tuple[Finding, ...]) -> str:
        if findings:
            self.line([("Across files", "bold")])
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
                self.line([(f"Unknown files ({len(unknown)}):", "bold")])
                for p in unknown:
                    self.line([("  " + visible(p), None)], no_wrap=True)
                self.line([])
        if not self.ctx.quiet:
            if not result.files:
                self.line([("No presets found.", None)])
            else:
                self.table(result)
        return self._take()


class FullReporter(Reporter):
    name = "full"
    description = "grouped by file, with a summary table (rich)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        if ctx.color or ctx.wrap:  # only a terminal pays for importing rich
            from presetctl.report.full_rich import RichFullWriter

            return RichFullWriter(ctx)
        return FullWriter(ctx)
