"""Loading a big run for `presetctl report`: from the run history vs from its JSON report.

    python benchmarks/report_history_bench.py [--findings 100000] [--rounds 7] [--json]

Records one synthetic run of N findings (shaped like a DX7 archive: duplicate names and sounds
over 40-finding banks, some with related members) into a fresh history database through the
recorder ``validate`` uses, and writes the same findings as a JSON report. Then loads both the
way ``presetctl report`` does (``load_run``), in alternating rounds in one process on the same
data, and prints the median wall time of each, their ratio, the peak of Python allocations while
loading (tracemalloc, in a separate pass: it slows what it measures) and whether both loads gave
equal findings.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import orjson

from presetctl.engine.model import Finding, Location, Related, Severity
from presetctl.report.browse.source import HistorySource, LoadedRun, load_run
from presetctl.report.json_report import finding_dict
from presetctl.state.history import HistoryStore
from presetctl.state.recorder import HistoryRecorder, RunHeader

CODES = [("Q001", "duplicate-sound", Severity.WARNING), ("Q002", "duplicate-name", Severity.WARNING),
         ("M002", "missing-author", Severity.WARNING), ("N003", "name-too-long", Severity.INFO),
         ("D001", "dx7-checksum-mismatch", Severity.ERROR), ("M001", "missing-name", Severity.ERROR)]


def findings(count: int) -> list[Finding]:
    out = []
    for i in range(count):
        code, name, sev = CODES[(i * 7) % len(CODES)] if i % 11 else CODES[i % 2]
        bank = f"archive/bank-{i // 40:05d}.syx"
        related = (Related(f"archive/bank-{(i // 40 + 1):05d}.syx", Location(voice=i % 32 + 1), f"INIT {i % 500}"),) \
            if code == "Q002" else ()
        out.append(Finding(bank, code, sev, f"name 'INIT {i % 500}' is used by {2 + i % 9} presets",
                           Location(offset=6 + 128 * (i % 32), voice=i % 32 + 1), rule_name=name, related=related))
    return out


def record(db: Path, cwd: Path, items: list[Finding]) -> str:
    store = HistoryStore.open(db)
    header = RunHeader("20260102T030405-abcdef", "validate", json.dumps({"fail_on": "error"}),
                       (str(cwd / "archive"),), str(cwd), "bench")
    recorder = HistoryRecorder(store, header)
    recorder.begin()
    recorder.findings(items)
    recorder.finish(1)
    store.close()
    return header.run_id


def write_json(path: Path, cwd: Path, items: list[Finding]) -> None:
    doc = {"version": 1, "tool": {"name": "presetctl", "version": "bench"}, "command": "validate",
           "run": {"roots": ["archive"], "cwd": str(cwd), "fail_on": "error", "exit_code": 1},
           "summary": {"files": len(items) // 40 + 1}, "findings": [finding_dict(f) for f in items]}
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))  # as `validate --report json:` writes it


def wall(fn: Callable[[], LoadedRun]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak(fn: Callable[[], LoadedRun]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        items = findings(args.findings)
        db, report = folder / "history.sqlite3", folder / "run.json"
        run_id = record(db, folder, items)
        write_json(report, folder, items)
        del items
        source = HistorySource(db)
        loads = {"json": lambda: load_run(str(report)), "history": lambda: load_run(run_id, source)}
        equal = loads["json"]().findings == loads["history"]().findings
        times: dict[str, list[float]] = {k: [] for k in loads}
        for _ in range(args.rounds):
            for name, fn in loads.items():  # alternating: both see the same machine load
                times[name].append(wall(fn))
        peaks = {name: peak(fn) for name, fn in loads.items()}
        med = {k: statistics.median(v) for k, v in times.items()}
        result = {"findings": args.findings, "rounds": args.rounds, "equal": equal,
                  "json_report_mb": round(report.stat().st_size / 1e6, 1),
                  "history_db_mb": round(db.stat().st_size / 1e6, 1),
                  "median_s": {k: round(v, 3) for k, v in med.items()},
                  "history_over_json": round(med["history"] / med["json"], 2),
                  "peak_alloc_mb": {k: round(v / 1e6, 1) for k, v in peaks.items()}}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['findings']:,} findings; JSON report {result['json_report_mb']} MB, history database "
          f"{result['history_db_mb']} MB; equal findings: {equal}")
    for name in loads:
        print(f"load from {name:<8} median {med[name]:.3f} s of {args.rounds} (min {min(times[name]):.3f} s), "
              f"peak allocations {peaks[name] / 1e6:.1f} MB")
    print(f"history / JSON: {result['history_over_json']:.2f}")


if __name__ == "__main__":
    main()
