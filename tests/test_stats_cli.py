"""``presetctl stats`` on the command line: --json, --csv, --html, --aliases (and `fix` reading
them), section selection, hostile text, exit codes."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import require_corpus

from presetctl.engine.stats.model import SECTIONS

HOSTILE_CATEGORY = "=HYPERLINK(\"http://x\")\x1b[31m[bold]red[/bold]<script>alert(1)</script>\u202e"


def _preset(name: str, category: str, author: str = "Ada", cutoff: float = 0.5, **meta: Any) -> bytes:
    doc = {
        "format_version": "1.0",
        "metadata": {"name": name, "author": author, "category": category, **meta},
        "parameters": [{"name": "cutoff", "type": "float", "value": cutoff, "min": 0, "max": 1},
                       {"name": "resonance", "type": "float", "value": 0.25, "min": 0, "max": 1}],
    }
    return json.dumps(doc).encode()


@pytest.fixture
def small_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pack = tmp_path / "pack"
    (pack / "bass").mkdir(parents=True)
    (pack / "bass" / "Deep.json").write_bytes(_preset("Deep", "Bass"))
    (pack / "bass" / "Deep copy.json").write_bytes(_preset("Deep copy", "BASS", author="Bob"))
    (pack / "bass" / "Deeper.json").write_bytes(_preset("Deeper", "Basses", cutoff=0.505))
    (pack / "Evil.json").write_bytes(_preset("Evil", HOSTILE_CATEGORY, cutoff=0.9))
    (pack / "notes.txt").write_bytes(b"not a preset")
    monkeypatch.chdir(tmp_path)
    return pack


def test_json_contract(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == list(SECTIONS)
    assert data["overview"]["files"] == 5
    assert data["overview"]["by_format"] == {"presetctl": 4, "unknown": 1}
    assert data["overview"]["unknown"] == ["pack/notes.txt"]
    assert data["duplicates"]["exact"] == [["pack/bass/Deep copy.json", "pack/bass/Deep.json"]]
    near = data["duplicates"]["near"]
    assert [c["paths"] for c in near] == [["pack/bass/Deep copy.json", "pack/bass/Deep.json", "pack/bass/Deeper.json"]]
    assert near[0]["distance"] == pytest.approx(0.005 / 2 ** 0.5, abs=1e-6)  # RMS over 2 parameters
    assert data["taxonomy"]["category_aliases"] == {"BASS": "Bass", "Basses": "Bass"}
    assert data["taxonomy"]["categories"][HOSTILE_CATEGORY] == 1  # JSON keeps the value exactly
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout  # ... as escapes


def test_section_selection_and_threshold(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json", "--section", "duplicates", "--threshold", "0.001"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["duplicates"] and data["duplicates"]["near"] == []
    result = cli(["stats", "pack", "--json", "-s", "overview,history"])
    assert list(json.loads(result.stdout)) == ["overview", "history"]
    result = cli(["stats", "pack", "--json", "-s", "history"])
    history = json.loads(result.stdout)["history"]
    assert history["available"] is True  # the two stats runs before this one (itself left out), no findings yet
    assert [r["command"] for r in history["runs"]] == ["stats", "stats"] and history["findings_over_time"] == {}


def test_terminal_output_is_safe(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--color", "always"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    # Colour comes from presetctl's own styles only; the preset's escape sequence is shown, not run.
    assert "\\x1b[31m[bold]red[/bold]" in out and "\u202e" not in out and "\\u202e" in out
    assert "\x1b[31m[bold]" not in out
    for heading in ("Overview", "Taxonomy", "Duplicates", "Naming", "Sound", "History",
                    "no run over these targets is recorded yet"):
        assert heading in out
    assert "\u2588" in out  # bar charts are drawn


def test_csv_neutralizes_formulas(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--csv", "-s", "taxonomy"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "table", "row", "column", "value"]
    hostile = [r for r in rows if r[1] == "categories" and "HYPERLINK" in r[2]]
    assert len(hostile) == 1
    assert hostile[0][2].startswith("'=HYPERLINK") and "\x1b" not in hostile[0][2] and "\\x1b" in hostile[0][2]
    assert ["taxonomy", "category_aliases", "BASS", "becomes", "Bass"] in rows
    for r in rows[1:]:
        assert len(r) == 5 and not r[4].startswith(("=", "+", "-", "@"))


def test_json_and_csv_exclusive(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json", "--csv"])
    assert result.exit_code == 2 and "choose one of --json and --csv" in result.stderr


def test_usage_errors(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "-s", "colours"])
    assert result.exit_code == 2 and "unknown section 'colours'" in result.stderr
    result = cli(["stats", "pack", "--taxonomy", "nope"])
    assert result.exit_code == 2 and "unknown profile 'nope'" in result.stderr
    result = cli(["stats", "missing-folder"])
    assert result.exit_code == 2 and "cannot access" in result.stderr


def test_html_page_escapes_everything(cli, small_pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = tmp_path / "out" / "stats.html"
    page.parent.mkdir()
    result = cli(["stats", "pack", "--quiet", "--html", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\x1b" not in text and "\u202e" not in text
    assert "http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'" in text
    for tag in ("<link", "<img", "src=", "url(", "@import"):
        assert tag not in text  # no external or embedded assets to fetch


def test_taxonomy_profile_option(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json", "-s", "taxonomy", "--taxonomy", "nks"])
    assert result.exit_code == 0, result.output
    tax = json.loads(result.stdout)["taxonomy"]
    assert tax["taxonomy"] == ["nks"] and tax["category_aliases"] == {"BASS": "Bass", "Basses": "Bass"}


def test_aliases_file_is_what_fix_reads(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The alias table is consumed by `fix` directly: after fixing, no drift is left."""
    src = require_corpus("helm/mtytel__helm/patches/Factory Presets")
    pack = tmp_path / "pack"
    for folder in ("Bass", "Pad"):
        shutil.copytree(src / folder, pack / folder)
    for f in pack.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    monkeypatch.chdir(tmp_path)
    before = json.loads(cli(["stats", "pack", "--json", "-s", "taxonomy"]).stdout)["taxonomy"]
    assert before["category_aliases"] == {"BASS": "Bass", "PAD": "Pad"}
    result = cli(["stats", "pack", "--quiet", "-s", "overview", "--aliases", "aliases.toml"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "aliases.toml").read_text()
    assert '[category-aliases]\n"BASS" = "Bass"\n"PAD" = "Pad"\n' in text
    fixed = cli(["fix", "pack", "--config", "aliases.toml", "--no-fsync", "--select", "M004", "-q"])
    assert fixed.exit_code == 0, fixed.output
    after = json.loads(cli(["stats", "pack", "--json", "-s", "taxonomy"]).stdout)["taxonomy"]
    assert after["drift"]["categories"] == [] and after["category_aliases"] == {}
    assert after["categories"]["Bass"] == before["categories"]["Bass"] + before["categories"]["BASS"]


def test_undecodable_file_name(cli, small_pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file name that is not UTF-8 is shown escaped in every output, never an encoding crash."""
    import os

    raw = os.fsencode(small_pack) + b"/bad\xff name.json"
    with open(raw, "wb") as fh:
        fh.write(_preset("Bad", "Bass"))  # the sound of Deep.json: listed among exact duplicates
    shown = "pack/bad\\udcff name.json"  # the undecodable byte as a visible escape
    result = cli(["stats", "pack", "--json", "-s", "duplicates"])
    assert result.exit_code == 0, result.output
    assert shown in json.loads(result.stdout)["duplicates"]["exact"][0]
    page = tmp_path / "p.html"
    for args in (["--csv"], ["--color", "never"], ["--quiet", "--html", str(page)]):
        result = cli(["stats", "pack", "-s", "duplicates", *args])
        assert result.exit_code == 0, (args, result.output)
        assert shown in (result.stdout if "--html" not in args else page.read_text())


def test_config_minimum_versions(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    pack.mkdir()
    for i, version in enumerate(("1.0.7", "1.5.5", "2.0", "1.0.7")):
        (pack / f"p{i}.json").write_bytes(_preset(f"p{i}", "Bass", cutoff=i / 10, synth={"name": "Vital", "version": version}))
    (tmp_path / "presetctl.toml").write_text('[pack]\nmin-versions = { presetctl = "1.5" }\n')
    monkeypatch.chdir(tmp_path)
    result = cli(["stats", "pack", "--json", "-s", "naming", "--config", "presetctl.toml"])
    assert result.exit_code == 0, result.output
    versions = json.loads(result.stdout)["naming"]["versions"]["presetctl"]
    assert versions == {"versions": {"1.0.7": 2, "1.5.5": 1, "2.0": 1}, "minimum": "1.5", "below_minimum": 2}
    result = cli(["stats", "pack", "-s", "naming", "--config", "missing.toml"])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_csv_keeps_every_row(cli, small_pack: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--csv", "-s", "taxonomy", "--top", "1"])
    rows = [r for r in csv.reader(io.StringIO(result.stdout)) if r[1] == "categories"]
    assert len(rows) == 4  # Bass, BASS, Basses and the hostile one, though --top is 1
