"""``concise``: one line per finding, ``path:line:col: CODE message`` (editors parse it)."""

from __future__ import annotations

from presetctl.engine.model import FileOutcome, Finding, RunResult
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.report.plural import plural
from presetctl.safe_text import visible


def finding_line(f: Finding) -> str:
    where = visible(f.path)
    if f.line is not None:
        where += f":{f.line}:{f.column or 1}"
    loc = f.location.render()
    suffix = f" [{visible(loc)}]" if loc and f.line is None else ""
    return f"{where}: {f.code} [{f.severity.label}] {visible(f.message)}{suffix}"


def related_lines(f: Finding) -> str:
    """``--show-duplicates``: every other member of the finding's group, one indented line each."""
    return "".join(f"    = {visible(r.render())}{' ' + visible(repr(r.name)) if r.name else ''}\n" for r in f.related)


def lines(findings: tuple[Finding, ...], show_related: bool = False) -> str:
    return "".join(finding_line(f) + "\n" + (related_lines(f) if show_related else "") for f in findings)


def summary_line(result: RunResult) -> str:
    if not result.files:
        return "No presets found."
    c = result.counts
    return (f"{plural(len(result.files), 'file')}, {plural(len(result.findings), 'finding')} "
            f"({plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, {c['info']} info)")


class _ConciseWriter(ReportWriter):
    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx

    def file(self, outcome: FileOutcome) -> str:
        return lines(outcome.findings, self.ctx.show_related)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return lines(findings, self.ctx.show_related)

    def end(self, result: RunResult) -> str:
        return "" if self.ctx.quiet else summary_line(result) + "\n"


class ConciseReporter(Reporter):
    name = "concise"
    description = "one line per finding: path:line:col: CODE [severity] message"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _ConciseWriter(ctx)
