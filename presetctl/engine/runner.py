"""Running a check over many files: discovery, parallel per-file checks, pack rules.

Work is split into chunks handed to worker processes (``Options.jobs``, default all cores);
small runs stay in-process, where starting workers would cost more than it saves. Every run
returns one :class:`RunResult` with findings, per-file outcomes and stage timings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import UTC, datetime

from presetctl.engine.discover import Candidate, Skipped, discover
from presetctl.engine.model import FileOutcome, FileStatus, Finding, RunResult, StageTiming, Violation
from presetctl.engine.options import Options
from presetctl.engine.pipeline import check_file, resolve
from presetctl.engine.rules.selection import RuleSet

Progress = Callable[[int, int], None]  # (files done, files total)

PARALLEL_MIN_FILES = 96  # below this, worker start-up costs more than it saves
_WORKER_RULES: RuleSet | None = None


def _init_worker(options: Options) -> None:
    global _WORKER_RULES
    _WORKER_RULES = RuleSet(options)


def _check_chunk(chunk: Sequence[Candidate]) -> list[FileOutcome]:
    assert _WORKER_RULES is not None
    return [check_file(c, _WORKER_RULES) for c in chunk]


def effective_jobs(options: Options) -> int:
    if options.jobs is not None and options.jobs > 0:
        return options.jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _chunks(items: Sequence[Candidate], jobs: int) -> list[Sequence[Candidate]]:
    # Several chunks per worker keep both cores busy to the end; a cap keeps progress lively.
    size = max(1, min(256, len(items) // (jobs * 8) or 1))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _parallel(cands: Sequence[Candidate], options: Options, jobs: int, progress: Progress | None) -> Iterator[FileOutcome]:
    total = len(cands)
    done = 0
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(options,)) as pool:
        pending: set[Future[list[FileOutcome]]] = {pool.submit(_check_chunk, c) for c in _chunks(cands, jobs)}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    batch = fut.result()
                    done += len(batch)
                    yield from batch
                if progress is not None:
                    progress(done, total)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def check_candidates(cands: Sequence[Candidate], options: Options, rules: RuleSet, progress: Progress | None = None) -> list[FileOutcome]:
    jobs = min(effective_jobs(options), max(1, len(cands)))
    if jobs > 1 and len(cands) >= PARALLEL_MIN_FILES:
        return list(_parallel(cands, options, jobs, progress))
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
                     min(effective_jobs(options), max(1, len(cands))))
