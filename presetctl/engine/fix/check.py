"""Checking bytes in memory: what the planner runs before and after each fix.

The same per-file path as ``validate`` (``pipeline.check_document``), on bytes that are not on
disk yet and under a file name that a rename fix may have changed; only what the rule set
reports for that name is kept.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from presetctl.engine.model import Severity, Violation
from presetctl.engine.pipeline import Checked, check_document
from presetctl.engine.rules.selection import RuleSet


def check_bytes(data: bytes, path: PurePosixPath, rules: RuleSet) -> Checked:
    """``data`` checked as the file at ``path``; an unknown file has no violations (nothing to fix)."""
    checked = check_document(data, path, rules, unknown=False)
    if not checked.known:
        return checked
    shown = str(path)
    return Checked(checked.doc, tuple(v for v in checked.violations if v.code and rules.reports(shown, v.code)), True)


def new_problems(before: Checked, after: Checked, rules: RuleSet) -> list[Violation]:
    """Warnings and errors in ``after`` that ``before`` did not have (by code, location and message).

    New infos are allowed: a sanitized file name may now differ from the preset name (N001).
    """
    old = {(v.code, v.location.render(), v.message) for v in before.violations}
    return [v for v in after.violations
            if rules.severity(v.code) >= Severity.WARNING and (v.code, v.location.render(), v.message) not in old]
