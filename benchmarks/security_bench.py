"""Measurements for scan-security (independent of the test suite).

    .venv/bin/python benchmarks/security_bench.py [--corpus ../shared/corpus] [--jobs N] [--json]

1. files per second of ``scan-security`` over the real corpus (in-process engine run);
2. time and peak memory to scan a 1 GiB-when-inflated zip bomb (about 1 MB on disk) and a gzip
   stream of 1 GiB of zeros whose trailer claims 1,234 bytes: each in a fresh Python process,
   reporting wall time, peak traced Python memory (tracemalloc) and the process's peak RSS
   (resource.getrusage), for the scanner alone and for the whole ``scan-security`` command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from hostile import gzip_lying_bytes, zip_bomb_bytes  # noqa: E402

from presetctl.engine.options import Options  # noqa: E402
from presetctl.engine.runner import run  # noqa: E402
from presetctl.engine.security.scope import scan_options  # noqa: E402

MIB = 1 << 20

# Runs in a fresh interpreter so peak RSS belongs to one measurement only.
_CHILD = r"""
import json, resource, sys, time, tracemalloc
from pathlib import PurePosixPath
mode, path = sys.argv[1], sys.argv[2]
def hwm_mib():
    # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's peak across exec on Linux)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = hwm_mib()
tracemalloc.start()
t0 = time.perf_counter()
if mode == "scanner":
    from presetctl.engine.formats.base import Document
    from presetctl.engine.options import Options
    from presetctl.engine.rules.base import Level, RuleContext
    from presetctl.engine.rules.registry import RULES
    t0 = time.perf_counter()
    data = open(path, "rb").read()
    doc = Document(sys.argv[3], data)
    ctx = RuleContext(PurePosixPath(path), Options(levels=frozenset({"security"})))
    codes = sorted({v.code or r.code for r in RULES if r.level is Level.SECURITY and r.check
                    for v in r.check(doc, ctx)})
else:
    from presetctl.engine.options import Options
    from presetctl.engine.runner import run
    from presetctl.engine.security.scope import scan_options
    t0 = time.perf_counter()
    result = run([path], scan_options(Options(jobs=1)), command="scan-security")
    codes = sorted({f.code for f in result.findings})
seconds = time.perf_counter() - t0
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"seconds": seconds, "traced_peak_mib": peak / 2**20, "rss_peak_mib": hwm_mib(),
                  "rss_before_mib": before, "codes": codes}))
"""


def corpus_rate(corpus: Path, jobs: int | None) -> dict[str, object]:
    options = scan_options(Options(jobs=jobs))
    run([str(corpus)], options, command="scan-security")  # warm-up: imports, page cache
    t0 = time.perf_counter()
    result = run([str(corpus)], options, command="scan-security")
    seconds = time.perf_counter() - t0
    scanned = sum(1 for o in result.files if o.status.value != "unknown")
    return {"files": len(result.files), "scanned": scanned, "seconds": round(seconds, 3),
            "files_per_second": round(len(result.files) / seconds, 1), "jobs": result.jobs,
            "findings": len(result.findings), "status": result.status_counts}


def child(mode: str, path: Path, fmt: str = "") -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path), fmt], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=600, check=True)
    out: dict[str, object] = json.loads(proc.stdout)
    return out


def bombs(folder: Path) -> dict[str, dict[str, object]]:
    zip_bomb = zip_bomb_bytes(1024)
    gz = gzip_lying_bytes(1024, claimed=1234)
    files = {"zip_bomb.vitalbank": zip_bomb, "zip_bomb.json": zip_bomb, "gzip_lying.xiz": gz, "gzip_lying.json": gz}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    out = {
        "zip bomb 1 GiB, scanner": child("scanner", folder / "zip_bomb.vitalbank", "vitalbank"),
        "zip bomb 1 GiB, scan-security .vitalbank": child("run", folder / "zip_bomb.vitalbank"),
        "zip bomb 1 GiB, scan-security disguised .json": child("run", folder / "zip_bomb.json"),
        "lying gzip 1 GiB, scanner": child("scanner", folder / "gzip_lying.xiz", "zyn-xiz"),
        "lying gzip 1 GiB, scan-security disguised .json": child("run", folder / "gzip_lying.json"),
    }
    for v in out.values():
        v["on_disk_bytes"] = len(zip_bomb)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report: dict[str, object] = {}
    if args.corpus.is_dir():
        report["corpus"] = corpus_rate(args.corpus, args.jobs)
        report["corpus_1_job"] = corpus_rate(args.corpus, 1)
    with tempfile.TemporaryDirectory() as tmp:
        report["bombs"] = bombs(Path(tmp))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for key in ("corpus", "corpus_1_job"):
        c = report.get(key)
        if isinstance(c, dict):
            print(f"{key}: {c['files']} files ({c['scanned']} in a known format) in {c['seconds']} s = "
                  f"{c['files_per_second']} files/s, jobs={c['jobs']}, {c['findings']} findings")
    for name, m in report["bombs"].items():  # type: ignore[union-attr]
        print(f"{name}: {m['seconds']:.3f} s, traced peak {m['traced_peak_mib']:.1f} MiB, "
              f"RSS peak {m['rss_peak_mib']:.1f} MiB (bare interpreter {m['rss_before_mib']:.1f} MiB), "
              f"codes {','.join(m['codes'])}")


if __name__ == "__main__":
    main()
