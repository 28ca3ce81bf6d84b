"""Running a check over many files: discovery, per-file checks in order, pack rules.

Files are checked in report order (sorted by the path shown) by the shared worker pool,
and each file's outcome is handed to the sink as soon as it and every file before it are
done, so reports stream. Cross-file rules (duplicates) run once every file is in. Every run
returns one :class:`RunResult` with findings, per-file outcomes and stage timings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from presetctl.engine.baseline import Baseline
from presetctl.engine.cache import CheckCache, OutcomeStore
from presetctl.engine.discover import Candidate, Skipped, discover
from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.events import FileChecked, IncidentMet, PackChecked, RunFinished, RunStarted, Sink, no_sink
from presetctl.engine.incidents import Incident, Outcome
from presetctl.engine.junk import junk_violation
from presetctl.engine.model import FileOutcome, FileStatus, Finding, PresetSummary, RunResult, StageTiming, Violation
from presetctl.engine.options import Options
from presetctl.engine.pipeline import check_file, resolve
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.workers import map_chunks, worker_count

Item = Candidate | Skipped


@dataclass(frozen=True)
class _Checker:
    """What every worker process builds once: the compiled rule set, and whether outcomes carry
    the content hash a cache entry is verified by."""

    rules: RuleSet
    digest: bool = False


def _check_item(checker: _Checker, item: Item) -> FileOutcome:
    rules = checker.rules
    if isinstance(item, Skipped):
        return FileOutcome(item.display, "unknown", FileStatus.SKIPPED, item.size,
                           findings=resolve(rules, item.display, [item.violation], key=item.rel))
    return check_file(item, rules, digest=True) if checker.digest else check_file(item, rules)


def _check_chunk(checker: _Checker, chunk: Sequence[Item]) -> list[FileOutcome]:
    return [_check_item(checker, item) for item in chunk]


def _lost(rules: RuleSet, item: Item) -> FileOutcome:
    """A file whose check killed its worker process twice (a crash in native code, the OOM killer)."""
    v = Violation("checking this file made a worker process die twice; it was not checked", code="E002")
    return FileOutcome(item.display, "unknown", FileStatus.SKIPPED, item.size,
                       findings=resolve(rules, item.display, [v], key=item.rel))


def junk_findings(paths: Sequence[str], rules: RuleSet) -> list[Finding]:
    """One pack-level finding for packaging junk (``__MACOSX``, ``.DS_Store``): not one per file."""
    junk = junk_violation(paths) if rules.enabled("F012") else None
    return list(resolve(rules, junk[0], [junk[1]])) if junk is not None else []


def pack_findings(summaries: Sequence[PresetSummary], rules: RuleSet, codes: Collection[str] | None = None) -> list[Finding]:
    """The findings of the pack rules (of those in ``codes``, when given) over ``summaries``."""
    out: list[Finding] = []
    for rule in rules.pack_rules():
        if codes is not None and rule.code not in codes and not set(rule.also_emits) & set(codes):
            continue
        assert rule.pack_check is not None
        for path, v in rule.pack_check(summaries, rules.options):
            out.extend(resolve(rules, path, [v if v.code else replace(v, code=rule.code)]))
    return out


def run(
    paths: Sequence[str],
    options: Options,
    *,
    command: str = "validate",
    sink: Sink = no_sink,
    baseline: Baseline | None = None,
    cwd: str | None = None,
    worker_setup: Callable[[], None] | None = None,
    cache: OutcomeStore | None = None,
) -> RunResult:
    """Check ``paths`` and return everything the run found. Raises only for tool errors.

    ``worker_setup`` runs first in every worker process (the CLI connects workers' log records
    to its log there); the engine does not know what it does. ``cache``: where outcomes of files
    checked before are found and fresh ones kept (see engine/cache.py); only the files whose
    entry does not hold are checked, so an unchanged pack costs a look-up per file."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    rules = RuleSet(options)
    cands, skipped = discover(paths, options, cwd)
    items: list[Item] = sorted([*cands, *skipped], key=lambda i: i.display)
    checks = CheckCache(cache, options, command) if cache is not None else None
    known = _known(checks, items)
    todo = [item for item, outcome in zip(items, known, strict=True) if outcome is None]
    jobs = worker_count(options, sum(1 for i in todo if isinstance(i, Candidate)))
    t1 = time.perf_counter()
    sink(RunStarted(command, tuple(paths), started, len(items), jobs))
    keep = baseline.keeper(cwd) if baseline is not None else None
    outcomes: list[FileOutcome] = []
    findings: list[Finding] = []
    suppressed = 0
    def died(items: int, retrying: bool) -> None:
        what = (f"a worker process died checking {items} file{'s' if items != 1 else ''}; "
                + ("they are checked again, one by one, in fresh workers" if retrying
                   else "it died again on this file, which is reported as E002"))
        sink(IncidentMet(Incident(ErrorCode.WORKER_DIED, what, stage="check",
                                  outcome=Outcome.RECOVERED if retrying else Outcome.FAILED, at=time.time())))

    checker = _Checker(rules, digest=checks is not None)
    fresh = _flatten(map_chunks(todo, jobs, lambda: checker, (), _check_chunk, on_lost=lambda item: _lost(rules, item),
                                setup=worker_setup, on_death=died))
    for item, cached in zip(items, known, strict=True):
        outcome = cached if cached is not None else next(fresh)
        if cached is None and checks is not None and isinstance(item, Candidate):
            checks.keep(item, outcome)
        if keep is not None and outcome.findings:
            kept = tuple(f for f in outcome.findings if keep(f))
            suppressed += len(outcome.findings) - len(kept)
            outcome = replace(outcome, findings=kept)
        outcomes.append(outcome)
        findings.extend(outcome.findings)
        sink(FileChecked(outcome, len(outcomes), len(items)))
    for _left in fresh:  # pragma: no cover - every result was taken; this lets the pool stop its workers gracefully
        raise RuntimeError("the worker pool returned more outcomes than files")
    if checks is not None:
        checks.flush()
    t2 = time.perf_counter()
    pack = sorted(junk_findings([o.path for o in outcomes], rules)
                  + pack_findings([s for o in outcomes for s in o.summaries], rules), key=Finding.sort_key)
    if keep is not None:
        kept_pack = [f for f in pack if keep(f)]
        suppressed += len(pack) - len(kept_pack)
        pack = kept_pack
    sink(PackChecked(tuple(pack)))
    findings.extend(pack)
    t3 = time.perf_counter()
    timings = (
        StageTiming("discover", t1 - t0),
        StageTiming("check", t2 - t1),
        StageTiming("pack", t3 - t2),
        StageTiming("total", time.perf_counter() - t0),
    )
    result = RunResult(command, tuple(paths), tuple(outcomes), tuple(findings), timings, suppressed, started, jobs,
                       pack=tuple(pack), cwd=cwd or os.getcwd())
    sink(RunFinished(result))
    return result


def _known(checks: CheckCache | None, items: Sequence[Item]) -> list[FileOutcome | None]:
    """Each item's outcome from the cache, None where it must be checked (always for skipped entries:
    what discovery found about them costs nothing to report again)."""
    if checks is None:
        return [None] * len(items)
    cands = [i for i in items if isinstance(i, Candidate)]
    found = iter(checks.lookup(cands))
    return [next(found) if isinstance(i, Candidate) else None for i in items]


def _flatten(chunks: Iterator[tuple[Sequence[Item], list[FileOutcome]]]) -> Iterator[FileOutcome]:
    for _chunk, results in chunks:
        yield from results
