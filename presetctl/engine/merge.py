"""Merging shards: the runs of ``--shard 1/N`` ... ``N/N`` as the one run that checks everything.

Each shard checked its own files, so its per-file findings are final; its cross-file findings
(duplicates, case collisions, drift, packaging junk) saw only its own files and are dropped. The
merge runs the pack rules again over every shard's preset summaries and file paths, with the
settings the shards recorded, applies the baseline as the shards did, and returns the
:class:`RunResult` one process would have: files in report order, each with its findings, then
the cross-file findings sorted as the runner sorts them. Budget findings (E003) are facts about
a shard's own process; they are carried over as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from presetctl.engine.baseline import Baseline
from presetctl.engine.errors import UsageError
from presetctl.engine.model import FileOutcome, Finding, RunResult, StageTiming
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.runner import junk_findings, pack_findings, pack_summaries
from presetctl.engine.shard import options_from_settings

CARRIED = frozenset({"E003"})  # run-level findings a shard's report keeps through a merge


@dataclass(frozen=True)
class ShardPart:
    """One shard's JSON report, read back (presetctl/report/shards.py)."""

    source: str  # the report file, for messages
    command: str
    roots: tuple[str, ...]
    cwd: str
    started_at: str
    tool_version: str
    index: int
    count: int
    settings: Mapping[str, Any]
    files: tuple[FileOutcome, ...]  # each with its own findings and preset summaries
    run_findings: tuple[Finding, ...]  # the shard's cross-file and run-level findings (after its files')
    seconds: float
    baseline_suppressed: int


def _check_set(parts: Sequence[ShardPart]) -> None:
    """The parts are the N shards of one run: same command, targets, settings and version; each index once."""
    if not parts:
        raise UsageError("merge-reports needs at least one report")
    first = parts[0]
    for p in parts[1:]:
        for what, mine, theirs in (("command", p.command, first.command), ("targets", p.roots, first.roots),
                                   ("shard count", p.count, first.count), ("settings", p.settings, first.settings),
                                   ("presetctl version", p.tool_version, first.tool_version)):
            if mine != theirs:
                raise UsageError(f"{p.source} and {first.source} are not shards of one run: their {what} differ "
                                 f"({mine!r} and {theirs!r})")
    seen: dict[int, str] = {}
    for p in parts:
        if p.index in seen:
            raise UsageError(f"{seen[p.index]} and {p.source} are both shard {p.index}/{p.count}")
        seen[p.index] = p.source
    missing = [str(k) for k in range(1, first.count + 1) if k not in seen]
    if missing:
        raise UsageError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {first.count} "
                         "missing: merge the reports of every shard")


def merge(parts: Sequence[ShardPart], baseline: Baseline | None = None) -> RunResult:
    """The run the shards together make. UsageError when they are not the shards of one run, or when
    they were checked against a baseline and ``baseline`` is None."""
    _check_set(parts)
    first = parts[0]
    if first.settings.get("baseline") and baseline is None:
        raise UsageError("the shards were checked against a baseline: pass the same --baseline to merge-reports")
    try:
        rules = RuleSet(options_from_settings(first.settings))
    except ValueError as exc:
        raise UsageError(f"{first.source}: bad shard settings: {exc}") from None
    files = sorted((f for p in parts for f in p.files), key=lambda f: f.path)
    for a, b in zip(files, files[1:], strict=False):
        if a.path == b.path:
            raise UsageError(f"{a.path} is in more than one shard: the reports are not shards of one run")
    keep = baseline.keeper(first.cwd) if baseline is not None else None
    carried = [f for p in parts for f in p.run_findings if f.code in CARRIED]
    pack = sorted(junk_findings([f.path for f in files], rules)
                  + pack_findings(pack_summaries(files), rules) + carried, key=Finding.sort_key)
    suppressed = sum(p.baseline_suppressed for p in parts)
    if keep is not None:
        kept = [f for f in pack if keep(f)]
        # The shards' own suppressed counts include what their partial pack rules suppressed: take that out,
        # put in what the merged pack rules suppress.
        suppressed += len(pack) - len(kept) - sum(_partial_suppressed(p, rules, keep) for p in parts)
        pack = kept
    findings = [f for o in files for f in o.findings] + pack
    started = min((p.started_at for p in parts if p.started_at), default="")
    return RunResult(first.command, first.roots, tuple(files), tuple(findings),
                     (StageTiming("total", max(p.seconds for p in parts)),), suppressed, started, 1,
                     pack=tuple(pack), cwd=first.cwd)


def _partial_suppressed(part: ShardPart, rules: RuleSet, keep: Any) -> int:
    """What the shard's own cross-file rules (over its files alone) had the baseline suppress."""
    pack = junk_findings([f.path for f in part.files], rules) + pack_findings(pack_summaries(part.files), rules)
    return sum(1 for f in pack if not keep(f))
