"""Comparing two runs: which findings are new, which were fixed, which stayed.

Findings are matched on their baseline key (path, code, location: never a line, which moves with
unrelated edits) and, when several share a key, on their occurrence number, as the SARIF and
GitLab fingerprints do. A changed message under the same key is the same problem, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from presetctl.engine.model import Finding, Severity


@dataclass(frozen=True)
class RuleDelta:
    code: str
    name: str
    new: int
    fixed: int
    unchanged: int


@dataclass(frozen=True)
class RunDiff:
    new: tuple[Finding, ...]  # in the second run only
    fixed: tuple[Finding, ...]  # in the first run only
    unchanged: tuple[Finding, ...]  # in both (as found by the second run)

    def by_rule(self) -> tuple[RuleDelta, ...]:
        """One row per code, the codes with the most new findings first."""
        rows: dict[str, list[int]] = {}
        names: dict[str, str] = {}
        for column, findings in enumerate((self.new, self.fixed, self.unchanged)):
            for f in findings:
                rows.setdefault(f.code, [0, 0, 0])[column] += 1
                if f.rule_name:
                    names.setdefault(f.code, f.rule_name)
        out = [RuleDelta(code, names.get(code, ""), *counts) for code, counts in rows.items()]
        out.sort(key=lambda r: (-r.new, -r.fixed, r.code))
        return tuple(out)

    def fails(self, threshold: Severity) -> bool:
        return any(f.severity >= threshold for f in self.new)


def _keyed(findings: Iterable[Finding]) -> dict[tuple[str, str, str, int], Finding]:
    seen: dict[tuple[str, str, str], int] = {}
    out: dict[tuple[str, str, str, int], Finding] = {}
    for f in sorted(findings, key=Finding.sort_key):
        key = f.baseline_key()
        n = seen.get(key, 0)
        seen[key] = n + 1
        out[(*key, n)] = f
    return out


def diff_runs(before: Sequence[Finding], after: Sequence[Finding]) -> RunDiff:
    old, new = _keyed(before), _keyed(after)
    return RunDiff(
        new=tuple(f for k, f in new.items() if k not in old),
        fixed=tuple(f for k, f in old.items() if k not in new),
        unchanged=tuple(f for k, f in new.items() if k in old),
    )
