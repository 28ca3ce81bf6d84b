"""Runs to browse, built at test time: a real validate run over a small hostile pack, and big
synthetic reports (100,000 findings) written straight as the JSON report contract."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
from hostile import dx7_bank_bytes

from presetctl import api
from presetctl.report.base import ReportContext
from presetctl.report.json_report import JsonReporter

SAMPLES = Path(__file__).resolve().parents[1] / "sample_presets"

# Names a hostile pack author would choose: terminal escapes, an OSC 52 clipboard write, a bidi
# override, Rich markup and HTML.
EVIL_NAME = "[bold]Evil[/bold]\x1b[31m<script>alert(1)</script>\u202egnp"
EVIL_FILE = '"><img src=x onerror=alert(1)>.json'
SCRIPT_FILE = "<script>alert(1)<script>.json"  # a file name cannot hold "/"


def preset(name: str, author: str = "QA") -> bytes:
    return json.dumps({
        "format_version": "1.0",
        "metadata": {"name": name, "author": author, "category": "Pad"},
        "parameters": [{"name": "cutoff", "value": 0.5, "min": 0.0, "max": 1.0}],
    }, indent=2, ensure_ascii=False).encode()


def make_pack(folder: Path) -> Path:
    """sample_presets/broken plus hostile names in a preset, a file name and a DX7 bank."""
    pack = folder / "pack"
    shutil.copytree(SAMPLES / "broken", pack)
    (pack / "evil.json").write_bytes(preset(EVIL_NAME))
    (pack / EVIL_FILE).write_bytes(b'{"format_version": "1.0", "metadata": {"name": "x"')
    (pack / SCRIPT_FILE).write_bytes(preset("Script", author=""))
    (pack / "bank.syx").write_bytes(_bank_with_a_big_group())
    return pack


def _bank_with_a_big_group() -> bytes:
    """The hostile bank (voice 1's name is an OSC 52 clipboard write, the checksum is wrong), its 31
    other voices named with a control byte: D008 on every voice, a group of 32 for the viewer."""
    data = bytearray(dx7_bank_bytes())
    for v in range(1, 32):
        at = 6 + v * 128 + 118
        data[at : at + 10] = (b"\x01SLOT %02d" % (v + 1)).ljust(10)
    data[4102] = ((-sum(data[6:4102])) & 0x7F) ^ 0x55  # still a bad checksum (D001)
    return bytes(data)


def write_report(folder: Path, pack: Path, name: str = "run.json") -> Path:
    """Validate ``pack`` (paths relative to ``folder``) and write its JSON report into ``folder``."""
    # With the marketplace profile: the viewer is shown a mix of defects and curation findings.
    result = api.validate([pack.name], api.Options(jobs=1, profiles=("marketplace",)), cwd=str(folder))
    ctx = ReportContext(extra={"cwd": str(folder)})
    out = folder / name
    out.write_text(JsonReporter().render(result, ctx), encoding="utf-8")
    return out


def big_report(path: Path, count: int, hostile_every: int = 997) -> Path:
    """A JSON report of ``count`` findings over ``count // 40`` files, some with hostile names."""
    codes = [("Q001", "duplicate-name", "warning"), ("Q002", "duplicate-sound", "warning"),
             ("M002", "missing-author", "warning"), ("N003", "name-too-long", "info"),
             ("D001", "bad-checksum", "error"), ("M001", "missing-name", "error")]
    findings = []
    for i in range(count):
        code, name, sev = codes[(i * 7) % len(codes)] if i % 11 else codes[i % 2]
        bank = f"archive/bank-{i // 40:05d}.syx"
        message = f"voice {i % 32 + 1}: name 'INIT {i % 500}' is used by {2 + i % 9} presets"
        if i % hostile_every == 0:
            bank = f"archive/{EVIL_FILE}"
            message = f"name '{EVIL_NAME}' <img src=x onerror=alert(1)>"
        findings.append({"path": bank, "code": code, "name": name, "severity": sev, "security_severity": None,
                         "message": message, "location": f"voice {i % 32 + 1}", "pointer": None,
                         "offset": 6 + 128 * (i % 32), "voice": i % 32 + 1, "entry": None, "line": None,
                         "column": None, "fixable": False, "hint": None})
    doc = {"version": 1, "tool": {"name": "presetctl", "version": "test"}, "command": "validate",
           "run": {"roots": ["archive"], "cwd": str(path.parent), "started_at": "2026-01-02T03:04:05+00:00",
                   "fail_on": "error", "exit_code": 1},
           "summary": {"files": count // 40 + 1, "presets": (count // 40 + 1) * 32, "findings": count,
                       "by_format": {"dx7-syx": count // 40 + 1}},
           "findings": findings}
    path.write_bytes(orjson.dumps(doc))
    return path
