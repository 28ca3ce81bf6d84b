"""Running a check over many files: discovery, parallel per-file checks, pack rules.

Work is split into chunks handed to worker processes (``Options.jobs``, default all cores);
small runs stay in-process, where starting workers would cost more than it saves. Every run
returns one :class:`RunResult` with findings, per-file outcomes and stage timings.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from presetctl.engine.discover import Candidate, Skipped, discover
from presetctl.engine.model import FileOutcome, FileStatus, Finding, RunResult, StageTiming, Violation
from presetctl.engine.options import Options
from presetctl.engine.pipeline import check_file, resolve
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.workers import PARALLEL_MIN_FILES, Progress, effective_jobs, map_chunks

_WORKER_RULES: RuleSet | None = None


def _init_worker(options: Options) -> None:
    global _WORKER_RULES
    _WORKER_RULES = RuleSet(options)


def _check_chunk(chunk: Sequence[Candidate]) -> list[FileOutcome]:
    assert _WORKER_RULES is not None
    return [check_file(c, _WORKER_RULES) for c in chunk]


def worker_count(options: Options, files: int) -> int:
    """Processes a run of ``files`` files uses: 1 (in-process) for small runs."""
    jobs = min(effective_jobs(options), max(1, files))
    return jobs if files >= PARALLEL_MIN_FILES else 1


def check_candidates(cands: Sequence[Candidate], options: Options, rules: RuleSet, progress: Progress | None = None) -> list[FileOutcome]:
    jobs = worker_count(options, len(cands))
    if jobs > 1:
        return list(map_chunks(cands, jobs, _init_worker, (options,), _check_chunk, progress))
    out: list[FileOutcome] = []
    for i, cand in enumerate(cands, 1):
        out.append(check_file(cand, rules))
        if progress is not None and (i % 50 == 0 or i == len(cands)):
            progress(i, len(cands))
    return out


def _skipped_outcomes(skipped: Iterable[Skipped], rules: RuleSet) -> list[FileOutcome]:
    return [
        FileOutcome(s.display, "unknown", FileStatus.SKIPPED, s.size, findings=resolve(rules, s.display, [s.violation]))
        for s in skipped
    ]


def _pack_findings(outcomes: Sequence[FileOutcome], rules: RuleSet) -> list[Finding]:
    pack_rules = rules.pack_rules()
    if not pack_rules:
        return []
    summaries = [s for o in outcomes for s in o.summaries]
    out: list[Finding] = []
    for rule in pack_rules:
        assert rule.pack_check is not None
        for path, v in rule.pack_check(summaries, rules.options):
            out.extend(resolve(rules, path, [v if v.code else Violation(v.message, v.location, rule.code, v.hint, v.data)]))
    return out


def run(
    paths: Sequence[str],
    options: Options,
    *,
    command: str = "validate",
    progress: Progress | None = None,
    baseline: frozenset[tuple[str, str, str]] | None = None,
    cwd: str | None = None,
) -> RunResult:
    """Check ``paths`` and return everything the run found. Raises only for tool errors."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    rules = RuleSet(options)
    cands, skipped = discover(paths, options, cwd)
    t1 = time.perf_counter()
    outcomes = _skipped_outcomes(skipped, rules)
    outcomes.extend(check_candidates(cands, options, rules, progress))
    t2 = time.perf_counter()
    pack = _pack_findings(outcomes, rules)
    t3 = time.perf_counter()
    findings = [f for o in outcomes for f in o.findings] + pack
    suppressed = 0
    if baseline is not None:
        kept = [f for f in findings if f.baseline_key() not in baseline]
        suppressed = len(findings) - len(kept)
        findings = kept
    findings.sort(key=Finding.sort_key)
    outcomes.sort(key=lambda o: o.path)
    timings = (
        StageTiming("discover", t1 - t0),
        StageTiming("check", t2 - t1),
        StageTiming("pack", t3 - t2),
        StageTiming("total", time.perf_counter() - t0),
    )
    return RunResult(command, tuple(paths), tuple(outcomes), tuple(findings), timings, suppressed, started,
                     worker_count(options, len(cands)))
