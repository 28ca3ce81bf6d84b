"""Measure ``presetctl fix``: fixes per second on a generated pack, time per preset for the fix
stage alone (load, fix, re-validate; no disk writes), and the cost of durability (fsync on/off).

    python benchmarks/fix_bench.py [--count 10000] [--params 40] [--work DIR]

Presets come from benchmarks/generate.py (valid and clean) and are then given fixable problems:
every other category in upper case (M004), a repeated capitalized tag in every preset (M005),
no author in every third (M002, filled from the pack config), a byte order mark in every fifth
(F009). Everything runs in one process (jobs=1), so the numbers are per core, except the row that says
it uses two worker processes for planning.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.generate import presets  # noqa: E402
from presetctl.engine.fix.run import FixSettings, fix  # noqa: E402
from presetctl.engine.options import Options, PackConfig  # noqa: E402
from presetctl.engine.runner import run as validate  # noqa: E402

OPTIONS = Options(pack=PackConfig(author="Bench Author"), jobs=1, profiles=("marketplace",))  # M004, M005: marketplace


def write_broken_pack(out: Path, count: int, params: int) -> int:
    """Write the pack; returns the number of fixable problems planted."""
    planted = 0
    for i, (rel, data) in enumerate(presets(count, params, seed=1)):
        doc = orjson.loads(data)
        meta = doc["metadata"]
        if i % 2 == 0:
            meta["category"] = meta["category"].upper() if meta["category"].upper() != meta["category"] else "pads"
            planted += 1
        meta["tags"] = [meta["tags"][0].capitalize(), *meta["tags"]]
        planted += 1
        if i % 3 == 0:
            del meta["author"]
            planted += 1
        text = orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
        if i % 5 == 0:
            text = b"\xef\xbb\xbf" + text
            planted += 1
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text)
    return planted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--params", type=int, default=40, help="parameters per preset (default 40, ~6 KB files)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fix-bench-", dir=args.work))
    try:
        src = work / "pack"
        planted = write_broken_pack(src, args.count, args.params)
        size = sum(p.stat().st_size for p in src.rglob("*.json"))
        print(f"pack: {args.count} presets, {size / args.count / 1024:.1f} KB each, {planted} fixable problems")

        t = time.perf_counter()
        checked = validate([str(src)], OPTIONS, command="validate", cwd=str(work))
        v_total = time.perf_counter() - t
        print(f"validate (jobs=1): {v_total:.2f} s, {v_total / args.count * 1e6:.0f} us/preset, "
              f"{len(checked.findings)} findings")

        plan = fix([str(src)], OPTIONS, OPTIONS, FixSettings(mode="dry-run"), cwd=str(work))
        per = plan.seconds("plan") / args.count
        print(f"fix stage alone (dry-run planning): {plan.seconds('plan'):.2f} s, {per * 1e6:.0f} us/preset "
              f"(design claim: 200 us), {plan.applied_count} fixes in {len(plan.changed)} files")
        t = time.perf_counter()
        both = fix([str(src)], replace(OPTIONS, jobs=2), OPTIONS, FixSettings(mode="dry-run"), cwd=str(work))
        print(f"dry-run with 2 worker processes: {time.perf_counter() - t:.2f} s wall "
              f"({len(both.changed)} files), vs {plan.seconds('total'):.2f} s in one process")
        own = plan.seconds("plan") - plan.seconds("plan-check")
        print(f"  of which load+validate before and after: {plan.seconds('plan-check') / args.count * 1e6:.0f} us/preset; "
              f"proposing and splicing fixes: {own / args.count * 1e6:.0f} us/preset")

        for fsync in (True, False):
            copy = work / f"copy-{fsync}"
            shutil.copytree(src, copy)
            t = time.perf_counter()
            res = fix([str(copy)], OPTIONS, OPTIONS, FixSettings(fsync=fsync, state_dir=str(work / f"state-{fsync}")),
                      cwd=str(work))
            total = time.perf_counter() - t
            label = "fsync on " if fsync else "--no-fsync"
            print(f"fix {label}: {total:.2f} s total, {res.applied_count / total:.0f} fixes/s, "
                  f"{len(res.changed) / total:.0f} files/s; plan {res.seconds('plan'):.2f} s, "
                  f"backup+journal+write {res.seconds('write'):.2f} s "
                  f"({res.seconds('write') / max(1, len(res.changed)) * 1e3:.2f} ms/file)")
            assert not res.failed
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
