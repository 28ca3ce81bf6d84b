"""``gitlab``: GitLab Code Quality JSON (the ``artifacts:reports:codequality`` file).

GitLab compares fingerprints between the source and target branch to tell new findings from
fixed ones, and shows only the first of several issues sharing a fingerprint. So a
fingerprint hashes path, code and location (never the line, which moves with unrelated
edits) plus the occurrence number among findings with the same key, making each unique.
"""

from __future__ import annotations

import hashlib
from typing import Any

from presetctl.engine.events import RunStarted
from presetctl.engine.model import FileOutcome, Finding, RunResult, SecuritySeverity, Severity
from presetctl.report.base import ReportContext, Reporter, ReportWriter
from presetctl.report.json_report import JsonArrayWriter
from presetctl.safe_text import visible

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}
SECURITY = {SecuritySeverity.CRITICAL: "blocker", SecuritySeverity.HIGH: "critical",
            SecuritySeverity.MEDIUM: "major", SecuritySeverity.LOW: "minor"}
RANK = ("info", "minor", "major", "critical", "blocker")


def gitlab_severity(f: Finding) -> str:
    """The higher of the severity's and the security rating's GitLab level."""
    level = SEVERITY[f.severity]
    if f.security is not None:
        level = max(level, SECURITY[f.security], key=RANK.index)
    return level


class Fingerprints:
    """Unique fingerprints: the key plus its occurrence number among findings sharing it."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], int] = {}

    def __call__(self, f: Finding) -> str:
        key = f.baseline_key()
        self.seen[key] = self.seen.get(key, 0) + 1
        text = "\0".join((*key, str(self.seen[key])))
        return hashlib.md5(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def issue(f: Finding, fingerprint: str) -> dict[str, Any]:
    # The description is shown in the merge request widget: escape what would hide or reorder text.
    description = f"{f.code} {visible(f.message)}"
    loc = f.location.render()
    if loc:
        description += f" [{visible(loc)}]"
    return {
        "description": description,
        "check_name": f.code,
        "fingerprint": fingerprint,
        "severity": gitlab_severity(f),
        "location": {"path": f.path, "lines": {"begin": f.line or 1}},
    }


class _GitlabWriter(ReportWriter):
    def __init__(self) -> None:
        self.items = JsonArrayWriter(1)
        self.fingerprint = Fingerprints()

    def begin(self, run: RunStarted) -> str:
        return "["

    def file(self, outcome: FileOutcome) -> str:
        return "".join(self.items.item(issue(f, self.fingerprint(f))) for f in outcome.findings)

    def pack(self, findings: tuple[Finding, ...]) -> str:
        return "".join(self.items.item(issue(f, self.fingerprint(f))) for f in findings)

    def end(self, result: RunResult) -> str:
        return self.items.close() + "\n"


class GitlabReporter(Reporter):
    name = "gitlab"
    description = "GitLab Code Quality JSON (artifacts:reports:codequality)"

    def writer(self, ctx: ReportContext) -> ReportWriter:
        return _GitlabWriter()
