"""DX7 sysex loader and D rules: synthetic dumps per rule, the real corpus (exact counts, each
verified below by a few lines of plain Python), fixes through the CLI, and property tests."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.fix.check import check_bytes
from presetctl.engine.formats import dx7_syx, registry, sysex
from presetctl.engine.formats.base import Document, LoadContext
from presetctl.engine.model import Location
from presetctl.engine.options import Options
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.registry import RULES as ALL_RULES
from presetctl.engine.rules.selection import RuleSet

DX7_DIR = "dx7-syx"
VIS = "dx7-syx/visualizersdotnl__Yamaha-DX7-patch-library"
RULES = RuleSet(Options(profiles=("marketplace",)))  # D010 is in the marketplace profile
D_RULES = tuple(r for r in ALL_RULES if r.code.startswith("D") and r.check is not None)


# -- building dumps by hand (layout from the DX7 MIDI data format, independent of the loader) -----
def packed_voice(name: bytes = b"INIT VOICE", **at: int) -> bytes:
    """A valid packed voice (every value in range); ``at`` sets raw bytes: ``b14=120`` (byte 14)."""
    v = bytearray(128)
    for op in range(6):
        v[op * 17 : op * 17 + 17] = bytes([99, 99, 99, 99, 99, 99, 99, 0, 39, 0, 0, 0, 7 << 3, 0, 90, 2, 0])
    v[102:118] = bytes([99, 99, 99, 99, 50, 50, 50, 50, 8, 8, 35, 0, 0, 0, 0x31, 24])
    v[118:128] = name.ljust(10)[:10]
    for key, value in at.items():
        v[int(key[1:])] = value
    return bytes(v)


def cs(data: bytes) -> int:
    return (-sum(data)) & 0x7F


def bank(voices: list[bytes] | None = None, count: bytes = b"\x20\x00", channel: int = 0,
         checksum: int | None = None) -> bytes:
    body = b"".join(voices or [packed_voice(f"VOICE {i + 1:<4}".encode()) for i in range(32)])
    return bytes([0xF0, 0x43, channel, 0x09]) + count + body + bytes([cs(body) if checksum is None else checksum, 0xF7])


def single(name: bytes = b"SINGLE    ", algorithm: int = 21, op1_level: int = 99) -> bytes:
    v = bytearray(155)
    for op in range(6):
        v[op * 21 : op * 21 + 21] = bytes([99, 99, 99, 99, 99, 99, 99, 0, 39, 0, 0, 0, 0, 0, 0, 0, 90, 0, 1, 0, 7])
    v[5 * 21 + 16] = op1_level  # operator 1 is stored last
    v[126:145] = bytes([99, 99, 99, 99, 50, 50, 50, 50, algorithm, 0, 1, 35, 0, 0, 0, 0, 0, 3, 24])
    v[145:155] = name
    return b"\xf0\x43\x00\x00\x01\x1b" + bytes(v) + bytes([cs(bytes(v)), 0xF7])


def load(data: bytes, name: str = "bank.syx") -> Document:
    loader = registry.detect(data[:4096], PurePosixPath(name))
    assert loader is not None
    return loader.load(data, LoadContext(PurePosixPath(name)))


def found(data: bytes, prefix: str = "D", name: str = "pack/bank.syx") -> list[tuple[str, str, str]]:
    """(code, message, location) of every finding of the full default rule set starting with ``prefix``."""
    checked = check_bytes(data, PurePosixPath(name), RULES)
    return [(v.code, v.message, v.location.render()) for v in checked.violations if v.code.startswith(prefix)]


def codes(data: bytes, prefix: str = "D") -> list[str]:
    return sorted(c for c, _, _ in found(data, prefix))


# -- loader -------------------------------------------------------------------------------------------------
def test_bank_voices_names_and_parameters() -> None:
    doc = load(bank())
    assert doc.format == "dx7-syx" and doc.validated and doc.parsed
    assert [p.index for p in doc.presets] == list(range(1, 33))
    assert doc.presets[0].name == "VOICE 1" and doc.presets[31].name == "VOICE 32"
    assert doc.facts.texts[0] == (Location(pointer="/name", offset=6 + 118, voice=1), "VOICE 1   ")
    params = {p.name: p for p in doc.presets[0].parameters}
    assert len(params) == 145
    assert (params["algorithm"].value, params["algorithm"].maximum) == (8, 31)
    assert (params["op1_output_level"].value, params["op1_detune"].value, params["op1_freq_coarse"].value) == (90, 7, 1)
    assert (params["lfo_wave"].value, params["lfo_pitch_mod_sens"].value, params["transpose"].value) == (0, 3, 24)
    assert params["op6_kbd_breakpoint"].pointer == "/op6/kbd_breakpoint"
    assert found(bank()) == []


def test_rom1a_known_voices(corpus: Path) -> None:
    doc = load((corpus / DX7_DIR / "mmontag__dx7-synth-js/roms/ROM1A.SYX").read_bytes())
    by_name = {p.name: {q.name: q.value for q in p.parameters} for p in doc.presets}
    assert by_name["BRASS   1"]["algorithm"] + 1 == 22  # stored 0-based
    assert by_name["E.PIANO 1"]["algorithm"] + 1 == 5
    assert by_name["BRASS   1"]["transpose"] == 24  # C3


def test_single_voice_dump_unpacked() -> None:
    doc = load(single(op1_level=77), "one.syx")
    assert [(p.name, p.index) for p in doc.presets] == [("SINGLE", 1)]
    params = {p.name: p.value for p in doc.presets[0].parameters}
    assert (params["algorithm"], params["op1_output_level"], params["op2_output_level"], params["osc_key_sync"]) == (
        21, 77, 90, 1)
    assert found(single()) == []
    assert codes(single(op1_level=120)) == ["D009"]


def test_header_found_anywhere_on_any_channel() -> None:
    data = b"garbage" + bank(channel=5)
    doc = load(data)
    assert doc.format == "dx7-syx" and len(doc.presets) == 32 and doc.facts.header["channel"] == 5
    assert found(data) == [("D012", "7 bytes outside any sysex message (F0 ... F7): Dexed looks for F0 at the first "
                                    "byte, so it refuses the bank (or loads it misaligned)", "byte 0")]
    assert found(bank() + b"\r\n") == [("D012", "2 bytes after the last sysex message's F7: a MIDI device sees them as "
                                                 "noise; Dexed ignores them", "byte 4104")]


def test_files_without_dx7_voices_go_to_the_other_sysex_loader() -> None:
    other = b"\xf0\x43\x00\x7e\x01\x28LM  8952PM" + b"0" * 20 + b"\xf7"
    doc = load(other, "perf.syx")
    assert (doc.format, doc.validated, doc.parsed) == ("syx", False, True)
    assert doc.facts.kinds == ("Yamaha universal bulk dump",)
    assert codes(other, "R") == ["R001"] and codes(other) == []
    text = load(b"<html>not found</html>", "bank.syx")
    assert (text.format, text.parsed) == ("syx", False)
    assert [v.code for v in text.problems] == ["D013"]
    assert codes(b"\xf0\x41\x10\x42\x12", "D") == ["D012"]  # Roland sysex cut short
    assert registry.detect(other, PurePosixPath("perf.bin")) is sysex.LOADER


# -- rules: one positive and one negative case each ------------------------------------------------------
def test_checksum_mismatch_and_high_bit() -> None:
    good = bank()
    want = good[4102]
    assert found(bank(checksum=want ^ 0x55)) == [
        ("D001", f"bank 1: checksum {want ^ 0x55:02X} does not match the data (expected {want:02X}): "
                 "Dexed refuses the bank unless told to load it anyway", "byte 4102")]
    assert found(bank(checksum=want | 0x80)) == [
        ("D002", f"bank 1: checksum byte {want | 0x80:02X} has bit 7 set (its low 7 bits {want:02X} match): "
                 "Dexed compares all 8 bits and refuses the bank, a synth receiving it sees a status byte", "byte 4102")]
    assert codes(single()[:-2] + bytes([single()[-2] ^ 1, 0xF7])) == ["D001"]


def test_byte_count() -> None:
    assert found(bank(count=b"\x10\x00")) == [
        ("D003", "bank 1: byte count 10 00 (a common variant written by some librarians); the DX7 format says "
                 "20 00 (4096 bytes); Dexed does not read the count", "byte 4")]
    assert [m for _, m, _ in found(bank(count=b"\x12\x34"))] == [
        "bank 1: byte count 12 34; the DX7 format says 20 00 (4096 bytes); Dexed does not read the count"]


def test_sizes() -> None:
    full = bank()
    assert found(full[:520]) == [
        ("D004", "bank 1 is cut short: 514 of 4096 data bytes and no checksum or F7; 4 complete voices read",
         "byte 0")]
    assert len(load(full[:520]).presets) == 4
    no_checksum = full[:4102] + b"\xf7"
    assert found(no_checksum) == [("D004", "bank 1: the checksum byte is missing (4096 data bytes, then F7)", "byte 0")]
    extra = full[:4102] + b"\x01\x02" + full[4102:]
    assert codes(extra) == ["D004"]
    stub = b"\xf0\x43\x00\x09\xf7" + full  # a header cut before its byte count: no byte read from the next message
    assert found(stub) == [("D004", "bank 1 holds 0 bytes between header and F7, not 4096 data bytes + checksum: "
                                    "0 voices read, checksum not checked", "byte 0"),
                           ("D006", "2 voice banks in one file: a DX7 keeps only the last one it receives and most "
                                    "librarians read only the first", "byte 5")]


def test_seven_bit_data() -> None:
    voices = [packed_voice(b"PIANO     ", b14=0x80 | 90) if i in (0, 5) else packed_voice() for i in range(32)]
    voices[9] = packed_voice(b"PIANO     ", b3=0x80 | 90)  # an EG rate: Dexed copies those bytes raw
    assert found(bank(voices)) == [
        ("D005", "voice 1 'PIANO': 1 data byte above 7F (first: DA at byte 20); MIDI data is 7-bit: a synth receiving "
                 "the dump drops it; Dexed ignores bit 7 of these bytes", "voice 1 byte 20"),
        ("D005", "voice 6 'PIANO': 1 data byte above 7F (first: DA at byte 660); MIDI data is 7-bit: a synth "
                 "receiving the dump drops it; Dexed ignores bit 7 of these bytes", "voice 6 byte 660"),
        ("D005", "voice 10 'PIANO': 1 data byte above 7F (first: DA at byte 1161); MIDI data is 7-bit: a synth "
                 "receiving the dump drops it; Dexed plays operator EG and scaling bytes with bit 7 (values above "
                 "127)", "voice 10 byte 1161")]
    assert found(bank()) == []


def test_concatenated_banks_number_voices_on() -> None:
    data = bank() + bank()
    doc = load(data)
    assert [p.index for p in doc.presets] == list(range(1, 65))
    assert found(data) == [("D006", "2 voice banks in one file: a DX7 keeps only the last one it receives and most "
                                    "librarians read only the first", "byte 4104")]


def test_headerless_dump() -> None:
    raw = b"".join(packed_voice() for _ in range(32))
    doc = load(raw, "raw.syx")
    assert doc.format == "dx7-syx" and len(doc.presets) == 32
    assert found(raw, name="p/raw.syx") == [
        ("D007", "4096 bytes of voice data without the sysex header, checksum and F7: a DX7 cannot receive it",
         "byte 0")]
    assert load(raw[:-1], "raw.syx").format == "syx"  # not a bank's size: not taken for voice data


def test_name_charset() -> None:
    voices = [packed_voice(b"PIANO\x00\x00\x00\x00\x00" if i == 2 else b"OK") for i in range(32)]
    doc = load(bank(voices))
    assert doc.presets[2].name == "PIANO?????"
    assert found(bank(voices)) == [
        ("D008", "voice name 'PIANO?????' holds bytes outside the DX7 character set (00 00 00 00 00)",
         f"voice 3 /name byte {6 + 2 * 128 + 118 + 5}")]


def test_parameter_ranges() -> None:
    voices = [packed_voice(b14=120, b12=15 << 3, b116=6 << 1, b117=49) if i == 0 else packed_voice() for i in range(32)]
    assert found(bank(voices)) == [
        ("D009", "op6_detune = 15 is outside the DX7 range 0-14: Dexed detunes one step beyond +7",
         "voice 1 /op6/detune byte 18"),
        ("D009", "op6_output_level = 120 is outside the DX7 range 0-99: Dexed plays it at least as loud as 99, "
                 "louder where keyboard scaling lowers the level", "voice 1 /op6/output_level byte 20"),
        ("D009", "lfo_wave = 6 is outside the DX7 range 0-5: Dexed has no such wave and plays no LFO at all",
         "voice 1 /lfo_wave byte 122"),
        ("D009", "transpose = 49 is outside the DX7 range 0-48: Dexed shifts every note by 25 semitones (a DX7 "
                 "stops at +24)", "voice 1 /transpose byte 123"),
    ]
    voices = [packed_voice(b0=120, b4=110, b102=100, b113=120, b112=127) if i == 1 else packed_voice() for i in range(32)]
    assert [(m, w) for _, m, w in found(bank(voices))] == [
        ("op6_eg_rate1 = 120 is outside the DX7 range 0-99: Dexed plays it like 99 (its rate table ends there)",
         "voice 2 /op6/eg_rate1 byte 134"),
        ("op6_eg_level1 = 110 is outside the DX7 range 0-99: Dexed plays it louder than level 99 (its level scale runs "
         "on past 99)", "voice 2 /op6/eg_level1 byte 138"),
        ("pitch_eg_rate1 = 100 is outside the DX7 range 0-99: Dexed rescales it to 38 (value x 99 / 255): the pitch "
         "envelope changes", "voice 2 /pitch_eg_rate1 byte 236"),
        ("lfo_speed = 127 is outside the DX7 range 0-99: Dexed runs the LFO faster than speed 99", "voice 2 /lfo_speed byte 246"),
        ("lfo_delay = 120 is outside the DX7 range 0-99: Dexed computes the delay from 99 - value, which goes "
         "negative: undefined in its engine", "voice 2 /lfo_delay byte 247"),
    ]


def test_unused_bits_and_other_sysex() -> None:
    voices = [packed_voice(b11=0x70) if i == 31 else packed_voice() for i in range(32)]
    at = 6 + 31 * 128 + 11
    assert found(bank(voices)) == [("D010", f"1 packed byte with bits set that no DX7 parameter uses (first: 70 at "
                                            f"byte {at}): the voice may come from another synth or be damaged",
                                    f"voice 32 byte {at}")]
    data = b"\xf0\x43\x10\x19\x4d\x00\xf7" + bank()
    assert found(data) == [("D011", "1 other sysex message (Yamaha parameter change) besides the DX7 voice data; "
                                    "not validated", "byte 0")]


def test_hostile_name_reaches_the_security_scanners() -> None:
    voices = [packed_voice(b"\x1b]52;c;YQ\x07") if i == 0 else packed_voice() for i in range(32)]
    assert {"X061", "X063"} <= set(codes(bank(voices), "X"))
    assert load(bank(voices)).presets[0].name == "?]52;c;YQ?"


# -- the real corpus ------------------------------------------------------------------------------------
def _syx_files(corpus: Path) -> list[Path]:
    return sorted(p for p in (corpus / DX7_DIR).rglob("*") if p.is_file() and p.suffix.lower() == ".syx")


def _banks(data: bytes) -> list[bytes]:
    """Complete 4104-byte bank messages anywhere in ``data`` (plain Python, independent of the loader)."""
    out, i = [], data.find(b"\xf0\x43")
    while i >= 0:
        if len(data) > i + 3 and data[i + 2] < 16 and data[i + 3] == 9 and data[i + 4103 : i + 4104] == b"\xf7":
            out.append(data[i : i + 4104])
        i = data.find(b"\xf0\x43", i + 1)
    return out


def _voice_blocks(data: bytes) -> list[bytes]:
    """Every packed voice (from bank headers, complete or cut short) or headerless dump, plain Python."""
    if len(data) == 4096 and b"\xf0" not in data:
        return [data[i : i + 128] for i in range(0, 4096, 128)]
    out = []
    for i in range(len(data) - 3):
        if data[i : i + 2] == b"\xf0\x43" and data[i + 2] < 16 and data[i + 3] == 9:
            end = data.find(b"\xf7", i)
            body = data[i + 6 : min(i + 6 + 4096, end if end >= 0 else len(data))]
            out += [body[j : j + 128] for j in range(0, len(body) - 127, 128)]
    return out


def _out_of_range(v: bytes) -> int:
    """Values above the DX7 maximum in a packed voice, from the byte map (not the loader's table)."""
    whole = [op * 17 + k for op in range(6) for k in (*range(11), 14, 16)] + [*range(102, 110), *range(112, 116)]
    n = sum((v[i] & 0x7F) > 99 for i in whole)
    n += sum((v[op * 17 + 12] & 0x7F) >> 3 == 15 for op in range(6))  # detune 0-14 in 4 bits
    return n + (((v[116] & 0x7F) >> 1 & 7) > 5) + ((v[117] & 0x7F) > 48)


@pytest.mark.corpus
def test_every_corpus_syx_loads_and_counts(corpus: Path) -> None:
    files = _syx_files(corpus)
    assert len(files) == 102
    datas = {p: p.read_bytes() for p in files}
    formats: Counter[str] = Counter()
    by_code: Counter[str] = Counter()
    voices = 0
    for p, data in datas.items():
        checked = check_bytes(data, PurePosixPath(p.name), RULES)  # loader + every default rule
        assert checked.doc is not None
        assert not [v for v in checked.violations if v.code == "E001"], p
        formats[checked.doc.format] += 1
        voices += len(checked.doc.presets)
        by_code.update(v.code for v in checked.violations if v.code.startswith("D"))
    assert formats == {"dx7-syx": 100, "syx": 2}
    assert len([p for p in files if VIS.split("/")[1] in str(p)]) == 100

    banks = [b for d in datas.values() for b in _banks(d)]
    bad = [b for b in banks if b[4102] != cs(b[6:4102])]
    high = [b for b in bad if b[4102] & 0x7F == cs(b[6:4102])]
    assert (len(banks), len(bad), len(high)) == (127, 10, 9)
    assert by_code["D001"] == len(bad) - len(high) == 1
    assert by_code["D002"] == len(high) == 9
    singles = [d for d in datas.values() if len(d) == 163 and d[:6] == b"\xf0\x43\x00\x00\x01\x1b"]
    assert len(singles) == 3 and all(d[161] == cs(d[6:161]) for d in singles)
    assert by_code["D003"] == sum(b[4:6] == b"\x10\x00" for b in banks) == 17
    high_voices = [(b, v) for b in banks for v in range(32) if any(x > 0x7F for x in b[6 + v * 128 : 134 + v * 128])]
    assert by_code["D005"] == len(high_voices) == 3  # one finding per voice
    assert by_code["D006"] == sum(len(_banks(d)) > 1 for d in datas.values()) == 6
    assert by_code["D007"] == sum(len(d) == 4096 and b"\xf0" not in d for d in datas.values()) == 4
    headers = [(d, i) for d in datas.values() for i in range(len(d) - 3)
               if d[i : i + 2] == b"\xf0\x43" and d[i + 2] < 16 and d[i + 3] == 9]
    incomplete = [len(d) for d, i in headers if d[i + 4103 : i + 4104] != b"\xf7"]
    assert by_code["D004"] == len(incomplete) == 2 and sorted(incomplete) == [520, 4103]  # STOCK.SYX, dx7ii-bank-B
    assert by_code["D011"] == 2 and by_code["D012"] == 0  # EFFECT-2 (AMEM) and TX802 (AMEM + parameter)

    blocks = [v for d in datas.values() for v in _voice_blocks(d)]
    packed_voices = voices - 3  # the three single voices are unpacked
    assert len(blocks) == packed_voices == 4228
    assert by_code["D008"] == sum(any((c & 0x7F) < 0x20 for c in v[118:128]) for v in blocks) == 119
    assert by_code["D009"] == sum(_out_of_range(v) for v in blocks) == 785
    spare = {**{op * 17 + k: m for op in range(6) for k, m in ((11, 0x70), (13, 0x60), (15, 0x40))}, 110: 0x60, 111: 0x70}
    assert by_code["D010"] == sum(any(v[i] & m for i, m in spare.items()) for v in blocks) == 73


@pytest.mark.corpus
def test_validate_cli_on_the_dx7_corpus(cli, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli(["validate", str(corpus / DX7_DIR), "--select", "D,R", "-o", "json"])
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    s = report["summary"]
    assert (s["files"], s["presets"]) == (104, 4231)
    assert s["by_status"] == {"validated": 100, "recognized": 2, "unknown": 2, "skipped": 0, "broken": 0}
    assert s["by_format"] == {"dx7-syx": 100, "syx": 2, "unknown": 2}  # the two LICENSE files
    one = [f for f in report["findings"] if f["code"] == "D001"]
    assert [(Path(f["path"]).name, f["offset"], f["voice"]) for f in one] == [("$M3.SYX", 4102, None)]
    assert "checksum" in one[0]["message"]


# -- fix ---------------------------------------------------------------------------------------------------
@pytest.fixture
def broken_banks(corpus: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "banks"
    folder.mkdir()
    for rel in ("Jeff Saxe/$M3.SYX", "!Instruments/Ethnic/Italy/Italian3.syx", "!Unsorted/dx7zicweb/BANK0044.SYX"):
        shutil.copyfile(corpus / VIS / rel, folder / Path(rel).name)
    return folder


@pytest.mark.corpus
def test_fix_repairs_checksums_byte_exactly(cli, broken_banks: Path, corpus: Path) -> None:  # type: ignore[no-untyped-def]
    before = {p.name: p.read_bytes() for p in broken_banks.iterdir()}
    r = cli(["fix", "--unsafe-fixes", "--select", "D001,D002,D003,D005", str(broken_banks)])
    assert r.exit_code == 0, r.output
    after = {p.name: p.read_bytes() for p in broken_banks.iterdir()}
    want = {}
    for name, data in before.items():
        body = bytes(b & 0x7F for b in data[6:4102])
        want[name] = data[:4] + b"\x20\x00" + body + bytes([cs(body)]) + data[4103:]
    assert after == want
    assert after["$M3.SYX"][4102] == 0x5A and before["$M3.SYX"][4102] == 0x00
    assert (before["Italian3.syx"][4102], after["Italian3.syx"][4102]) == (0x9B, 0x1B)
    assert sum(a != b for a, b in zip(before["Italian3.syx"], after["Italian3.syx"], strict=True)) == 2
    assert codes(after["Italian3.syx"], "D00") == []


@pytest.mark.corpus
def test_fix_applies_only_the_selected_repair(cli, broken_banks: Path) -> None:  # type: ignore[no-untyped-def]
    # Italian3 has a byte count 10 00 (safe fix) and a checksum with bit 7 set: fixing D003 alone must
    # not rewrite the checksum; without --unsafe-fixes $M3's checksum (D001) stays as it is.
    before = {p.name: p.read_bytes() for p in broken_banks.iterdir()}
    assert cli(["fix", "--select", "D003,D001", str(broken_banks)]).exit_code == 0
    italian = (broken_banks / "Italian3.syx").read_bytes()
    assert italian == before["Italian3.syx"][:4] + b"\x20\x00" + before["Italian3.syx"][6:]
    assert (broken_banks / "$M3.SYX").read_bytes() == before["$M3.SYX"]


def test_fix_through_the_engine_on_a_synthetic_bank(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = bank()
    (tmp_path / "b.syx").write_bytes(b"\x00" + bank(count=b"\x10\x00", checksum=good[4102] | 0x80))
    assert cli(["fix", "--select", "D002,D003", str(tmp_path / "b.syx")]).exit_code == 0
    assert (tmp_path / "b.syx").read_bytes() == b"\x00" + good  # a bank not at offset 0 is repaired too


# -- properties --------------------------------------------------------------------------------------------
PROPS = settings(max_examples=80, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])
_HEADERS = st.sampled_from([b"\xf0\x43\x00\x09\x20\x00", b"\xf0\x43\x0f\x09\x10\x00", b"\xf0\x43\x00\x00\x01\x1b",
                            b"\xf0", b"\xf7", b"\xf0\x43\x00\x09", b""])


def _no_crash(data: bytes, name: str = "p/x.syx") -> None:
    doc = dx7_syx.LOADER.load(data, LoadContext(PurePosixPath(name)))  # the loader itself, whatever detect says
    assert doc.format in ("dx7-syx", "syx")
    ctx = RuleContext(PurePosixPath(name), Options())
    for rule in D_RULES:
        assert rule.check is not None
        for v in rule.check(doc, ctx):
            assert v.code.startswith("D") or not v.code
    checked = check_bytes(data, PurePosixPath(name), RULES)  # and the whole pipeline: no rule fails (E001)
    assert [v.message for v in checked.violations if v.code == "E001"] == []


@PROPS
@given(st.lists(st.one_of(_HEADERS, st.binary(max_size=300)), max_size=12))
def test_random_bytes_never_raise(chunks: list[bytes]) -> None:
    _no_crash(b"".join(chunks))


@PROPS
@given(st.lists(st.tuples(st.integers(0, 8207), st.integers(0, 255)), max_size=20), st.integers(0, 8300),
       st.booleans())
def test_mutated_real_banks_never_raise(edits: list[tuple[int, int]], cut: int, twice: bool) -> None:
    data = bytearray(bank(channel=3) * (2 if twice else 1))
    for at, value in edits:
        if at < len(data):
            data[at] = value
    _no_crash(bytes(data[:cut]))
    _no_crash(bytes(data[:cut]) + single())


def test_sysex_split_is_linear_and_bounded() -> None:
    parts = sysex.split(b"\xf0" * 200_000)
    assert len(parts.messages) == sysex.MAX_MESSAGES and parts.unsplit == sysex.MAX_MESSAGES
    assert codes(b"\xf0" * 20_000) == ["D012", "D012"]


def test_field_table_matches_the_voice_layout() -> None:
    # 21 parameters per operator + 19 global = 145 = the unpacked voice before its 10-byte name.
    assert len(dx7_syx.FIELDS) == 145 == dx7_syx.NAME_UNPACKED
    assert sorted(f.unpacked for f in dx7_syx.FIELDS) == list(range(145))
    packed_bits = Counter((f.packed, bit) for f in dx7_syx.FIELDS for bit in range(f.shift, f.shift + f.width))
    assert max(packed_bits.values()) == 1  # no two parameters share a bit
    used = {at for at, _ in packed_bits}
    assert used == set(range(118))
    for at, mask in dx7_syx.UNUSED_BITS.items():
        assert all((at, bit) not in packed_bits for bit in range(7) if mask >> bit & 1)
        assert all((at, bit) in packed_bits for bit in range(7) if not mask >> bit & 1)
