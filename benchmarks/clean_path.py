"""Where a clean preset's CPU time goes: each step of ``check_file`` on its own, per file.

One process, every default rule (or ``--profile``), each file read once (cold caches, as in a
real run), ``time.process_time`` around each step: reading, loading (detect, parse, duplicate
keys, preset model), each rule (its pre-filter and, when that lets it, its check), the presets'
summaries. Prints the mean per file in microseconds, the costliest rules first. It reimplements
the steps of ``pipeline.check_file`` so that they can be timed apart; the total is within a few
percent of ``check_file``'s own (printed last, on the same files, for comparison).

    python benchmarks/clean_path.py /tmp/speed/p400 --files 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import PurePosixPath

from presetctl.engine.discover import Candidate, discover
from presetctl.engine.options import Options
from presetctl.engine.pipeline import check_file, load_document, summarize
from presetctl.engine.recovery import read_consistent
from presetctl.engine.rules.selection import RuleSet


def measure(cands: list[Candidate], rules: RuleSet) -> tuple[dict[str, float], dict[str, float]]:
    """CPU seconds per step and per rule, summed over ``cands``."""
    options = rules.options
    steps: dict[str, float] = defaultdict(float)
    per_rule: dict[str, float] = defaultdict(float)
    clock = time.process_time
    for cand in cands:
        t0 = clock()
        data, _ = read_consistent(cand.path, options.limits.max_file_size, display=cand.display)
        t1 = clock()
        loaded = load_document(data, PurePosixPath(cand.display), options.limits)
        t2 = clock()
        steps["read"] += t1 - t0
        steps["load"] += t2 - t1
        if loaded is None:
            continue
        doc = loaded[0]
        ctx = rules.context(PurePosixPath(cand.display))
        for rule in rules.checks_for(doc.format, doc.parsed, doc.validated):
            assert rule.check is not None
            r0 = clock()
            if rule.quick is None or rule.quick(doc, ctx):
                for _ in rule.check(doc, ctx):
                    pass
            per_rule[rule.code] += clock() - r0
        t3 = clock()
        steps["rules"] += t3 - t2
        if rules.wants_summaries:
            summarize(doc, cand.display, rules.wants_sound)
        steps["summaries"] += clock() - t3
    return steps, per_rule


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("folder", help="a pack (benchmarks/generate.py writes one)")
    ap.add_argument("--files", type=int, default=2000, help="files measured (the first N in discovery order)")
    ap.add_argument("--profile", action="append", default=[], help="also enable this rule profile")
    args = ap.parse_args(argv)

    options = Options(profiles=tuple(args.profile))
    rules = RuleSet(options)
    cands = discover([args.folder], options)[0][: args.files]
    if not cands:
        sys.exit(f"no files under {args.folder}")
    steps, per_rule = measure(cands, rules)
    clock = time.process_time
    n = len(cands)
    print(f"{n} files, {len(per_rule)} rules; mean CPU per file:")
    for name, seconds in steps.items():
        print(f"  {name:10} {seconds / n * 1e6:8.1f} us")
    for code, seconds in sorted(per_rule.items(), key=lambda kv: -kv[1]):
        print(f"    {code:8} {seconds / n * 1e6:8.1f} us")
    print(f"  {'total':10} {sum(steps.values()) / n * 1e6:8.1f} us")
    c0 = clock()
    for cand in cands:
        check_file(cand, rules)
    print(f"  check_file {(clock() - c0) / n * 1e6:8.1f} us (the same files again, whole)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
