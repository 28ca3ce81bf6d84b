"""What logging (and run history) costs: one record on the caller's thread, and a whole validate run.

    .venv/bin/python benchmarks/log_bench.py [--records 200000] [--count 2000] [--params 400]
                                             [--rounds 7] [--jobs N] [--json]

1. One log record on the calling thread, nanoseconds (median of ``--rounds``):
   - ``disabled``: a debug record below the level (what every ``file.checked`` costs by default);
   - ``queued``: ``emit()`` through the QueueHandler while the listener thread writes the file
     (the listener shares the GIL, so this is what the engine's thread really pays);
   - ``enqueue only``: the same with the listener stopped (the queue put alone);
   - ``direct``: the shared rotating file handler on the calling thread (format + write).
2. A whole in-process ``validate`` of ``--count`` generated presets, rounds interleaved so the
   machine's noise hits every variant alike: ``bare`` (the engine alone), ``logging`` (a log session
   at the default level, the log sink fed the run, run.start/run.end), ``logging+history`` (that
   plus the history database and its recorder), and ``debug logging`` (a record per file). For
   each: wall and CPU seconds, and ``own``: the CPU seconds spent in the logging/history code itself
   (set-up, feeding the sinks, draining the queue, tear-down), as a share of the bare run's CPU. On a
   busy machine the difference of two whole-run medians is mostly noise; ``own`` is not.
   Ratios are of medians measured in the same run.
3. A real ``presetctl validate`` process on one file, with and without ``--no-history``: the fixed
   cost per command of opening the history database (logging is on in both).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import write_pack  # noqa: E402

from presetctl.api import Options, validate  # noqa: E402
from presetctl.engine.events import replay  # noqa: E402
from presetctl.obs.handlers import SharedRotatingFileHandler  # noqa: E402
from presetctl.obs.records import LOGGER, JsonLineFormatter, RunContext, emit  # noqa: E402
from presetctl.obs.session import LogSession, LogSettings  # noqa: E402
from presetctl.obs.sink import LogSink  # noqa: E402
from presetctl.state.history import HistoryStore  # noqa: E402
from presetctl.state.recorder import HistoryRecorder, RunHeader  # noqa: E402


def _per_record(fn: Callable[[], None], n: int) -> tuple[float, float]:
    """Nanoseconds per call: CPU time of the calling thread (steady on a busy machine), and wall time
    (which also counts waiting for the GIL while the listener thread writes)."""
    c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.thread_time_ns() - c0) / n, (time.perf_counter_ns() - w0) / n


def record_costs(folder: Path, n: int, rounds: int) -> dict[str, dict[str, float]]:
    logger = logging.getLogger(LOGGER)

    def one() -> None:
        emit(logger, logging.INFO, "file.checked", "validated presetctl: 0 findings", file="Bass/Deep Sub.json",
             dur=0.000412)

    def debug() -> None:
        emit(logger, logging.DEBUG, "file.checked", "validated presetctl: 0 findings", file="Bass/Deep Sub.json")

    out: dict[str, list[tuple[float, float]]] = {"disabled": [], "queued": [], "enqueue only": [], "direct": []}
    for r in range(rounds):
        session = LogSession(LogSettings(folder / f"q{r}", "run", "validate", console_level=logging.CRITICAL,
                                         max_bytes=1 << 40))
        (folder / f"q{r}").mkdir()
        session.start()
        out["disabled"].append(_per_record(debug, n))
        out["queued"].append(_per_record(one, n))
        session.stop()  # drains: every record of the round is written before the next measurement

        session = LogSession(LogSettings(folder / f"e{r}", "run", "validate", console_level=logging.CRITICAL,
                                         max_bytes=1 << 40))
        (folder / f"e{r}").mkdir()
        session.start()
        assert session._listener is not None
        session._listener.stop()  # nobody drains: the put alone
        session._listener = None
        out["enqueue only"].append(_per_record(one, n))
        session.stop()

        handler = SharedRotatingFileHandler(folder / f"d{r}.log", 1 << 40, 1)
        handler.setFormatter(JsonLineFormatter())
        handler.addFilter(RunContext("run", "validate"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        out["direct"].append(_per_record(one, n))
        logger.removeHandler(handler)
        handler.close()
    return {k: {"thread_cpu_ns": statistics.median(c for c, _ in v), "wall_ns": statistics.median(w for _, w in v)}
            for k, v in out.items()}


def run_costs(pack: Path, state: Path, rounds: int, jobs: int | None) -> dict[str, dict[str, list[float]]]:
    """Per variant: wall and CPU seconds of the whole run, and the CPU seconds spent in logging/history code
    itself (set-up, sink, draining the queue, tear-down): the cost without the noise of the engine's time."""
    options = Options(jobs=jobs)
    logger = logging.getLogger(LOGGER)

    def bare() -> float:
        validate([str(pack)], options)
        return 0.0

    def logged(level: int, with_history: bool, tag: str) -> Callable[[], float]:
        def go() -> float:
            t0 = time.process_time()  # CPU of every thread: the listener's writing counts, the load does not
            session = LogSession(LogSettings(state / "logs", "run", "validate", file_level=level,
                                             console_level=logging.CRITICAL)).start()
            emit(logger, logging.INFO, "run.start", f"validate {pack}")
            store = recorder = None
            if with_history:
                store = HistoryStore.open(state / "history.sqlite3")
                recorder = HistoryRecorder(store, RunHeader(f"{tag}-{time.time_ns()}", "validate", "{}",
                                                            (str(pack),), os.getcwd(), "bench"))
                recorder.begin()
            own = time.process_time() - t0
            result = validate([str(pack)], options)
            t1 = time.process_time()
            replay(result, LogSink(logger))
            if recorder is not None:
                replay(result, recorder)
            if recorder is not None and store is not None:
                recorder.finish(0)
                store.close()
            emit(logger, logging.INFO, "run.end", "exit 0")
            session.stop()  # drains the queue: the listener's work is inside this measurement
            return own + time.process_time() - t1

        return go

    (state / "logs").mkdir(parents=True, exist_ok=True)
    variants: dict[str, Callable[[], float]] = {
        "bare": bare,
        "logging": logged(logging.INFO, False, "l"),
        "logging+history": logged(logging.INFO, True, "h"),
        "debug logging": logged(logging.DEBUG, False, "d"),
    }
    out: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": [], "own": []} for k in variants}
    bare()  # warm the page cache and the imports
    for r in range(rounds):
        order = list(variants)
        order = order[r % len(order):] + order[: r % len(order)]  # rotate: no variant always runs first
        for name in order:
            w0, c0 = time.perf_counter(), time.process_time() + _children_cpu()
            own = variants[name]()
            out[name]["wall"].append(time.perf_counter() - w0)
            out[name]["cpu"].append(time.process_time() + _children_cpu() - c0)  # workers included
            out[name]["own"].append(own)
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_costs(pack: Path, state: Path, rounds: int) -> dict[str, dict[str, float]]:
    """A real ``presetctl validate`` process on one file: the fixed cost of history per command (opening
    the database, two short transactions, the checkpoint at close), against ``--no-history`` (logging is
    on in both). CPU seconds of the child (user + system) are steady on a busy machine; wall is not."""
    one = next(pack.rglob("*.json"))
    env = {**os.environ, "PRESETCTL_STATE_DIR": str(state / "cli")}
    variants = {"--no-history": ["--no-history"], "history+logging": []}
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(rounds * 3):
        for name in (list(variants) if r % 2 else list(variants)[::-1]):
            c0, w0 = _children_cpu(), time.perf_counter()
            subprocess.run([sys.executable, "-m", "presetctl", *variants[name], "validate", str(one), "-q"], env=env,
                           check=True, stdout=subprocess.DEVNULL)
            wall[name].append(time.perf_counter() - w0)
            cpu[name].append(_children_cpu() - c0)
    return {k: {"wall_s": statistics.median(wall[k]), "cpu_s": statistics.median(cpu[k])} for k in variants}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--records", type=int, default=200_000, help="records per per-record measurement")
    ap.add_argument("--count", type=int, default=2000, help="presets in the validate pack")
    ap.add_argument("--params", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for validate (default 1: in-process, so "
                    "CPU time covers everything)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="presetctl-logbench-") as tmp:
        root = Path(tmp)
        (root / "records").mkdir()
        per_record = record_costs(root / "records", args.records, args.rounds)
        pack = root / "pack"
        write_pack(pack, args.count, args.params)
        runs = run_costs(pack, root / "state", args.rounds, args.jobs)
        commands = command_costs(pack, root / "state", args.rounds)
    med = {k: {m: statistics.median(v) for m, v in parts.items()} for k, parts in runs.items()}
    bare = med["bare"]
    summary = {
        k: {"wall_s": v["wall"], "cpu_s": v["cpu"], "own_s": v["own"],
            "own_percent": v["own"] / bare["cpu"] * 100,
            "cpu_overhead_percent": (v["cpu"] / bare["cpu"] - 1) * 100,
            "wall_overhead_percent": (v["wall"] / bare["wall"] - 1) * 100}
        for k, v in med.items()
    }
    report = {"load_avg": os.getloadavg(), "per_record_ns": per_record, "runs": summary, "files": args.count,
              "rounds": args.rounds, "jobs": args.jobs, "one_file_command_s": commands}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"load average {report['load_avg'][0]:.2f}; {args.rounds} rounds")
    print("one record on the calling thread (median; CPU of that thread, and wall):")
    for k, ns in per_record.items():
        print(f"  {k:<14} {ns['thread_cpu_ns'] / 1000:7.2f} us cpu {ns['wall_ns'] / 1000:7.2f} us wall")
    print(f"validate of {args.count} files, --jobs {args.jobs} (medians of {args.rounds}):")
    print(f"  {'variant':<16} {'wall s':>8} {'cpu s':>8} {'own ms':>8} {'own %':>7} {'cpu +%':>7} {'wall +%':>8}")
    for k, v in summary.items():
        print(f"  {k:<16} {v['wall_s']:8.3f} {v['cpu_s']:8.3f} {v['own_s'] * 1000:8.2f} {v['own_percent']:7.2f} "
              f"{v['cpu_overhead_percent']:+7.2f} {v['wall_overhead_percent']:+8.2f}")
    print("a presetctl validate process on one file (medians):")
    for k, v in commands.items():
        print(f"  {k:<16} {v['cpu_s'] * 1000:8.1f} ms cpu {v['wall_s'] * 1000:8.1f} ms wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
