"""Start-up: what a command imports decides how long it takes before it does anything.

Asserted on the modules a real process loads (never on timings): ``presetctl --version`` loads no
engine, no reporter, no state store and none of the heavy libraries; ``validate`` loads no fix
engine (planner, executor, undo), no report viewer, no history queries, no progress bar off a
terminal and none of jsonschema (the reference validator), psutil, numpy or textual. Validating one
Helm preset into a pipe loads only what a Helm preset needs: no other format's loader or rules, no
other reporter, no rich, no worker pool (multiprocessing), no gitignore matcher (pathspec) and no
config parser (tomllib) when there is no config file, no XML library, no schema validator, no zip
reader, no fix journal and no crash-report writer.
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
# A small Helm preset (what the loader reads; one value out of range, so a finding is reported).
HELM = json.dumps({"patch_name": "Probe", "author": "QA", "folder_name": "Bass", "synth_version": "0.9.0",
                   "license": "CC0", "settings": {"osc_1_waveform": 2, "resonance": 40, "volume": 0.5}})
# What validating a Helm preset never needs.
NOT_FOR_HELM = (
    "presetctl.engine.formats.dx7_syx", "presetctl.engine.formats.sysex", "presetctl.engine.formats.fxp",
    "presetctl.engine.formats.surge_xml", "presetctl.engine.formats.recognized", "presetctl.engine.formats.vital",
    "presetctl.engine.formats.presetctl_json", "presetctl.engine.rules.dx7", "presetctl.engine.rules.surge",
    "presetctl.engine.rules.audio", "presetctl.engine.rules.recognized", "presetctl.engine.rules.schema",
    "presetctl.engine.audio", "presetctl.engine.schemas", "presetctl.engine.fix.model",
    "presetctl.engine.fix.writers.dx7_sysex", "presetctl.engine.fix.writers.fxp", "presetctl.engine.archive",
    "presetctl.state.journal", "presetctl.state.crash", "presetctl.report.statistics",
    "presetctl.report.full_rich", "presetctl.report.sarif", "presetctl.report.junit", "presetctl.report.github",
    "presetctl.report.gitlab", "presetctl.report.json_report", "presetctl.report.concise",
    "rich", "multiprocessing.pool", "multiprocessing.connection", "ctypes",
    "pathspec", "tomllib", "xml", "defusedxml", "jsonschema", "jsonschema_rs", "psutil", "numpy", "textual")


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


def _helm_pack(tmp_path: Path) -> Path:
    (tmp_path / "one.helm").write_text(HELM, encoding="utf-8")
    return tmp_path


def test_validating_one_helm_preset_loads_only_what_helm_needs(tmp_path: Path) -> None:
    pack = _helm_pack(tmp_path)
    for cache in ([], ["--no-cache"]):  # a checked file (loader and rules run), and one from the check cache
        mods = _loaded(["--state-dir", str(tmp_path / "state"), "validate", "one.helm", *cache], pack)
        assert "presetctl.engine.pipeline" in mods  # the probe really validated
        assert _under(mods, *NOT_FOR_HELM) == [], cache
    mods = _loaded(["--state-dir", str(tmp_path / "state"), "validate", "one.helm", "--no-cache"], pack)
    assert {"presetctl.engine.formats.helm", "presetctl.engine.rules.json_formats"} <= mods  # Helm's own did load


def test_validating_a_presetctl_preset_loads_its_schema_validator_only(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes((REPO / "sample_presets" / "evening-pad.json").read_bytes())
    mods = _loaded(["--no-history", "validate", "a.json", "--no-cache"], tmp_path)
    assert {"presetctl.engine.rules.schema", "jsonschema_rs"} <= mods
    assert _under(mods, "jsonschema", "presetctl.engine.formats.helm", "presetctl.engine.rules.dx7", "rich",
                  "presetctl.engine.rules.surge", "presetctl.engine.rules.audio", "multiprocessing.connection") == []


def test_a_terminal_or_another_format_still_loads_what_it_needs(tmp_path: Path) -> None:
    pack = _helm_pack(tmp_path)
    (pack / "exclude.toml").write_text("", encoding="utf-8")
    mods = _loaded(["--no-history", "validate", "one.helm", "--no-cache", "-o", "sarif", "--color", "always",
                    "--exclude", "*.toml", "--select", "D,U"], pack)
    # sarif's rule table names every selected code (their modules load); colour draws the report with rich
    # only in the full report (none here); --exclude matches as gitignore does.
    assert {"presetctl.report.sarif", "pathspec", "presetctl.engine.rules.dx7", "presetctl.engine.rules.surge"} <= mods
    assert "presetctl.report.full" not in mods


GC_PROBE = """
import gc, json, sys
sys.argv = ["presetctl", *json.loads(sys.argv[1])]
import presetctl.engine.runner as runner
seen = []
real = runner.run
def run(*args, **kwargs):
    seen.append(gc.isenabled())
    return real(*args, **kwargs)
runner.run = run
import presetctl.api
presetctl.api.run = run
from presetctl.cli.app import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write(json.dumps([seen, gc.isenabled()]))
"""


def test_the_collector_is_off_during_start_up_only(tmp_path: Path) -> None:
    pack = _helm_pack(tmp_path)
    proc = subprocess.run([sys.executable, "-c", GC_PROBE, json.dumps(["--no-history", "validate", "one.helm"])],
                          cwd=pack, capture_output=True, text=True, timeout=120, check=False)
    seen, after = json.loads(proc.stderr.strip().splitlines()[-1])
    assert seen == [True] and after is True  # the run itself collects; main() leaves it as it found it


def test_every_command_turns_the_collector_back_on() -> None:
    """main() turns the collector off; each command's ``guarded`` wrapper turns it on as it starts."""
    import typer

    from presetctl.cli.app import _COMMANDS

    for name, (module, attribute, group) in _COMMANDS.items():
        target = getattr(__import__(module, fromlist=[attribute]), attribute)
        if group:
            assert isinstance(target, typer.Typer)
            callbacks = [c.callback for c in target.registered_commands]
            if target.registered_callback is not None and target.registered_callback.callback is not None:
                callbacks.append(target.registered_callback.callback)
        else:
            callbacks = [target]
        for fn in callbacks:
            assert fn is not None and fn.__code__.co_qualname == "guarded.<locals>.wrapper", (name, fn)
