"""Reading a sharded run's JSON report back (its ``shard`` key, version 1) for ``merge-reports``.

The inverse of ``json_report.file_entry``/``shard_dict``: files with their own findings (the
report lists findings file by file, in file order, each file's count in its entry) and preset
summaries, and the findings after the files' (cross-file and run-level ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from presetctl.engine.errors import UsageError
from presetctl.engine.merge import ShardPart
from presetctl.engine.model import FileOutcome, FileStatus, Finding, PresetSummary
from presetctl.engine.shard import EXPORT_VERSION
from presetctl.report.browse.source import finding_from_dict, read_report_json


def _bad(source: str, why: str) -> UsageError:
    return UsageError(f"{source!r} is not a presetctl shard report: {why}")


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be an integer")
    return value


def _summary(d: Mapping[str, Any], path: str, fmt: str) -> PresetSummary:
    tags = d.get("tags") or []
    index = d.get("index")
    return PresetSummary(path, fmt, _opt_str(d.get("name")), _opt_str(d.get("author")), _opt_str(d.get("category")),
                         str(d.get("sound_hash") or ""), index if isinstance(index, int) else None,
                         tuple(t for t in tags if isinstance(t, str)))


def _files(entries: object, findings: list[Finding]) -> tuple[tuple[FileOutcome, ...], int]:
    """The files with their findings, and how many of ``findings`` they took."""
    if not isinstance(entries, list):
        raise ValueError("shard.files must be a list")
    out: list[FileOutcome] = []
    at = 0
    for e in entries:
        if not isinstance(e, dict) or not isinstance(e.get("path"), str) or not isinstance(e.get("format"), str):
            raise ValueError("each file needs a string path and format")
        path, fmt = e["path"], e["format"]
        n = _int(e.get("findings"), "files[].findings")
        own = findings[at:at + n]
        if len(own) != n or any(f.path != path for f in own):
            raise ValueError(f"the findings of {path!r} are not where its entry says")
        at += n
        summaries = tuple(_summary(s, path, fmt) for s in e.get("summaries") or [] if isinstance(s, dict))
        out.append(FileOutcome(path, fmt, FileStatus(e.get("status")), _int(e.get("size"), "files[].size"),
                               _int(e.get("presets"), "files[].presets"), tuple(own), summaries))
    return tuple(out), at


def shard_part(doc: object, source: str) -> ShardPart:
    """A parsed JSON report as a :class:`ShardPart`; UsageError when it is not a shard report."""
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise _bad(source, "no 'findings' list")
    shard = doc.get("shard")
    if not isinstance(shard, dict):
        raise _bad(source, "no 'shard' key (write it with `--shard K/N -o json` or `--report json:PATH`)")
    if shard.get("version") != EXPORT_VERSION:
        raise _bad(source, f"shard data version {shard.get('version')!r} (this presetctl reads {EXPORT_VERSION})")
    try:
        findings = [finding_from_dict(f) for f in doc["findings"] if isinstance(f, dict)]
        if len(findings) != len(doc["findings"]):
            raise ValueError("a finding is not an object")
        files, used = _files(shard.get("files"), findings)
        run, summary, tool = (_object(doc.get(k)) for k in ("run", "summary", "tool"))
        settings = shard.get("settings")
        if not isinstance(settings, dict):
            raise ValueError("shard.settings must be an object")
        roots = run.get("roots")
        roots = roots if isinstance(roots, list) else []
        seconds = summary.get("seconds")
        return ShardPart(
            source=source, command=str(doc.get("command") or "validate"),
            roots=tuple(r for r in roots if isinstance(r, str)), cwd=str(run.get("cwd") or ""),
            started_at=str(run.get("started_at") or ""), tool_version=str(tool.get("version") or ""),
            index=_int(shard.get("index"), "shard.index"), count=_int(shard.get("count"), "shard.count"),
            settings=settings, files=files, run_findings=tuple(findings[used:]),
            seconds=float(seconds) if isinstance(seconds, int | float) else 0.0,
            baseline_suppressed=_int(summary.get("baseline_suppressed", 0), "summary.baseline_suppressed"),
        )
    except (ValueError, TypeError) as exc:
        raise _bad(source, str(exc)) from None


def load_shard(path: str) -> ShardPart:
    return shard_part(read_report_json(path), path)
