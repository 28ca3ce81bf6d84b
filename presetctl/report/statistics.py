"""``--statistics``: how many findings each rule has, instead of the findings (as ruff does).

Text: one line per rule, most frequent first: count, code, ``[*]`` when fixable, rule name.
With ``-o json``: a list of ``{code, name, count, fixable}`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from presetctl.engine.model import FileOutcome, Finding, RunResult
from presetctl.report.base import ReportContext, ReportWriter
from presetctl.safe_text import json_dumps


@dataclass
class _Row:
    """One rule's line of the --statistics table."""

    code: str
    name: str
    count: int = 0
    fixable: bool = False


class StatisticsWriter(ReportWriter):
    def __init__(self, output_format: str, ctx: ReportContext) -> None:
        self.json = output_format in ("json", "json-lines")
        self.ctx = ctx
        self.rows: dict[str, _Row] = {}

    def _count(self, findings: tuple[Finding, ...]) -> str:
        for f in findings:
            row = self.rows.setdefault(f.code, _Row(f.code, f.rule_name))
            row.count += 1
            row.fixable = row.fixable or f.fixable
        return ""

    def file(self, outcome: FileOutcome) -> str:
        return self._count(outcome.findings)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return self._count(findings)

    def end(self, result: RunResult) -> str:
        rows = sorted(self.rows.values(), key=lambda r: (-r.count, r.code))
        if self.json:
            return json_dumps([{"code": r.code, "name": r.name, "count": r.count, "fixable": r.fixable}
                               for r in rows]) + "\n"
        width = len(str(rows[0].count)) if rows else 1
        lines = [f"{r.count:>{width}}\t{r.code}\t{'[*] ' if r.fixable else ''}{r.name}" for r in rows]
        return "".join(line + "\n" for line in lines)
