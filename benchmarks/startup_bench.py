"""Start-up: whole-process CPU of small commands, next to a bare one-command Typer app and check-jsonschema.

    .venv/bin/python benchmarks/startup_bench.py [--runs 11] [--helm FILE] [--json FILE]
        [--baseline OTHER/.venv/bin/presetctl] [--json-out PATH]

Issue 14's start-up targets: ``presetctl validate`` of one small preset within 40 ms of CPU of a
bare Typer app that does nothing (what any Typer CLI pays), and at least as fast as check-jsonschema
validating the same presetctl JSON preset with the same schema. Each command is a fresh process
with stdout on a pipe, as a script would run it; its CPU time is user + system of that process
(``os.wait4``), its wall time from start to exit. Every command runs once first (so that its
bytecode is compiled and the check cache holds the file), then the commands take turns, ``--runs``
rounds (A B C ... A B C ...), so that the machine's load hits all alike; medians are printed.
Runs keep history, log and check cache as a user's run does, in the platform's folders pointed
into a throwaway folder (``XDG_STATE_HOME``, ``XDG_CACHE_HOME``).

``--baseline`` also times another presetctl executable (an older checkout's) on the same commands
in the same rounds, for before/after figures from one run. ``--helm`` defaults to the first Helm
preset of the corpus (PRESETCTL_CORPUS, else ../shared/corpus), ``--json`` to a sample preset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "preset.schema.json"
BARE_APP = '''import typer
app = typer.Typer()
@app.command()
def main(version: bool = False) -> None:
    print("0")
if __name__ == "__main__":
    app()
'''


def tool(name: str) -> str:
    """An executable beside this Python (the virtual environment's bin folder), else on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found (pip install -e '.[bench]')")
    return found


def default_helm() -> Path:
    corpus = Path(os.environ.get("PRESETCTL_CORPUS", REPO.parent / "shared" / "corpus"))
    found = sorted(corpus.rglob("*.helm")) if corpus.is_dir() else []
    if not found:
        sys.exit(f"no Helm preset under {corpus}: give one with --helm")
    return found[0]


def once(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """CPU seconds (user + system) and wall seconds of one run of ``cmd``, and its exit code."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return usage.ru_utime + usage.ru_stime, wall, proc.returncode


def commands(presetctl: str, helm: Path, preset: Path, label: str = "") -> dict[str, list[str]]:
    base = [presetctl]
    tag = f" [{label}]" if label else ""
    return {
        f"presetctl --version{tag}": [presetctl, "--version"],
        f"presetctl validate one.helm{tag}": [*base, "validate", str(helm)],
        f"presetctl validate --no-cache one.helm{tag}": [*base, "validate", "--no-cache", str(helm)],
        f"presetctl validate one.json{tag}": [*base, "validate", str(preset)],
        f"presetctl validate --no-cache one.json{tag}": [*base, "validate", "--no-cache", str(preset)],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--runs", type=int, default=11, help="rounds of every command (default 11; at least 9)")
    ap.add_argument("--helm", type=Path, default=None, help="a small Helm preset (default: the corpus's first)")
    ap.add_argument("--json", type=Path, default=REPO / "sample_presets" / "evening-pad.json",
                    help="a presetctl JSON preset, valid against the schema")
    ap.add_argument("--baseline", default=None, help="another presetctl executable timed in the same rounds")
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args(argv)
    helm = args.helm or default_helm()
    with tempfile.TemporaryDirectory(prefix="presetctl-startup-") as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PRESETCTL_STATE_DIR",
                                                                "PRESETCTL_NO_HISTORY", "PRESETCTL_NO_CACHE")}
        env.update(XDG_STATE_HOME=str(folder / "state"), XDG_CACHE_HOME=str(folder / "cache"))
        bare = folder / "bare.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        one_helm, one_json = folder / "one.helm", folder / "one.json"
        one_helm.write_bytes(helm.read_bytes())
        one_json.write_bytes(args.json.read_bytes())
        cmds = {"bare Typer app": [sys.executable, str(bare)]}
        cmds.update(commands(tool("presetctl"), one_helm, one_json))
        if args.baseline:
            cmds.update(commands(args.baseline, one_helm, one_json, "baseline"))
        cmds["check-jsonschema one.json"] = [tool("check-jsonschema"), "--schemafile", str(SCHEMA), str(one_json)]
        for name, cmd in cmds.items():  # compile the bytecode, fill the check cache; a failure shows here
            code = once(cmd, env)[2]
            if code not in (0, 1):
                sys.exit(f"{name}: exit {code}")
        cpu_s: dict[str, list[float]] = {n: [] for n in cmds}
        wall_s: dict[str, list[float]] = {n: [] for n in cmds}
        load_start = os.getloadavg()[0]
        for _ in range(args.runs):
            for name, cmd in cmds.items():
                cpu, wall, _code = once(cmd, env)
                cpu_s[name].append(cpu)
                wall_s[name].append(wall)
        load_end = os.getloadavg()[0]
    med = {n: statistics.median(v) for n, v in cpu_s.items()}
    bare_cpu, cjs_cpu = med["bare Typer app"], med["check-jsonschema one.json"]
    print(f"whole-process timings, median of {args.runs} interleaved runs (load {load_start:.1f} -> {load_end:.1f})")
    print(f"{'command':48} {'CPU ms':>7} {'min':>6} {'max':>6} {'wall ms':>8} {'- bare':>7} {'/ cjs':>6}")
    rows = []
    for name in cmds:
        cpu = med[name]
        wall = statistics.median(wall_s[name])
        rows.append({"command": name, "cpu_ms": round(cpu * 1000, 1), "cpu_min_ms": round(min(cpu_s[name]) * 1000, 1),
                     "cpu_max_ms": round(max(cpu_s[name]) * 1000, 1), "wall_ms": round(wall * 1000, 1),
                     "over_bare_ms": round((cpu - bare_cpu) * 1000, 1), "vs_check_jsonschema": round(cpu / cjs_cpu, 3)})
        print(f"{name:48} {cpu * 1000:7.1f} {min(cpu_s[name]) * 1000:6.1f} {max(cpu_s[name]) * 1000:6.1f} "
              f"{wall * 1000:8.1f} {(cpu - bare_cpu) * 1000:+7.1f} {cpu / cjs_cpu:6.2f}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"runs": args.runs, "helm": str(helm), "json": str(args.json),
                                             "load": [load_start, load_end], "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
