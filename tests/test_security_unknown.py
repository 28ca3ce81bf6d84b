"""Files no loader claims are still scanned: a pack can carry an executable or a hostile README."""

from __future__ import annotations

import struct
from pathlib import Path

from presetctl import api


def _codes(result: api.RunResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in result.findings:
        out.setdefault(f.path, []).append(f.code)
    return {k: sorted(v) for k, v in out.items()}


def test_unknown_files_are_scanned_for_payloads_and_text(tmp_path: Path) -> None:
    pe = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x80) + bytes(0x80 - 0x40) + b"PE\0\0" + bytes(64)
    (tmp_path / "setup.exe").write_bytes(pe)
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (tmp_path / "readme.txt").write_text("copy this \x1b]52;c;ZXZpbA==\x07 now\n")
    (tmp_path / "notes.txt").write_text("Thanks for buying this pack.\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    result = api.scan_security(["."], api.Options(jobs=1), cwd=str(tmp_path))
    assert _codes(result) == {"readme.txt": ["X061", "X063"], "run.sh": ["X011"], "setup.exe": ["X010"]}
    assert {o.path: o.status.value for o in result.files}["setup.exe"] == "unknown"


def test_validate_reports_unknown_executables_too(tmp_path: Path) -> None:
    (tmp_path / "tool.exe").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(57))
    result = api.validate(["."], api.Options(jobs=1), cwd=str(tmp_path))
    assert _codes(result) == {"tool.exe": ["X010"]}
