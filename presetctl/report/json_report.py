"""``json`` and ``json-lines``: the machine contract others script against (docs/output-formats.md).

Text from files is kept exactly, but C1 controls, bidi and other invisible characters are written
as ``\\uXXXX`` escapes (the same JSON value) and undecodable file-name bytes as visible escapes,
through :func:`presetctl.report.safe_text.json_dumps`.
"""

from __future__ import annotations

import os
from typing import Any

from presetctl.engine.model import Finding, RunResult, Severity
from presetctl.report.base import ReportContext, Reporter
from presetctl.report.safe_text import json_dumps

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    loc = f.location
    return {
        "path": f.path,
        "code": f.code,
        "name": f.rule_name,
        "severity": f.severity.label,
        "security_severity": f.security.label if f.security else None,
        "message": f.message,
        "location": loc.render(),
        "pointer": loc.pointer or None,
        "offset": loc.offset,
        "voice": loc.voice,
        "entry": loc.entry or None,
        "line": f.line,
        "column": f.column,
        "fixable": f.fixable,
        "hint": f.hint or None,
    }


def summary_dict(result: RunResult) -> dict[str, Any]:
    return {
        "files": len(result.files),
        "presets": sum(o.presets for o in result.files),
        "findings": len(result.findings),
        **result.counts,
        "by_status": result.status_counts,
        "by_format": result.format_counts,
        "baseline_suppressed": result.baseline_suppressed,
        "fixable": sum(1 for f in result.findings if f.fixable),
        "seconds": round(result.duration(), 4),
    }


def run_dict(result: RunResult, ctx: ReportContext) -> dict[str, Any]:
    """What ``presetctl report`` shows in its header and needs to find the files again.

    ``cwd`` is the folder the finding paths are relative to: the caller's ``ctx.extra["cwd"]``, else
    the working folder of the process rendering the report (the run's own, for the CLI).
    """
    failed = result.fails(Severity.parse(ctx.fail_threshold))
    return {
        "roots": list(result.roots),
        "cwd": str(ctx.extra.get("cwd") or os.getcwd()),
        "started_at": result.started_at or None,
        "fail_on": ctx.fail_threshold,
        "exit_code": 1 if failed else 0,
    }


def result_dict(result: RunResult, ctx: ReportContext) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "presetctl", "version": ctx.tool_version},
        "command": result.command,
        "run": run_dict(result, ctx),
        "summary": summary_dict(result),
        "findings": [finding_dict(f) for f in result.findings],
    }
    if ctx.show_unknown:
        out["unknown_files"] = [o.path for o in result.files if o.status.value == "unknown"]
    return out


class JsonReporter(Reporter):
    name = "json"
    description = "one JSON object: summary and findings"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        return json_dumps(result_dict(result, ctx)) + "\n"


class JsonLinesReporter(Reporter):
    name = "json-lines"
    description = "one JSON object per finding, one per line"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        return "".join(json_dumps(finding_dict(f), indent=False) + "\n" for f in result.findings)
