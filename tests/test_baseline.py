"""Baselines: accept today's findings, fail only on new ones.

Keyed by the path from the project root, code, location and message hash; the same baseline
works from any working directory and in a copy of the tree elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from presetctl import api
from presetctl.engine.baseline import baseline_bytes, message_hash, read_baseline
from presetctl.engine.errors import ConfigError

DOC: dict[str, Any] = {
    "format_version": "1.0",
    "metadata": {"name": 7, "author": "A. Person", "category": "Pad", "description": "x", "license": "CC0-1.0"},
    "parameters": [{"name": "cutoff", "type": "float", "value": 1.5, "min": 0, "max": 1}],
}


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pack/Pad.json with S001 at /metadata/name and V002 at /parameters/0/value (both errors)."""
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "Pad.json").write_text(json.dumps(DOC, indent=2))
    monkeypatch.chdir(tmp_path)
    return folder


def findings(cli, *args: str) -> tuple[int, list[tuple[str, str, int | None]], dict[str, Any]]:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "-o", "json", "--select", "S,V", *args])
    doc = json.loads(result.stdout)
    return result.exit_code, [(f["code"], f["location"], f["line"]) for f in doc["findings"]], doc["summary"]


def test_write_baseline_then_baseline_suppresses_everything(cli, pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, found, _ = findings(cli)
    assert (code, found) == (1, [("S001", "/metadata/name", 4), ("V002", "/parameters/0/value", 14)])
    result = cli(["validate", "pack", "--select", "S,V", "--write-baseline", "baseline.json"])
    assert (result.exit_code, result.stdout) == (0, "")
    code_msg = {f["code"]: f["message"] for f in json.loads(cli(["validate", "pack", "-o", "json"]).stdout)["findings"]}
    assert json.loads((tmp_path / "baseline.json").read_text()) == {"version": 2, "findings": [
        {"path": "pack/Pad.json", "code": "S001", "location": "/metadata/name",
         "message_hash": message_hash(code_msg["S001"])},
        {"path": "pack/Pad.json", "code": "V002", "location": "/parameters/0/value",
         "message_hash": message_hash(code_msg["V002"])},
    ]}
    assert message_hash(code_msg["V002"]) == __import__("hashlib").sha256(code_msg["V002"].encode()).hexdigest()[:16]
    code, found, summary = findings(cli, "--baseline", "baseline.json")
    assert (code, found) == (0, [])
    assert (summary["findings"], summary["baseline_suppressed"], summary["error"]) == (0, 2, 0)


def test_new_finding_still_fails(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    cli(["validate", "pack", "--select", "S,V", "--write-baseline", "baseline.json"])
    doc = json.loads((pack / "Pad.json").read_text())
    doc["parameters"].append({"name": "res", "type": "float", "value": -1, "min": 0, "max": 1})
    (pack / "Pad.json").write_text(json.dumps(doc, indent=2))
    code, found, summary = findings(cli, "--baseline", "baseline.json")
    assert code == 1
    assert [(c, loc) for c, loc, _ in found] == [("V002", "/parameters/1/value")]
    assert summary["baseline_suppressed"] == 2


def test_new_file_still_fails(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    cli(["validate", "pack", "--select", "S,V", "--write-baseline", "baseline.json"])
    (pack / "Other.json").write_text("{")
    result = cli(["validate", "pack", "--select", "S,V,P", "--baseline", "baseline.json", "-o", "concise"])
    assert result.exit_code == 1
    assert result.stdout == ("pack/Other.json:1:2: P001 [error] invalid JSON: unexpected end of data\n"
                             "2 files, 1 finding (1 error, 0 warnings, 0 info)\n")


def test_lines_inserted_above_keep_findings_suppressed(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    cli(["validate", "pack", "--select", "S,V", "--write-baseline", "baseline.json"])
    # The same document re-indented, with blank lines and a new key above the findings: every line moves.
    doc = json.loads((pack / "Pad.json").read_text())
    doc = {"$schema": "https://presetctl.dev/schemas/preset-1.json", **doc}
    (pack / "Pad.json").write_text("\n\n\n" + json.dumps(doc, indent=4))
    code, found, _ = findings(cli)
    assert [(c, line) for c, _, line in found] == [("S001", 8), ("V002", 18)]  # lines moved
    code, found, summary = findings(cli, "--baseline", "baseline.json")
    assert (code, found, summary["baseline_suppressed"]) == (0, [], 2)


def test_fixing_a_finding_needs_no_baseline_update(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    cli(["validate", "pack", "--select", "S,V", "--write-baseline", "baseline.json"])
    doc = json.loads((pack / "Pad.json").read_text())
    doc["metadata"]["name"] = "Pad"
    (pack / "Pad.json").write_text(json.dumps(doc, indent=2))
    code, found, summary = findings(cli, "--baseline", "baseline.json")
    assert (code, found, summary["baseline_suppressed"]) == (0, [], 1)


def test_api_takes_a_baseline(pack: Path, tmp_path: Path) -> None:
    (tmp_path / "b.json").write_bytes(baseline_bytes(api.validate(["pack"]).findings, tmp_path))
    result = api.validate(["pack"], baseline=tmp_path / "b.json")
    assert (result.findings, result.baseline_suppressed) == ((), 2)  # S001, V002 (M001 is in the marketplace profile)


def test_baseline_file_is_sorted_and_deduplicated(pack: Path) -> None:
    found = api.validate(["pack"]).findings
    data = baseline_bytes(list(found) + list(found), pack.parent)
    assert data == baseline_bytes(tuple(reversed(found)), pack.parent)
    assert data.endswith(b"\n") and b'"line"' not in data


@pytest.mark.parametrize(("content", "message"), [
    (b"{", "is not valid JSON"),
    (b"[]", "has no 'findings' list"),
    (b'{"findings": [{"path": "a", "code": "S001"}]}', "each finding needs string path, code and location"),
    (b'{"version": 2, "findings": [{"path": "a", "code": "S001", "location": ""}]}',
     "each finding needs string path, code, location and message_hash"),
])
def test_bad_baseline_is_a_config_error(cli, pack: Path, tmp_path: Path, content: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "b.json").write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        read_baseline(tmp_path / "b.json")
    result = cli(["validate", "pack", "--baseline", "b.json"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("presetctl: config error: baseline b.json")


def test_missing_baseline_exits_2(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "--baseline", "nope.json"])
    assert (result.exit_code, result.stderr) == (2, "presetctl: config error: cannot read baseline nope.json: "
                                                    "No such file or directory\n")


def test_a_changed_message_is_a_new_finding(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    cli(["validate", "pack", "--select", "S,V", "--write-baseline", "baseline.json"])
    doc = json.loads((pack / "Pad.json").read_text())
    doc["parameters"][0]["value"] = 2.5  # same code and place, another value: the message changes
    (pack / "Pad.json").write_text(json.dumps(doc, indent=2))
    code, found, summary = findings(cli, "--baseline", "baseline.json")
    assert (code, [(c, loc) for c, loc, _ in found], summary["baseline_suppressed"]) == (
        1, [("V002", "/parameters/0/value")], 1)


def _codes(cli, target: str, baseline: Path) -> tuple[int, list[tuple[str, str]], int]:  # type: ignore[no-untyped-def]
    result = cli(["validate", target, "-o", "json", "--baseline", str(baseline)])
    doc = json.loads(result.stdout)
    return result.exit_code, [(f["code"], f["location"]) for f in doc["findings"]], doc["summary"]["baseline_suppressed"]


@pytest.mark.parametrize("config", [True, False])
def test_baseline_works_from_any_folder_and_in_a_copy(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                     config: bool) -> None:
    """Written from inside the project, checked from its parent, from a sub-folder with an
    absolute path, and in a copy of the whole tree elsewhere: the same findings are hidden."""
    import shutil

    project = tmp_path / "work" / "project"
    (project / "presets" / "sub").mkdir(parents=True)
    if config:
        (project / "presetctl.toml").write_text('select = ["ALL"]\n')
    else:
        (project / ".git").mkdir()  # the git root is the project root
    (project / "presets" / "Pad.json").write_text(json.dumps(DOC, indent=2))
    bad = {**DOC, "parameters": [{"name": "res", "type": "float", "value": 9, "min": 0, "max": 1}]}
    (project / "presets" / "sub" / "Res.json").write_text(json.dumps(bad, indent=2))
    monkeypatch.chdir(project)
    assert cli(["validate", "presets", "--write-baseline", "ci/baseline.json"]).exit_code == 2  # ci/ missing
    (project / "ci").mkdir()
    assert cli(["validate", "presets", "--write-baseline", "ci/baseline.json"]).exit_code == 0
    stored = json.loads((project / "ci" / "baseline.json").read_text())["findings"]
    assert {e["path"] for e in stored} == {"presets/Pad.json", "presets/sub/Res.json"}
    everything = len(stored)
    # 1. the same tree from its parent folder, relative paths
    monkeypatch.chdir(tmp_path / "work")
    assert _codes(cli, "project/presets", project / "ci" / "baseline.json") == (0, [], everything)
    # 2. from a sub-folder, with an absolute path argument
    monkeypatch.chdir(project / "presets" / "sub")
    assert _codes(cli, str(project / "presets"), project / "ci" / "baseline.json") == (0, [], everything)
    # 3. a copy of the tree somewhere else, checked from its root; a new finding still shows
    copy = tmp_path / "elsewhere" / "clone"
    shutil.copytree(project, copy)
    new = {**DOC, "parameters": [{"name": "drive", "type": "float", "value": -4, "min": 0, "max": 1}]}
    (copy / "presets" / "sub" / "New.json").write_text(json.dumps(new, indent=2))
    monkeypatch.chdir(copy)
    code, found, hidden = _codes(cli, "presets", copy / "ci" / "baseline.json")
    assert (code, hidden) == (1, everything)
    assert {f["path"] for f in json.loads(cli(["validate", "presets", "-o", "json", "--baseline",
                                                "ci/baseline.json"]).stdout)["findings"]} == {"presets/sub/New.json"}


def test_version_1_baselines_are_still_read(cli, pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "old.json").write_text(json.dumps({"version": 1, "findings": [
        {"path": "pack/Pad.json", "code": "S001", "location": "/metadata/name"}]}))
    code, found, summary = findings(cli, "--baseline", "old.json")
    assert (code, [(c, loc) for c, loc, _ in found], summary["baseline_suppressed"]) == (
        1, [("V002", "/parameters/0/value")], 1)
