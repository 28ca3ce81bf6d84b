"""``presetctl validate``, ``rules`` and ``rule`` as users see them: exit codes, streams, output shapes,
colour, and text from presets that tries to act on the terminal."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import run_subprocess

from presetctl import __version__
from presetctl.engine.rules.registry import RULES

CLEAN: dict[str, Any] = {
    "format_version": "1.0",
    "metadata": {"name": "Warm Pad", "author": "A. Person", "category": "Pad", "tags": ["warm"],
                 "description": "Mod wheel opens the filter.", "license": "CC-BY-4.0"},
    "parameters": [{"name": "cutoff", "type": "float", "value": 0.5, "min": 0, "max": 1}],
}
FINDING_KEYS = {"path", "code", "severity", "message", "location", "line", "column", "fixable"}
ESC = "\x1b"
# Cursor/erase (CSI), a hyperlink (OSC 8), a clipboard write (OSC 52), an 8-bit CSI, rich markup and an emoji code.
HOSTILE_NAME = ("Evil\x1b[2J\x1b[H\x1b]8;;https://attacker.example/\x1b\\click\x1b]8;;\x1b\\"
                "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\x07\x9b31m[bold]Loud[/bold] :smile:")
# The same in a file name (no "/"): paths are printed as they are, through visible().
HOSTILE_FILE = "Evil\x1b[2J\x1b]8;;https:attacker.example\x1b\\click\x1b]8;;\x1b\\\x1b]52;c;Y3VybCBldmls\x07\x9b31m.json"


def preset(name: str, cutoff: float = 0.5, **meta: Any) -> str:
    """The clean preset renamed; ``cutoff`` keeps sounds distinct (else Q001 reports duplicates)."""
    doc = json.loads(json.dumps(CLEAN))
    doc["metadata"]["name"] = name
    doc["parameters"][0]["value"] = cutoff
    for key, value in meta.items():
        if value is None:
            doc["metadata"].pop(key)
        else:
            doc["metadata"][key] = value
    return json.dumps(doc, indent=2)


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pack/: a clean preset, one with a warning (M002), one with an info (M006), one broken (P001).

    M002 and M006 are in the marketplace profile, which the project's pyproject.toml switches on."""
    folder = tmp_path / "pack"
    folder.mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.presetctl]\nprofile = "marketplace"\n')
    (folder / "Warm Pad.json").write_text(preset("Warm Pad"))
    (folder / "Bass.json").write_text(preset("Bass", 0.1, author=None))
    (folder / "Keys.json").write_text(preset("Keys", 0.2, description=None))
    (folder / "Broken.json").write_text('{"format_version": "1.0",\n  "metadata": ')
    monkeypatch.chdir(tmp_path)
    return folder


def only(folder: Path, *names: str) -> None:
    for p in folder.iterdir():
        if p.name not in names:
            p.unlink()


# -- exit codes ---------------------------------------------------------------------------------------
def test_exit_0_when_clean(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    only(pack, "Warm Pad.json")
    result = cli(["validate", "pack", "-o", "concise"])
    assert result.exit_code == 0
    assert result.stdout == "1 file, 0 findings (0 errors, 0 warnings, 0 info)\n"


def test_exit_1_on_errors(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli(["validate", "pack"]).exit_code == 1


def test_default_target_is_the_current_folder(cli, pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(pack)
    result = cli(["validate", "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["files"] == 4


@pytest.mark.parametrize(("files", "fail_on", "code"), [
    (["Bass.json"], "error", 0), (["Bass.json"], "warning", 1), (["Bass.json"], "info", 1),
    (["Keys.json"], "error", 0), (["Keys.json"], "warning", 0), (["Keys.json"], "info", 1),
    (["Broken.json"], "error", 1), (["Warm Pad.json"], "info", 0),
])
def test_fail_on_threshold(cli, pack: Path, files: list[str], fail_on: str, code: int) -> None:  # type: ignore[no-untyped-def]
    only(pack, *files)
    assert cli(["validate", "pack", "--fail-on", fail_on]).exit_code == code


def test_exit_zero_forces_0_for_findings_only(cli, pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "--exit-zero", "-o", "concise"])
    assert result.exit_code == 0
    assert "P001" in result.stdout
    assert cli(["validate", "pack", "--exit-zero", "--config", str(tmp_path / "missing.toml")]).exit_code == 2


@pytest.mark.parametrize("args", [
    ["--bogus"], ["-o", "yaml"], ["--fail-on", "fatal"], ["--color", "sometimes"], ["--jobs", "0"],
    ["--report", "sarif"], ["--report", "pdf:out.pdf"], ["--select", "ZZ"], ["--ignore", "Q9"],
])
def test_usage_errors_exit_2_with_nothing_on_stdout(cli, pack: Path, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr


@pytest.mark.parametrize(("config", "message"), [
    ("[tool.presetctl]\nselekt = ['M']\n", "unknown setting 'selekt' in [tool.presetctl]"),
    ("[tool.presetctl]\nselect = 3\n", "select must be a string or a list of strings"),
    ("[tool.presetctl\n", "invalid TOML"),
    ("[tool.presetctl.severity]\nM002 = 'fatal'\n", "unknown severity 'fatal'"),
    ("[tool.presetctl.limits]\nmax-file-size = -1\n", "limits.max-file-size must be a positive number"),
])
def test_bad_config_exits_2_with_a_clear_message(cli, pack: Path, config: str, message: str) -> None:  # type: ignore[no-untyped-def]
    (pack.parent / "pyproject.toml").write_text(config)
    result = cli(["validate", "pack"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("presetctl: config error: ")
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_real_process_exit_codes_and_no_traceback(pack: Path) -> None:
    proc = run_subprocess(["validate", "pack", "-o", "concise"], cwd=pack.parent)
    assert (proc.returncode, proc.stderr) == (1, "")
    proc = run_subprocess(["validate", "missing-folder"], cwd=pack.parent)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "presetctl: error: cannot access 'missing-folder': No such file or directory\n"


# -- output shapes ------------------------------------------------------------------------------------------
def test_concise_is_one_line_per_finding_plus_summary(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "-o", "concise"])
    assert result.stdout.splitlines() == [
        "pack/Bass.json: M002 [warning] preset has no author [/metadata/author]",
        "pack/Broken.json:2:15: P001 [error] invalid JSON: unexpected end of data",
        "pack/Keys.json: M006 [info] preset has no description [/metadata/description]",
        "4 files, 3 findings (1 error, 1 warning, 1 info)",
    ]


def test_json_contract(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(cli(["validate", "pack", "-o", "json"]).stdout)
    summary = doc["summary"]
    assert {k: summary[k] for k in ("files", "presets", "findings", "error", "warning", "info", "fixable")} == {
        "files": 4, "presets": 3, "findings": 3, "error": 1, "warning": 1, "info": 1, "fixable": 1}  # M002
    assert summary["by_status"] == {"validated": 3, "recognized": 0, "unknown": 0, "skipped": 0, "broken": 1}
    assert summary["by_format"] == {"presetctl": 4}
    assert [(f["path"], f["code"], f["severity"], f["line"], f["column"]) for f in doc["findings"]] == [
        ("pack/Bass.json", "M002", "warning", None, None),  # the missing field has no line
        ("pack/Broken.json", "P001", "error", 2, 15),
        ("pack/Keys.json", "M006", "info", None, None),
    ]
    for f in doc["findings"]:
        assert FINDING_KEYS <= set(f)
        assert isinstance(f["message"], str) and isinstance(f["fixable"], bool) and isinstance(f["location"], str)
    assert doc["findings"][0]["location"] == "/metadata/author"
    assert doc["findings"][1]["location"] == "byte 40"


def test_json_lines_is_one_finding_object_per_line(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    lines = cli(["validate", "pack", "-o", "json-lines"]).stdout.splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["code"] for o in objects] == ["M002", "P001", "M006"]
    assert all(FINDING_KEYS <= set(o) for o in objects)


def test_full_report_groups_by_file_and_ends_with_a_summary(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["validate", "pack", "--color", "never"]).stdout
    assert out.index("pack/Bass.json") < out.index("M002") < out.index("pack/Broken.json") < out.index("P001")
    assert "Summary" in out
    assert re.search(r"files\s+│\s+4", out) or re.search(r"files\s+\|?\s*4", out)


def test_report_files_are_written_in_the_same_run(cli, pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "-o", "concise", "--report", f"json:{tmp_path / 'r.json'}",
                  "--report", "json-lines:r.jsonl", "--report", "sarif:r.sarif"])
    assert result.exit_code == 1
    assert json.loads((tmp_path / "r.json").read_text())["summary"]["findings"] == 3
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 3
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert result.stdout.count("\n") == 4  # stdout keeps its own format


# -- streams, colour, verbosity ----------------------------------------------------------------------------
def test_findings_on_stdout_everything_else_on_stderr(cli, pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "-o", "json", "-v"])
    json.loads(result.stdout)  # nothing but the report
    assert re.fullmatch(r"discover=\d+\.\d{3}s check=\d+\.\d{3}s pack=\d+\.\d{3}s total=\d+\.\d{3}s jobs=\d+\n"
                        r"costliest rules: (\w+ \d+(\.\d)?(us|ms|s) \(\d+%\)(, |; )){5}\S+ in \d+ rules\n",
                        result.stderr)
    result = cli(["validate", "pack", "--write-baseline", str(tmp_path / "b.json")])
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"wrote 3 findings to {tmp_path / 'b.json'}\n"


def test_quiet_drops_the_summary(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    quiet = cli(["validate", "pack", "-o", "concise", "-q"]).stdout
    assert quiet.splitlines() == cli(["validate", "pack", "-o", "concise"]).stdout.splitlines()[:-1]
    full = cli(["validate", "pack", "-q", "--color", "never"]).stdout
    assert "Summary" not in full and "P001" in full


def test_verbose_adds_fix_hints(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    plain = cli(["validate", "pack", "--color", "never"]).stdout
    verbose = cli(["validate", "pack", "--color", "never", "-v"]).stdout
    hint = "hint: Set the author; `[tool.presetctl.pack] author` fills it in."
    assert hint not in plain and hint in verbose


@pytest.mark.parametrize(("env", "flag", "colored"), [
    ({}, None, False),  # not a terminal
    ({"FORCE_COLOR": "1"}, None, True),
    ({"NO_COLOR": "1"}, None, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, None, False),  # NO_COLOR wins
    ({"NO_COLOR": "1"}, "always", True),  # an explicit flag wins over the environment
    ({"FORCE_COLOR": "1"}, "never", False),
    ({}, "always", True),
])
def test_color_follows_flag_then_no_color_then_force_color(cli, pack: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                           env: dict[str, str], flag: str | None, colored: bool) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = ["validate", "pack"] + (["--color", flag] if flag else [])
    out = cli(args).stdout
    assert (ESC in out) is colored
    assert "P001" in out


def test_color_in_a_real_process(pack: Path) -> None:
    assert ESC in run_subprocess(["validate", "pack"], cwd=pack.parent, env={"FORCE_COLOR": "1"}).stdout


def test_version(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["--version"])
    assert (result.exit_code, result.stdout) == (0, f"presetctl {__version__}\n")


# -- text from presets cannot act on the terminal -------------------------------------------------------
@pytest.fixture
def hostile_name_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A preset whose name and whose file name carry terminal escape sequences."""
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / HOSTILE_FILE).write_text(preset(HOSTILE_NAME))
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.mark.parametrize("fmt", ["full", "concise", "json", "json-lines", "sarif", "junit", "github", "gitlab"])
def test_no_raw_escape_bytes_in_any_format(cli, hostile_name_pack: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "-o", fmt, "--color", "never"])
    assert result.exit_code == 1
    assert "N006" in result.stdout and "X063" in result.stdout
    for raw in (ESC, "\x07", "\x9b", "\x9d"):
        assert raw not in result.stdout, (fmt, raw)


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_escapes_in_file_names_are_printed_visibly(cli, hostile_name_pack: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    out = cli(["validate", "pack", "-o", fmt, "--color", "never", "--select", "N006"]).stdout
    out = out.replace("\n", "")  # the full report wraps the long path
    assert "Evil\\x1b[2J\\x1b]8;;https:attacker.example\\x1b\\click\\x1b]8;;\\x1b\\" in out
    assert "\\x1b]52;c;Y3VybCBldmls\\x07\\x9b31m" in out


def test_json_keeps_the_exact_text_as_json_escapes(cli, hostile_name_pack: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["validate", "pack", "-o", "json", "--select", "N006,X063"]).stdout
    assert "\\u001b]52;c;" in out and "\\u009b31m" in out and "\\u0007" in out
    findings = json.loads(out)["findings"]
    assert {f["path"] for f in findings} == {f"pack/{HOSTILE_FILE}"}
    n006 = next(f for f in findings if f["code"] == "N006")
    assert n006["message"] == f"name {HOSTILE_NAME!r} contains control or invisible formatting characters"


def test_colored_full_report_carries_only_its_own_escape_sequences(cli, hostile_name_pack: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["validate", "pack", "--color", "always", "--select", "N006"]).stdout
    assert ESC in out  # rich's colours
    assert re.findall(r"\x1b[^\[]", out) == []  # no OSC, no other escape: only CSI ...
    assert set(re.findall(r"\x1b\[[0-9;]*([A-Za-z])", out)) == {"m"}  # ... and only colour (SGR) ones
    assert "[bold]Loud[/bold] :smile:" in out  # rich markup and emoji codes stay literal


def test_rich_markup_in_a_name_is_literal_in_every_text_format(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "Loud.json").write_text(preset("[bold red]Loud[/] :fire: [link=https://x.example]y[/link]"))
    monkeypatch.chdir(tmp_path)
    for fmt in ("full", "concise"):
        out = cli(["validate", "pack", "-o", fmt, "--color", "always", "--select", "N001"]).stdout
        assert "[bold red]Loud[/] :fire: [link=https://x.example]y[/link]" in out, fmt


# -- rules and rule ------------------------------------------------------------------------------------------
def test_rules_text_lists_every_rule(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["rules"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "name", "level", "severity", "fix", "profile", "summary"]
    assert [line.split()[0] for line in lines[1:]] == [r.code for r in RULES]
    f009 = next(line for line in lines if line.startswith("F009 "))
    assert f009.split()[:6] == ["F009", "utf8-bom", "file", "warning", "safe", "default"]
    m004 = next(line for line in lines if line.startswith("M004 "))
    assert m004.split()[:6] == ["M004", "unknown-category", "metadata", "warning", "safe", "marketplace"]


def test_rules_json(cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli(["rules", "-o", "json"]).stdout)
    assert [r["code"] for r in rows] == [r.code for r in RULES]
    p002 = next(r for r in rows if r["code"] == "P002")
    assert p002 == {"code": "P002", "name": "duplicate-key", "level": "parse", "severity": "warning",
                    "security_severity": None, "fix": "unsafe", "profile": "default",
                    "summary": "JSON object has a duplicate key"}
    assert {r["code"]: r["profile"] for r in rows}["W101"] == "audio"


def test_rules_by_level(cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli(["rules", "-o", "json", "--level", "performance"]).stdout)
    assert [r["code"] for r in rows] == ["A001", "A002", "A003"]
    assert cli(["rules", "--level", "nope"]).exit_code == 2
    assert cli(["rules", "-o", "xml"]).exit_code == 2


def test_rules_by_profile(cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli(["rules", "-o", "json", "--profile", "marketplace"]).stdout)
    assert [r["code"] for r in rows] == [r.code for r in RULES if r.profile == "marketplace"]
    assert {"M004", "Q002", "U012", "A001"} <= {r["code"] for r in rows}
    assert json.loads(cli(["rules", "-o", "json", "--profile", "default", "--level", "pack"]).stdout)[0]["code"] == "Q003"
    nope = cli(["rules", "--profile", "store"])
    assert (nope.exit_code, nope.stderr) == (2, "presetctl: error: no profile 'store' (known: default, marketplace, audio)\n")


def test_rule_prints_its_doc(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["rule", "f009"])
    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith("## F009 utf8-bom\n\nText file starts with a UTF-8 byte order mark. Level: file. "
                          "Default severity: warning. Fix: safe (remove the byte order mark).\n")
    for section in ("### What it does", "### Why is this bad?", "### Example", "### How to fix", "### Fix safety"):
        assert section in out


def test_unknown_rule_exits_2(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["rule", "Z999"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "presetctl: error: no rule 'Z999' (see `presetctl rules`)\n"


def test_undecodable_file_name_is_shown_visibly_in_every_output(cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """os.scandir gives undecodable name bytes as lone surrogates, which UTF-8 output cannot carry."""
    folder = tmp_path / "pack"
    folder.mkdir()
    try:
        with open(os.fsencode(folder) + b"/bad\xff.json", "wb") as fh:
            fh.write(b"{")
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 file names")
    monkeypatch.chdir(tmp_path)
    reports = ["json", "json-lines", "concise", "full"]
    args = [a for fmt in reports for a in ("--report", f"{fmt}:{fmt}.out")]
    result = cli(["validate", "pack", "-o", "json", "--color", "never", *args])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["findings"][0]["path"] == "pack/bad\\udcff.json"
    for fmt in reports:
        text = (tmp_path / f"{fmt}.out").read_text(encoding="utf-8")
        assert "pack/bad\\udcff.json" in text.replace("\\\\", "\\"), fmt
    for fmt in ("concise", "full", "json-lines"):
        out = cli(["validate", "pack", "-o", fmt, "--color", "never"]).stdout
        assert "bad\\udcff.json" in out.replace("\\\\", "\\"), fmt
