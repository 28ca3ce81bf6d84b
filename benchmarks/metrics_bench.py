"""What the run's metrics cost: a whole in-process validate with and without a registry.

    .venv/bin/python benchmarks/metrics_bench.py [--count 1000] [--params 400] [--rounds 7] [--json]

With a registry the runner times every rule on every file (two ``perf_counter`` calls and a dict
update per rule), observes each file's time in a histogram, counts, and starts the resource
sampler thread. Rounds alternate the two variants so the machine's load hits both alike; the
numbers are medians of CPU seconds of this process (``--jobs 1``: everything runs here), and the
difference as a share of the bare run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from presetctl.api import Options, validate  # noqa: E402
from presetctl.bench.generate import write_pack  # noqa: E402
from presetctl.engine.metrics import Metrics, RuleClock  # noqa: E402


def clock_cost(n: int = 200_000) -> float:
    """Seconds per rule call the clock adds: two perf_counter calls and RuleClock.add."""
    clock = RuleClock()
    t0 = time.process_time()
    for _ in range(n):
        s = time.perf_counter()
        clock.add("X050", time.perf_counter() - s)
    return (time.process_time() - t0) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--params", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cpu: dict[str, list[float]] = {"bare": [], "metrics": []}
    with tempfile.TemporaryDirectory(prefix="presetctl-metricsbench-") as tmp:
        pack = Path(tmp) / "pack"
        write_pack(pack, args.count, args.params)
        options = Options(jobs=1)
        validate([str(pack)], options)  # warm the page cache and the imports
        for r in range(args.rounds):
            for name in (("bare", "metrics") if r % 2 else ("metrics", "bare")):
                t0 = time.process_time()
                validate([str(pack)], options, metrics=Metrics() if name == "metrics" else None)
                cpu[name].append(time.process_time() - t0)
    bare, with_metrics = statistics.median(cpu["bare"]), statistics.median(cpu["metrics"])
    per_call = clock_cost()
    report = {"load_avg": os.getloadavg(), "files": args.count, "rounds": args.rounds,
              "bare_cpu_s": bare, "metrics_cpu_s": with_metrics, "overhead_percent": (with_metrics / bare - 1) * 100,
              "clock_per_rule_call_ns": per_call * 1e9}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"load average {report['load_avg'][0]:.2f}; validate of {args.count} files, --jobs 1, medians of "
          f"{args.rounds} rounds (CPU seconds)")
    print(f"  without a registry {bare:8.3f} s")
    print(f"  with a registry    {with_metrics:8.3f} s  ({report['overhead_percent']:+.2f} %)")
    print(f"  the rule clock alone: {report['clock_per_rule_call_ns']:.0f} ns per rule call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
