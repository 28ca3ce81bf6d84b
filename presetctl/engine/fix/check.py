"""Checking bytes in memory: what the planner runs before and after each fix.

The same per-file path as ``validate`` (``pipeline.check_document``), on bytes that are not on
disk yet and under a file name that a rename fix may have changed; only what the rule set
reports for that name is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath

from presetctl.engine.fix.model import Splice
from presetctl.engine.model import Location, Violation
from presetctl.engine.pipeline import Checked, check_document
from presetctl.engine.rules.selection import RuleSet


def check_bytes(data: bytes, path: PurePosixPath, rules: RuleSet) -> Checked:
    """``data`` checked as the file at ``path``; an unknown file has no violations (nothing to fix)."""
    checked = check_document(data, path, rules, unknown=False)
    if not checked.known:
        return checked
    shown = str(path)
    return Checked(checked.doc, tuple(v for v in checked.violations if v.code and rules.reports(shown, v.code)), True)


def before_edit(loc: Location, splices: Sequence[Splice]) -> Location:
    """``loc`` (in the bytes after ``splices``) at its offset in the bytes before them: a finding
    behind an edit that changed the length moved, it did not appear. An offset inside replaced
    text keeps its place in that text (same-length edits: a DX7 name, a masked byte)."""
    if loc.offset is None or not splices:
        return loc
    shift = 0
    for s in sorted(splices, key=lambda s: (s.start, s.end)):
        start = s.start + shift  # where the splice's text begins in the new bytes
        if loc.offset < start:
            break
        if loc.offset < start + len(s.text):
            return replace(loc, offset=min(s.start + loc.offset - start, max(s.start, s.end - 1)))
        shift += len(s.text) - (s.end - s.start)
    return replace(loc, offset=loc.offset - shift)


def new_problems(before: Checked, after: Checked, splices: Sequence[Splice] = ()) -> list[Violation]:
    """Findings of any severity in ``after`` at a (code, location) that ``before`` did not have.

    A fix must leave the file with a subset of its findings: an info it brings is as new as an
    error. A finding still at its place with another message (a checksum that is still wrong,
    by other numbers, after a rename), or moved by ``splices`` (the edit that made ``after``),
    is the same finding, not a new one.
    """
    old = before.keys()
    return [v for v in after.violations if (v.code, before_edit(v.location, splices).render()) not in old]
