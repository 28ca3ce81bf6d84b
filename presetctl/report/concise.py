"""``concise``: one line per finding, ``path:line:col: CODE message`` (editors parse it)."""

from __future__ import annotations

from presetctl.engine.model import FileOutcome, Finding, RunResult, SecuritySeverity
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.report.plural import plural
from presetctl.safe_text import visible


def finding_line(f: Finding, ctx: ReportContext | None = None) -> str:
    where = visible(f.path)
    if f.line is not None:
        where += f":{f.line}:{f.column or 1}"
    loc = f.location.render()
    suffix = f" [{visible(loc)}]" if loc and f.line is None else ""
    label = ctx.label(f) if ctx is not None else f.severity.label
    return f"{where}: {f.code} [{label}] {visible(f.message)}{suffix}"


def related_lines(f: Finding) -> str:
    """``--show-duplicates``: every other member of the finding's group, one indented line each."""
    return "".join(f"    = {visible(r.render())}{' ' + visible(repr(r.name)) if r.name else ''}\n" for r in f.related)


def lines(findings: tuple[Finding, ...], ctx: ReportContext) -> str:
    return "".join(finding_line(f, ctx) + "\n" + (related_lines(f) if ctx.show_related else "") for f in findings)


def summary_line(result: RunResult, security: bool = False) -> str:
    if not result.files:
        return "No presets found."
    head = f"{plural(len(result.files), 'file')}, {plural(len(result.findings), 'finding')}"
    if security:
        c = result.security_counts
        return head + " (" + ", ".join(f"{c[s.label]} {s.label}" for s in sorted(SecuritySeverity, reverse=True)) + ")"
    c = result.counts
    return f"{head} ({plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, {c['info']} info)"


class _ConciseWriter(ReportWriter):
    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx

    def file(self, outcome: FileOutcome) -> str:
        return lines(outcome.findings, self.ctx)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return lines(findings, self.ctx)

    def end(self, result: RunResult) -> str:
        return "" if self.ctx.quiet else summary_line(result, self.ctx.security) + "\n"


class ConciseReporter(Reporter):
    name = "concise"
    description = "one line per finding: path:line:col: CODE [severity] message (scan-security: the rating)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _ConciseWriter(ctx)
