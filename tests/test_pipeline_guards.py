"""The guards of the per-file path that only bad luck or a bug reaches, made to happen.

A loader or a rule that raises becomes an E001 finding for that file (the run goes on); a
file that grows past the limit, turns into a link, or becomes unreadable between discovery
and reading is F002 / F003 / F007; a rename on a file system without hard links falls back
to a checked rename, and a rename that fails puts the original back.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from presetctl import api
from presetctl.engine import recovery
from presetctl.engine.fix.model import FileFixStatus
from presetctl.engine.fix.run import FixSettings, fix
from presetctl.engine.fix.undo import undo
from presetctl.engine.formats import registry
from presetctl.engine.options import Options
from presetctl.engine.rules import registry as rules_registry

GOOD = b'{"format_version": "1.0", "metadata": {"name": "%s"}, "parameters": []}'


def _pack(tmp_path: Path, *names: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    for n in names:
        (pack / f"{n}.json").write_bytes(GOOD % n.encode())
    return pack


def _codes(result: api.RunResult) -> list[tuple[str, str, str]]:
    return [(Path(f.path).name, f.code, f.message) for f in result.findings if f.code in ("E001", "F002", "F003", "F007")]


def test_a_loader_that_raises_is_e001_for_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pack(tmp_path, "A", "B")
    loader = registry.detect(GOOD, Path("x.json"))
    assert loader is not None
    real = type(loader).load

    def load(self: Any, data: bytes, ctx: Any) -> Any:
        if b'"A"' in data:
            raise KeyError("settings")
        return real(self, data, ctx)

    monkeypatch.setattr(type(loader), "load", load)
    result = api.validate(["pack"], Options(jobs=1), cwd=str(tmp_path))
    assert _codes(result) == [("A.json", "E001", "internal error in the presetctl loader: KeyError: 'settings'")]
    status = {Path(o.path).name: o.status.value for o in result.files}
    assert status == {"A.json": "broken", "B.json": "validated"}


def test_a_rule_that_raises_is_e001_and_the_other_rules_still_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "A.json").write_bytes(b'{"format_version": "1.0", "metadata": {"name": 7}, "parameters": []}')
    rule = rules_registry.BY_CODE["M001"]
    real = rule.check

    def crash(doc: Any, ctx: Any) -> Any:
        raise ValueError("a bug")
        yield  # a generator, like every check

    object.__setattr__(rule, "check", crash)  # rules are frozen: patched and restored by hand
    try:  # M001 is a curation rule: the marketplace profile runs it
        result = api.validate(["pack"], Options(jobs=1, profiles=("marketplace",)), cwd=str(tmp_path))
    finally:
        object.__setattr__(rule, "check", real)
    found = {(f.code, f.message) for f in result.findings}
    assert ("E001", "internal error in rule M001: ValueError: a bug") in found
    assert any(code == "S001" for code, _ in found)  # the schema rule reports the bad name all the same


@pytest.mark.parametrize(("error", "code", "message"), [
    (OSError(errno.EACCES, "Permission denied"), "F007", "file cannot be read: Permission denied"),
    (OSError(errno.ELOOP, "Too many levels of symbolic links"), "F003",
     "file cannot be read: Too many levels of symbolic links"),
    (OverflowError(70_000_000), "F002", "file grew to 70000000 bytes, over the size limit; not read"),
])
def test_a_file_that_changes_between_discovery_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          error: BaseException, code: str, message: str) -> None:
    _pack(tmp_path, "A", "B")
    real = recovery.read_bounded

    def read(path: str, limit: int) -> bytes:
        if path.endswith("A.json"):
            raise error
        return real(path, limit)

    monkeypatch.setattr(recovery, "read_bounded", read)
    result = api.validate(["pack"], Options(jobs=1), cwd=str(tmp_path))
    assert _codes(result) == [("A.json", code, message)]
    assert {Path(o.path).name: o.status.value for o in result.files} == {"A.json": "skipped", "B.json": "validated"}


def _renaming_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "C?.json").write_bytes(GOOD % b"C?")
    return pack


RENAME = Options(select=("N002",), jobs=1)


def test_a_rename_without_hard_links_falls_back_to_a_checked_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _renaming_pack(tmp_path)

    def no_links(*a: object, **k: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # FAT, some network file systems

    monkeypatch.setattr(os, "link", no_links)
    state = str(tmp_path / "state")
    result = fix([str(pack)], RENAME, RENAME, FixSettings(state_dir=state), cwd=str(tmp_path))
    assert [(f.status, f.new_path) for f in result.files] == [(FileFixStatus.FIXED, f"{pack}/C_.json")]
    assert sorted(p.name for p in pack.iterdir()) == ["C_.json"]
    monkeypatch.undo()
    assert undo(None, state=state).ok and sorted(p.name for p in pack.iterdir()) == ["C?.json"]


def test_the_fallback_rename_never_replaces_a_file_that_appeared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _renaming_pack(tmp_path)
    real_lexists = os.path.lexists

    def no_links(*a: object, **k: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    seen: list[str] = []

    def lexists(path: Any) -> bool:
        # The target appears between the planner's check and the rename (another program wrote it).
        if str(path).endswith("C_.json"):
            seen.append(str(path))
            if len(seen) > 1:
                (pack / "C_.json").write_bytes(b"someone else's file")
        return real_lexists(path)

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(os.path, "lexists", lexists)
    result = fix([str(pack)], RENAME, RENAME, FixSettings(state_dir=str(tmp_path / "state")), cwd=str(tmp_path))
    (f,) = result.files
    assert f.status is FileFixStatus.FAILED and "exists" in f.error
    assert (pack / "C_.json").read_bytes() == b"someone else's file"  # never overwritten
    assert (pack / "C?.json").read_bytes() == GOOD % b"C?"  # and the original is where it was


def test_a_failing_rename_puts_the_original_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fix that changes the bytes and renames: the new bytes are written, the rename fails, so
    the original bytes go back (a half-done fix is worse than none) and the journal says fail."""
    pack = tmp_path / "pack"
    pack.mkdir()
    original = b"\xef\xbb\xbf" + GOOD % b"C?"
    (pack / "C?.json").write_bytes(original)
    os.utime(pack / "C?.json", ns=(1_000_000_000, 1_000_000_000))
    both = Options(select=("F009", "N002"), jobs=1)

    def fail(*a: object, **k: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "link", fail)
    monkeypatch.setattr(os, "rename", fail)
    result = fix([str(pack)], both, both, FixSettings(state_dir=str(tmp_path / "state")), cwd=str(tmp_path))
    (f,) = result.files
    assert (f.status, f.error) == (FileFixStatus.FAILED, "write failed (Input/output error); file left as it was")
    assert sorted(p.name for p in pack.iterdir()) == ["C?.json"]
    assert (pack / "C?.json").read_bytes() == original
    assert (pack / "C?.json").stat().st_mtime_ns == 1_000_000_000
    journal = next((tmp_path / "state" / "fix-runs").iterdir()).read_text()
    assert '"t":"fail"' in journal and '"t":"done"' not in journal


def test_a_file_that_changes_while_it_is_read_is_read_again_and_the_retry_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A synth or a sync tool rewrites a preset while presetctl reads it: the check sees one whole
    version (the new one), and the retry is an incident of that file (logged, recorded in history)."""
    _pack(tmp_path, "A", "B")
    target = tmp_path / "pack" / "A.json"
    real = recovery.read_bounded
    reads = {"A": 0}

    def read(path: str, limit: int) -> bytes:
        data = real(path, limit)
        if path == str(target) and reads["A"] == 0:
            reads["A"] += 1
            target.write_bytes(b'{"format_version": "1.0", "metadata": {"name": 7}, "parameters": []}')  # saved anew
        return data

    monkeypatch.setattr(recovery, "read_bounded", read)
    result = api.validate(["pack"], Options(jobs=1), cwd=str(tmp_path))
    a = next(o for o in result.files if o.path == "pack/A.json")
    (incident,) = a.incidents
    assert (incident.code.value, incident.outcome.value, incident.retries) == ("PE103", "recovered", 1)
    assert [f.code for f in a.findings] == ["S001"]  # the findings are those of the version it read whole
