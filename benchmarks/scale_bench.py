"""Issue 14's scale targets, each measured as whole processes in one run on the same files.

    python benchmarks/scale_bench.py cache  --pack DIR [--count 20000 --params 400]
    python benchmarks/scale_bench.py memory --small DIR --large DIR [--small-count 10000 --large-count 100000 --params 20]
    python benchmarks/scale_bench.py stats  --pack DIR [--count 20000 --params 400]
    python benchmarks/scale_bench.py fix    --pack DIR [--count 20000 --params 400] [--broken DIR --broken-count 5000]

``cache``: a warm ``validate PACK -q`` (every file answered by the check cache) against the 1 s target,
then the same after 1 % of the files changed, against the cold run: the changed run's extra time over
the warm one should be about 1 % of the cold run's. ``memory``: the peak resident memory of
``validate`` (the main process and its workers together, sampled every 20 ms, and the kernel's
high-water mark of the main process) on 10,000 and on 100,000 presets; target: at most 1.5x.
``stats``: ``stats --json`` against ``validate --no-cache`` on the same pack, time and peak memory;
target: within 1.5x and under 300 MB. ``fix``: ``fix --dry-run`` (planning every file, writing none)
against ``validate --no-cache`` on the same pack, once on the clean pack and once on fix_bench.py's
pack where every file has fixable problems (with the marketplace profile its fixes belong to);
target: at most 2x.

Every command runs as ``python -m presetctl`` with its state, log and cache folders under a scratch
``PRESETCTL_STATE_DIR``; packs come from benchmarks/generate.py and are written when absent. The machine
is shared: compare ratios from one run, and read the load average printed before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
MIB = 2**20


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float  # user + system of the command and every worker it waited for
    tree_peak: int  # largest sum of resident memory over the process tree (sampled)
    # The same sum of proportional set sizes: a page the forked workers share with the parent counts
    # once, split between them (the RSS sum counts it in each process: the machine holds it once).
    tree_pss: int
    main_peak: int  # the kernel's high-water mark of the largest single process (ru_maxrss)
    code: int


def ensure_pack(out: Path, count: int, params: int) -> Path:
    marker = out.with_name(f"{out.name}.generated-{count}-{params}")
    if not marker.exists():
        if out.exists():
            shutil.rmtree(out)
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(out), "--count", str(count),
                        "--params", str(params), "--seed", "0"], check=True, stdout=subprocess.DEVNULL)
        marker.write_text("ok\n")
    return out


def measure(args: list[str], env: dict[str, str], sample: bool = False) -> Measured:
    """One whole ``python -m presetctl ARGS`` process; stdout is thrown away."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = psutil.Popen([sys.executable, "-m", "presetctl", *args], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, env=env, cwd=REPO)
    peak = pss = 0
    while proc.poll() is None:
        if sample:
            try:
                tree = [proc, *proc.children(recursive=True)]
                infos = [p.memory_full_info() for p in tree if p.is_running()]
                peak = max(peak, sum(i.rss for i in infos))
                pss = max(pss, sum(i.pss for i in infos))
            except psutil.Error:
                pass  # a worker ended between listing and reading: the next sample counts the rest
        time.sleep(0.02 if sample else 0.002)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"presetctl {' '.join(args)} failed ({proc.returncode}):\n{err}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, cpu, peak, pss, after.ru_maxrss * 1024, proc.returncode)


def scratch_env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PRESETCTL_STATE_DIR"] = str(state)
    env.pop("PRESETCTL_NO_CACHE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's installation has its bytecode compiled
    return env


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def median_of(runs: int, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    got = [measure(args, env) for _ in range(runs)]
    return statistics.median(m.wall for m in got), statistics.median(m.cpu for m in got)


def bench_cache(pack: Path, state: Path, runs: int) -> None:
    env = scratch_env(state)
    shutil.rmtree(state, ignore_errors=True)
    base = ["validate", str(pack), "-q", "-o", "concise"]
    floor_wall, floor_cpu = median_of(runs, ["--version"], env)
    cold = measure(base, env)
    warm_wall, warm_cpu = median_of(runs, base, env)
    files = sorted(p for p in pack.rglob("*") if p.is_file())
    changed = files[:: 100]  # 1 %
    originals = {p: p.read_bytes() for p in changed}
    try:
        for p in changed:  # a trailing newline: still valid, still clean, other bytes and size
            p.write_bytes(originals[p] + b"\n")
        touched = measure(base, env)
    finally:
        for p, data in originals.items():
            p.write_bytes(data)
    back = measure(base, env)  # the originals again: entries re-checked and re-stored
    print(f"files: {len(files)}; changed: {len(changed)}")
    print(f"`presetctl --version` (start-up floor): {floor_wall:.2f} s wall, {floor_cpu:.2f} s CPU (median of {runs})")
    print(f"cold `validate -q` (empty cache): {cold.wall:.2f} s wall, {cold.cpu:.2f} s CPU")
    verdict = "met" if warm_wall < 1.0 else "NOT met"
    print(f"warm `validate -q` (unchanged): {warm_wall:.2f} s wall, {warm_cpu:.2f} s CPU (median of {runs}); "
          f"target < 1 s wall: {verdict}")
    extra = touched.wall - warm_wall
    print(f"1 % changed: {touched.wall:.2f} s wall, {touched.cpu:.2f} s CPU; over warm {extra:.2f} s wall, "
          f"{touched.cpu - warm_cpu:.2f} s CPU = {extra / max(cold.wall, 1e-9):.1%} of the cold run's wall "
          f"({(touched.cpu - warm_cpu) / max(cold.cpu, 1e-9):.1%} of its CPU) for {len(changed) / len(files):.1%} "
          f"of the files")
    print(f"changed back: {back.wall:.2f} s wall")


def bench_memory(small: Path, large: Path, state: Path) -> None:
    env = scratch_env(state)
    rows = []
    for pack in (small, large):
        shutil.rmtree(state, ignore_errors=True)
        m = measure(["validate", str(pack), "-q", "-o", "concise", "--no-cache"], env, sample=True)
        rows.append(m)
        count = sum(1 for p in pack.rglob("*") if p.is_file())
        print(f"{pack} ({count} files): {m.wall:.1f} s wall, {m.cpu:.1f} s CPU; peak of the process tree "
              f"{m.tree_peak / MIB:.0f} MiB RSS, {m.tree_pss / MIB:.0f} MiB PSS (sampled); largest single process "
              f"{m.main_peak / MIB:.0f} MiB (kernel high-water mark)")
    tree = rows[1].tree_peak / max(rows[0].tree_peak, 1)
    pss = rows[1].tree_pss / max(rows[0].tree_pss, 1)
    single = rows[1].main_peak / max(rows[0].main_peak, 1)
    print(f"ratio large/small: tree RSS {tree:.2f}x, tree PSS {pss:.2f}x, single process {single:.2f}x; "
          f"target <= 1.5x: {'met' if max(tree, single) <= 1.5 else 'NOT met'}")


def bench_stats(pack: Path, state: Path) -> None:
    env = scratch_env(state)
    shutil.rmtree(state, ignore_errors=True)
    v = measure(["validate", str(pack), "-q", "-o", "concise", "--no-cache"], env, sample=True)
    s = measure(["stats", str(pack), "--json", "-q"], env, sample=True)
    for label, m in (("validate --no-cache", v), ("stats --json", s)):
        print(f"{label}: {m.wall:.1f} s wall, {m.cpu:.1f} s CPU; peak of the process tree {m.tree_peak / 1e6:.0f} MB "
              f"RSS, {m.tree_pss / 1e6:.0f} MB PSS; largest single process {m.main_peak / 1e6:.0f} MB")
    ratio = s.wall / v.wall
    print(f"stats / validate: {ratio:.2f}x wall, {s.cpu / v.cpu:.2f}x CPU; target <= 1.5x and < 300 MB: "
          f"time {'met' if ratio <= 1.5 else 'NOT met'}; memory: tree RSS {'met' if s.tree_peak < 300e6 else 'NOT met'}, "
          f"tree PSS {'met' if s.tree_pss < 300e6 else 'NOT met'}, largest process "
          f"{'met' if s.main_peak < 300e6 else 'NOT met'}")


def ensure_broken_pack(out: Path, count: int, params: int) -> Path:
    """benchmarks/fix_bench.py's pack (every file with 2-4 fixable problems) and a presetctl.toml that
    switches on the rules those problems are for (the marketplace profile, an author to fill in)."""
    marker = out.with_name(f"{out.name}.broken-{count}-{params}")
    if not marker.exists():
        if out.exists():
            shutil.rmtree(out)
        sys.path.insert(0, str(REPO))
        from benchmarks.fix_bench import write_broken_pack

        write_broken_pack(out / "pack", count, params)
        (out / "presetctl.toml").write_text('profile = "marketplace"\n\n[pack]\nauthor = "Bench Author"\n')
        marker.write_text("ok\n")
    return out


def bench_fix(pack: Path, broken: Path, state: Path) -> None:
    env = scratch_env(state)
    shutil.rmtree(state, ignore_errors=True)
    for label, target, config in (("clean pack", pack, []),
                                  ("pack with fixable problems", broken / "pack", ["--config", str(broken / "presetctl.toml")])):
        count = sum(1 for p in target.rglob("*") if p.is_file())
        v = measure(["validate", str(target), "-q", "-o", "concise", "--no-cache", *config], env)
        f = measure(["fix", str(target), "--dry-run", "-q", *config], env)
        ratio = f.wall / v.wall
        print(f"{label} ({count} files): validate --no-cache {v.wall:.1f} s wall, {v.cpu:.1f} s CPU; "
              f"fix --dry-run {f.wall:.1f} s wall, {f.cpu:.1f} s CPU; fix / validate {ratio:.2f}x wall, "
              f"{f.cpu / v.cpu:.2f}x CPU; target <= 2x: {'met' if max(ratio, f.cpu / v.cpu) <= 2 else 'NOT met'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("target", choices=("cache", "memory", "stats", "fix"))
    ap.add_argument("--pack", type=Path, default=Path(tempfile.gettempdir()) / "presetctl-scale" / "p400")
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--params", type=int, default=400)
    ap.add_argument("--small", type=Path, default=Path(tempfile.gettempdir()) / "presetctl-scale" / "s10k")
    ap.add_argument("--large", type=Path, default=Path(tempfile.gettempdir()) / "presetctl-scale" / "s100k")
    ap.add_argument("--small-count", type=int, default=10_000)
    ap.add_argument("--large-count", type=int, default=100_000)
    ap.add_argument("--small-params", type=int, default=20)
    ap.add_argument("--broken", type=Path, default=Path(tempfile.gettempdir()) / "presetctl-scale" / "broken",
                    help="fix: where the pack with fixable problems is written (beside it: its config)")
    ap.add_argument("--broken-count", type=int, default=5_000)
    ap.add_argument("--runs", type=int, default=5, help="runs of the warm cache measurement (median)")
    ap.add_argument("--state", type=Path, default=None, help="scratch state folder (default: a temporary one)")
    args = ap.parse_args(argv)
    state = args.state or Path(tempfile.mkdtemp(prefix="presetctl-scale-state-"))
    print(f"cpus: {len(os.sched_getaffinity(0))}, load average {load()}")
    try:
        if args.target == "memory":
            bench_memory(ensure_pack(args.small, args.small_count, args.small_params),
                         ensure_pack(args.large, args.large_count, args.small_params), state)
        else:
            pack = ensure_pack(args.pack, args.count, args.params)
            {"cache": lambda: bench_cache(pack, state, args.runs), "stats": lambda: bench_stats(pack, state),
             "fix": lambda: bench_fix(pack, ensure_broken_pack(args.broken, args.broken_count, args.params),
                                      state)}[args.target]()
    finally:
        if args.state is None:
            shutil.rmtree(state, ignore_errors=True)
    print(f"load average at the end {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
