"""Duplicates are reported once per group (Q001 same sound, Q002 same name, different sound), never both
for one pair; placeholder names (empty DX7 slots) are neither duplicates nor name collisions; messages
say what is true and name a voice of the same bank by its number."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from presetctl import api
from presetctl.engine.model import Location, Related
from presetctl.engine.names import is_placeholder

INIT = b"INIT VOICE"


def voice(sound: int, name: bytes) -> bytes:
    """A packed DX7 voice: 118 parameter bytes derived from ``sound`` (all in range), a 10-byte name."""
    return bytes((sound * 7 + i) % 50 for i in range(118)) + name.ljust(10, b" ")[:10]


def bank(*voices: tuple[int, bytes]) -> bytes:
    """A 32-voice bank; slots not given are init voices (sound 0, `INIT VOICE`)."""
    data = b"".join(voice(s, n) for s, n in voices) + voice(0, INIT) * (32 - len(voices))
    return b"\xf0\x43\x00\x09\x20\x00" + data + bytes([(-sum(data)) & 0x7F, 0xF7])


def check(tmp_path: Path, banks: dict[str, bytes], *extra: str) -> list[dict[str, object]]:
    pack = tmp_path / "pack"
    pack.mkdir(exist_ok=True)
    for name, data in banks.items():
        (pack / name).write_bytes(data)
    result = api.validate(["pack"], api.Options(jobs=1, select=("Q001", "Q002"), profiles=extra), cwd=str(tmp_path))
    return [{"path": f.path, "code": f.code, "voice": f.location.voice, "message": f.message,
             "related": [(r.path, r.location.voice, r.name) for r in f.related]} for f in result.findings]


@pytest.mark.parametrize("name", ["INIT VOICE", "init voice", " INIT  VOICE ", "----------", "??????????", "\0" * 10,
                                  " " * 10, "", "-?-? ", "\x07\x01\x02", "Init", "Untitled", None, "\xad\xad"])
def test_placeholder_names(name: str | None) -> None:
    assert is_placeholder(name)


@pytest.mark.parametrize("name", ["BRASS   1", "Init Saw", "E.PIANO 1", "--LEAD--", "A", "?!", "INIT VOICE2", "Café"])
def test_real_names_are_not_placeholders(name: str) -> None:
    assert not is_placeholder(name)


def test_empty_slots_are_neither_duplicates_nor_name_collisions(tmp_path: Path) -> None:
    # 31 init voices with one sound, and pairs of dashes, question marks, blanks and NULs with different sounds.
    fillers = [(10, b"-" * 10), (11, b"-" * 10), (12, b"?" * 10), (13, b"?" * 10), (14, b" " * 10),
               (15, b" " * 10), (16, b"\0" * 10), (17, b"\0" * 10)]
    assert check(tmp_path, {"dexed.syx": bank((1, b"XTALPAD")), "fill.syx": bank(*fillers)}) == []


def test_a_same_bank_copy_names_the_voice_not_the_file(tmp_path: Path) -> None:
    data = bank((1, b"PAD 1"), (2, b"BASS"), (1, b"PAD 2"))
    assert check(tmp_path, {"a.syx": data}) == [
        {"path": "pack/a.syx", "code": "Q001", "voice": 1,
         "message": "same sound as 1 other preset, under other names: voice 3 'PAD 2'",
         "related": [("pack/a.syx", 3, "PAD 2")]}]


def test_same_sound_and_name_is_q001_only_and_says_so(tmp_path: Path) -> None:
    found = check(tmp_path, {"a.syx": bank((1, b"BRASS 1")), "b.syx": bank((1, b"BRASS 1"))})
    assert found == [{"path": "pack/a.syx", "code": "Q001", "voice": 1,
                      "message": "same sound and name as 1 other preset: pack/b.syx (voice 1)",
                      "related": [("pack/b.syx", 1, "BRASS 1")]}]
    assert "only name or metadata differ" not in json.dumps(found)


def test_q001_and_q002_never_report_the_same_pair(tmp_path: Path) -> None:
    # STRINGS in a (sound 1), b (sound 2: a real name collision) and c (a copy of a's sound).
    found = check(tmp_path, {"a.syx": bank((1, b"STRINGS")), "b.syx": bank((3, b"X"), (2, b"strings")),
                             "c.syx": bank((4, b"Y"), (5, b"Z"), (1, b"STRINGS"))})
    assert found == [
        {"path": "pack/a.syx", "code": "Q001", "voice": 1,
         "message": "same sound and name as 1 other preset: pack/c.syx (voice 3)",
         "related": [("pack/c.syx", 3, "STRINGS")]},
        {"path": "pack/a.syx", "code": "Q002", "voice": 1,
         "message": "name 'STRINGS' is also used by 1 other preset with a different sound: pack/b.syx (voice 2)",
         "related": [("pack/b.syx", 2, "strings")]},
    ]


def test_a_big_group_is_one_finding_naming_five_and_counting_the_rest(tmp_path: Path) -> None:
    banks = {f"b{i}.syx": bank((9, b"SAME %d" % i)) for i in range(8)}
    (found,) = check(tmp_path, banks)
    assert found["message"] == ("same sound as 7 other presets, under other names: pack/b1.syx (voice 1) 'SAME 1', "
                                "pack/b2.syx (voice 1) 'SAME 2', pack/b3.syx (voice 1) 'SAME 3', "
                                "pack/b4.syx (voice 1) 'SAME 4', pack/b5.syx (voice 1) 'SAME 5' and 2 more")
    assert found["related"] == [(f"pack/b{i}.syx", 1, f"SAME {i}") for i in range(1, 8)]


def test_every_member_reaches_json_sarif_and_show_duplicates(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    pack.mkdir()
    for i in range(7):
        (pack / f"b{i}.syx").write_bytes(bank((9, b"SAME %d" % i)))
    monkeypatch.chdir(tmp_path)
    args = ["validate", "pack", "--select", "Q001"]
    (finding,) = json.loads(cli([*args, "-o", "json"]).stdout)["findings"]
    assert finding["related"] == [{"path": f"pack/b{i}.syx", "location": "voice 1", "voice": 1, "name": f"SAME {i}"}
                                  for i in range(1, 7)]
    (result,) = json.loads(cli([*args, "-o", "sarif"]).stdout)["runs"][0]["results"]
    assert [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["message"]["text"])
            for r in result["relatedLocations"]] == [(i, f"pack/b{i}.syx", f"voice 1 'SAME {i}'") for i in range(1, 7)]
    plain = cli([*args, "-o", "concise"]).stdout
    assert "    = " not in plain and "and 1 more" in plain
    shown = cli([*args, "-o", "concise", "--show-duplicates"]).stdout.splitlines()
    assert shown[1:7] == [f"    = pack/b{i}.syx (voice 1) 'SAME {i}'" for i in range(1, 7)]
    full = cli([*args, "--show-duplicates", "--color", "never"]).stdout
    assert all(f"      = pack/b{i}.syx (voice 1) 'SAME {i}'" in full for i in range(1, 7))


def test_the_viewer_reads_the_members_back(tmp_path: Path) -> None:
    from presetctl.report.browse.source import finding_from_dict
    from presetctl.report.json_report import finding_dict

    pack = {f"b{i}.syx": bank((9, b"SAME %d" % i)) for i in range(3)}
    check(tmp_path, pack)
    result = api.validate(["pack"], api.Options(jobs=1, select=("Q001",)), cwd=str(tmp_path))
    (f,) = result.findings
    assert finding_from_dict(json.loads(json.dumps(finding_dict(f)))).related == (
        Related("pack/b1.syx", Location(voice=1), "SAME 1"), Related("pack/b2.syx", Location(voice=1), "SAME 2"))


def test_the_viewer_detail_pane_lists_every_member(tmp_path: Path) -> None:
    from rich.console import Console

    from presetctl.report.browse.richtext import detail

    check(tmp_path, {f"b{i}.syx": bank((9, b"SAME %d" % i)) for i in range(8)})
    (f,) = api.validate(["pack"], api.Options(jobs=1, select=("Q001",)), cwd=str(tmp_path)).findings
    console = Console(width=200, record=True, color_system=None)
    console.print(detail(f, lambda code: None, None))
    text = console.export_text()
    assert "also      pack/b1.syx (voice 1) 'SAME 1'\n" in text
    assert all(f"          pack/b{i}.syx (voice 1) 'SAME {i}'\n" in text for i in range(2, 8))
