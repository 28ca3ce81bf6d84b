"""The reporter interface: a per-run writer that turns run events into text as they come.

A run streams: ``begin`` when files are known, ``file`` once per checked file in report order,
``pack`` with the cross-file findings, ``end`` with the whole result (summary). Each returns
the text to append, so stdout shows a huge run's first findings at once and a report file is
written as it goes. ``render(result)`` replays a finished result through the same writer:
one path for streaming and for whole documents (tests, merged shards, the report viewer).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from presetctl import __version__
from presetctl.engine.events import RunStarted
from presetctl.engine.model import FileOutcome, Finding, RunResult, SecuritySeverity, Severity
from presetctl.engine.shard import ShardInfo


@dataclass(frozen=True)
class ReportContext:
    """How a report is written: colour, width, wrapping, detail, and the run's failure threshold."""

    color: bool = False
    width: int = 100
    wrap: bool = False  # hard-wrap long lines at ``width`` (never when output is not a terminal)
    verbose: bool = False
    quiet: bool = False
    show_unknown: bool = False
    tool_version: str = __version__
    fail_threshold: str = "error"
    exit_zero: bool = False  # --exit-zero: findings do not fail the run (reports that record an exit code)
    show_related: bool = False  # --show-duplicates: every member of a duplicate group under its finding
    # scan-security: findings are shown and judged by their security rating (critical, high, medium,
    # low), the words --fail-on takes there; ``fail_threshold`` is then a rating.
    security: bool = False
    # --shard: the json report carries what merge-reports needs (its "shard" key, engine/shard.py)
    shard: ShardInfo | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def label(self, f: Finding) -> str:
        """The severity word a report shows for ``f``: its rating in a security scan."""
        return f.security.label if self.security and f.security is not None else f.severity.label

    def fails(self, f: Finding) -> bool:
        """``f`` is at or above the fail threshold, on the scale of the run."""
        if self.security:
            return f.security is not None and f.security >= SecuritySeverity.parse(self.fail_threshold)
        return f.severity >= Severity.parse(self.fail_threshold)

    def level(self, f: Finding) -> Severity:
        """The error/warning/info level of ``f`` for formats that have only those (colours, annotations):
        in a security scan its rating's (critical and high: error, medium: warning, low: info)."""
        return f.security.severity if self.security and f.security is not None else f.severity


class ReportWriter:
    """One run's report, piece by piece. Writers keep what they must count between calls."""

    def begin(self, run: RunStarted) -> str:
        return ""

    def file(self, outcome: FileOutcome) -> str:
        return ""

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return ""

    def end(self, result: RunResult) -> str:
        return ""


class Reporter(abc.ABC):
    name: str = ""
    description: str = ""

    @abc.abstractmethod
    def writer(self, ctx: ReportContext) -> ReportWriter:
        """A fresh writer for one run."""

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        """The whole report of a finished run (ends with a newline when not empty)."""
        w = self.writer(ctx)
        files, pack = split_findings(result)
        parts = [w.begin(RunStarted(result.command, result.roots, result.started_at, len(result.files), result.jobs))]
        parts.extend(w.file(o) for o in files)
        parts.append(w.pack(pack))
        parts.append(w.end(result))
        return "".join(parts)


def split_findings(result: RunResult) -> tuple[list[FileOutcome], tuple[Finding, ...]]:
    """Per-file outcomes carrying their findings, and the cross-file rest, from a finished result.

    Findings are taken from ``result.findings`` (what was reported); a finding on a path no
    outcome has, or one of ``result.pack``, is cross-file.
    """
    pack_set = set(result.pack)
    by_path: dict[str, list[Finding]] = {}
    for f in result.findings:
        if f not in pack_set:
            by_path.setdefault(f.path, []).append(f)
    files: list[FileOutcome] = []
    for o in result.files:
        mine = tuple(sorted(by_path.pop(o.path, ()), key=Finding.sort_key))
        files.append(FileOutcome(o.path, o.format, o.status, o.size, o.presets, mine, o.summaries, o.seconds))
    rest = [f for fs in by_path.values() for f in fs]
    pack = tuple(sorted([*rest, *result.pack], key=Finding.sort_key))
    return files, pack
