"""Compare ``presetctl validate`` with check-jsonschema on the same generated presets.

    python benchmarks/compare.py [--dir DIR] [--count 20000] [--params 400] [--seed 0]
                                 [--cjs-files 0] [--batch 1000] [--repeat 1] [--json-out FILE]
                                 [--default-only] [--baseline PRESETCTL] [--python-passes]

Generates the pack with ``benchmarks/generate.py`` (or reuses ``--dir`` when it already holds
``--count`` presets), then times, each as a fresh process as a user would run it:

* ``check-jsonschema --schemafile schemas/preset.schema.json FILES...`` on every file (sorted
  paths), in batches of ``--batch`` files per process (a command line has a length limit). Its
  cost per file is constant, so ``--cjs-files N`` (the first N files) gives its rate sooner.
* ``presetctl validate DIR -o json -q -v`` on the whole pack, with all cores and with
  ``--jobs 1``, twice: with every rule (the default), and doing the job check-jsonschema does
  (``--select F,P,S``: file, parse and schema codes; every schema error is reported). The JSON
  report must show every file validated and zero findings.

Reports files per second (wall clock of the whole command, start-up included) and files per
CPU second (user + system time of the command and its worker processes, which a busy shared
machine disturbs less), the ratios presetctl : check-jsonschema, and presetctl's stage timings
(``-v`` prints RunResult.timings). With ``--repeat N`` the fastest of N presetctl runs is kept.
Needs check-jsonschema in the same environment: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "preset.schema.json"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    local = BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found; install it with: pip install -e '.[bench]'")
    return found


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model or platform.processor(), "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()[0]}


def ensure_pack(folder: Path, count: int, params: int, seed: int) -> list[Path]:
    files = sorted(folder.rglob("*.json")) if folder.is_dir() else []
    if len(files) != count:
        if folder.exists() and files:
            sys.exit(f"{folder} holds {len(files)} presets, not {count}: choose another --dir or --count")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(folder), "--count", str(count),
                        "--params", str(params), "--seed", str(seed)], check=True)
        print(f"generated {count} presets in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        files = sorted(folder.rglob("*.json"))
    return files


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process, workers of children included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_check_jsonschema(files: list[Path], batch: int) -> tuple[float, float]:
    exe = tool("check-jsonschema")
    c0 = children_cpu()
    t0 = time.perf_counter()
    for i in range(0, len(files), batch):
        proc = subprocess.run([exe, "--schemafile", str(SCHEMA), *map(str, files[i : i + batch])],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"check-jsonschema failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return time.perf_counter() - t0, children_cpu() - c0


_TIMING = re.compile(r"(\w+)=([\d.]+)s")


# The same job as check-jsonschema: read, parse, validate against the schema, every error reported
# (file, parse and schema codes). The default run adds every other rule (metadata, naming,
# parameters, performance, pack and the security scan).
SCHEMA_ONLY = ["--select", "F,P,S"]


def time_presetctl(folder: Path, count: int, jobs: int | None, extra: list[str] | None = None,
                   exe: str | None = None, pure: bool = False) -> tuple[float, float, dict[str, float]]:
    # --no-cache: every run checks every file (a warm cache would answer from disk); --no-history:
    # the history database's writes are no part of the comparison.
    cmd = [exe or tool("presetctl"), "validate", str(folder), "-o", "json", "-q", "-v", "--no-cache", "--no-history",
           *(extra or [])]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    c0 = children_cpu()
    t0 = time.perf_counter()
    env = {**os.environ, "PRESETCTL_PURE_PYTHON": "1" if pure else ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    cpu = children_cpu() - c0
    if proc.returncode != 0:
        sys.exit(f"presetctl exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)["summary"]
    if summary["by_status"]["validated"] != count or summary["findings"] != 0:
        sys.exit(f"presetctl did not validate all {count} files cleanly: {summary}")
    stages = {k: float(v) for k, v in _TIMING.findall(proc.stderr)}
    return wall, cpu, stages


def runs_to_time(args: argparse.Namespace) -> list[tuple[str, int | None, list[str] | None, str | None, bool]]:
    """(label, jobs, extra options, executable, pure Python) of each presetctl run, in order."""
    variants: tuple[tuple[str, int | None, list[str] | None], ...] = (
        ("all rules, all cores", None, None), ("all rules, --jobs 1", 1, None),
        ("schema job, all cores", None, SCHEMA_ONLY), ("schema job, --jobs 1", 1, SCHEMA_ONLY))
    if args.default_only:
        variants = variants[:2]
    runnable: list[tuple[str, int | None, list[str] | None, str | None, bool]] = []
    for i, (label, jobs, extra) in enumerate(variants):  # the baseline right after ours: the same machine load
        runnable.append((label, jobs, extra, None, False))
        if args.baseline and i < 2:
            runnable.append((f"baseline, {label}", jobs, extra, args.baseline, False))
        if args.python_passes and i < 2:
            runnable.append((f"Python passes, {label}", jobs, extra, None, True))
    return runnable


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/presetctl-bench"), help="pack folder (generated if absent)")
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--params", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cjs-files", type=int, default=0, help="files timed with check-jsonschema (default 0: all)")
    ap.add_argument("--batch", type=int, default=1000, help="files per check-jsonschema process")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each presetctl command; the best is kept")
    ap.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    ap.add_argument("--default-only", action="store_true", help="skip the schema-job runs (--select F,P,S)")
    ap.add_argument("--baseline", metavar="PRESETCTL",
                    help="another presetctl executable (e.g. an older checkout's) timed on the default rules in the "
                         "same run, for before/after ratios")
    ap.add_argument("--python-passes", action="store_true",
                    help="also time the default rules with PRESETCTL_PURE_PYTHON=1 (the compiled passes of "
                         "presetctl/_speedups.c off), right after each default run")
    args = ap.parse_args(argv)

    host = machine()
    folder = args.dir.resolve()
    files = ensure_pack(folder, args.count, args.params, args.seed)
    size = sum(f.stat().st_size for f in files) / len(files)
    subset = files if args.cjs_files <= 0 else files[: args.cjs_files]

    print(f"check-jsonschema on {len(subset)} files ...", file=sys.stderr)
    cjs_wall, cjs_cpu = time_check_jsonschema(subset, args.batch)
    cjs_rate, cjs_cpu_rate = len(subset) / cjs_wall, len(subset) / cjs_cpu

    # Every presetctl run starts from the same page cache: the files are read once, untimed (the
    # first run after check-jsonschema would otherwise pay for reading the whole pack from disk).
    for f in files:
        f.read_bytes()
    runs: dict[str, dict[str, Any]] = {}
    for label, jobs, extra, exe, pure in runs_to_time(args):
        print(f"presetctl validate ({label}) on {len(files)} files ...", file=sys.stderr)
        best: tuple[float, float, dict[str, float]] | None = None
        for _ in range(max(1, args.repeat)):
            run = time_presetctl(folder, len(files), jobs, extra, exe, pure)
            if best is None or run[0] < best[0]:
                best = run
        assert best is not None
        wall, cpu, stages = best
        runs[label] = {
            "files": len(files), "seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "files_per_second": round(len(files) / wall, 1), "ratio": round(len(files) / wall / cjs_rate, 1),
            "files_per_cpu_second": round(len(files) / cpu, 1),
            "cpu_ratio": round(len(files) / cpu / cjs_cpu_rate, 1), "stages": stages,
        }

    result = {
        "machine": host,
        "pack": {"dir": str(folder), "files": len(files), "params": args.params, "seed": args.seed,
                 "mean_bytes": round(size)},
        "check_jsonschema": {"files": len(subset), "batch": args.batch, "seconds": round(cjs_wall, 3),
                             "cpu_seconds": round(cjs_cpu, 3), "files_per_second": round(cjs_rate, 1),
                             "files_per_cpu_second": round(cjs_cpu_rate, 1)},
        "presetctl": runs,
    }
    m = result["machine"]
    m["load_average_at_end"] = os.getloadavg()[0]  # other work on the machine skews wall clock (see CPU columns)
    print(f"machine: {m['cpus']} CPUs, {m['cpu_model']}, Python {m['python']}, "
          f"load average {m['load_average_at_start']:.1f} at start, {m['load_average_at_end']:.1f} at end")
    print(f"pack: {len(files)} presets, {args.params} parameters, {size / 1024:.1f} KiB mean")
    head = f"{'command':44} {'files':>6} {'wall s':>8} {'files/s':>8} {'ratio':>6} {'CPU s':>8} {'files/CPU-s':>11} {'ratio':>6}"
    print(head)
    print(f"{'check-jsonschema':44} {len(subset):6} {cjs_wall:8.2f} {cjs_rate:8.1f} {1.0:6.1f} {cjs_cpu:8.2f} "
          f"{cjs_cpu_rate:11.1f} {1.0:6.1f}")
    for label, r in runs.items():
        print(f"{'presetctl (' + label + ')':44} {r['files']:6} {r['seconds']:8.2f} {r['files_per_second']:8.1f} "
              f"{r['ratio']:6.1f} {r['cpu_seconds']:8.2f} {r['files_per_cpu_second']:11.1f} {r['cpu_ratio']:6.1f}")
        print("    stages: " + " ".join(f"{k}={v:.2f}s" for k, v in r["stages"].items()))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
