"""``json`` and ``json-lines``: the machine contract others script against (docs/output-formats.md).

Text from files is kept exactly, but C1 controls, bidi and other invisible characters are written
as ``\\uXXXX`` escapes (the same JSON value) and undecodable file-name bytes as visible escapes,
through :func:`presetctl.safe_text.json_dumps`. The ``json`` document is written as the
run goes: findings first (per file in report order, then the cross-file ones), the summary last.
"""

from __future__ import annotations

import os
from typing import Any

from presetctl.engine.events import RunStarted
from presetctl.engine.model import FileOutcome, Finding, PresetSummary, Related, RunResult
from presetctl.engine.shard import EXPORT_VERSION, ShardInfo
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.safe_text import json_dumps

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
        "related": [related_dict(r) for r in f.related],
    }


def related_dict(r: Related) -> dict[str, Any]:
    """Another member of a duplicate group: where it is and what it is called."""
    return {"path": r.path, "location": r.location.render(), "voice": r.location.voice, "name": r.name or None}


def summary_dict(result: RunResult) -> dict[str, Any]:
    return {
        "files": len(result.files),
        "presets": result.presets,
        "findings": len(result.findings),
        **result.counts,
        "by_security_severity": result.security_counts,
        "by_status": result.status_counts,
        "by_format": result.format_counts,
        "baseline_suppressed": result.baseline_suppressed,
        "fixable": sum(1 for f in result.findings if f.fixable),
        "seconds": round(result.duration(), 4),
    }


def run_dict(result: RunResult, ctx: ReportContext) -> dict[str, Any]:
    """What ``presetctl report`` shows in its header and needs to find the files again.

    ``cwd`` is the folder relative paths in the findings start from (the run's working folder).
    ``exit_code`` is what the run exits with for findings (0 with ``--exit-zero``).
    """
    failed = any(ctx.fails(f) for f in result.findings) and not ctx.exit_zero
    return {
        "roots": list(result.roots),
        "cwd": result.cwd or os.getcwd(),
        "started_at": result.started_at or None,
        "fail_on": ctx.fail_threshold,
        "exit_code": 1 if failed else 0,
    }


def indented(value: Any, depth: int) -> str:
    """``value`` as indented JSON nested ``depth`` levels deep (two spaces a level)."""
    return json_dumps(value).replace("\n", "\n" + "  " * depth)


class JsonArrayWriter:
    """The items of a JSON array written one by one, as ``json_dumps`` would lay them out."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.count = 0

    def item(self, value: Any) -> str:
        sep = "," if self.count else ""
        self.count += 1
        return f"{sep}\n{'  ' * self.depth}{indented(value, self.depth)}"

    def close(self) -> str:
        return f"\n{'  ' * (self.depth - 1)}]" if self.count else "]"


def summary_entry(s: PresetSummary) -> dict[str, Any]:
    """One preset as the cross-file rules see it (the file's path and format are on its file entry)."""
    return {"name": s.name, "author": s.author, "category": s.category, "sound_hash": s.sound_hash,
            "index": s.index, "tags": list(s.tags)}


def file_entry(o: FileOutcome) -> dict[str, Any]:
    """One file of a sharded run: what the summary counts, how many of the report's findings are its
    own (they come in file order), and its presets for the cross-file rules."""
    return {"path": o.path, "format": o.format, "status": o.status.value, "size": o.size, "presets": o.presets,
            "findings": len(o.findings), "summaries": [summary_entry(s) for s in o.summaries]}


def shard_dict(info: ShardInfo, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": EXPORT_VERSION, "index": info.index, "count": info.count, "settings": dict(info.settings),
            "files": files}


class _JsonWriter(ReportWriter):
    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.items = JsonArrayWriter(2)
        self.files: list[dict[str, Any]] | None = [] if ctx.shard is not None else None

    def begin(self, run: RunStarted) -> str:
        head = json_dumps({"version": SCHEMA_VERSION, "tool": {"name": "presetctl", "version": self.ctx.tool_version},
                           "command": run.command})
        return head[:-2] + ',\n  "findings": ['  # drop the closing "\n}"

    def file(self, outcome: FileOutcome) -> str:
        if self.files is not None:
            self.files.append(file_entry(outcome))
        return "".join(self.items.item(finding_dict(f)) for f in outcome.findings)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return "".join(self.items.item(finding_dict(f)) for f in findings)

    def end(self, result: RunResult) -> str:
        tail: dict[str, Any] = {"run": run_dict(result, self.ctx), "summary": summary_dict(result)}
        if self.ctx.show_unknown:
            tail["unknown_files"] = [o.path for o in result.files if o.status.value == "unknown"]
        if self.ctx.shard is not None and self.files is not None:
            tail["shard"] = shard_dict(self.ctx.shard, self.files)
        rest = json_dumps(tail)[1:]  # '\n  "summary": ...\n}'
        return self.items.close() + "," + rest + "\n"


class _JsonLinesWriter(ReportWriter):
    def file(self, outcome: FileOutcome) -> str:
        return "".join(json_dumps(finding_dict(f), indent=False) + "\n" for f in outcome.findings)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return "".join(json_dumps(finding_dict(f), indent=False) + "\n" for f in findings)


class JsonReporter(Reporter):
    name = "json"
    description = "one JSON object: findings and summary"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _JsonWriter(ctx)


class JsonLinesReporter(Reporter):
    name = "json-lines"
    description = "one JSON object per finding, one per line"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _JsonLinesWriter()
