"""Time and peak memory of ``presetctl stats`` on a generated library and on the real corpus.

    python benchmarks/stats_bench.py [--count 20000] [--params 400] [--out DIR] [--corpus DIR] [--jobs N]

1. End to end: ``python -m presetctl stats --json`` in a child process, sampling the resident
   memory of the whole process tree (the parent and its workers) every 50 ms.
2. In process, one stage at a time: gathering facts (load + rules + parameter vectors), then each
   section's computation, then the near-duplicate search alone on 10,000 presets of one synth.

The library comes from ``benchmarks/generate.py`` (written once into --out, reused after).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(REPO))

from presetctl.engine.discover import discover  # noqa: E402
from presetctl.engine.options import Options  # noqa: E402
from presetctl.engine.stats import duplicates, run  # noqa: E402
from presetctl.engine.stats.common import presets_of  # noqa: E402
from presetctl.engine.stats.model import SECTIONS, PresetFacts, StatsContext  # noqa: E402


def ensure_library(out: Path, count: int, params: int) -> Path:
    marker = out.with_name(f"{out.name}.generated-{count}-{params}")  # beside the library, not counted in it
    if not marker.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(out), "--count", str(count),
                        "--params", str(params)], check=True)
        marker.write_text("ok\n")
    return out


def end_to_end(target: Path, jobs: int | None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of the process tree of one `stats --json` run.

    CPU time (user + system of the child and its workers) moves less than wall time when other
    jobs share the machine.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [sys.executable, "-m", "presetctl", "stats", str(target), "--json", "--quiet"]
    if jobs:
        args += ["--jobs", str(jobs)]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        proc = psutil.Popen(args, stdout=sink, stderr=subprocess.PIPE, cwd=REPO)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [proc, *proc.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass  # a worker exited between listing and reading: the next sample counts the rest
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"stats failed ({proc.returncode}): {proc.stderr.read().decode() if proc.stderr else ''}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, peak / 2**20


def stages(target: Path, jobs: int | None) -> None:
    options = run.stats_options(Options(jobs=jobs))
    t0 = time.perf_counter()
    c0 = time.process_time()
    cands, _ = discover([str(target)], options)
    facts = run.gather(cands, options, run.wanted(SECTIONS))
    t1 = time.perf_counter()
    presets = presets_of(facts)
    print(f"  gather facts ({len(cands)} files, {len(presets)} presets): {t1 - t0:.2f} s wall "
          f"({(t1 - t0) / max(len(presets), 1) * 1e6:.0f} us/preset), parent CPU {time.process_time() - c0:.2f} s")
    ctx = StatsContext(Options())
    for name, compute in run.COMPUTE.items():
        t = time.perf_counter()
        c = time.process_time()
        compute(facts, ctx)
        print(f"  section {name}: {time.perf_counter() - t:.2f} s wall, {time.process_time() - c:.2f} s CPU")
    by_format: dict[str, list[PresetFacts]] = {}
    for p in presets:
        if p.schema is not None:
            by_format.setdefault(p.format, []).append(p)
    one_synth = max(by_format.values(), key=len, default=[])[:10_000]  # the biggest synth in the library
    if len(one_synth) >= 2:
        t = time.perf_counter()
        x = duplicates.feature_matrix(one_synth)
        t_matrix = time.perf_counter() - t
        t = time.perf_counter()
        pairs = duplicates.close_pairs(x, 0.02 * x.shape[1] ** 0.5)
        print(f"  near-duplicate search, {len(one_synth)} presets x {x.shape[1]} parameters: matrix {t_matrix:.2f} s, "
              f"pairs {time.perf_counter() - t:.2f} s ({len(pairs[0])} pairs)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--params", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "presetctl-stats-bench")
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("PRESETCTL_CORPUS", REPO.parent / "shared" / "corpus")))
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    args = ap.parse_args(argv)
    print(f"cpus: {len(os.sched_getaffinity(0))}, load average: {os.getloadavg()[0]:.2f}")
    targets = []
    if args.corpus.is_dir():
        targets.append(("corpus", args.corpus))
    targets.append((f"generated {args.count} x {args.params}", ensure_library(args.out, args.count, args.params)))
    for label, target in targets:
        seconds, cpu, peak = end_to_end(target, args.jobs)
        print(f"{label}: `presetctl stats --json` {seconds:.1f} s wall, {cpu:.1f} s CPU, "
              f"peak RSS {peak:.0f} MiB (all processes); load average now {os.getloadavg()[0]:.2f}")
        stages(target, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
