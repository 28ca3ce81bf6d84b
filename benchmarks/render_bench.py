"""Measurements for the audio level (independent of the test suite).

    .venv/bin/python benchmarks/render_bench.py [--corpus ../shared/corpus] [--jobs N] [--repeat 5] [--json]

1. DX7 rendering: every distinct voice of the corpus's DX7 files (4,231 voices, 3,043 distinct
   sounds), measured cold (``batch.render_all``: no cache, 1 process, then N processes) and
   warm (``batch.measure`` from a filled SQLite cache). Voices per second, per core, and the
   time 100,000 voices would take at those rates. Then ``validate --select W1`` (the rendered
   rules) on the DX7 folder, cold (empty cache) and warm, as a user runs it.
2. The embedded-audio checks (W001-W005) on the default ``validate`` of the whole corpus: the
   same files validated with the default rules and with ``W`` ignored (no blob decoded), runs
   alternating, ``--repeat`` times each, in one process; wall and CPU time (this process and
   its workers) medians and their ratio. Also the checks alone, timed in-process over the
   loaded documents, as a share of the default run's CPU time.
Machines here are shared: compare the ratios measured in one run, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from presetctl.engine.audio import batch, embedded  # noqa: E402
from presetctl.engine.audio.cache import SqliteCache  # noqa: E402
from presetctl.engine.audio.render import Audition  # noqa: E402
from presetctl.engine.formats import dx7_syx  # noqa: E402
from presetctl.engine.formats.base import LoadContext  # noqa: E402
from presetctl.engine.formats.registry import detect  # noqa: E402
from presetctl.engine.options import Options  # noqa: E402
from presetctl.engine.runner import run  # noqa: E402
from presetctl.engine.workers import effective_jobs  # noqa: E402

ARCHIVE = 100_000


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (the worker processes)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def corpus_voices(corpus: Path) -> tuple[int, list[tuple[int, ...]]]:
    voices: list[tuple[int, ...]] = []
    for path in sorted((corpus / "dx7-syx").rglob("*")):
        if path.is_file() and path.suffix.lower() == ".syx":
            voices += [tuple(v.values) for d in dx7_syx.parse(path.read_bytes()).dumps for v in d.voices]
    return len(voices), list(dict.fromkeys(voices))


def timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - w0, cpu_seconds() - c0


def rendering(corpus: Path, jobs: int) -> dict[str, object]:
    total, distinct = corpus_voices(corpus)
    note = Audition()
    batch.render_all(distinct[:32], note)  # warm-up: imports, FFT plans
    one_wall, one_cpu = timed(lambda: batch.render_all(distinct, note, jobs=1))
    many_wall, many_cpu = timed(lambda: batch.render_all(distinct, note, jobs=jobs))
    with tempfile.TemporaryDirectory() as tmp:
        cache_path = Path(tmp) / "render-cache.sqlite3"
        with SqliteCache(cache_path) as cache:
            fill_wall, _ = timed(lambda: batch.measure(distinct, cache, note, jobs=jobs))
        with SqliteCache(cache_path) as cache:
            warm_wall, warm_cpu = timed(lambda: batch.measure(distinct, cache, note))
        size = cache_path.stat().st_size
        os.environ["PRESETCTL_CACHE_DIR"] = str(Path(tmp) / "cli")
        options = Options(select=("W1",), jobs=jobs)
        dx7 = [str(corpus / "dx7-syx")]
        cold_cli, _ = timed(lambda: run(dx7, options))
        warm_cli, _ = timed(lambda: run(dx7, options))
        del os.environ["PRESETCTL_CACHE_DIR"]
    n = len(distinct)
    per_core = n / one_cpu
    return {
        "voices": total, "distinct": n, "jobs": jobs,
        "cold_1_process": {"wall_s": round(one_wall, 2), "voices_per_s": round(n / one_wall, 1),
                           "voices_per_cpu_s": round(per_core, 1)},
        f"cold_{jobs}_processes": {"wall_s": round(many_wall, 2), "voices_per_s": round(n / many_wall, 1),
                                   "voices_per_cpu_s": round(n / many_cpu, 1)},
        "cold_with_cache_writes_wall_s": round(fill_wall, 2),
        "warm_from_cache": {"wall_s": round(warm_wall, 3), "voices_per_s": round(n / warm_wall, 1),
                            "bytes_per_voice": round(size / n)},
        "validate_select_W1": {"cold_wall_s": round(cold_cli, 2), "warm_wall_s": round(warm_cli, 2)},
        f"archive_{ARCHIVE}_voices": {
            "cold_1_core_min": round(ARCHIVE / per_core / 60, 1),
            f"cold_{jobs}_processes_min": round(ARCHIVE / (n / many_wall) / 60, 1),
            "warm_s": round(ARCHIVE / (n / warm_wall), 1),
        },
    }


def embedded_cost(corpus: Path, jobs: int, repeat: int) -> dict[str, object]:
    paths = [str(corpus)]
    with_checks = Options(jobs=jobs)
    without = Options(jobs=jobs, ignore=("W",))
    run(paths, with_checks)  # warm-up: page cache, imports
    walls: dict[str, list[float]] = {"default": [], "without_W": []}
    cpus: dict[str, list[float]] = {"default": [], "without_W": []}
    for _ in range(repeat):
        for name, opts in (("default", with_checks), ("without_W", without)):
            wall, cpu = timed(lambda o=opts: run(paths, o))  # type: ignore[misc]
            walls[name].append(wall)
            cpus[name].append(cpu)
    docs = []
    for path in sorted(corpus.rglob("*")):
        if path.is_file() and path.suffix.lower() in (".vital", ".vitalbank", ".fxp"):
            data = path.read_bytes()
            loader = detect(data[:4096], PurePosixPath(path.name))
            if loader is not None:
                docs.append(loader.load(data, LoadContext(PurePosixPath(path.name))))
    alone = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for doc in docs:
            list(embedded.violations(doc))
        alone.append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    return {
        "repeat": repeat, "jobs": jobs, "files_with_blobs": len(docs),
        "wall_s": {k: round(v, 3) for k, v in med.items()},
        "cpu_s": {k: round(v, 3) for k, v in cpu.items()},
        "wall_ratio": round(med["default"] / med["without_W"], 4),
        "cpu_ratio": round(cpu["default"] / cpu["without_W"], 4),
        "checks_alone_s": round(statistics.median(alone), 3),
        "checks_alone_share_of_default_cpu": round(statistics.median(alone) / cpu["default"], 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    jobs = effective_jobs(Options(jobs=args.jobs))
    out = {"load_average_start": os.getloadavg()[0], "rendering": rendering(args.corpus, jobs),
           "embedded_checks": embedded_cost(args.corpus, jobs, args.repeat), "load_average_end": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for section, values in out.items():
            print(f"{section}: {json.dumps(values, indent=2) if isinstance(values, dict) else values}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
