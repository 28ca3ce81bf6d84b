"""Baselines: accept today's findings, fail only on new ones; keyed by path, code and location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from presetctl import api
from presetctl.engine.baseline import baseline_bytes, read_baseline
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
    assert json.loads((tmp_path / "baseline.json").read_text()) == {"version": 1, "findings": [
        {"path": "pack/Pad.json", "code": "S001", "location": "/metadata/name"},
        {"path": "pack/Pad.json", "code": "V002", "location": "/parameters/0/value"},
    ]}
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
                             "2 files, 1 findings (1 errors, 0 warnings, 0 info)\n")


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
    (tmp_path / "b.json").write_bytes(baseline_bytes(api.validate(["pack"]).findings))
    result = api.validate(["pack"], baseline=tmp_path / "b.json")
    assert (result.findings, result.baseline_suppressed) == ((), 3)  # M001, S001, V002


def test_baseline_file_is_sorted_and_deduplicated(pack: Path) -> None:
    found = api.validate(["pack"]).findings
    data = baseline_bytes(list(found) + list(found))
    assert data == baseline_bytes(tuple(reversed(found)))
    assert data.endswith(b"\n") and b'"line"' not in data


@pytest.mark.parametrize(("content", "message"), [
    (b"{", "is not valid JSON"),
    (b"[]", "has no 'findings' list"),
    (b'{"findings": [{"path": "a", "code": "S001"}]}', "each finding needs string path, code and location"),
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
