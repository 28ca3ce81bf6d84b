"""``concise``: one line per finding, ``path:line:col: CODE message`` (editors parse it)."""

from __future__ import annotations

from presetctl.engine.model import Finding, RunResult
from presetctl.report.base import ReportContext, Reporter
from presetctl.report.safe_text import visible


def finding_line(f: Finding) -> str:
    where = visible(f.path)
    if f.line is not None:
        where += f":{f.line}:{f.column or 1}"
    loc = f.location.render()
    suffix = f" [{visible(loc)}]" if loc and f.line is None else ""
    return f"{where}: {f.code} [{f.severity.label}] {visible(f.message)}{suffix}"


class ConciseReporter(Reporter):
    name = "concise"
    description = "one line per finding: path:line:col: CODE [severity] message"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        lines = [finding_line(f) for f in result.findings]
        if not ctx.quiet:
            c = result.counts
            lines.append(f"{len(result.files)} files, {len(result.findings)} findings "
                         f"({c['error']} errors, {c['warning']} warnings, {c['info']} info)")
        return "\n".join(lines) + "\n" if lines else ""
