"""Checking bytes in memory: what the planner runs before and after each fix.

The same per-file path as ``validate`` (``pipeline.check_document``), on bytes that are not on
disk yet and under a file name that a rename fix may have changed; only what the rule set
reports for that name is kept.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from presetctl.engine.model import Violation
from presetctl.engine.pipeline import Checked, check_document
from presetctl.engine.rules.selection import RuleSet


def check_bytes(data: bytes, path: PurePosixPath, rules: RuleSet) -> Checked:
    """``data`` checked as the file at ``path``; an unknown file has no violations (nothing to fix)."""
    checked = check_document(data, path, rules, unknown=False)
    if not checked.known:
        return checked
    shown = str(path)
    return Checked(checked.doc, tuple(v for v in checked.violations if v.code and rules.reports(shown, v.code)), True)


def new_problems(before: Checked, after: Checked) -> list[Violation]:
    """Findings of any severity in ``after`` at a (code, location) that ``before`` did not have.

    A fix must leave the file with a subset of its findings: an info it brings is as new as an
    error. A finding still at its place with another message (a checksum that is still wrong,
    by other numbers, after a rename) is the same finding, not a new one.
    """
    old = before.keys()
    return [v for v in after.violations if (v.code, v.location.render()) not in old]
