"""Labels of ``presetctl stats`` (issue 9, "small things a new user hit"): Surge patch revisions,
Ableton versions, multi-line metadata in tables, and Surge's modulation sources by name."""

from __future__ import annotations

import csv
import gzip
import io
import json
import struct
from collections.abc import Sequence
from pathlib import Path

import pytest

from presetctl.engine.formats import surge_names
from presetctl.engine.formats.surge_names import modsource_name, revision_label


def _surge(revision: str | None, sources: Sequence[str] = ()) -> bytes:
    """A minimal Surge patch (fxp header, sub3 header, XML): one parameter modulated by ``sources``."""
    rev = b"" if revision is None else b' revision="' + revision.encode() + b'"'
    routes = b"".join(b'<modrouting source="' + s.encode() + b'" depth="0.5" />' for s in sources)
    xml = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><patch' + rev + b'>'
           b'<meta name="Acid" category="Leads" author="Me" /><parameters><a_osc1_pitch type="2" value="0.0">'
           + routes + b"</a_osc1_pitch></parameters></patch>")
    chunk = b"sub3" + struct.pack("<7I", len(xml), 0, 0, 0, 0, 0, 0) + xml
    head = struct.pack(">4sI4sI4sII28sI", b"CcnK", 0, b"FPCh", 1, b"cjs3", 1, 1, b"Acid", len(chunk))
    data = head + chunk
    return data[:4] + struct.pack(">I", len(data) - 8) + data[8:]


def _ableton(creator: str) -> bytes:
    return gzip.compress(b'<?xml version="1.0" encoding="UTF-8"?>\n<Ableton MajorVersion="5" Creator="'
                         + creator.encode() + b'"><GroupDevicePreset /></Ableton>\n')


def _presetctl(name: str, author: str, category: str) -> bytes:
    return json.dumps({"format_version": "1.0", "metadata": {"name": name, "author": author, "category": category},
                       "parameters": [{"name": "cutoff", "type": "float", "value": 0.5, "min": 0, "max": 1}]}).encode()


@pytest.fixture
def pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    return folder


def _json(cli, *args: str) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json", *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def _text(cli, *args: str) -> str:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--quiet", *args])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert isinstance(text, str)
    return text


# --- Surge revisions are not "Surge XT 11" ----------------------------------------------------------

def test_surge_revision_is_shown_as_a_patch_revision(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    for revision in ("4", "11", "23", "99"):
        (pack / f"r{revision}.fxp").write_bytes(_surge(revision))
    overview = _json(cli, "-s", "overview")["overview"]
    assert overview["by_version"] == {"surge-fxp": {  # the same keys as before, honest values
        "Surge patch revision 11 (Surge 1.6.2)": 1,
        "Surge patch revision 23 (Surge XT 1.3.2)": 1,
        "Surge patch revision 4 (before Surge 1.2.0)": 1,
        "Surge patch revision 99": 1,
    }}
    text = _text(cli, "-s", "overview")
    assert "Surge patch revision 11 (Surge 1.6.2)" in text and "Surge XT 1.3.2" in text
    assert "Surge XT 11" not in text and "Surge XT 99" not in text


@pytest.mark.parametrize(("revision", "label"), [
    ("9", "Surge patch revision 9 (between Surge 1.2.0 and 1.6.1)"),
    ("12", "Surge patch revision 12 (Surge 1.6.3 to 1.6.x)"),
    ("16", "Surge patch revision 16 (Surge 1.9.x)"),
    ("17", "Surge patch revision 17 (Surge XT 1.0.x)"),
    ("20", "Surge patch revision 20 (Surge XT 1.1.x)"),
    ("29", "Surge patch revision 29"),  # no release named in Surge's source: the number alone
    (" 13 ", "Surge patch revision 13 (Surge 1.7.x)"),
    ("x17", "Surge patch revision x17"),
    ("", "Surge patch (no revision)"),
    (None, "Surge patch (no revision)"),
])
def test_revision_label(revision: str | None, label: str) -> None:
    assert revision_label(revision) == label


# --- Ableton version printed once -------------------------------------------------------------------

def test_ableton_version_is_printed_once(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    (pack / "Rack.adg").write_bytes(_ableton("Ableton Live 10.1.9"))
    (pack / "Old.adv").write_bytes(_ableton("Ableton Live"))  # no version in Creator
    (pack / "Bare.adv").write_bytes(_ableton("11.0"))  # nothing but a version
    overview = _json(cli, "-s", "overview")["overview"]
    assert overview["by_version"] == {"ableton": {"Ableton Live (no version)": 1, "Ableton Live 10.1.9": 1,
                                                  "ableton 11.0": 1}}
    text = _text(cli, "-s", "overview")
    assert "Ableton Live 10.1.9 " in text and "10.1.9 10.1.9" not in text


# --- multi-line metadata does not break tables ------------------------------------------------------

AUTHOR = "Cris Owl Alvarez\nLicensed under LGPL v2"  # as real ZynAddSubFX banks have it
CATEGORY = "Bass\r\nSub\u2028Deep"


def _multiline_pack(pack: Path) -> None:
    (pack / "a.json").write_bytes(_presetctl("A", AUTHOR, CATEGORY))
    (pack / "b.json").write_bytes(_presetctl("B", AUTHOR, "Pad"))


def test_multiline_metadata_keeps_one_row_per_value(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    _multiline_pack(pack)
    shown_author = "Cris Owl Alvarez\\x0aLicensed under LGPL v2"
    shown_category = "Bass\\x0d\\x0aSub\\u2028Deep"

    text = _text(cli, "-s", "taxonomy")
    assert "\r" not in text and "\u2028" not in text
    rows = [line for line in text.splitlines() if "Cris Owl" in line and line.startswith("\u2502")]
    assert any(shown_author in r and r.rstrip().endswith("2 \u2502") for r in rows), rows  # the Authors row, whole
    assert not any(line.strip("\u2502 ").startswith("Licensed") for line in text.splitlines())
    assert any(shown_category in line and line.startswith("\u2502") for line in text.splitlines())

    result = cli(["stats", "pack", "--csv", "-s", "taxonomy"])
    assert result.exit_code == 0, result.output
    records = list(csv.reader(io.StringIO(result.stdout)))
    assert len(records) == result.stdout.count("\n")  # one line per record: no value spans lines
    assert ["taxonomy", "authors", shown_author, "presets", "2"] in records
    assert ["taxonomy", "categories", shown_category, "presets", "1"] in records

    page = pack.parent / "stats.html"
    assert cli(["stats", "pack", "--quiet", "-s", "taxonomy", "--html", str(page)]).exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert f"<td>{shown_author}</td>" in html and f"<td>{shown_category}</td>" in html
    assert "Alvarez\n" not in html and "\u2028" not in html

    taxonomy = _json(cli, "-s", "taxonomy")["taxonomy"]  # JSON keeps the exact values
    assert taxonomy["authors"] == {AUTHOR: 2}
    assert taxonomy["categories"] == {CATEGORY: 1, "Pad": 1}


# --- modulation sources by name ---------------------------------------------------------------------

def test_surge_modulation_sources_by_name(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    (pack / "new.fxp").write_bytes(_surge("11", ("6", "17", "7", "14", "99")))
    # Before revision 9 Surge had 7 macros: ids above Macro 7 were one lower (SurgePatch::load_xml).
    (pack / "old.fxp").write_bytes(_surge("4", ("16", "14", "13")))
    (pack / "none.fxp").write_bytes(_surge(None, ("16",)))  # no revision: Surge reads 0
    sources = _json(cli, "-s", "sound")["sound"]["modulations"]
    assert isinstance(sources, dict)
    assert sources["sources"] == {"Voice LFO 1": 3, "Amp EG": 1, "Macro 1": 1, "Macro 7": 1, "Macro 8": 1,
                                  "Modwheel": 1, "modsource 99": 1}
    text = _text(cli, "-s", "sound")
    assert "Voice LFO 1" in text and "modsource 17" not in text and "modsource 6" not in text


@pytest.mark.parametrize(("source", "revision", "name"), [
    ("0", 11, "Off"), ("6", 11, "Modwheel"), ("14", 11, "Macro 8"), ("15", 11, "Amp EG"), ("16", 11, "Filter EG"),
    ("17", 11, "Voice LFO 1"), ("23", 11, "Scene LFO 1"), ("28", 11, "Scene LFO 6"), ("29", 17, "Timbre"),
    ("40", 23, "Latest Key"), ("13", 8, "Macro 7"), ("14", 8, "Amp EG"), ("16", 0, "Voice LFO 1"),
    ("27", 8, "Scene LFO 6"), ("41", 23, "modsource 41"), ("40", 8, "modsource 40"), ("-1", 11, "modsource -1"),
    ("x", 11, "modsource x"), (None, 11, "modsource None"), ("6.0", 11, "Modwheel"),
])
def test_modsource_name(source: str | None, revision: int, name: str) -> None:
    assert modsource_name(source, revision) == name


def test_modsource_table_is_surges_enum() -> None:
    # enum modsources in src/common/ModulationSource.h: 41 sources, ms_ctrl7 = 13, ms_latest_key = 40
    assert len(surge_names.MODSOURCE_NAMES) == 41 and len(set(surge_names.MODSOURCE_NAMES)) == 41
    assert surge_names.MODSOURCE_NAMES[surge_names.MS_CTRL7] == "Macro 7"
    assert surge_names.stored_revision(None) == 0 and surge_names.stored_revision("12abc") == 12
