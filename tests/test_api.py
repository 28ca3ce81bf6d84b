"""The documented Python API: presetctl.api.validate(paths, options) -> RunResult, without a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from presetctl import api
from presetctl.engine.model import FileStatus, RunResult

CLEAN = {
    "format_version": "1.0",
    "metadata": {"name": "Warm Pad", "author": "A. Person", "category": "Pad", "tags": ["warm"],
                 "description": "Mod wheel opens the filter.", "license": "CC-BY-4.0"},
    "parameters": [{"name": "cutoff", "type": "float", "value": 0.5, "min": 0, "max": 1}],
}


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    """Warm Pad.json clean; Bass.json with M002 (warning, marketplace profile) and V002 (error); Broken.json
    P001; notes.txt unknown."""
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "Warm Pad.json").write_text(json.dumps(CLEAN))
    bass = json.loads(json.dumps(CLEAN))
    bass["metadata"]["name"] = "Bass"
    del bass["metadata"]["author"]
    bass["parameters"][0]["value"] = 2
    (folder / "Bass.json").write_text(json.dumps(bass))
    (folder / "Broken.json").write_text("{")
    (folder / "notes.txt").write_text("not a preset")
    return folder


def test_validate_returns_a_run_result_with_exact_counts(pack: Path, tmp_path: Path) -> None:
    result = api.validate(["pack"], api.Options(jobs=1, profiles=("marketplace",)), cwd=str(tmp_path))
    assert isinstance(result, RunResult)
    assert result.command == "validate" and result.roots == ("pack",)
    assert [(f.path, f.code, f.severity) for f in result.findings] == [
        ("pack/Bass.json", "M002", api.Severity.WARNING),
        ("pack/Bass.json", "V002", api.Severity.ERROR),
        ("pack/Broken.json", "P001", api.Severity.ERROR),
    ]
    assert result.counts == {"error": 2, "warning": 1, "info": 0}
    assert result.status_counts == {"validated": 2, "recognized": 0, "unknown": 1, "skipped": 0, "broken": 1}
    assert result.format_counts == {"presetctl": 3, "unknown": 1}
    assert [(o.path, o.status, o.presets) for o in result.files] == [
        ("pack/Bass.json", FileStatus.VALIDATED, 1), ("pack/Broken.json", FileStatus.BROKEN, 0),
        ("pack/Warm Pad.json", FileStatus.VALIDATED, 1), ("pack/notes.txt", FileStatus.UNKNOWN, 0)]
    assert result.fails(api.Severity.ERROR) and result.baseline_suppressed == 0
    assert [t.stage for t in result.timings] == ["discover", "check", "pack", "total"]


def test_findings_carry_the_json_contract_fields(pack: Path, tmp_path: Path) -> None:
    v002 = next(f for f in api.validate(["pack"], cwd=str(tmp_path)).findings if f.code == "V002")
    text = (pack / "Bass.json").read_text()
    column = text.index('"value": 2') + 1  # 1-based, at the member the pointer names
    assert (v002.location, v002.line, v002.column) == (api.Location(pointer="/parameters/0/value"), 1, column)
    assert v002.fixable and v002.rule_name == "parameter-out-of-declared-range"
    assert v002.message == "parameter 'cutoff' = 2 is outside its declared range [0, 1]"


def test_options_select_and_thresholds(pack: Path, tmp_path: Path) -> None:
    only_errors = api.validate(["pack"], api.Options(select=("V", "P"), jobs=1), cwd=str(tmp_path))
    assert [f.code for f in only_errors.findings] == ["V002", "P001"]
    warnings_as_errors = api.Options(severity_overrides={"M002": api.Severity.ERROR}, ignore=("V", "P"),
                                     profiles=("marketplace",))
    result = api.validate(["pack"], warnings_as_errors, cwd=str(tmp_path))
    assert result.counts == {"error": 1, "warning": 0, "info": 0}


def test_options_default_to_the_config_found_for_the_paths(pack: Path, tmp_path: Path) -> None:
    (tmp_path / "presetctl.toml").write_text('profile = "marketplace"\nignore = ["P"]\n')
    assert [f.code for f in api.validate([str(pack)]).findings] == ["M002", "V002"]
    assert api.load_options([str(pack)]).ignore == ("P",)
    assert [f.code for f in api.validate([str(pack)], api.Options()).findings] == ["V002", "P001"]


def test_progress_callback_reaches_the_total(pack: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    api.validate(["pack"], api.Options(jobs=1), cwd=str(tmp_path), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (4, 4)


def test_tool_errors_raise(pack: Path, tmp_path: Path) -> None:
    with pytest.raises(api.UsageError, match="cannot access 'missing'"):
        api.validate(["missing"], api.Options(), cwd=str(tmp_path))
    with pytest.raises(api.ConfigError, match="'ZZZ' matches no rule code"):
        api.validate(["pack"], api.Options(select=("ZZZ",)), cwd=str(tmp_path))
    assert issubclass(api.UsageError, api.PresetctlError) and issubclass(api.ConfigError, api.PresetctlError)


def test_rule_lookup() -> None:
    assert api.rule("S001").name == "schema-violation"
    assert api.rule("S001") in api.RULES
    with pytest.raises(KeyError):
        api.rule("Z999")


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(120):  # above the in-process threshold, so two workers start
        doc = json.loads(json.dumps(CLEAN))
        doc["metadata"]["name"] = f"Pad {i:03}"
        doc["parameters"][0]["value"] = i / 100  # values above 1 break the declared range: V002
        (folder / f"Pad {i:03}.json").write_text(json.dumps(doc))
    serial = api.validate(["many"], api.Options(jobs=1), cwd=str(tmp_path))
    parallel = api.validate(["many"], api.Options(jobs=2), cwd=str(tmp_path))
    assert serial.findings == parallel.findings
    assert serial.counts == {"error": 19, "warning": 0, "info": 0}  # 1.01 .. 1.19
    assert serial.status_counts["validated"] == parallel.status_counts["validated"] == 120
