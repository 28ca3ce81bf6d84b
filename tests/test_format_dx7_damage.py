"""DX7 damage as it comes from real archives, and what fix makes of it: fixed-size banks with status
bytes in the data, MacBinary-wrapped and padded dumps, placeholder voice names, checksums that
follow every edit, and the factory ROM banks.

Every dump here is built by hand from the DX7 MIDI data format; every expected byte and checksum
is computed in the test (``cs`` below), never with presetctl's own functions.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_format_dx7 import VIS, bank, cs, found, load, packed_voice, single

from presetctl.engine.fix.model import Splice
from presetctl.engine.fix.planner import PlanRules, apply_splices, plan_file
from presetctl.engine.fix.writers.registry import complete_edit
from presetctl.engine.formats import dx7_syx
from presetctl.engine.names import is_placeholder
from presetctl.engine.options import Options

PROPS = settings(max_examples=60, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])


def _with_status_bytes() -> tuple[bytes, list[int]]:
    """A 4104-byte bank whose voice data holds F7 (voice 7), F0 (voice 21) and another high byte
    (voice 30), checksum correct. Returns the bank and the file offsets of those bytes."""
    voices = [packed_voice(f"VOICE {i + 1:<4}".encode()) for i in range(32)]
    places = [(6, 20, 0xF7), (20, 3, 0xF0), (29, 112, 0xC5)]  # (voice index, byte in voice, value)
    for v, at, value in places:
        raw = bytearray(voices[v])
        raw[at] = value
        voices[v] = bytes(raw)
    return bank(voices), [6 + v * 128 + at for v, at, _ in places]


def masked(data: bytes, start: int = 6, end: int = 4102) -> bytes:
    return data[:start] + bytes(b & 0x7F for b in data[start:end]) + data[end:]


# -- fixed-size banks with status bytes inside ---------------------------------------------------------
def test_fixed_size_bank_with_status_bytes_reads_all_32_voices() -> None:
    data, (f7, f0, c5) = _with_status_bytes()
    assert len(data) == 4104 and data[4102] == cs(data[6:4102]) and data[4103] == 0xF7
    doc = load(data)
    assert [p.index for p in doc.presets] == list(range(1, 33))
    assert [p.name for p in doc.presets][29:] == ["VOICE 30", "VOICE 31", "VOICE 32"]
    got = found(data)
    assert [(c, w) for c, _, w in got if c == "D005"] == [
        ("D005", f"voice 7 byte {f7}"), ("D005", f"voice 21 byte {f0}"), ("D005", f"voice 30 byte {c5}")]
    assert [c for c, _, _ in got if c != "D009"] == ["D005", "D005", "D005"]  # no cut-short bank, no stray message
    messages = [m for c, m, _ in got if c == "D005"]
    assert messages[0] == (f"voice 7 'VOICE 7': 1 data byte above 7F (first: F7 at byte {f7}); MIDI data is 7-bit: "
                           f"a synth receiving the dump drops it; the F7 at byte {f7} ends the bank early for Dexed, "
                           f"which refuses it or loads it misaligned")
    assert messages[1].startswith(f"voice 21 'VOICE 21': 1 data byte above 7F (first: F0 at byte {f0}); ")
    assert messages[2].startswith(f"voice 30 'VOICE 30': 1 data byte above 7F (first: C5 at byte {c5}); ")


def test_fixed_size_reading_needs_a_matching_checksum_or_the_whole_file() -> None:
    data, (f7, _, _) = _with_status_bytes()
    wrong = data[:4102] + bytes([(data[4102] + 1) & 0x7F]) + data[4103:]
    assert len(load(wrong).presets) == 32  # exactly a bank's size, header to F7: that bank
    assert [c for c, _, _ in found(wrong) if c in ("D001", "D004")] == ["D001"]
    # Not the whole file and the checksum does not match: the stream reading (cut short at the F7)
    tail = wrong + single()
    doc = load(tail)
    assert len(doc.presets) == 6 + 1  # voices 1-6 before the F7, then the single voice
    assert sorted(c for c, _, _ in found(tail) if c in ("D004", "D011", "D012")) == ["D004", "D011", "D012"]
    # With the right checksum the same bank is read whole in a longer file too
    assert len(load(data + single()).presets) == 33
    assert len(load(b"\x00\x01" + data).presets) == 32


def test_mask_fix_clears_bit_7_and_keeps_the_checksum_valid(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    data, _ = _with_status_bytes()
    (pack / "bank.syx").write_bytes(data)
    assert cli(["fix", "--select", "D005", str(pack)]).exit_code == 0
    assert (pack / "bank.syx").read_bytes() == data  # unsafe: not without --unsafe-fixes
    r = cli(["fix", "--unsafe-fixes", "--select", "D005", str(pack)])
    assert r.exit_code == 0, r.output
    fixed = (pack / "bank.syx").read_bytes()
    assert fixed == masked(data)
    assert fixed[4102] == cs(fixed[6:4102]) == data[4102]  # masking changes the sum by multiples of 128
    assert [c for c, _, _ in found(fixed) if c != "D009"] == []
    assert cli(["fix", "--unsafe-fixes", "--select", "D005", str(pack)]).exit_code == 0
    assert (pack / "bank.syx").read_bytes() == fixed


@PROPS
@given(st.lists(st.tuples(st.integers(0, 4095), st.sampled_from([0xF0, 0xF7, 0x80, 0xFF, 0xC3])), min_size=1, max_size=12),
       st.binary(max_size=3), st.booleans())
def test_any_status_bytes_in_a_bank_with_its_checksum_keep_all_voices(edits: list[tuple[int, int]], junk: bytes,
                                                                       before: bool) -> None:
    body = bytearray(bank()[6:4102])
    for at, value in edits:
        body[at] = value
    data = b"\xf0\x43\x00\x09\x20\x00" + bytes(body) + bytes([cs(bytes(body)), 0xF7])
    data = junk + data if before else data + junk  # not the whole file: the checksum vouches
    doc = load(data)
    assert len(doc.presets) == 32
    voices = sorted({at // 128 + 1 for at, _ in edits})
    d005 = [v for v in found(data) if v[0] == "D005"]
    assert [int(w.split()[1]) for _, _, w in d005] == voices


@PROPS
@given(st.lists(st.tuples(st.integers(6, 4101), st.integers(0, 127)), min_size=1, max_size=8), st.integers(0, 127))
def test_an_edit_keeps_the_checksum_where_it_was(edits: list[tuple[int, int]], stored: int) -> None:
    good = bank()
    data = good[:4102] + bytes([stored, 0xF7])
    doc = load(data)
    splices = sorted({at: Splice(at, at + 1, bytes([value])) for at, value in edits}.values(), key=lambda x: x.start)
    edited = apply_splices(data, complete_edit(doc, splices))
    assert (edited[4102] - cs(edited[6:4102])) & 0x7F == (stored - cs(data[6:4102])) & 0x7F


def test_many_headers_do_not_slow_the_fixed_size_search() -> None:
    # Every 7 bytes a bank header, and F7 everywhere a bank could end: thousands of candidates.
    unit = b"\xf0\x43\x00\x09\x20\x00\xf7"
    data = unit * 20_000
    assert len(dx7_syx.fixed_dumps(data)) == 0  # checksums never match; the search stops at its cap
    doc = load(data)
    assert doc.format in ("dx7-syx", "syx")


# -- wrapped dumps ---------------------------------------------------------------------------------------
def _crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def macbinary(payload: bytes, name: bytes = b"ROM1A.SYX", resource: bytes = b"") -> bytes:
    """A MacBinary II file: 128-byte header (name, type SYSX, creator, fork lengths, CRC), the data
    fork padded to 128 bytes, then the resource fork."""
    head = bytearray(128)
    head[1] = len(name)
    head[2 : 2 + len(name)] = name
    head[65:73] = b"SYSXDXed"
    head[83:87] = len(payload).to_bytes(4, "big")
    head[87:91] = len(resource).to_bytes(4, "big")
    head[122], head[123] = 129, 129  # MacBinary II
    head[124:126] = _crc16_xmodem(bytes(head[:124])).to_bytes(2, "big")
    pad = b"\x00" * (-len(payload) % 128) if resource else b""
    return bytes(head) + payload + pad + resource


@pytest.mark.parametrize(("kind", "before", "after"), [
    ("macbinary", None, None),
    ("padded before", b"\x00" * 6, b""),
    ("padded around", b"\r\n\x1a", b"\x00\x00\x00"),
    ("junk after", b"", b"garbage"),
])
def test_wrapped_dump_is_reported_and_fixed_to_the_bare_sysex(cli, pack: Path, kind: str,  # type: ignore[no-untyped-def]
                                                             before: bytes | None, after: bytes | None) -> None:
    bare = bank(channel=2)
    data = macbinary(bare) if before is None or after is None else before + bare + after
    assert len(data) == (4232 if kind == "macbinary" else 4110 if kind.startswith("padded") else 4111)
    doc = load(data)
    assert len(doc.presets) == 32 and doc.presets[0].name == "VOICE 1"
    framing = [(m, w) for c, m, w in found(data) if c == "D012"]
    assert len(framing) == 1
    if kind == "macbinary":
        assert framing == [("the sysex is wrapped in a MacBinary header (Mac file 'ROM1A.SYX'): 128 bytes before the "
                            "F0: Dexed looks for F0 at the first byte, so it refuses the bank (or loads it misaligned)",
                            "byte 0")]
    elif kind == "junk after":
        assert framing == [("7 bytes after the last sysex message's F7: a MIDI device sees them as noise; Dexed ignores "
                            "them", "byte 4104")]
    (pack / "bank.syx").write_bytes(data)
    r = cli(["fix", "--show-fixes", str(pack)])  # safe: no --unsafe-fixes needed
    assert r.exit_code == 0, r.output
    assert (pack / "bank.syx").read_bytes() == bare
    assert [c for c, _, _ in found(bare)] == []
    assert cli(["fix", "--undo"]).exit_code == 0
    assert (pack / "bank.syx").read_bytes() == data


def test_macbinary_resource_fork_goes_too_but_not_what_could_be_voices(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    bare = bank()
    wrapped = macbinary(bare, resource=b"\x00\x00\x01\x00" + b"R" * 300)
    assert found(wrapped)[0][1].endswith("128 bytes before the F0 and 424 bytes after it (resource fork or "
                                         "padding): Dexed looks for F0 at the first byte, so it refuses the bank "
                                         "(or loads it misaligned)")
    voices = b"".join(packed_voice() for _ in range(32))  # a headerless dump beside a bank: 32 voices of data
    (pack / "wrapped.syx").write_bytes(wrapped)
    (pack / "beside.syx").write_bytes(voices + bare)
    assert cli(["fix", str(pack)]).exit_code == 0
    assert (pack / "wrapped.syx").read_bytes() == bare
    assert (pack / "beside.syx").read_bytes() == voices + bare  # not stripped: those bytes may be voices
    assert [c for c, _, _ in found(voices + bare)] == ["D012"]


def test_other_sysex_gets_the_same_framing_fix(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    roland = b"\xf0\x41\x10\x42\x12\x40\x00\x7f\x00\x41\xf7"
    (pack / "gs.syx").write_bytes(b"\n\n" + roland)
    assert cli(["fix", str(pack)]).exit_code == 0
    assert (pack / "gs.syx").read_bytes() == roland


# -- placeholder names -----------------------------------------------------------------------------------
def test_placeholder_predicate() -> None:
    yes = ["INIT VOICE", "init voice", "Init", "INIT VOICE 2", "Init Patch", "----------", "??????????",
           "\x00" * 10, " " * 10, "", None, "-- ?? --", "Init\x00\x00\x00\x00\x00\x00", "\xc9NIT VOICE", "Default"]
    no = ["BRASS   1", "E.PIANO 1", "Initiation", "-Bass-", "Voice 7", "INIT BASS", "?? Lead", "A"]
    assert [n for n in yes if not is_placeholder(n)] == []
    assert [n for n in no if is_placeholder(n)] == []


def test_fix_never_renames_placeholder_voices_after_the_file(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    names = [b"INIT VOICE", b" " * 10, b"\x00" * 10, b"----------", b"??????????"] * 2 + [b"BRASS 1"]
    voices = [packed_voice(names[i]) if i < len(names) else packed_voice(f"SOUND {i:<4}".encode()) for i in range(32)]
    data = bank(voices)
    (pack / "MYBANK.syx").write_bytes(data)
    one = single(b"INIT VOICE")
    (pack / "Brass.syx").write_bytes(one)
    r = cli(["fix", "--unsafe-fixes", "--select", "M001,N001,Q", str(pack)])
    assert r.exit_code == 0, r.output
    assert (pack / "MYBANK.syx").read_bytes() == data
    assert (pack / "Brass.syx").read_bytes() == one
    assert "rolled back" not in r.output  # not proposed at all, not tried and undone
    assert [c for c, _, _ in found(one, "N")] == []  # INIT VOICE in Brass.syx: no name-file mismatch


def test_missing_name_fix_fills_only_an_absent_name(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    absent = b'{"format_version": "1.0", "metadata": {"category": "Bass"}, "parameters": []}'
    blank = b'{"format_version": "1.0", "metadata": {"name": "   "}, "parameters": []}'
    (pack / "Deep.json").write_bytes(absent)
    (pack / "Wide.json").write_bytes(blank)
    assert cli(["fix", "--select", "M001", str(pack)]).exit_code == 0
    assert (pack / "Deep.json").read_bytes() == absent.replace(b'{"category"', b'{"name": "Deep", "category"')
    assert (pack / "Wide.json").read_bytes() == blank  # a blank name is a placeholder: never the file name


def test_a_real_name_of_a_single_voice_is_still_synced_with_its_checksum(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    # The checksum follows the rename in the writer: fixed in one run, and a second run changes nothing.
    one = single(b"OLD NAME  ")
    bad = one[:161] + bytes([(one[161] + 9) & 0x7F, 0xF7])
    (pack / "Brass.syx").write_bytes(one)
    (pack / "Pad.syx").write_bytes(bad)
    r = cli(["fix", "--unsafe-fixes", "--select", "N001,D001", str(pack)])
    assert r.exit_code == 0, r.output
    assert "rolled back" not in r.output
    for name, stem in (("Brass.syx", b"Brass"), ("Pad.syx", b"Pad")):
        fixed = (pack / name).read_bytes()
        assert fixed[151:161] == stem.ljust(10) and fixed[161] == cs(fixed[6:161]), name
    after = {p.name: p.read_bytes() for p in pack.iterdir()}
    assert cli(["fix", "--unsafe-fixes", "--select", "N001,D001", str(pack)]).exit_code == 0
    assert {p.name: p.read_bytes() for p in pack.iterdir()} == after


def test_bad_checksum_bank_is_fixed_in_one_run(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    voices = [packed_voice(b"PIANO     ", b14=0x80 | 90) if i == 3 else packed_voice() for i in range(32)]
    good = bank(voices)
    data = good[:4] + b"\x10\x00" + good[6:4102] + bytes([(good[4102] + 3) & 0x7F, 0xF7])
    (pack / "b.syx").write_bytes(data)
    r = cli(["fix", "--unsafe-fixes", "--show-fixes", "--select", "D001,D003,D005", str(pack)])
    assert r.exit_code == 0 and "rolled back" not in r.output, r.output
    fixed = (pack / "b.syx").read_bytes()
    want = masked(good[:4] + b"\x20\x00" + good[6:])
    assert fixed == want[:4102] + bytes([cs(want[6:4102]), 0xF7])
    assert cli(["fix", "--unsafe-fixes", "--select", "D001,D003,D005", str(pack)]).exit_code == 0
    assert (pack / "b.syx").read_bytes() == fixed


# -- any new finding, in the file or across files, rolls a fix back ------------------------------------
def test_a_fix_that_brings_a_new_info_is_rolled_back() -> None:
    fix_opts, check = Options(select=("N001",)), Options(select=("N001", "N005"))
    body = b'{"format_version": "1.0", "metadata": {"name": "x"}, "parameters": []}'
    result = plan_file(body, PurePosixPath("pack/Lead  Two.json"), PlanRules.build(fix_opts, check, True), fix_opts)
    assert result.after == body and not result.applied
    assert [(r.code, r.reason.split(" (")[0]) for r in result.rolled_back] == [("N001", "the fix introduced N005")]


def test_a_fix_that_brings_a_duplicate_name_in_the_pack_is_rolled_back(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    def preset(name: str, level: float) -> bytes:  # each its own sound: a shared name is Q002's, not Q001's
        return json.dumps({"format_version": "1.0", "metadata": {"name": name}, "parameters": [
            {"name": "level", "type": "float", "value": level, "min": 0, "max": 1}]}).encode()
    for folder in "abc":
        (pack / folder).mkdir()
    (pack / "a" / "Sine Lead.json").write_bytes(preset("Sine Lead", 0.1))
    (pack / "b" / "Sine Lead.json").write_bytes(preset("Wobble", 0.2))  # renamed after its file: a second Sine Lead
    (pack / "c" / "Pluck.json").write_bytes(preset("Other", 0.3))  # renamed after its file: fine
    r = cli(["fix", "--unsafe-fixes", "--select", "N001,Q002", str(pack)])
    assert r.exit_code == 0, r.output
    assert (pack / "b" / "Sine Lead.json").read_bytes() == preset("Wobble", 0.2)
    assert (pack / "c" / "Pluck.json").read_bytes() == preset("Pluck", 0.3)
    assert (f"{pack / 'b' / 'Sine Lead.json'}: rolled back N001 name 'Wobble' -> 'Sine Lead' (the file name): the fix "
            f"introduced Q002 in the pack (name 'Sine Lead' is also used by 1 other preset with a different sound: "
            f"{pack / 'b' / 'Sine Lead.json'})") in r.output
    validate = cli(["validate", "--select", "N001,Q002", "-o", "concise", str(pack)])
    assert "Q002" not in validate.stdout


# -- the factory ROM banks -----------------------------------------------------------------------------------
ROM_BANKS = ["dx7-syx/mmontag__dx7-synth-js/roms/ROM1A.SYX", f"{VIS}/Original Yamaha/DX7 ROM1/ROM1A.syx",
             f"{VIS}/Original Yamaha/DX7IIFD/DX7IIFDVoice32.SYX", f"{VIS}/!Instruments/Misc/ROM1A.SYX",
             f"{VIS}/!Instruments/Misc/DX7ROM1A.SYX"]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", ROM_BANKS)
def test_factory_rom_banks_get_no_warning(cli, corpus: Path, rel: str) -> None:  # type: ignore[no-untyped-def]
    """Yamaha's own banks load in Dexed and on a DX7: nothing at warning or above (per file and within
    the bank). The one info that remains: `10 00` as byte count (D003), which Dexed never reads."""
    path = corpus / rel
    r = cli(["validate", "-o", "json-lines", "--fail-on", "warning", str(path)])
    findings = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(f["code"], f["severity"]) for f in findings] == ([("D003", "info")] if rel.endswith("Misc/ROM1A.SYX") else [])
    assert r.exit_code == 0
    assert len(load(path.read_bytes()).presets) == 32
