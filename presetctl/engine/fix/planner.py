"""Planning the fixes of one file: apply to a copy, re-validate, keep what works, repeat.

Each pass proposes fixes for the findings of the current copy, applies them together and
checks the copy again. If a fix's finding is still there, or a new error appeared, the fixes
of that pass are retried one at a time and the failing ones are rolled back (and reported).
Passes repeat until nothing is left to fix, with a cap. Nothing here touches the disk.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from presetctl.engine.fix.check import FixChecked, check_bytes, new_problems, without_sound
from presetctl.engine.fix.model import AppliedFix, FixAction, FixContext, RolledBackFix, Splice
from presetctl.engine.fix.writers.registry import complete_edit
from presetctl.engine.model import PresetSummary, Violation
from presetctl.engine.options import Options
from presetctl.engine.pipeline import Checked, summarize
from presetctl.engine.rules.base import Fix, FixSafety
from presetctl.engine.rules.registry import BY_CODE
from presetctl.engine.rules.selection import RuleSet

MAX_PASSES = 6


@dataclass(frozen=True)
class PlanRules:
    """The rule sets a plan needs, built once per run.

    ``fix`` decides which findings get fixed (the user's --select/--ignore); ``check`` is the
    full configured rule set, so that a fix introducing an error of an unselected rule is
    still caught.
    """

    fix: RuleSet
    check: RuleSet
    unsafe: bool
    # ``check`` without the sound-only rules (fix/check.py): what runs again after a fix that left
    # the sound alone. None: every rule runs again after every fix (the reference the tests hold it to).
    sound_free: RuleSet | None = None

    @classmethod
    def build(cls, options: Options, check_options: Options, unsafe: bool, reuse: bool = True) -> PlanRules:
        check = RuleSet(check_options)
        return cls(RuleSet(options), check, unsafe, without_sound(check) if reuse else None)

    def _fixable(self, path: str, code: str) -> FixSafety | None:
        rule = BY_CODE.get(code)
        if rule is None or rule.fix is None or not self.fix.reports(path, code):
            return None
        return rule.fix.safety

    def wanted(self, path: str, code: str) -> bool:
        safety = self._fixable(path, code)
        return safety is not None and (self.unsafe or safety is FixSafety.SAFE)

    def held_back(self, path: str, code: str) -> bool:
        """An unsafe fix that would apply with --unsafe-fixes."""
        return not self.unsafe and self._fixable(path, code) is FixSafety.UNSAFE


@dataclass(frozen=True)
class FilePlan:
    format: str
    before: bytes
    after: bytes
    original_name: str
    name: str  # the file name after the plan (== original_name when not renamed)
    applied: tuple[AppliedFix, ...] = ()
    rolled_back: tuple[RolledBackFix, ...] = ()
    passes: int = 0
    seconds: float = 0.0
    parsed: bool = True
    check_seconds: float = 0.0  # of ``seconds``: loading and validating (before and after each pass)
    unsafe_left: int = 0  # findings an unsafe fix would address with --unsafe-fixes
    # What the pack rules see of the file before and after the plan (paths as shown, the new name after).
    summaries_before: tuple[PresetSummary, ...] = ()
    summaries_after: tuple[PresetSummary, ...] = ()

    @property
    def changed(self) -> bool:
        return self.after != self.before or self.name != self.original_name


def apply_splices(data: bytes, splices: Sequence[Splice]) -> bytes:
    ordered = sorted(splices, key=lambda s: (s.start, s.end))
    out: list[bytes] = []
    at = 0
    for s in ordered:
        out.append(data[at : s.start])
        out.append(s.text)
        at = s.end
    out.append(data[at:])
    return b"".join(out)


def _overlaps(a: Sequence[Splice], b: Sequence[Splice]) -> bool:
    return any(x.start < y.end and y.start < x.end or (x.start == y.start and x.end == y.end == x.start)
               for x in a for y in b)


def _non_conflicting(actions: Sequence[FixAction]) -> list[FixAction]:
    """Fixes that can go into one pass: no overlapping splices, one rename; P002 first and alone."""
    if any(_fix_of(a.code).first for a in actions):
        actions = [a for a in actions if _fix_of(a.code).first or a.code == "F009"]
    if any(a.rename is not None for a in actions):  # name-from-file fixes wait for the new file name
        actions = [a for a in actions if not _fix_of(a.code).uses_file_name]
    chosen: list[FixAction] = []
    renamed = False
    for a in actions:
        if a.rename is not None and renamed:
            continue
        if any(_overlaps(a.splices, c.splices) for c in chosen):
            continue  # proposed again next pass, against the text the others produced
        chosen.append(a)
        renamed = renamed or a.rename is not None
    return chosen


def _fix_of(code: str) -> Fix:
    fix = BY_CODE[code].fix
    assert fix is not None  # only fixable rules' findings are proposed for fixing
    return fix


def _safety(code: str) -> str:
    rule = BY_CODE.get(code)
    return rule.fix.safety.value if rule is not None and rule.fix is not None else "safe"


class _Planner:
    def __init__(self, folder: PurePosixPath, rules: PlanRules, options: Options) -> None:
        self.folder = folder
        self.rules = rules
        self.options = options
        self.check_seconds = 0.0

    def path(self, name: str) -> PurePosixPath:
        return self.folder / name

    def check(self, data: bytes, name: str, before: FixChecked | None = None) -> FixChecked:
        """``data`` checked as file ``name``; ``before``: the check of the bytes the fix was applied to."""
        t0 = time.perf_counter()
        try:
            return check_bytes(data, self.path(name), self.rules.check, before, self.rules.sound_free)
        finally:
            self.check_seconds += time.perf_counter() - t0

    def propose(self, state: Checked, name: str, failed: set[tuple[str, str, str]]) -> list[FixAction]:
        shown = str(self.path(name))
        by_code: dict[str, list[Violation]] = {}
        for v in state.violations:
            if self.rules.wanted(shown, v.code):
                by_code.setdefault(v.code, []).append(v)
        ctx = FixContext(self.path(name), self.options)
        out: list[FixAction] = []
        for code in sorted(by_code, key=lambda c: (not _fix_of(c).first, c)):
            out.extend(a for a in _fix_of(code).apply(state.doc, by_code[code], ctx) if a.key not in failed)
        return out

    def apply(self, state: Checked, name: str, actions: Sequence[FixAction]) -> tuple[bytes, str]:
        """The bytes and name after ``actions``, on the document ``state`` holds. The format's
        writer completes the edit (a DX7 checksum follows its data), so every fix is checked on
        bytes as the synth would receive them."""
        splices = [s for a in actions for s in a.splices]
        new = apply_splices(state.doc.data, complete_edit(state.doc, splices)) if splices else state.doc.data
        renames = [a.rename for a in actions if a.rename is not None]
        return new, renames[-1] if renames else name

    def verdict(self, before: Checked, after: Checked, action: FixAction) -> str:
        """Why ``action`` failed on ``after``, or "" when it did what it promised."""
        left = after.keys()
        still = [t for t in action.targets if t in left]
        if still:
            return f"the finding is still reported after the fix ({still[0][0]} at {still[0][1] or 'the file'})"
        problems = new_problems(before, after)
        if problems:
            e = problems[0]
            return f"the fix introduced {e.code} ({e.message})"
        if not after.known or not after.doc.parsed:
            return "the fixed file no longer parses"
        return ""


def resummarize(before: tuple[PresetSummary, ...], first: Checked, last: FixChecked,
                shown: str) -> tuple[PresetSummary, ...]:
    """``summarize(last.doc, shown)``, taking each preset's sound hash from ``before`` (of ``first``)
    when the fixes left the sound alone: hashing 400 parameters again costs more than a rule."""
    presets = last.doc.presets
    if len(presets) != len(before) or last.sound_of is not first.doc:
        return summarize(last.doc, shown)
    return tuple(PresetSummary(shown, last.doc.format, p.name, p.author, p.category, b.sound_hash, p.index, p.tags)
                 for p, b in zip(presets, before, strict=True))


def plan_file(data: bytes, display: PurePosixPath, rules: PlanRules, options: Options,
              forbidden: frozenset[tuple[str, str, str]] = frozenset()) -> FilePlan:
    """Fixes for one file's bytes; ``display`` is its path as reported (folder + name).

    ``forbidden``: keys (``FixAction.key``) of fixes not to apply: those the pack check found
    to create a finding across files (engine/fix/pack_guard.py); the caller reports them."""
    t0 = time.perf_counter()
    planner = _Planner(display.parent, rules, options)
    name = display.name
    state = first = planner.check(data, name)
    if not state.known:
        return FilePlan("unknown", data, data, name, name, seconds=time.perf_counter() - t0, parsed=False)
    fmt = state.doc.format
    if not state.doc.parsed:
        return FilePlan(fmt, data, data, name, name, seconds=time.perf_counter() - t0, parsed=False)
    cur = data
    applied: list[AppliedFix] = []
    rolled: list[RolledBackFix] = []
    failed: set[tuple[str, str, str]] = set(forbidden)
    passes = 0
    for passes in range(1, MAX_PASSES + 1):
        actions = planner.propose(state, name, failed)
        if not actions:
            passes -= 1
            break
        batch = _non_conflicting(actions)
        new, new_name = planner.apply(state, name, batch)
        after = planner.check(new, new_name, state)
        if all(not planner.verdict(state, after, a) for a in batch):
            kept = batch
        else:  # find the culprits: each fix on top of those kept so far (splices share coordinates)
            kept = []
            new, new_name, after = cur, name, state
            for a in batch:
                trial, trial_name = planner.apply(state, name, [*kept, a])
                trial_state = planner.check(trial, trial_name, state)
                why = planner.verdict(state, trial_state, a)
                if why:
                    failed.add(a.key)
                    rolled.append(RolledBackFix(a.code, a.description, a.location, why))
                    continue
                kept.append(a)
                new, new_name, after = trial, trial_name, trial_state
        if not kept:
            continue
        applied.extend(AppliedFix(a.code, a.description, a.location, _safety(a.code)) for a in kept)
        cur, name, state = new, new_name, after
    shown = str(planner.path(name))
    unsafe_left = sum(1 for v in state.violations if rules.held_back(shown, v.code))
    seen_before = summarize(first.doc, str(display))
    seen_after = seen_before if state is first else resummarize(seen_before, first, state, shown)
    return FilePlan(fmt, data, cur, display.name, name, tuple(applied), tuple(rolled), passes, time.perf_counter() - t0,
                    check_seconds=planner.check_seconds, unsafe_left=unsafe_left,
                    summaries_before=seen_before, summaries_after=seen_after)
