"""Mutation testing of the modules that guard data and contracts (``make mutation``).

Runs mutmut (configured in pyproject.toml ``[tool.mutmut]``: which modules, the union of the test
files) on a fresh copy of the tree in ``mutants/``, then prints the score per module, every mutant
that was not killed, the time the run took, and last the line ``mutation score: K of N killed``.

mutmut runs, for each mutant, the selected tests that call the mutated function. ``TESTS`` below
narrows that per module to the test files written for it, so a mutant of the journal does not run
every end-to-end fix test that happens to write a journal: the run stays within reach of two
shared cores.

A mutant counts as killed when a test failed, or hung past mutmut's timeout (the change was
noticed). Survivors and mutants no selected test reaches count against the score; each one is
either killed by a new test or listed in docs/testing.md as equivalent, with the reason.

    python tools/mutation.py [--keep] [--jobs N] [--show]

``--keep`` reuses the results in ``mutants/`` from an earlier run (mutmut re-runs only what
changed); ``--show`` prints the diff of every mutant that was not killed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {"killed", "timeout", "caught by type check"}
_LINE = re.compile(r"^\s+(?P<name>\S+): (?P<status>.+)$")

# Not test_fix_cli.py: the same paths through the CLI, three times slower per mutant; the engine tests
# check the journal, the fsyncs and the bytes directly.
_FIX = ("tests/test_fix_engine.py", "tests/test_fix_faults.py", "tests/test_pipeline_guards.py")
_STATE = ("tests/test_state_units.py",)
_WRITERS = ("tests/test_writers_exact.py", "tests/test_fix_writers.py")
_SECURITY = ("tests/test_security_exact.py", "tests/test_security_rules.py", "tests/test_security_archives.py")
_TEXT = ("tests/test_safe_text.py", "tests/test_reporters.py")
# module (prefix) -> the test files that judge its mutants; the longest matching prefix wins.
TESTS: dict[str, tuple[str, ...]] = {
    "presetctl.fsutil": (*_STATE, "tests/test_fix_faults.py"),
    "presetctl.state.backups": _STATE,
    "presetctl.state.journal": _STATE,
    "presetctl.state.lock": _STATE,
    "presetctl.state.paths": _STATE,
    "presetctl.engine.fix.run": _FIX,
    "presetctl.engine.fix.undo": _FIX,
    "presetctl.engine.fix.writers": _WRITERS,
    "presetctl.cli.errors": ("tests/test_error_table.py",),
    "presetctl.engine.interrupts": ("tests/test_error_table.py",),
    "presetctl.engine.rules.security": _SECURITY,
    "presetctl.safe_text": _TEXT,
    "presetctl.report.github": _TEXT,
}


def module_of(name: str) -> str:
    """``presetctl.fsutil.x_atomic_write__mutmut_3`` (or the function ``presetctl.fsutil.x_atomic_write``)
    -> ``presetctl.fsutil``."""
    return re.split(r"\.x[_ǁ]", name, maxsplit=1)[0]


def tests_for(module: str) -> tuple[str, ...]:
    matches = [prefix for prefix in TESTS if module == prefix or module.startswith(prefix + ".")]
    return TESTS[max(matches, key=len)] if matches else ()


def _mutmut() -> list[str]:
    return [sys.executable, "-m", "mutmut"]


def run_mutmut(jobs: int) -> None:
    """``mutmut run`` in this process, with each function's tests narrowed to its module's files."""
    import mutmut.__main__ as mm  # only here: `make mutation` installs it, the test suite does not need it

    collect = mm.collect_or_load_stats

    def narrowed(*args: object, **kwargs: object) -> None:
        collect(*args, **kwargs)  # type: ignore[arg-type]
        by_function = mm.state().tests_by_mangled_function_name
        for function, tests in by_function.items():
            allowed = tests_for(module_of(function))
            by_function[function] = {t for t in tests if t.split("::", 1)[0] in allowed}

    mm.collect_or_load_stats = narrowed
    mm._run([], jobs)


def results() -> dict[str, str]:
    """Every mutant of the last run and its status, from ``mutmut results --all``."""
    out = subprocess.run([*_mutmut(), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        m = _LINE.match(line)
        if m:
            found[m.group("name")] = m.group("status").strip()
    return found


def report(found: dict[str, str], show: bool) -> int:
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in found.items():
        per_module[module_of(name)][status] += 1
    width = max((len(m) for m in per_module), default=10)
    for module in sorted(per_module):
        counts = per_module[module]
        total = sum(counts.values())
        killed = sum(n for s, n in counts.items() if s in KILLED)
        rest = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in KILLED)
        print(f"{module:<{width}}  {killed:4} of {total:4} killed ({100 * killed / total:5.1f}%)"
              + (f"  {rest}" if rest else ""))
    left = sorted(name for name, status in found.items() if status not in KILLED)
    if left:
        print("\nnot killed:")
        for name in left:
            print(f"  {name}: {found[name]}")
            if show:
                diff = subprocess.run([*_mutmut(), "show", name], cwd=ROOT, capture_output=True, text=True,
                                      check=False).stdout
                print("    " + "\n    ".join(line for line in diff.rstrip().splitlines() if line[:1] in "+-"))
    return sum(1 for s in found.values() if s in KILLED)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ from an earlier run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tested at once")
    parser.add_argument("--show", action="store_true", help="print the diff of every mutant not killed")
    parser.add_argument("--report-only", action="store_true", help="report the results in mutants/ without running")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        os.chdir(ROOT)
        run_mutmut(args.jobs)
        return 0
    seconds = 0.0
    if not args.report_only:
        if not args.keep:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        t0 = time.monotonic()
        run = subprocess.run([sys.executable, __file__, "--worker", "--jobs", str(args.jobs)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, check=False)
        seconds = time.monotonic() - t0
        if run.returncode != 0:
            sys.stderr.write(f"mutmut run failed with exit code {run.returncode}\n")
            return 2
    found = results()
    killed = report(found, args.show)
    if seconds:
        print(f"\ntime: {seconds / 60:.1f} min with {args.jobs} jobs")
    print(f"mutation score: {killed} of {len(found)} killed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
