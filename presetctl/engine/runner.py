"""Running a check over many files: discovery, per-file checks in order, pack rules.

Files are checked in report order (sorted by the path shown) by the shared worker pool,
and each file's outcome is handed to the sink as soon as it and every file before it are
done, so reports stream. Cross-file rules (duplicates) run once every file is in. Every run
returns one :class:`RunResult` with findings, per-file outcomes and stage timings.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from presetctl.engine.baseline import Baseline
from presetctl.engine.cache import CheckCache, OutcomeStore
from presetctl.engine.discover import Candidate, Discovered, Rows, Skipped, discover_in_order
from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.events import FileChecked, IncidentMet, PackChecked, RunFinished, RunStarted, Sink, no_sink
from presetctl.engine.incidents import Incident, Outcome
from presetctl.engine.junk import junk_violation
from presetctl.engine.metrics import Metrics, RuleClock, RuleTimes
from presetctl.engine.model import (
    FileOutcome,
    FileStatus,
    FileTable,
    Finding,
    PresetSummary,
    RunResult,
    StageTiming,
    Violation,
)
from presetctl.engine.options import MIB, Options
from presetctl.engine.pipeline import check_file, resolve
from presetctl.engine.resources import ResourceSampler
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.shard import in_shard
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


Checked = tuple[FileOutcome, RuleTimes | None]  # an outcome, and what the rules cost (on a chunk's last one)


def _check_chunk(checker: _Checker, chunk: Sequence[Item]) -> list[Checked]:
    out: list[Checked] = [(_check_item(checker, item), None) for item in chunk]
    rules = checker.rules
    if rules.clock is not None and out:  # this process's rule times travel back with the chunk's last outcome
        out[-1] = (out[-1][0], rules.clock.drain())
    return out


def _lost(rules: RuleSet, item: Item) -> Checked:
    """A file whose check killed its worker process twice (a crash in native code, the OOM killer)."""
    v = Violation("checking this file made a worker process die twice; it was not checked", code="E002")
    return FileOutcome(item.display, "unknown", FileStatus.SKIPPED, item.size,
                       findings=resolve(rules, item.display, [v], key=item.rel)), None


def junk_findings(paths: Sequence[str], rules: RuleSet) -> list[Finding]:
    """One pack-level finding for packaging junk (``__MACOSX``, ``.DS_Store``): not one per file."""
    junk = junk_violation(paths) if rules.enabled("F012") else None
    return list(resolve(rules, junk[0], [junk[1]])) if junk is not None else []


def pack_summaries(files: Sequence[FileOutcome]) -> Sequence[PresetSummary]:
    """What the pack rules read, in file order: every preset's summary; a file checked without
    them (the run's pack rules read only paths, see ``Rule.paths_only``) stands in once with its path."""
    if isinstance(files, FileTable):
        return files.summaries()
    out: list[PresetSummary] = []
    for f in files:
        if f.summaries:
            out.extend(f.summaries)
        elif f.presets:
            out.append(PresetSummary(f.path, f.format, None, None, None, ""))
    return out


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
    metrics: Metrics | None = None,
) -> RunResult:
    """Check ``paths`` and return everything the run found. Raises only for tool errors.

    ``worker_setup`` runs first in every worker process (the CLI connects workers' log records
    to its log there); the engine does not know what it does. ``RunStarted`` (with the number of
    processes) reaches ``sink`` before any worker process starts. ``cache``: where outcomes of files
    checked before are found and fresh ones kept (see engine/cache.py); only the files whose
    entry does not hold are checked, so an unchanged pack costs a look-up per file. ``metrics``: a registry that receives
    the run's stage timings, per-rule time, per-file timings and resource samples (engine/metrics.py);
    without one, and without a memory budget, nothing is measured beyond ``RunResult.timings``."""
    watched = metrics if metrics is not None else Metrics() if options.budgets.peak_memory else None
    if watched is None:
        return _run(paths, options, command, sink, baseline, cwd, worker_setup, cache, None, None)
    with ResourceSampler(watched) as sampler:
        return _run(paths, options, command, sink, baseline, cwd, worker_setup, cache, watched, sampler)


def _run(paths: Sequence[str], options: Options, command: str, sink: Sink, baseline: Baseline | None,
         cwd: str | None, worker_setup: Callable[[], None] | None, cache: OutcomeStore | None, metrics: Metrics | None,
         sampler: ResourceSampler | None) -> RunResult:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    rules = RuleSet(options)
    if metrics is not None:
        rules.clock = RuleClock()
    found = discover_in_order(paths, options, cwd)  # in report order, column-wise (about 100 bytes a file)
    checks = CheckCache(cache, options, command) if cache is not None else None
    items, known, todo = _select(found, paths, options, checks)
    jobs = worker_count(options, todo.candidates())
    t1 = time.perf_counter()
    sink(RunStarted(command, tuple(paths), started, len(items), jobs))
    keep = baseline.keeper(cwd) if baseline is not None else None
    tally = _Tally(metrics, keep)

    def died(items: int, retrying: bool) -> None:
        what = (f"a worker process died checking {items} file{'s' if items != 1 else ''}; "
                + ("they are checked again, one by one, in fresh workers" if retrying
                   else "it died again on this file, which is reported as E002"))
        tally.deaths += 1
        sink(IncidentMet(Incident(ErrorCode.WORKER_DIED, what, stage="check",
                                  outcome=Outcome.RECOVERED if retrying else Outcome.FAILED, at=time.time())))

    checker = _Checker(rules, digest=checks is not None)
    # The pool's chunks are views of ``found`` (``Rows``): each entry is built as it is sent to a
    # worker (or checked here) and let go with its chunk; the entries are never all alive at once.
    fresh = _flatten(map_chunks(todo, jobs, lambda: checker, (), _check_chunk, on_lost=lambda item: _lost(rules, item),
                                setup=worker_setup, on_death=died))
    total = len(items)
    del todo
    for i in range(total):  # no entry is built here: an outcome carries its path
        cached = known[i] if known is not None else None
        if known is not None:
            known[i] = None
        outcome, times = (cached, None) if cached is not None else next(fresh)
        if cached is None and checks is not None and found.is_candidate(at := items.index_of(i)):
            item = found[at]
            assert isinstance(item, Candidate)
            checks.keep(item, outcome)
        outcome = tally.add(outcome, times, checked=cached is None)
        sink(FileChecked(outcome, len(tally.outcomes), total))
    for _left in fresh:  # pragma: no cover - every result was taken; this lets the pool stop its workers gracefully
        raise RuntimeError("the worker pool returned more outcomes than files")
    del found, items, known  # the pack rules below read the outcomes' paths, not discovery's
    if checks is not None:
        checks.flush()
    t2 = time.perf_counter()
    pack = junk_findings(tally.outcomes.paths, rules) + pack_findings(pack_summaries(tally.outcomes), rules)
    over, incidents = _over_budget(options, paths, rules, time.perf_counter() - t0, sampler)
    pack = tally.kept(sorted(pack + over, key=Finding.sort_key))
    for incident in incidents:
        sink(IncidentMet(incident))
    sink(PackChecked(tuple(pack)))
    t3 = time.perf_counter()
    timings = (
        StageTiming("discover", t1 - t0),
        StageTiming("check", t2 - t1),
        StageTiming("pack", t3 - t2),
        StageTiming("total", time.perf_counter() - t0),
    )
    if metrics is not None:
        tally.export(metrics, timings, jobs, pack)
    findings = tally.findings + pack
    result = RunResult(command, tuple(paths), tally.outcomes, tuple(findings), timings, tally.suppressed,
                       started, jobs, pack=tuple(pack), cwd=cwd or os.getcwd())
    sink(RunFinished(result))
    return result


class _Tally:
    """The outcomes of a run as they come back: the baseline applied, counted for the metrics."""

    def __init__(self, metrics: Metrics | None, keep: Callable[[Finding], bool] | None) -> None:
        self.metrics = metrics
        self.keep = keep
        self.outcomes = FileTable()  # streamed to the sink; kept column-wise for the result
        self.findings: list[Finding] = []
        self.suppressed = 0
        self.deaths = 0
        # The one series, found once: a label look-up per file costs more than the observation.
        self.file_seconds = metrics.histogram("presetctl_file_check_seconds", "Seconds to check one file (read, "
                                              "parse, every rule), in the process that checked it").labels() \
            if metrics is not None else None

    def kept(self, findings: list[Finding]) -> list[Finding]:
        if self.keep is None:
            return findings
        out = [f for f in findings if self.keep(f)]
        self.suppressed += len(findings) - len(out)
        return out

    def add(self, outcome: FileOutcome, times: RuleTimes | None, checked: bool = True) -> FileOutcome:
        """``checked``: False for an outcome from the cache, which no process of this run spent time on."""
        if outcome.findings and self.keep is not None:
            outcome = _with_findings(outcome, tuple(self.kept(list(outcome.findings))))
        self.outcomes.append(outcome)
        self.findings.extend(outcome.findings)
        if self.metrics is not None:
            if times is not None:
                self.metrics.add_rule_times(times)
            if self.file_seconds is not None and checked and outcome.status is not FileStatus.SKIPPED:
                self.file_seconds.observe(outcome.seconds)
        return outcome

    def export(self, m: Metrics, timings: Sequence[StageTiming], jobs: int, pack: Sequence[Finding]) -> None:
        """What the run counted, into the registry once (not per file: the loop stays cheap)."""
        stage = m.gauge("presetctl_stage_seconds", "Wall seconds of each stage of the run")
        for t in timings:
            stage.set(t.seconds, stage=t.stage)
        files = m.counter("presetctl_files_total", "Files looked at, by status")
        for status, n in self.outcomes.status_counts().items():
            files.inc(n, status=status.value)
        m.counter("presetctl_presets_total", "Presets read (a bank counts each voice)").inc(self.outcomes.presets())
        m.counter("presetctl_bytes_read_total", "Bytes of the files checked").inc(self.outcomes.bytes_checked())
        found = m.counter("presetctl_findings_total", "Findings reported (after the baseline), by severity")
        for severity, n in Counter(f.severity.label for f in [*self.findings, *pack]).items():
            found.inc(n, severity=severity)
        m.counter("presetctl_baseline_suppressed_total", "Findings hidden by the baseline").inc(self.suppressed)
        m.gauge("presetctl_workers", "Worker processes of the run (1: checked in-process)").set(jobs)
        m.counter("presetctl_worker_deaths_total", "Worker processes that died during the run").inc(self.deaths)


def _over_budget(options: Options, paths: Sequence[str], rules: RuleSet, seconds: float,
                 sampler: ResourceSampler | None) -> tuple[list[Finding], list[Incident]]:
    """A PE407 incident (for the log) per budget the run went over, and its E003 finding where the run's
    rule selection reports E003 (validate; scan-security reports only security codes)."""
    budgets = options.budgets
    over: list[str] = []
    if budgets.wall_time is not None and seconds > budgets.wall_time:
        over.append(f"the run took {seconds:.1f} s, over the wall-time budget of {budgets.wall_time:.1f} s")
    if budgets.peak_memory is not None and sampler is not None:
        peak = max(sampler.peak_rss, sampler.current_peak())
        if peak > budgets.peak_memory:
            over.append(f"the run used {peak / MIB:.1f} MiB of memory at its peak, over the peak-memory budget "
                        f"of {budgets.peak_memory / MIB:.1f} MiB")
    where = os.path.normpath(paths[0]).replace(os.sep, "/") if paths else "."
    findings = list(resolve(rules, where, [Violation(m, code="E003") for m in over]))
    return findings, [Incident(ErrorCode.BUDGET_EXCEEDED, m, stage="run", at=time.time()) for m in over]


def _with_findings(outcome: FileOutcome, findings: tuple[Finding, ...]) -> FileOutcome:
    return replace(outcome, findings=findings)


def _select(found: Discovered, paths: Sequence[str], options: Options,
            checks: CheckCache | None) -> tuple[Rows, list[FileOutcome | None] | None, Rows]:
    """The entries of this run (its shard's), their outcomes from the cache, and those left to check."""
    items = found.rows()
    if options.shard is not None:  # only this shard's files (engine/shard.py)
        shard = options.shard
        items = found.rows(i for i, item in enumerate(found) if in_shard(item.display, paths, shard))
    known = _known(checks, found, items)
    todo = items if known is None else found.rows(items.index_of(i) for i, o in enumerate(known) if o is None)
    return items, known, todo


def _known(checks: CheckCache | None, found: Discovered, items: Rows) -> list[FileOutcome | None] | None:
    """Each item's outcome from the cache, None where it must be checked (always for skipped entries:
    what discovery found about them costs nothing to report again); None without a cache."""
    if checks is None:
        return None
    cands = [i for i in items if isinstance(i, Candidate)]
    outcomes = iter(checks.lookup(cands))
    del cands
    return [next(outcomes) if found.is_candidate(items.index_of(i)) else None for i in range(len(items))]


def _flatten(chunks: Iterator[tuple[Sequence[Item], list[Checked]]]) -> Iterator[Checked]:
    for _chunk, results in chunks:
        yield from results
