"""History: how the findings over these targets changed from run to run, and how runs ended.

The input is :class:`~presetctl.engine.stats.model.HistoryFacts`, read from the run history by
the CLI (the engine never opens the history): every recorded run over the same targets as this
``stats`` run (however they were spelled), the findings per rule of the last ``WINDOW`` finished
runs of each command that records findings, and the tool-error statistics of those runs.

Three views: findings per rule over time (one table and one chart per command, oldest run
first, so a rule that keeps growing stands out), runs per outcome and command, and the recovery
rates of tool errors (a retried history lock, a re-read file, a worker that died).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from presetctl.engine.stats.common import table
from presetctl.engine.stats.model import (
    Bar,
    Cell,
    Chart,
    FileFacts,
    HistoryFacts,
    RecordedRun,
    Section,
    StatsContext,
    Table,
)

WINDOW = 10  # finished runs per command whose findings per rule are compared (one column each)
OVER_TIME = ("validate", "scan-security")  # the commands whose runs record findings
OUTCOMES = ("clean", "findings", "error", "interrupted", "no end")


def unavailable(reason: str) -> Section:
    """The section when the history cannot be read (off, missing, damaged): one shape, with the reason."""
    return Section("history", {"available": False, "reason": reason}, notes=(reason,))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _local(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def run_label(run_id: str) -> str:
    """The short name of a run in column headers: the random part of its id (as ``presetctl logs`` shows it)."""
    return run_id.rsplit("-", 1)[-1]


def _labels(runs: Sequence[RecordedRun]) -> list[str]:
    """Unique column labels: the short id, lengthened to the full id where two would collide."""
    short = Counter(run_label(r.id) for r in runs)
    return [run_label(r.id) if short[run_label(r.id)] == 1 else r.id for r in runs]


def _window(runs: Sequence[RecordedRun], command: str) -> list[RecordedRun]:
    return [r for r in runs if r.command == command and r.by_rule is not None][-WINDOW:]


def _over_time(command: str, runs: Sequence[RecordedRun], top: int) -> tuple[dict[str, Any], Table, Chart]:
    labels = _labels(runs)
    codes = sorted({c for r in runs for c in r.by_rule or {}},
                   key=lambda c: (-(runs[-1].by_rule or {}).get(c, 0), -sum((r.by_rule or {}).get(c, 0) for r in runs), c))
    series = {c: [(r.by_rule or {}).get(c, 0) for r in runs] for c in codes}
    data = {"runs": [r.id for r in runs], "started_at": [_iso(r.started_at) for r in runs], "by_rule": series}
    rows: list[tuple[Cell, ...]] = [(c, *counts, counts[-1] - counts[0]) for c, counts in series.items()]
    last = "the last run" if len(runs) == 1 else f"the last {len(runs)} runs"
    title = f"{command} findings per rule in {last} over these targets (oldest first; change: last minus first)"
    tab = table(f"{command}_by_rule", title, ("rule", *labels, "change"), rows, top)
    chart = Chart(f"{command}_findings", f"{command} findings per run (oldest first; red: the run had errors)",
                  tuple(Bar(f"{label} {_local(r.started_at)}", float(r.findings), r.counts.get("error", 0) > 0)
                        for label, r in zip(labels, runs, strict=True)), "findings")
    return data, tab, chart


def _outcomes(runs: Sequence[RecordedRun]) -> tuple[dict[str, dict[str, int]], Table]:
    by_command: dict[str, Counter[str]] = {}
    for r in runs:
        by_command.setdefault(r.command, Counter())[r.outcome] += 1
    data = {cmd: {o: n for o in OUTCOMES if (n := c[o])} for cmd, c in sorted(by_command.items())}
    rows: list[tuple[Cell, ...]] = [(cmd, sum(c.values()), *(c[o] for o in OUTCOMES))
                                    for cmd, c in sorted(by_command.items())]
    return data, table("outcomes", "Runs over these targets by outcome", ("command", "runs", *OUTCOMES), rows)


def _recovery(facts: HistoryFacts, top: int) -> tuple[list[dict[str, Any]], Table]:
    data = [{"code": s.code, "name": s.name, "occurrences": s.occurrences, "runs": s.runs, "retries": s.retries,
             "recovered": s.recovered, "failed": s.failed, "success_rate": s.success_rate} for s in facts.recovery]
    rows = [(s.code, s.name, s.occurrences, s.runs, s.retries, s.recovered, s.failed,
             "-" if s.success_rate is None else f"{s.success_rate:.0%}") for s in facts.recovery]
    return data, table("recovery", "Tool errors in these runs and their recovery",
                       ("code", "name", "count", "runs", "retries", "recovered", "failed", "success"), rows, top)


def _run_json(r: RecordedRun) -> dict[str, Any]:
    return {"id": r.id, "command": r.command, "started_at": _iso(r.started_at), "outcome": r.outcome,
            "exit_code": r.exit_code, "files": r.files, "findings": r.findings, "counts": dict(r.counts)}


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    facts = ctx.history
    if facts is None:
        return unavailable("needs run history: the caller did not read it (presetctl stats reads it from the "
                           "state directory)")
    if facts.problem:
        return unavailable(facts.problem)
    runs = facts.runs
    data: dict[str, Any] = {"available": True, "targets": list(facts.targets), "runs": [_run_json(r) for r in runs]}
    if not runs:
        data.update(outcomes={}, findings_over_time={}, recovery=[])
        note = "no run over these targets is recorded yet: validate and scan-security runs appear here"
        return Section("history", data, notes=(note,))
    tables: list[Table] = []
    charts: list[Chart] = []
    over_time: dict[str, Any] = {}
    for command in OVER_TIME:
        window = _window(runs, command)
        if window:
            over_time[command], tab, chart = _over_time(command, window, ctx.top)
            tables.append(tab)
            charts.append(chart)
    data["outcomes"], outcome_table = _outcomes(runs)
    data["findings_over_time"] = over_time
    data["recovery"], recovery_table = _recovery(facts, ctx.top)
    tables.append(outcome_table)
    if facts.recovery:
        tables.append(recovery_table)
    notes = [f"{len(runs)} recorded runs over these targets from {_local(runs[0].started_at)} to "
             f"{_local(runs[-1].started_at)}; columns name runs by the end of their id (presetctl logs runs)"]
    if not facts.recovery:
        notes.append("no tool errors recorded in these runs")
    return Section("history", data, tuple(tables), tuple(charts), tuple(notes))
