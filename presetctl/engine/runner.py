"""Running a check over many files: discovery, per-file checks in order, pack rules.

Files are checked in report order (sorted by the path shown) by the shared worker pool,
and each file's outcome is handed to the sink as soon as it and every file before it are
done, so reports stream. Cross-file rules (duplicates) run once every file is in. Every run
returns one :class:`RunResult` with findings, per-file outcomes and stage timings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from presetctl.engine.baseline import Baseline
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


def _check_item(rules: RuleSet, item: Item) -> FileOutcome:
    if isinstance(item, Skipped):
        return FileOutcome(item.display, "unknown", FileStatus.SKIPPED, item.size,
                           findings=resolve(rules, item.display, [item.violation], key=item.rel))
    return check_file(item, rules)


def _check_chunk(rules: RuleSet, chunk: Sequence[Item]) -> list[FileOutcome]:
    return [_check_item(rules, item) for item in chunk]


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
) -> RunResult:
    """Check ``paths`` and return everything the run found. Raises only for tool errors.

    ``worker_setup`` runs first in every worker process (the CLI connects workers' log records
    to its log there); the engine does not know what it does."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    rules = RuleSet(options)
    cands, skipped = discover(paths, options, cwd)
    items: list[Item] = sorted([*cands, *skipped], key=lambda i: i.display)
    jobs = worker_count(options, len(cands))
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

    for _chunk, results in map_chunks(items, jobs, lambda: rules, (), _check_chunk,
                                      on_lost=lambda item: _lost(rules, item), setup=worker_setup, on_death=died):
        for outcome in results:
            if keep is not None and outcome.findings:
                kept = tuple(f for f in outcome.findings if keep(f))
                suppressed += len(outcome.findings) - len(kept)
                outcome = _with_findings(outcome, kept)
            outcomes.append(outcome)
            findings.extend(outcome.findings)
            sink(FileChecked(outcome, len(outcomes), len(items)))
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


def _with_findings(outcome: FileOutcome, findings: tuple[Finding, ...]) -> FileOutcome:
    return FileOutcome(outcome.path, outcome.format, outcome.status, outcome.size, outcome.presets, findings,
                       outcome.summaries, outcome.seconds)
