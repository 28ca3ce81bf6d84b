"""``presetctl validate`` on hostile input, in-process and as a real process.

Every case is built in tmp_path at test time: one clean preset with exactly one thing wrong
(or a special file), alone in its folder, so the run must report exactly that problem's code.
Each run must complete, print no traceback, and exit 1 because the tool itself worked (warning
codes with ``--fail-on warning``; the whole hostile pack at the default threshold).
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import run_subprocess

from presetctl.engine.model import Severity
from presetctl.engine.rules.registry import BY_CODE

NAME = "Warm Pad"
CLEAN: dict[str, object] = {
    "format_version": "1.0",
    "metadata": {"name": NAME, "author": "A. Person", "category": "Pad", "tags": ["warm"],
                 "description": "Mod wheel opens the filter.", "license": "CC-BY-4.0"},
    "parameters": [{"name": "cutoff", "type": "float", "value": 0.5, "min": 0, "max": 1}],
}
CLEAN_TEXT = json.dumps(CLEAN)
HAS_SPECIALS = hasattr(os, "symlink") and hasattr(os, "mkfifo")


def _write(folder: Path, data: bytes, name: str = f"{NAME}.json") -> None:
    (folder / name).write_bytes(data)


def _with_value(literal: str) -> bytes:
    """The clean preset with the cutoff value spelled as ``literal`` (not valid JSON on purpose)."""
    return CLEAN_TEXT.replace('"value": 0.5', f'"value": {literal}').encode()


def _big_string(folder: Path) -> None:
    doc = dict(CLEAN, extensions={"com.example.blob": "a" * (50 * 1024 * 1024)})
    _write(folder, json.dumps(doc).encode())


def _duplicate_keys(folder: Path) -> None:
    text = CLEAN_TEXT.replace(f'"name": "{NAME}",', f'"name": "{NAME}", "name": "{NAME}",', 1)
    _write(folder, text.encode())


def _symlink_out(folder: Path) -> None:
    (folder / "Lead.json").symlink_to("/etc/passwd")


def _symlink_loop(folder: Path) -> None:
    (folder / "a.json").symlink_to(folder / "b.json")
    (folder / "b.json").symlink_to(folder / "a.json")


def _directory_named_json(folder: Path) -> None:
    (folder / "x.json").mkdir()
    _write(folder / "x.json", b'{"format_version": "1.0", ')


# case id -> (builder, {path relative to the case folder: exact codes of that path})
CASES: dict[str, tuple[Callable[[Path], None], dict[str, list[str]]]] = {
    "empty-file": (lambda d: _write(d, b""), {f"{NAME}.json": ["F001"]}),
    "truncated-json": (lambda d: _write(d, CLEAN_TEXT.encode()[:-20]), {f"{NAME}.json": ["P001"]}),
    "invalid-utf8": (lambda d: _write(d, CLEAN_TEXT.replace("A. Person", "A. P\udce9rson").encode("utf-8", "surrogateescape")),
                     {f"{NAME}.json": ["F010"]}),
    "utf8-bom": (lambda d: _write(d, b"\xef\xbb\xbf" + CLEAN_TEXT.encode()), {f"{NAME}.json": ["F009"]}),
    "nested-100000": (lambda d: _write(d, b"[" * 100_000 + b"]" * 100_000), {f"{NAME}.json": ["P003"]}),
    "number-1e999999": (lambda d: _write(d, _with_value("1e999999")), {f"{NAME}.json": ["P004"]}),
    "nan": (lambda d: _write(d, _with_value("NaN")), {f"{NAME}.json": ["P004"]}),
    "string-50mb": (_big_string, {f"{NAME}.json": ["X052"]}),
    "duplicate-keys": (_duplicate_keys, {f"{NAME}.json": ["P002"]}),
    "binary-garbage": (lambda d: _write(d, random.Random(7).randbytes(4096)), {f"{NAME}.json": ["F011"]}),
    "symlink-to-etc-passwd": (_symlink_out, {"Lead.json": ["F003"]}),
    "symlink-loop": (_symlink_loop, {"a.json": ["F005"], "b.json": ["F005"]}),
    "fifo": (lambda d: os.mkfifo(d / "Pad.json"), {"Pad.json": ["F006"]}),
    "directory-named-x.json": (_directory_named_json, {f"x.json/{NAME}.json": ["P001"]}),
}
SPECIAL = {"symlink-to-etc-passwd", "symlink-loop", "fifo"}


def _params() -> list[object]:
    return [pytest.param(k, marks=pytest.mark.skipif(k in SPECIAL and not HAS_SPECIALS, reason="needs POSIX"))
            for k in CASES]


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail an in-process run that hangs (a FIFO opened for reading blocks forever)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"run did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _build(tmp_path: Path, case: str) -> Path:
    folder = tmp_path / "case"
    folder.mkdir()
    CASES[case][0](folder)
    return folder


def _codes_by_path(doc: dict[str, object]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in doc["findings"]:  # type: ignore[attr-defined]
        out.setdefault(f["path"].removeprefix("case/"), []).append(f["code"])
    return {k: sorted(v) for k, v in out.items()}


def _fail_on(case: str) -> str:
    """The threshold at which this case's own code fails the run."""
    codes = {c for cs in CASES[case][1].values() for c in cs}
    return min(BY_CODE[c].severity for c in codes).label


def _assert_run(case: str, exit_code: int, stdout: str, stderr: str) -> None:
    assert exit_code == 1, (exit_code, stdout[-2000:], stderr[-2000:])
    assert "Traceback" not in stdout + stderr
    doc = json.loads(stdout)
    assert _codes_by_path(doc) == CASES[case][1]
    summary = doc["summary"]
    assert summary["findings"] == sum(len(v) for v in CASES[case][1].values())
    assert summary["files"] == sum(summary["by_status"].values()) == len(CASES[case][1])


@pytest.mark.parametrize("case", _params())
def test_hostile_case_in_process(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:  # type: ignore[no-untyped-def]
    _build(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    with deadline(60):
        result = cli(["validate", "case", "-o", "json", "--fail-on", _fail_on(case), "-j", "1"])
    _assert_run(case, result.exit_code, result.stdout, result.stderr)


def test_each_case_reports_its_own_code_at_its_severity() -> None:
    expected = {"F001": Severity.ERROR, "P001": Severity.ERROR, "F010": Severity.ERROR, "F009": Severity.WARNING,
                "P003": Severity.ERROR, "P004": Severity.ERROR, "X052": Severity.WARNING, "P002": Severity.WARNING,
                "F011": Severity.ERROR, "F003": Severity.ERROR, "F005": Severity.ERROR, "F006": Severity.ERROR}
    used = {c for _, paths in CASES.values() for cs in paths.values() for c in cs}
    assert used == set(expected)
    assert {c: BY_CODE[c].severity for c in used} == expected


@pytest.mark.skipif(not HAS_SPECIALS, reason="needs symlinks and FIFOs")
def test_whole_hostile_pack_in_a_real_process(tmp_path: Path) -> None:
    """All cases side by side in one pack, run as users run it: every one reported, exit 1 at the
    default threshold (the pack-level duplicate rules are ignored: the clean copies share a sound)."""
    pack = tmp_path / "pack"
    pack.mkdir()
    expected: dict[str, list[str]] = {}
    for case, (builder, paths) in CASES.items():
        folder = pack / case
        folder.mkdir()
        builder(folder)
        expected.update({f"pack/{case}/{p}": codes for p, codes in paths.items()})
    # One real process for every case (a FIFO or a link loop would hang or crash it), reports too.
    args = ["validate", "pack", "-o", "json", "--ignore", "Q001,Q002", "--color", "never",
            "--report", "concise:concise.txt", "--report", "full:full.txt"]
    proc = run_subprocess(args, cwd=tmp_path, timeout=90)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    for report in ("concise.txt", "full.txt"):
        text = (tmp_path / report).read_text(encoding="utf-8")
        assert "Traceback" not in text
        assert all(path in text for path in expected), report
    found: dict[str, list[str]] = {}
    for f in json.loads(proc.stdout)["findings"]:
        found.setdefault(f["path"], []).append(f["code"])
    assert {k: sorted(v) for k, v in found.items()} == expected


def test_truncated_json_has_line_and_column(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "case"
    folder.mkdir()
    _write(folder, b'{\n  "format_version": "1.0",\n  "metadata": {"name": ')
    monkeypatch.chdir(tmp_path)
    result = cli(["validate", "case", "-o", "concise", "-q"])
    assert result.exit_code == 1
    assert result.stdout == f"case/{NAME}.json:3:24: P001 [error] invalid JSON: unexpected end of data\n"


def test_invalid_utf8_reports_the_byte_offset(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "case"
    folder.mkdir()
    _write(folder, b'{"metadata": {"name": "caf\xe9"}}')
    monkeypatch.chdir(tmp_path)
    finding = json.loads(cli(["validate", "case", "-o", "json"]).stdout)["findings"][0]
    assert (finding["code"], finding["offset"], finding["message"]) == ("F010", 26, "invalid UTF-8 at byte 26")


def test_over_the_size_limit_is_never_read(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "case"
    folder.mkdir()
    _write(folder, CLEAN_TEXT.encode())
    monkeypatch.chdir(tmp_path)
    result = cli(["validate", "case", "-o", "json", "--max-file-size", "100"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [f["code"] for f in doc["findings"]] == ["F002"]
    assert doc["summary"]["by_status"]["skipped"] == 1


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_link_inside_the_folder_is_reported_and_its_target_checked_in_place(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    _write(folder, CLEAN_TEXT.encode())
    (folder / "Alias.json").symlink_to(folder / f"{NAME}.json")
    monkeypatch.chdir(tmp_path)
    doc = json.loads(cli(["validate", "case", "-o", "json"]).stdout)
    assert _codes_by_path(doc) == {"Alias.json": ["F004"]}
    assert doc["summary"]["by_status"] == {"validated": 1, "recognized": 0, "unknown": 0, "skipped": 1, "broken": 0}


def test_default_excludes_skip_vcs_folders(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "case"
    (folder / ".git").mkdir(parents=True)
    _write(folder / ".git", b"{")
    _write(folder, b"{", "Broken.json")
    monkeypatch.chdir(tmp_path)
    doc = json.loads(cli(["validate", "case", "-o", "json", "--exclude", "Broken*"]).stdout)
    assert doc["summary"]["files"] == 0
    doc = json.loads(cli(["validate", "case", "-o", "json"]).stdout)
    assert _codes_by_path(doc) == {"Broken.json": ["P001"]}


def test_missing_path_is_a_usage_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "presetctl: error: cannot access" in result.stderr
