"""The Python API beyond validate: scan_security, fix and undo, without the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from presetctl import api
from presetctl.engine.fix.model import FileFixStatus


def _preset(name: str, **meta: object) -> bytes:
    doc = {"format_version": "1.0", "metadata": {"name": name, "category": "Bass", **meta},
           "parameters": [{"name": "cutoff", "value": 0.5, "min": 0, "max": 1}]}
    return json.dumps(doc, indent=2).encode() + b"\n"


def test_scan_security_rates_findings(tmp_path: Path) -> None:
    (tmp_path / "leak.json").write_bytes(_preset("Leak", description="see C:\\Users\\alice\\Desktop\\x.wav"))
    (tmp_path / "clean.json").write_bytes(_preset("Clean"))
    result = api.scan_security(["."], api.Options(jobs=1), cwd=str(tmp_path))
    assert {f.path for f in result.findings} == {"leak.json"}
    assert all(f.code.startswith("X") and f.security is not None for f in result.findings)


def test_fix_then_undo_round_trip(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    original = _preset("Wobble", tags=["Dark ", "dark"])
    (pack / "wobble.json").write_bytes(original)
    settings = api.FixSettings(fsync=False, state_dir=str(tmp_path / "state"))
    result = api.fix([str(pack)], api.Options(jobs=1, profiles=("marketplace",)), settings, cwd=str(tmp_path))
    assert [f.status for f in result.files] == [FileFixStatus.FIXED]
    assert json.loads((pack / "wobble.json").read_bytes())["metadata"]["tags"] == ["dark"]
    restored = api.undo(result.run_id, state_dir=str(tmp_path / "state"))
    assert restored.run_id == result.run_id
    assert (pack / "wobble.json").read_bytes() == original
