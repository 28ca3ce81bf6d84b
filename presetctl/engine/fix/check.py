"""Checking bytes in memory: what the planner runs before and after each fix.

The same per-file path as ``validate`` (``pipeline.check_document``, or its two halves
``load_document`` and ``run_rules``), on bytes that are not on disk yet and under a file name that
a rename fix may have changed; only what the rule set reports for that name is kept.

After a fix, a rule is run again only when its inputs may have changed: the rules that read
nothing but a preset's sound (:data:`SOUND_CODES`: parameter values and ranges, voices,
modulations, effects) keep their earlier violations when the fix left every member of the
document they read equal (:data:`SOUND_MEMBERS`), which metadata, name, tag and header fixes
always do. Every other rule (the format's integrity rules: parse, schema, structure, security)
runs on the fixed bytes. tests/test_scale.py holds plans made this way against plans made with
every rule run again, on the corpus and on generated packs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from presetctl.engine.formats.base import Document
from presetctl.engine.junk import is_packaging_junk
from presetctl.engine.model import Violation
from presetctl.engine.pipeline import Checked, check_document, load_document, run_rules
from presetctl.engine.rules.base import Level
from presetctl.engine.rules.registry import RULES
from presetctl.engine.rules.selection import RuleSet

# The codes of the rules whose check reads only the presets' sound data and the run's options (never
# names, metadata, the file name or raw bytes), with the codes those checks also emit.
SOUND_CODES = frozenset(c for r in RULES if r.check is not None and r.level in (Level.PARAMETERS, Level.PERFORMANCE)
                        for c in (r.code, *r.also_emits))
# Per format, the members of the top-level JSON object those rules read (presetctl: the sound
# key's members; Vital: everything a preset's parameters and performance come from). A format
# not named here has every rule run again.
SOUND_MEMBERS: Mapping[str, tuple[str, ...]] = {
    "presetctl": ("parameters", "modulations", "effects", "audio", "assets"),
    "vital": ("settings",),
}


def without_sound(rules: RuleSet) -> RuleSet:
    """``rules`` without the sound-only rules: what runs again after a fix that left the sound alone."""
    return RuleSet(replace(rules.options, ignore=(*rules.options.ignore, *sorted(SOUND_CODES))))


@dataclass(frozen=True)
class FixChecked(Checked):
    """A check as the planner keeps it: with every violation before selection and per-file ignores
    (a rename can change what is ignored), for the check after the next fix to reuse."""

    unfiltered: tuple[Violation, ...] = ()
    # The earliest document of the plan with this one's sound (``same_sound``): this one's own, or
    # that of the check before when the fix left the sound alone. Summaries reuse its sound hashes.
    sound_of: Document | None = None


def same_sound(before: Document, after: Document) -> bool:
    """Every member of the document the sound-only rules read is equal in ``before`` and ``after``
    (presets' sound hashes included: ``Preset.sound_key`` reads no more than these members)."""
    members = SOUND_MEMBERS.get(after.format)
    if members is None or before.format != after.format or after.facts.locator != "json" \
            or (before.parsed, before.validated) != (after.parsed, after.validated):
        return False
    old, new = before.raw, after.raw
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    missing = object()
    return all(old.get(k, missing) == new.get(k, missing) for k in members)


def _kept(checked: Checked, path: PurePosixPath, rules: RuleSet, unfiltered: tuple[Violation, ...],
          sound_of: Document | None = None) -> FixChecked:
    shown = str(path)
    return FixChecked(checked.doc, tuple(v for v in unfiltered if v.code and rules.reports(shown, v.code)),
                      checked.known, unfiltered, sound_of or checked.doc)


def check_bytes(data: bytes, path: PurePosixPath, rules: RuleSet, before: FixChecked | None = None,
                sound_free: RuleSet | None = None) -> FixChecked:
    """``data`` checked as the file at ``path``; an unknown file has no violations (nothing to fix).

    ``before``: the check of the bytes the fix started from, and ``sound_free``: ``without_sound(rules)``.
    With both, the sound-only rules keep ``before``'s violations when the fix left the sound alone."""
    if before is None or sound_free is None or not before.known \
            or any(v.code == "E001" for v in before.unfiltered):  # a crash: which rule's is unknown
        checked = check_document(data, path, rules, unknown=False)
        return _kept(checked, path, rules, checked.violations)
    loaded = None if is_packaging_junk(str(path)) else load_document(data, path, rules.options.limits)
    if loaded is None:
        checked = check_document(data, path, rules, unknown=False)
        return _kept(checked, path, rules, checked.violations)
    doc, found = loaded
    ctx = rules.context(path)
    if same_sound(before.doc, doc):
        found.extend(run_rules(doc, ctx, sound_free))
        found.extend(v for v in before.unfiltered if v.code in SOUND_CODES)
        return _kept(Checked(doc, (), True), path, rules, tuple(found), before.sound_of)
    found.extend(run_rules(doc, ctx, rules))
    return _kept(Checked(doc, (), True), path, rules, tuple(found))


def new_problems(before: Checked, after: Checked) -> list[Violation]:
    """Findings of any severity in ``after`` at a (code, location) that ``before`` did not have.

    A fix must leave the file with a subset of its findings: an info it brings is as new as an
    error. A finding still at its place with another message (a checksum that is still wrong,
    by other numbers, after a rename) is the same finding, not a new one.
    """
    old = before.keys()
    return [v for v in after.violations if (v.code, v.location.render()) not in old]
