"""Where a browsed run comes from: the run history, or a JSON report file.

A source turns a spec (what the user typed as ``RUN``) into a :class:`LoadedRun`: the run's
header and its findings as the engine's own :class:`Finding` values, so baselines, rule docs and
safe text work on them unchanged. :func:`load_run` picks the source: ``last`` and ``last~N``
always mean the history; an existing file is a JSON report; anything shaped like a run id (or a
prefix of one) is looked up in the history.

The history is read through :mod:`presetctl.state.queries` on a read-only connection: the run
row gives the header, and the findings stream from the cursor straight into ``Finding`` values
(no dicts, no second copy). Reading never records a run and never changes the database.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from presetctl.engine.discover import read_bounded
from presetctl.engine.errors import HistoryError, UsageError
from presetctl.engine.model import Finding, Location, Related, SecuritySeverity, Severity
from presetctl.state import queries

MAX_REPORT_BYTES = 1 << 30  # a 200,000-finding report is ~70 MB; refuse anything absurd before parsing
# A run id (20250131T170201-a1b2c3) or a prefix of one: digits first, then the time, then the random part.
RUN_ID = re.compile(r"^\d{1,8}(?:[Tt]\d{0,6}(?:-[0-9a-fA-F]{0,6})?)?$")
JSON_HINT = "pass a JSON report file written by `presetctl validate --report json:PATH` (or `-o json > PATH`)"


@dataclass(frozen=True)
class RunHeader:
    """What is known about a run besides its findings (shown in every view's header)."""

    source: str  # what was loaded: a file path or a run id
    command: str = "validate"
    roots: tuple[str, ...] = ()
    cwd: str = ""  # folder the finding paths are relative to ("" when the report does not say)
    started_at: str = ""
    exit_code: int | None = None
    fail_on: str = ""
    tool_version: str = ""
    files: int | None = None
    presets: int | None = None
    by_format: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[str, int] = field(default_factory=dict)
    baseline_suppressed: int = 0
    run_id: str = ""  # set for a run from the history
    finished: bool = True  # False: a recorded run with no end (still running, or its process died)

    @property
    def shown_roots(self) -> tuple[str, ...]:
        """The roots as the user named them: relative to the run's folder when inside it."""
        out = []
        for root in self.roots:
            rel = os.path.relpath(root, self.cwd) if self.cwd and os.path.isabs(root) else root
            out.append(root if rel.startswith("..") else rel)
        return tuple(out)


@dataclass(frozen=True)
class LoadedRun:
    header: RunHeader
    findings: tuple[Finding, ...]

    def counts(self) -> dict[str, int]:
        out = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in self.findings:
            out[f.severity.label] += 1
        return out


class RunSource(Protocol):
    """One way to load a run; ``load`` raises UsageError (or HistoryError) with the reason."""

    def load(self, spec: str) -> LoadedRun: ...


class JsonReportSource:
    """A file written by ``presetctl validate --report json:PATH`` (or ``-o json``)."""

    def load(self, spec: str) -> LoadedRun:
        return run_from_dict(read_report_json(spec, "not a report to browse"), spec)


def read_report_json(path: str, refusal: str = "not a report") -> Any:
    """A JSON report file parsed, bounded in size; every failure is a UsageError naming the file."""
    try:
        data = read_bounded(path, MAX_REPORT_BYTES)
    except OverflowError:
        raise UsageError(f"{path!r} is larger than {MAX_REPORT_BYTES} bytes; {refusal}") from None
    except OSError as exc:
        raise UsageError(f"cannot read report {path!r}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"{path!r} is not JSON: {exc}") from None


@dataclass(frozen=True)
class HistorySource:
    """Runs recorded in the run history: ``last``, ``last~N``, a run id or a unique prefix of one."""

    path: Path  # the history database
    off: str = ""  # why history is off for this command ("" when it is on)

    def load(self, spec: str) -> LoadedRun:
        try:
            with queries.reading(self.path, off=self.off) as conn:
                run = queries.report_run(conn, spec)
                findings = tuple(queries.finding_values(conn, run.id))
        except HistoryError as exc:
            raise HistoryError(f"cannot open run {spec!r}: {exc}; or {JSON_HINT}", code=exc.code,
                               file=exc.file) from None
        except UsageError as exc:
            raise UsageError(f"cannot open run {spec!r}: {exc}") from None
        return LoadedRun(header_of(run), findings)


def header_of(run: queries.RunRow) -> RunHeader:
    """The header of a recorded run (what the JSON report's ``run`` and ``summary`` objects hold)."""
    fail_on = run.arguments.get("fail_on")
    return RunHeader(
        source=run.id, command=run.command, roots=run.targets, cwd=run.cwd,
        started_at=datetime.fromtimestamp(run.started_at, UTC).isoformat(timespec="seconds"),
        exit_code=run.exit_code, fail_on=fail_on if isinstance(fail_on, str) else "", tool_version=run.version,
        files=run.files if run.finished else None, by_format=run.format_counts, by_status=run.status_counts,
        run_id=run.id, finished=run.finished,
    )


def load_run(spec: str, history: HistorySource | None = None) -> LoadedRun:
    """The run ``spec`` names: ``last``/``last~N`` and run ids from ``history``, else a JSON report file."""
    if queries.is_last_ref(spec) or (not os.path.lexists(spec) and RUN_ID.match(spec)):
        if history is None:
            raise UsageError(f"cannot open run {spec!r}: no run history here; {JSON_HINT}")
        return history.load(spec)
    if os.path.lexists(spec):
        return JsonReportSource().load(spec)
    raise UsageError(f"no such report file or run: {spec!r}")


# -- the JSON report contract (docs/output-formats.md) ----------------------------------------------

def _bad(spec: str, why: str) -> UsageError:
    return UsageError(f"{spec!r} is not a presetctl JSON report: {why}")


def _opt_str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int_map(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def finding_from_dict(d: Mapping[str, Any]) -> Finding:
    """Inverse of :func:`presetctl.report.json_report.finding_dict`; raises ValueError on bad shape."""
    path, code, message = d.get("path"), d.get("code"), d.get("message")
    if not isinstance(path, str) or not isinstance(code, str) or not isinstance(message, str):
        raise ValueError("each finding needs string path, code and message")
    sev = d.get("severity")
    severity = Severity.parse(sev) if isinstance(sev, str) else None
    if severity is None:
        raise ValueError("each finding needs a severity")
    security = d.get("security_severity")
    location = Location(pointer=_opt_str(d.get("pointer")), offset=_opt_int(d.get("offset")),
                        voice=_opt_int(d.get("voice")), entry=_opt_str(d.get("entry")))
    return Finding(
        path=path, code=code, severity=severity, message=message, location=location,
        line=_opt_int(d.get("line")), column=_opt_int(d.get("column")), hint=_opt_str(d.get("hint")),
        fixable=d.get("fixable") is True,
        security=SecuritySeverity.parse(security) if isinstance(security, str) else None,
        rule_name=_opt_str(d.get("name")), related=_related(d.get("related")),
    )


def _related(value: object) -> tuple[Related, ...]:
    """The ``related`` list of a finding (reports before it was added have none)."""
    if not isinstance(value, list):
        return ()
    return tuple(Related(r["path"], Location(voice=_opt_int(r.get("voice"))), _opt_str(r.get("name")))
                 for r in value if isinstance(r, dict) and isinstance(r.get("path"), str))


def run_from_dict(doc: object, spec: str) -> LoadedRun:
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise _bad(spec, "no 'findings' list")
    version = doc.get("version")
    if version != 1:
        raise _bad(spec, f"schema version {version!r} (this presetctl reads version 1)")
    findings: list[Finding] = []
    for i, item in enumerate(doc["findings"]):
        try:
            if not isinstance(item, dict):
                raise ValueError("a finding is not an object")
            findings.append(finding_from_dict(item))
        except ValueError as exc:
            raise _bad(spec, f"finding {i}: {exc}") from None
    run, summary, tool = (_object(doc.get(k)) for k in ("run", "summary", "tool"))
    roots = run.get("roots")
    header = RunHeader(
        source=spec,
        command=_opt_str(doc.get("command")) or "validate",
        roots=tuple(r for r in roots if isinstance(r, str)) if isinstance(roots, list) else (),
        cwd=_opt_str(run.get("cwd")),
        started_at=_opt_str(run.get("started_at")),
        exit_code=_opt_int(run.get("exit_code")),
        fail_on=_opt_str(run.get("fail_on")),
        tool_version=_opt_str(tool.get("version")),
        files=_opt_int(summary.get("files")),
        presets=_opt_int(summary.get("presets")),
        by_format=_int_map(summary.get("by_format")),
        by_status=_int_map(summary.get("by_status")),
        baseline_suppressed=_opt_int(summary.get("baseline_suppressed")) or 0,
    )
    return LoadedRun(header, tuple(findings))
