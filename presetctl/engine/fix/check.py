"""Loading and checking bytes in memory: what the planner runs before and after each fix.

The same steps as ``pipeline.check_file`` (detect, load, rules), on bytes that are not on
disk yet and under a file name that a rename fix may have changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from presetctl.engine.formats.base import Document, LoadContext
from presetctl.engine.formats.registry import detect
from presetctl.engine.model import Severity, Violation
from presetctl.engine.pipeline import HEAD_BYTES
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.selection import RuleSet


@dataclass(frozen=True)
class Checked:
    doc: Document | None  # None: no loader claims the file
    violations: tuple[Violation, ...]  # those the rule set reports for this path

    def keys(self) -> set[tuple[str, str]]:
        return {(v.code, v.location.render()) for v in self.violations}


def check_bytes(data: bytes, path: PurePosixPath, rules: RuleSet) -> Checked:
    loader = detect(data[:HEAD_BYTES], path)
    if loader is None:
        return Checked(None, ())
    limits = rules.options.limits
    ctx = LoadContext(path, limits.max_nesting, limits.max_decompressed, limits.max_entries, limits.max_ratio,
                      limits.max_entry_size)
    found: list[Violation] = []
    try:
        doc = loader.load(data, ctx)
    except Exception as exc:  # noqa: BLE001 - a loader bug is a finding (E001), as in the pipeline
        found.append(Violation(f"internal error in the {loader.format_id} loader: {type(exc).__name__}: {exc}",
                               code="E001"))
        doc = Document(format=loader.format_id, data=data, parsed=False)
    found.extend(doc.problems)
    rctx = RuleContext(path, rules.options)
    for rule in rules.checks_for(doc.format, doc.parsed, doc.validated):
        assert rule.check is not None
        try:
            for v in rule.check(doc, rctx):
                found.append(v if v.code else Violation(v.message, v.location, rule.code, v.hint, v.data))
        except Exception as exc:  # noqa: BLE001 - same: a rule bug is reported, never hidden
            found.append(Violation(f"internal error in rule {rule.code}: {type(exc).__name__}: {exc}", code="E001"))
    shown = str(path)
    return Checked(doc, tuple(v for v in found if v.code and rules.reports(shown, v.code)))


def new_problems(before: Checked, after: Checked, rules: RuleSet) -> list[Violation]:
    """Warnings and errors in ``after`` that ``before`` did not have (by code, location and message).

    New infos are allowed: a sanitized file name may now differ from the preset name (N001).
    """
    old = {(v.code, v.location.render(), v.message) for v in before.violations}
    return [v for v in after.violations
            if rules.severity(v.code) >= Severity.WARNING and (v.code, v.location.render(), v.message) not in old]
