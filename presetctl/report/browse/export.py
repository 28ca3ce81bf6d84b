"""Exporting a (filtered) view: JSON, CSV and Markdown. Pure ``findings -> str`` functions.

JSON uses the finding objects of the JSON report (one contract); CSV cells that a spreadsheet
would run as a formula are neutralized (:func:`presetctl.safe_text.csv_cell`); Markdown
shows text from files with visible escapes and with Markdown and HTML syntax made literal.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence

from presetctl.engine.errors import UsageError
from presetctl.engine.model import Finding
from presetctl.report.browse.diff import RunDiff
from presetctl.report.json_report import finding_dict
from presetctl.safe_text import csv_cell, encodable, json_dumps, visible

CSV_COLUMNS = ("severity", "code", "name", "path", "location", "line", "column", "message", "hint", "fixable")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def to_json(findings: Sequence[Finding]) -> str:
    return json_dumps({"version": 1, "findings": [finding_dict(f) for f in findings]}) + "\n"


def to_csv(findings: Sequence[Finding]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        row: list[object] = [f.severity.label, f.code, f.rule_name, f.path, f.location.render(),
                             f.line if f.line is not None else "", f.column if f.column is not None else "",
                             f.message, f.hint, "yes" if f.fixable else "no"]
        writer.writerow([encodable(csv_cell(v)) for v in row])
    return buf.getvalue()


def md_text(text: str) -> str:
    """Text from a file as literal Markdown: escapes visible, syntax backslashed, HTML inert."""
    safe = encodable(visible(text))
    safe = _MD_SPECIAL.sub(r"\\\1", safe)
    return safe.replace("&", "&amp;").replace("<", "&lt;")


def to_markdown(findings: Sequence[Finding], title: str = "presetctl findings") -> str:
    lines = [f"# {md_text(title)}", "", f"{len(findings)} findings.", "",
             "| severity | code | path | location | message |", "| --- | --- | --- | --- | --- |"]
    for f in findings:
        loc = f.location.render()
        if f.line is not None:
            loc = f"line {f.line}" + (f", {loc}" if loc else "")
        lines.append(f"| {f.severity.label} | {md_text(f.code)} | {md_text(f.path)} | {md_text(loc)} | "
                     f"{md_text(f.message)} |")
    return "\n".join(lines) + "\n"


def diff_json(diff: RunDiff, before: str, after: str) -> str:
    """``presetctl report diff -o json``: counts, a row per rule, and every new and fixed finding."""
    return json_dumps({
        "version": 1,
        "before": before,
        "after": after,
        "summary": {"new": len(diff.new), "fixed": len(diff.fixed), "unchanged": len(diff.unchanged)},
        "by_rule": [{"code": r.code, "name": r.name, "new": r.new, "fixed": r.fixed, "unchanged": r.unchanged}
                    for r in diff.by_rule()],
        "new": [finding_dict(f) for f in diff.new],
        "fixed": [finding_dict(f) for f in diff.fixed],
    }) + "\n"


EXPORTERS: dict[str, Callable[[Sequence[Finding]], str]] = {
    "json": to_json,
    "csv": to_csv,
    "markdown": to_markdown,
}
_SUFFIXES = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown"}


def format_for(path: str) -> str:
    """The export format a file name asks for (by its suffix)."""
    for suffix, name in _SUFFIXES.items():
        if path.lower().endswith(suffix):
            return name
    raise UsageError(f"cannot tell the export format of {path!r}: use a name ending in .json, .csv or .md")
