"""Start-up: what a command imports decides how long it takes before it does anything.

Asserted on the modules a real process loads (never on timings): ``presetctl --version`` loads no
engine, no reporter, no state store and none of the heavy libraries; ``validate`` loads no fix
engine (planner, executor, undo), no report viewer, no history queries, no progress bar off a
terminal and none of jsonschema (the reference validator), psutil, numpy or textual.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys
sys.argv = ["presetctl", *json.loads(sys.argv[1])]
from presetctl.cli.app import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(json.dumps(sorted(sys.modules)))
"""
HEAVY = ("rich", "jsonschema", "psutil", "numpy", "textual", "jsonschema_rs")


def _loaded(args: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def _under(mods: set[str], *prefixes: str) -> list[str]:
    return sorted(m for m in mods if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_version_imports_no_engine(tmp_path: Path) -> None:
    mods = _loaded(["--version"], tmp_path)
    engine = [m for m in _under(mods, "presetctl.engine")
              if m not in ("presetctl.engine", "presetctl.engine.errors", "presetctl.engine.error_codes",
                           "presetctl.engine.interrupts")]  # the error table's exception types, nothing else
    assert engine == []
    assert _under(mods, "presetctl.report", "presetctl.api", "presetctl.state.history", *HEAVY) == []
    assert _under(mods, "presetctl.cli") == ["presetctl.cli", "presetctl.cli.app", "presetctl.cli.errors",
                                             "presetctl.cli.globals"]


def test_validate_imports_only_what_validating_needs(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes((REPO / "sample_presets" / "evening-pad.json").read_bytes())  # valid: no S001
    mods = _loaded(["--no-history", "validate", "a.json", "-q", "-o", "json", "--no-cache"], tmp_path)
    assert "presetctl.engine.pipeline" in mods  # the probe really validated
    assert _under(mods, "presetctl.engine.fix.planner", "presetctl.engine.fix.run", "presetctl.engine.fix.undo",
                  "presetctl.engine.fix.pack_guard", "presetctl.report.browse", "presetctl.state.queries",
                  "presetctl.cli.fix", "presetctl.cli.report", "presetctl.cli.logs", "presetctl.cli.stats",
                  "rich.progress", "jsonschema", "psutil", "numpy", "textual") == []
