"""Building blocks of fixers: find the preset a finding is about, set one of its fields, clamp.

A fixer lives beside its rule (``Rule.fix.apply``). It only proposes: the planner applies,
re-validates and keeps a fix only if its finding is gone and no new error appeared. Every
fixer is pure: same document, same proposals, which is what makes ``fix`` idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from presetctl.engine.fix import fields
from presetctl.engine.fix.edits import FixAction
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Preset, Violation


def target(v: Violation) -> tuple[str, str]:
    """What a fix must make disappear: the finding's code and location."""
    return (v.code, v.location.render())


def preset_at(doc: Document, v: Violation) -> Preset | None:
    if v.location.voice is not None:
        return next((p for p in doc.presets if p.index == v.location.voice), None)
    return doc.presets[0] if len(doc.presets) == 1 else None


def field_fix(doc: Document, v: Violation, field: str, value: str, description: str,
              *, insert: bool = False) -> FixAction | None:
    """Set a text field (name, author, category, license) of the finding's preset."""
    preset = preset_at(doc, v)
    if preset is None:
        return None
    splices = fields.set_field(doc, preset, field, value, insert=insert)
    if not splices:
        return None
    return FixAction(v.code, description, v.location, splices, targets=(target(v),))


def each(violations: Sequence[Violation], make: Callable[[Violation], FixAction | None]) -> list[FixAction]:
    """One proposal per finding, where ``make`` has one."""
    return [a for v in violations if (a := make(v)) is not None]


def clamp(value: float, lo: float | None, hi: float | None) -> float:
    if lo is not None and value < lo:
        return lo
    if hi is not None and value > hi:
        return hi
    return value


def number(x: object) -> float | None:
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None
