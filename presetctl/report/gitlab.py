"""``gitlab``: GitLab Code Quality JSON (the ``artifacts:reports:codequality`` file).

GitLab compares fingerprints between the source and target branch to tell new findings from
fixed ones, and shows only the first of several issues sharing a fingerprint. So a
fingerprint hashes path, code and location (never the line, which moves with unrelated
edits) plus the occurrence number among findings with the same key, making each unique.
"""

from __future__ import annotations

import hashlib
from typing import Any

from presetctl.engine.model import Finding, RunResult, SecuritySeverity, Severity
from presetctl.report.base import ReportContext, Reporter
from presetctl.report.safe_text import visible
from presetctl.report.sarif import dumps

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


def fingerprints(findings: tuple[Finding, ...]) -> list[str]:
    seen: dict[tuple[str, str, str], int] = {}
    out: list[str] = []
    for f in findings:
        key = f.baseline_key()
        seen[key] = seen.get(key, 0) + 1
        text = "\0".join((*key, str(seen[key])))
        out.append(hashlib.md5(text.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest())
    return out


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


class GitlabReporter(Reporter):
    name = "gitlab"
    description = "GitLab Code Quality JSON (artifacts:reports:codequality)"

    def render(self, result: RunResult, ctx: ReportContext) -> str:
        return dumps([issue(f, fp) for f, fp in zip(result.findings, fingerprints(result.findings), strict=True)])
