"""A fix must not create findings across files either: the pack check of a fix run.

The planner checks each file on its own, before and after each fix. Duplicate names and
sounds, spelling drift and file-name case collisions only show across the files of a run
(the pack rules), so a fix can be right for its file and still create a finding there: a
preset renamed after its file, whose name another preset already has (Q002); a category
respelled so that the rest of the pack now drifts from it (Q004).

Once every file is planned, the pack rules run over what they see of the files before and
after the plans (``FilePlan.summaries_before``/``summaries_after``; findings compared by
code, path and location, with a renamed file's path mapped back). While the planned state
has a finding the original state does not, the guard finds one changed file that brings it
(a binary search over the changed files in run order, with that finding's rule alone) and
plans that file again without its fixes that change what the pack rules see, one at a time,
until the finding is gone. The fixes left out are reported as rolled back, with the finding.
Only files whose pack-visible facts change take part; all others are final as planned.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from presetctl.engine.fix.model import RolledBackFix
from presetctl.engine.fix.planner import FilePlan
from presetctl.engine.model import Finding, PresetSummary
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.runner import pack_findings

FixKey = tuple[str, str, str]  # FixAction.key: code, location, description
FindingKey = tuple[str, str, str]  # code, path (as before the plan), location
# Plans file ``index`` again without the fixes in the set; None when the file cannot be read.
Replan = Callable[[int, frozenset[FixKey]], FilePlan | None]


def changes_pack(plan: FilePlan) -> bool:
    """Whether the plan changes anything the pack rules look at (names, sounds, categories, paths)."""
    return plan.summaries_before != plan.summaries_after


@dataclass(frozen=True)
class Guarded:
    """A file the guard planned again without some fixes (or left as it was, when it had to)."""

    plan: FilePlan  # its rolled_back includes the fixes the guard left out, with the finding
    forbidden: frozenset[FixKey]


class _Run:
    def __init__(self, plans: Mapping[int, FilePlan], rules: RuleSet) -> None:
        self.plans = dict(plans)
        self.rules = rules
        self.base = self.findings(())

    def changed(self) -> list[int]:
        return sorted(i for i, p in self.plans.items() if changes_pack(p))

    def findings(self, applied: Collection[int], codes: Collection[str] | None = None) -> dict[FindingKey, Finding]:
        """Pack findings with the plans of ``applied`` in effect, keyed by their place before the plans."""
        files: list[tuple[str, tuple[PresetSummary, ...]]] = []
        back: dict[str, str] = {}
        for i, p in self.plans.items():
            summaries = p.summaries_after if i in applied else p.summaries_before
            if summaries:
                files.append((summaries[0].path, summaries))
                if i in applied and p.summaries_before:
                    back[summaries[0].path] = p.summaries_before[0].path
        files.sort(key=lambda f: f[0])  # the order a validate run sees the files in
        flat = [s for _, group in files for s in group]
        return {(f.code, back.get(f.path, f.path), f.location.render()): f for f in pack_findings(flat, self.rules, codes)}

    def new(self, applied: Collection[int], codes: Collection[str] | None = None) -> dict[FindingKey, Finding]:
        return {k: f for k, f in self.findings(applied, codes).items() if k not in self.base}

    def culprit(self, changed: list[int], code: str) -> int:
        """A changed file whose plan, added to those before it, brings a new ``code`` finding."""
        lo, hi = 0, len(changed)  # the first lo plans bring none; the first hi plans bring one
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.new(changed[:mid], (code,)):
                hi = mid
            else:
                lo = mid
        return changed[hi - 1]


def _reverted(plan: FilePlan) -> FilePlan:
    return replace(plan, after=plan.before, name=plan.original_name, applied=(), summaries_after=plan.summaries_before)


def _rolled(plan: FilePlan, keys: Collection[FixKey], finding: Finding) -> list[RolledBackFix]:
    why = f"the fix introduced {finding.code} in the pack ({finding.message})"
    return [RolledBackFix(a.code, a.description, a.location, why) for a in plan.applied
            if (a.code, a.location.render(), a.description) in keys]


@dataclass
class _Left:
    """What the guard decided for one file so far."""

    forbidden: frozenset[FixKey] = frozenset()
    rolled: tuple[RolledBackFix, ...] = ()


def guard(plans: Mapping[int, FilePlan], rules: RuleSet, replan: Replan) -> dict[int, Guarded]:
    """Files to plan differently (by index) so that the pack findings after the plans are a subset
    of those before. ``plans``: every planned file of the run (without their bytes is fine: only
    the summaries are read); ``rules``: the run's check rules; ``replan``: plans a file again."""
    if not rules.pack_rules() or not any(changes_pack(p) for p in plans.values()):
        return {}
    run = _Run(plans, rules)
    left: dict[int, _Left] = {}
    budget = sum(len(p.applied) for p in plans.values() if changes_pack(p)) + 1  # each round leaves out a fix
    while budget > 0:
        budget -= 1
        changed = run.changed()
        new = run.new(changed)
        if not new:
            break
        key = min(new)
        culprit = run.culprit(changed, key[0])
        left[culprit] = _relieve(run, culprit, key, new[key], replan, left.get(culprit, _Left()))
    return {i: Guarded(replace(run.plans[i], rolled_back=(*run.plans[i].rolled_back, *d.rolled)), d.forbidden)
            for i, d in left.items()}


def _relieve(run: _Run, index: int, key: FindingKey, finding: Finding, replan: Replan, done: _Left) -> _Left:
    """Plan file ``index`` without its pack-visible fixes, one at a time, until ``key`` is gone;
    left as it was when that is not enough (or the file cannot be planned again)."""
    plan = run.plans[index]
    forbidden, rolled = done.forbidden, list(done.rolled)
    for a in plan.applied:
        fix_key = (a.code, a.location.render(), a.description)
        trial = replan(index, forbidden | {fix_key})
        if trial is None or plan.before and trial.before != plan.before:
            break  # unreadable, or changed since it was planned: left as it was
        if trial.summaries_after == plan.summaries_after:
            continue  # this fix changes nothing the pack rules see
        forbidden |= {fix_key}
        rolled.extend(_rolled(plan, {fix_key}, finding))
        plan = run.plans[index] = trial
        if key not in run.new(run.changed(), (key[0],)):
            return _Left(forbidden, tuple(rolled))
    rest = {(a.code, a.location.render(), a.description) for a in plan.applied}
    rolled.extend(_rolled(plan, rest, finding))
    run.plans[index] = _reverted(plan)
    return _Left(forbidden | rest, tuple(rolled))
