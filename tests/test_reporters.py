"""Every reporter, byte for byte, on one hand-built run full of hostile text; CI formats validated
against their official schemas (tests/schemas/, see its README for sources and licences).

Regenerate the golden files after an intended change with ``PRESETCTL_UPDATE_GOLDEN=1``, then
review the diff of tests/golden/ like code.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from presetctl.engine.model import (
    FileOutcome,
    FileStatus,
    Finding,
    Location,
    RunResult,
    SecuritySeverity,
    Severity,
    StageTiming,
)
from presetctl.report import github, gitlab, sarif
from presetctl.report.base import ReportContext
from presetctl.report.registry import REPORTERS

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
SCHEMAS = HERE / "schemas"
UPDATE = os.environ.get("PRESETCTL_UPDATE_GOLDEN") == "1"
EXTENSIONS = {"json": "json", "json-lines": "jsonl", "sarif": "sarif", "junit": "xml", "gitlab": "json"}
CI_FORMATS = ("sarif", "junit", "github", "gitlab")

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

# Hostile text: an SGR sequence, an OSC 8 link ended by BEL, the 8-bit CSI (C1), a right-to-left
# override, markup, workflow-command and CSV metacharacters, a CRLF and quotes.
EVIL_NAME = 'Evil\x1b[2J\x1b]8;;https://x.invalid\x07link\x9b31m\u202egnp.\u202c <script>alert("x")</script>'
EVIL_PATH = "pack/evil\x1b[31m\u202e.json"
BASS = "pack/Bass 01.json"
BANK = "pack/bank.syx"
PADS = "pack/Pads.vitalbank"
CLEAN = "pack/Clean, 50% : Pad.json"
HUGE = "pack/huge.vital"

FINDINGS = (
    Finding(BASS, "M001", E, "preset name is missing", Location(pointer="/metadata/name"), line=3, column=5,
            hint='add "name" to "metadata"', rule_name="missing-name"),
    Finding(BASS, "M002", W, "preset has no author", Location(pointer="/metadata/author"), line=1, column=1,
            fixable=True, rule_name="missing-author"),
    # Two findings with the same path, code and location: fingerprints must still differ.
    Finding(BASS, "P002", W, 'duplicate key "gain" in object', Location(pointer="/parameters/0"), line=7,
            column=9, rule_name="duplicate-key"),
    Finding(BASS, "P002", W, 'duplicate key "gain" in object', Location(pointer="/parameters/0"), line=12,
            column=9, rule_name="duplicate-key"),
    Finding(BANK, "F011", E, "binary content in a file with a text extension", Location(offset=6),
            rule_name="binary-content"),
    Finding(BANK, "N006", E, f"name '{EVIL_NAME}' contains control or invisible formatting characters",
            Location(voice=7), hint="Remove the characters.", rule_name="name-control-characters"),
    Finding(PADS, "M004", W, 'category "<script>alert(1)</script>" is not in the taxonomy',
            Location(entry="Pads/Warm\u202egnp.vital", pointer="/preset_style"), rule_name="unknown-category"),
    # A security finding whose code no registered rule has (yet): a minimal rule descriptor.
    Finding(PADS, "Z901", E, "script-like content: <script>fetch('https://x.invalid/?a=1,b=2')</script>",
            Location(entry="Pads/evil.vital", offset=77), security=SecuritySeverity.HIGH,
            rule_name="embedded-script"),
    Finding(EVIL_PATH, "P001", E, "invalid JSON: unexpected '\x00' (NUL) at 50%", Location(offset=10), line=1,
            column=11, hint="Fix the syntax at the reported position.", rule_name="invalid-json"),
    Finding(HUGE, "F002", E, "file is 70000000 bytes, over the 67108864-byte limit; not read",
            rule_name="file-too-large"),
    Finding(CLEAN, "M006", I, "preset has no description\r\nsecond line: 100%, done; \"quoted\"",
            Location(pointer="/metadata/description"), hint='write one, e.g. "A warm pad"',
            rule_name="missing-description"),
)

FILES = (
    FileOutcome(BASS, "presetctl", FileStatus.VALIDATED, 512, presets=1, seconds=0.0125),
    FileOutcome(CLEAN, "presetctl", FileStatus.VALIDATED, 300, presets=1, seconds=0.002),
    FileOutcome(BANK, "dx7-syx", FileStatus.VALIDATED, 4104, presets=32, seconds=0.004),
    FileOutcome(PADS, "vitalbank", FileStatus.VALIDATED, 2048, presets=3, seconds=0.03),
    FileOutcome(EVIL_PATH, "presetctl", FileStatus.BROKEN, 99, seconds=0.001),
    FileOutcome(HUGE, "vital", FileStatus.SKIPPED, 70_000_000),
    FileOutcome("pack/readme.txt", "unknown", FileStatus.UNKNOWN, 10),
    FileOutcome("pack/Lead.json", "presetctl", FileStatus.VALIDATED, 400, presets=1, seconds=0.001),
)

RESULT = RunResult(
    command="validate",
    roots=("pack",),
    files=tuple(sorted(FILES, key=lambda o: o.path)),
    findings=tuple(sorted(FINDINGS, key=Finding.sort_key)),
    timings=(StageTiming("discover", 0.01), StageTiming("check", 0.2), StageTiming("total", 0.25)),
    baseline_suppressed=2,
    started_at="2026-01-02T03:04:05+00:00",
    cwd="/home/librarian/packs",
)
CTX = ReportContext(color=False, width=100, tool_version="0.1.0-golden", fail_threshold="error")


def render(name: str, result: RunResult = RESULT, ctx: ReportContext = CTX) -> str:
    return REPORTERS[name].render(result, ctx)


def golden_path(name: str) -> Path:
    return GOLDEN / f"report.{name}.{EXTENSIONS.get(name, 'txt')}"


@pytest.mark.parametrize("name", sorted(REPORTERS))
def test_output_matches_golden_file(name: str) -> None:
    data = render(name).encode("utf-8")
    path = golden_path(name)
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"no golden file for {name!r}: run with PRESETCTL_UPDATE_GOLDEN=1 and review it"
    assert data == path.read_bytes()


def test_every_reporter_is_deterministic() -> None:
    for name in REPORTERS:
        assert render(name) == render(name), name


@pytest.mark.parametrize("name", sorted(REPORTERS))
def test_no_raw_escape_or_c1_control_reaches_the_output(name: str) -> None:
    out = render(name)
    assert "\x1b" not in out
    assert not re.search("[\x80-\x9f]", out), re.search("[\x80-\x9f]", out)
    assert "\x07" not in out


@pytest.mark.parametrize("name", CI_FORMATS)
def test_ci_formats_hide_no_bidi_or_invisible_characters(name: str) -> None:
    out = render(name)
    assert not re.search("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", out)


@pytest.mark.parametrize("name", CI_FORMATS)
def test_ci_formats_survive_an_undecodable_file_name(name: str) -> None:
    """os.scandir gives undecodable bytes as lone surrogates; UTF-8 cannot encode them."""
    odd = "pack/bad\udcff.json"
    result = replace(RESULT, files=(FileOutcome(odd, "presetctl", FileStatus.BROKEN, 5),),
                     findings=(Finding(odd, "P001", E, "invalid JSON", line=1, column=1),))
    out = render(name, result)
    out.encode("utf-8")  # would raise on a lone surrogate
    assert "\\udcff" in out or "%FF" in out


# --- SARIF -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def test_sarif_is_valid_against_the_official_schema(sarif_validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(render("sarif"))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, errors[0]
    empty = json.loads(render("sarif", replace(RESULT, findings=())))
    assert not list(sarif_validator.iter_errors(empty))
    assert empty["runs"][0]["results"] == [] and empty["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_schema_rejects_a_broken_log(sarif_validator: jsonschema.Draft4Validator) -> None:
    """The stored schema really constrains (guards against a truncated copy)."""
    log = json.loads(render("sarif"))
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(log))


def test_sarif_rules_results_and_locations() -> None:
    run = json.loads(render("sarif"))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    # Rules in order of first use (the log is written as the run goes, so ruleIndex is assigned then).
    assert [r["id"] for r in rules] == list(dict.fromkeys(res["ruleId"] for res in results))
    assert sorted(r["id"] for r in rules) == ["F002", "F011", "M001", "M002", "M004", "M006", "N006", "P001", "P002", "Z901"]
    assert len(results) == len(FINDINGS)
    for res in results:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["M001"]["defaultConfiguration"] == {"level": "error"}
    assert by_id["M006"]["defaultConfiguration"] == {"level": "note"}
    assert by_id["M001"]["fullDescription"]["text"].startswith("Reports a preset whose name is missing")
    assert "### Why is this bad?" in by_id["M001"]["help"]["markdown"]
    assert by_id["Z901"]["properties"] == {"tags": ["security"], "security-severity": "8.0"}
    assert "security-severity" not in by_id["M001"]["properties"]

    def find(code: str) -> dict:  # type: ignore[type-arg]
        return next(r for r in results if r["ruleId"] == code)

    m001 = find("M001")["locations"][0]
    assert m001["physicalLocation"]["artifactLocation"] == {"uri": "pack/Bass%2001.json", "uriBaseId": "%SRCROOT%"}
    assert m001["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 5}
    assert m001["properties"] == {"pointer": "/metadata/name"}
    f011 = find("F011")["locations"][0]
    assert f011["physicalLocation"]["region"] == {"byteOffset": 6}
    n006 = find("N006")
    assert n006["locations"][0]["properties"] == {"voice": 7}
    assert "region" not in n006["locations"][0]["physicalLocation"]
    assert EVIL_NAME in n006["message"]["text"]  # kept as it is; JSON escaping makes it safe
    z901 = find("Z901")["locations"][0]
    assert "region" not in z901["physicalLocation"]  # the offset is inside the archive member
    assert z901["properties"] == {"archiveEntry": "Pads/evil.vital", "byteOffset": 77}
    assert z901["logicalLocations"] == [{"fullyQualifiedName": "entry Pads/evil.vital byte 77", "kind": "element"}]
    evil = find("P001")["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert evil == "pack/evil%1B%5B31m%E2%80%AE.json"


def test_sarif_fingerprints_are_unique_and_do_not_move_with_lines() -> None:
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in json.loads(render("sarif"))["runs"][0]["results"]]
    assert len(set(prints)) == len(prints)
    moved = replace(RESULT, findings=tuple(replace(f, line=(f.line or 0) + 40 or None) for f in RESULT.findings))
    again = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in json.loads(render("sarif", moved))["runs"][0]["results"]]
    assert again == prints


# --- JUnit -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "JUnit.xsd"))


def test_junit_is_valid_against_the_junit_xsd(junit_schema: xmlschema.XMLSchema) -> None:
    junit_schema.validate(render("junit"))
    junit_schema.validate(render("junit", replace(RESULT, findings=(), files=())))
    junit_schema.validate(render("junit", ctx=replace(CTX, fail_threshold="info")))


def test_junit_xsd_rejects_a_broken_report(junit_schema: xmlschema.XMLSchema) -> None:
    broken = render("junit").replace(' hostname="localhost"', "")
    assert not junit_schema.is_valid(broken)


def test_junit_one_testcase_per_file_with_threshold_failures(junit_schema: xmlschema.XMLSchema) -> None:
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(render("junit"))
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == [o.format for o in RESULT.files]
    assert suite.get("tests") == "8" and suite.get("failures") == "5" and suite.get("skipped") == "1"
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    # error-level findings: Bass 01 (M001), bank (F011, N006), Pads (Z901), evil (P001), huge (F002)
    assert failed == {BASS, BANK, PADS, "pack/evil\\x1b[31m\\u202e.json", HUGE}
    names = {c.get("name"): c for c in cases}
    assert names[BANK].find("failure").get("message") == "2 findings at or above error"  # type: ignore[union-attr]
    assert names["pack/readme.txt"].find("skipped") is not None
    assert names["pack/Lead.json"].find("*") is None  # clean file: a passing testcase
    out = suite.find("system-out").text or ""  # type: ignore[union-attr]
    assert out.count("\n") == 5  # M002, 2 x P002, M004, M006: below the threshold
    at_info = ET.fromstring(render("junit", ctx=replace(CTX, fail_threshold="info")))
    assert at_info.get("failures") == "6" and not (at_info.find("system-out").text or "")  # type: ignore[union-attr]


def test_junit_replaces_characters_xml_cannot_carry() -> None:
    text = render("junit")
    assert "\\x1b[31m\\u202e" in text
    assert "\\x00" in text  # the NUL in the P001 message, as a visible escape


# --- GitHub ----------------------------------------------------------------------------------

def test_github_escaping_follows_the_actions_toolkit() -> None:
    assert github.escape_data("50%\r\nx:y,z") == "50%25%0D%0Ax:y,z"
    assert github.escape_property("50%\r\nx:y,z") == "50%25%0D%0Ax%3Ay%2Cz"


def test_github_one_command_line_per_finding() -> None:
    lines = render("github").splitlines()
    assert len(lines) == len(FINDINGS)
    assert all(re.match(r"::(error|warning|notice) file=[^:]*::", line) for line in lines)
    clean = next(line for line in lines if "M006" in line)
    assert clean.startswith("::notice file=pack/Clean%2C 50%25 %3A Pad.json,title=M006::")
    assert clean.endswith('%0Ahint: write one, e.g. "A warm pad"')
    assert "\\x0d\\x0a" in clean  # the CRLF from the file is shown, never a line break
    m001 = next(line for line in lines if "M001" in line)
    assert m001.startswith("::error file=pack/Bass 01.json,line=3,col=5,title=M001::")



def test_github_annotations_of_a_security_scan_carry_the_rating() -> None:
    """In scan-security the title names the rating and the command level follows it, not the rule's severity."""
    from presetctl.engine.model import SecuritySeverity

    finding = Finding("pack/B.vitalbank", "X031", Severity.INFO, "archive member 'x' is a symbolic link",
                      Location(entry="x"), security=SecuritySeverity.CRITICAL)
    assert github.annotation(finding, ReportContext(security=True)) == (
        "::error file=pack/B.vitalbank,title=X031 (critical)::archive member 'x' is a symbolic link [entry x]")
    assert github.annotation(finding, ReportContext()) == (
        "::notice file=pack/B.vitalbank,title=X031::archive member 'x' is a symbolic link [entry x]")
    assert github.annotation(finding) == (
        "::notice file=pack/B.vitalbank,title=X031::archive member 'x' is a symbolic link [entry x]")
    plain = Finding("pack/B.json", "M002", Severity.WARNING, "preset has no author")
    assert github.annotation(plain, ReportContext(security=True)) == (
        "::warning file=pack/B.json,title=M002::preset has no author")

# --- GitLab ----------------------------------------------------------------------------------

def test_gitlab_code_quality_fields_and_unique_fingerprints() -> None:
    issues = json.loads(render("gitlab"))
    assert len(issues) == len(FINDINGS)
    prints = [i["fingerprint"] for i in issues]
    assert len(set(prints)) == len(prints)
    assert all(re.fullmatch("[0-9a-f]{32}", p) for p in prints)
    for i in issues:
        assert set(i) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert i["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(i["location"]["lines"]["begin"], int) and i["location"]["lines"]["begin"] >= 1
    sev = {i["check_name"]: i["severity"] for i in issues}
    assert (sev["M001"], sev["M002"], sev["M006"], sev["Z901"]) == ("major", "minor", "info", "critical")
    moved = replace(RESULT, findings=tuple(replace(f, line=None) for f in RESULT.findings))
    assert [i["fingerprint"] for i in json.loads(render("gitlab", moved))] == prints
    assert gitlab.gitlab_severity(replace(FINDINGS[0], security=SecuritySeverity.LOW)) == "major"


# --- the CLI: stdout format and extra report files in one run --------------------------------

GOOD = ('{"format_version": "1.0", "metadata": {"name": "Warm Pad", "author": "A", "category": "Pad", '
        '"description": "d", "license": "CC0"}, "parameters": [{"name": "cutoff", "value": 0.5, "min": 0, "max": 1}]}')
BAD = ('{"format_version": "1.0", "metadata": {"name": "Evil\\u001b[31m\\u202e"}, '
       '"parameters": [{"name": "g", "value": 5, "min": 0, "max": 1}]}')


@pytest.fixture
def small_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "Warm Pad.json").write_text(GOOD, encoding="utf-8")
    (pack / "evil.json").write_text(BAD, encoding="utf-8")
    (pack / "broken.json").write_text(GOOD[:-1], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return pack


def test_cli_sarif_on_stdout(cli, small_pack: Path, sarif_validator: jsonschema.Draft4Validator) -> None:  # type: ignore[no-untyped-def]
    res = cli(["validate", "pack", "-o", "sarif"])
    assert res.exit_code == 1, res.output
    log = json.loads(res.stdout)
    assert not list(sarif_validator.iter_errors(log))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"pack/evil.json", "pack/broken.json"}
    assert "\x1b" not in res.stdout


def test_cli_writes_junit_and_gitlab_reports_in_the_same_run(cli, small_pack: Path,  # type: ignore[no-untyped-def]
                                                             junit_schema: xmlschema.XMLSchema) -> None:
    junit_path, gitlab_path = small_pack.parent / "out" / "junit.xml", small_pack.parent / "gl.json"
    junit_path.parent.mkdir()
    res = cli(["validate", "pack", "-o", "concise", "--report", f"junit:{junit_path}", "--report", f"gitlab:{gitlab_path}"])
    assert res.exit_code == 1, res.output
    junit_schema.validate(junit_path.read_text(encoding="utf-8"))
    issues = json.loads(gitlab_path.read_text(encoding="utf-8"))
    assert len(issues) == len(res.stdout.strip().splitlines()) - 1  # concise: one line per finding + summary
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_cli_github_format_exit_zero_when_clean(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    (small_pack / "evil.json").unlink()
    (small_pack / "broken.json").unlink()
    res = cli(["validate", "pack", "-o", "github"])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""


def test_cli_ci_reports_survive_an_undecodable_file_name(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    try:
        with open(os.fsencode(pack) + b"/bad\xff.json", "wb") as fh:
            fh.write(b"{")
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 file names")
    monkeypatch.chdir(tmp_path)
    specs = [f"{name}:{tmp_path / name}" for name in CI_FORMATS]
    res = cli(["validate", "pack", "-o", "sarif", *[a for s in specs for a in ("--report", s)]])
    assert res.exit_code == 1, res.output
    uri = json.loads(res.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "pack/bad%FF.json"  # the original byte, percent-encoded
    assert "bad\\udcff.json" in (tmp_path / "junit").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "gitlab").read_text(encoding="utf-8"))[0]["location"]["path"] == "pack/bad\\udcff.json"
