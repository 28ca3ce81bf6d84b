"""The format writers against expectations built by hand in the test: every output is a whole file
compared byte for byte, every boundary (first and last valid offset, one past it) is tried.

DX7 banks and Surge fxp files are assembled here from their documented layouts with ``struct``;
the checksum is computed here from its definition (data + checksum = 0 mod 128), never with
presetctl's own function.
"""

from __future__ import annotations

import struct
from pathlib import PurePosixPath

import pytest

from presetctl.engine.fix.model import Splice
from presetctl.engine.fix.planner import apply_splices
from presetctl.engine.fix.writers import dx7_sysex, fxp
from presetctl.engine.fix.writers.registry import complete_edit
from presetctl.engine.formats import dx7_syx, presetctl_json
from presetctl.engine.formats.base import LoadContext


# -- DX7 sysex -----------------------------------------------------------------------------------------
def _cs(payload: bytes) -> int:
    return (128 - sum(payload) % 128) % 128


def _bank(count: bytes = b"\x20\x00", checksum: int | None = None, lead: bytes = b"", channel: int = 0) -> bytes:
    data = bytearray(bytes((i * 5) % 128 for i in range(4096)))
    for v in range(32):
        data[v * 128 + 118 : v * 128 + 128] = f"VOICE {v + 1:<4}".encode()
    cs = _cs(bytes(data)) if checksum is None else checksum
    return lead + bytes([0xF0, 0x43, channel, 0x09]) + count + bytes(data) + bytes([cs, 0xF7])


def _single(checksum: int | None = None) -> bytes:
    body = bytes(i % 100 for i in range(145)) + b"SINGLE    "
    return b"\xf0\x43\x00\x00\x01\x1b" + body + bytes([_cs(body) if checksum is None else checksum, 0xF7])


def _doc(data: bytes):  # type: ignore[no-untyped-def]
    return dx7_syx.LOADER.load(data, LoadContext(PurePosixPath("b.syx")))


def _with(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new):]


CHECKSUM_AT = 6 + 4096
NAME_1 = 6 + 118  # voice 1's name


def test_voice_names_are_printable_ascii_padded_to_ten() -> None:
    doc = _doc(_bank())
    splice = dx7_sysex.set_voice_name(doc.raw, 2, " ~\x1f\x7fÄé0123456789")
    assert splice == Splice(6 + 128 + 118, 6 + 128 + 128, b" ~____0123")
    assert dx7_sysex.set_voice_name(doc.raw, 32, "x") == Splice(6 + 31 * 128 + 118, 6 + 32 * 128, b"x         ")
    assert dx7_sysex.set_voice_name(doc.raw, 0, "x") is None


@pytest.mark.parametrize("splices", [
    [Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")],
    [Splice(6, 7, b"\x7f")],  # the first data byte
    [Splice(CHECKSUM_AT - 1, CHECKSUM_AT, b"\x00")],  # the last one
    [Splice(4, 6, b"\x10\x00"), Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")],  # a header edit ending at the data
    [Splice(0, 0, b"\xf7"), Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")],  # an insertion before the header
    [Splice(CHECKSUM_AT, CHECKSUM_AT, b""), Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")],  # empty, at the checksum
])
def test_every_data_edit_keeps_the_checksum_right(splices: list[Splice]) -> None:
    good = _bank()
    edited = apply_splices(good, complete_edit(_doc(good), splices))
    expected = apply_splices(good, splices)
    checksum_at = CHECKSUM_AT + len(expected) - len(good)  # the insertion of the fifth case moves it
    assert edited == _with(expected, checksum_at, bytes([_cs(expected[checksum_at - 4096 : checksum_at])]))
    assert edited != expected or _cs(expected[checksum_at - 4096 : checksum_at]) == good[CHECKSUM_AT]


@pytest.mark.parametrize("splices", [
    [Splice(6, 6, b"\x00"), Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")],  # an insertion at the data's start
    [Splice(NAME_1, NAME_1 + 10, b"LONGER NAME")],  # a size change
    [Splice(CHECKSUM_AT - 1, CHECKSUM_AT + 1, b"\x00\x00")],  # across the checksum
    [Splice(5, 7, b"\x00\x00")],  # across the header
    [Splice(5, 7, b"\x00\x05")],  # across the header, changing the sum of the data
    [Splice(CHECKSUM_AT, CHECKSUM_AT + 1, b"\x11"), Splice(CHECKSUM_AT, CHECKSUM_AT + 1, b"\x22"),
     Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")],  # two writes of the checksum
])
def test_edits_the_checksum_cannot_follow_are_left_as_they_are(splices: list[Splice]) -> None:
    good = _bank()
    assert complete_edit(_doc(good), splices) == splices


def test_a_checksum_write_composes_with_the_data_edit() -> None:
    bad = _bank(checksum=0x91)  # D002: bit 7 set on a right checksum
    clear = Splice(CHECKSUM_AT, CHECKSUM_AT + 1, b"\x11")  # written from the bytes before the rename
    name = Splice(NAME_1, NAME_1 + 10, b"NEW NAME  ")
    edited = apply_splices(bad, complete_edit(_doc(bad), [clear, name]))
    delta = sum(b"NEW NAME  ") - sum(bad[NAME_1 : NAME_1 + 10])
    assert edited == _with(apply_splices(bad, [name]), CHECKSUM_AT, bytes([(0x11 - delta) & 0x7F]))


def test_no_splice_when_the_edit_does_not_change_the_sum() -> None:
    good = _bank()
    swap = Splice(NAME_1, NAME_1 + 2, good[NAME_1 + 1 : NAME_1 - 1 : -1])  # two bytes swapped: same sum
    assert complete_edit(_doc(good), [swap]) == [swap]


def test_keep_checksums_leaves_other_formats_alone() -> None:
    doc = presetctl_json.LOADER.load(b'{"metadata": {"name": "x"}}', LoadContext(PurePosixPath("x.json")))
    splices = [Splice(0, 1, b"{")]
    assert dx7_sysex.keep_checksums(doc, splices) == splices
    assert complete_edit(doc, splices) == splices


def test_the_single_voice_checksum_follows_a_rename() -> None:
    single = _single()
    name = dx7_sysex.set_voice_name(_doc(single).raw, 1, "OTHER")
    assert name == Splice(151, 161, b"OTHER     ")
    renamed = apply_splices(single, complete_edit(_doc(single), [name]))
    assert renamed == single[:151] + b"OTHER     " + bytes([_cs(single[6:151] + b"OTHER     "), 0xF7])


# -- DX7 repairs: the facts a rule recorded, and what is refused --------------------------------------------
def test_checksum_repair_exact() -> None:
    bad = _bank(checksum=0x00)
    want = _cs(bad[6:CHECKSUM_AT])
    assert dx7_sysex.repair_one(bad, {"repair": "checksum", "dump_at": 0, "checksum_at": CHECKSUM_AT}) == (
        f"checksum 00 -> {want:02X}", Splice(CHECKSUM_AT, CHECKSUM_AT + 1, bytes([want])))
    shifted = b"\x00" + bad  # a dump after one stray byte: found where the facts say, at 1
    assert dx7_sysex.repair_one(shifted, {"repair": "checksum", "dump_at": 1, "checksum_at": CHECKSUM_AT + 1}) == (
        f"checksum 00 -> {want:02X}", Splice(CHECKSUM_AT + 1, CHECKSUM_AT + 2, bytes([want])))
    single = _single(checksum=0x7F)
    assert dx7_sysex.repair_one(single, {"repair": "checksum", "dump_at": 0, "checksum_at": 161}) == (
        f"checksum 7F -> {_cs(single[6:161]):02X}", Splice(161, 162, bytes([_cs(single[6:161])])))


@pytest.mark.parametrize("facts", [
    {"repair": "checksum", "checksum_at": CHECKSUM_AT},  # no dump_at
    {"repair": "checksum", "dump_at": 0},  # no checksum_at
    {"repair": "checksum", "dump_at": 0, "checksum_at": CHECKSUM_AT + 2},  # past the end
    {"repair": "checksum", "dump_at": 0, "checksum_at": 5},  # inside the header
    {"repair": "checksum", "dump_at": 0, "checksum_at": 3},  # the header's format byte (9: no checksum of nothing)
    {"repair": "checksum", "dump_at": 2, "checksum_at": CHECKSUM_AT},  # no dump there
    {"repair": "checksum", "dump_at": True, "checksum_at": CHECKSUM_AT},  # not a number
    {"repair": "checksum", "dump_at": "0", "checksum_at": CHECKSUM_AT},
    {"repair": "checksum", "dump_at": -1, "checksum_at": CHECKSUM_AT},
    {"repair": "nonsense"}, {},
])
def test_checksum_repair_refuses_facts_that_do_not_fit(facts: dict[str, object]) -> None:
    assert dx7_sysex.repair_one(_bank(checksum=0x00), facts) is None


def test_checksum_repair_of_the_last_byte_and_of_an_empty_message() -> None:
    bad = _bank(checksum=0x00)
    assert dx7_sysex.repair_one(bad, {"repair": "checksum", "dump_at": 0, "checksum_at": len(bad) - 1}) == (
        f"checksum F7 -> {_cs(bad[6:-1]):02X}", Splice(len(bad) - 1, len(bad), bytes([_cs(bad[6:-1])])))
    # a checksum right after the header sums no data: it must be 0
    odd = _with(bad, 6, b"\x05")
    assert dx7_sysex.repair_one(odd, {"repair": "checksum", "dump_at": 0, "checksum_at": 6}) == (
        "checksum 05 -> 00", Splice(6, 7, b"\x00"))
    assert dx7_sysex.repair_one(bad, {"repair": "checksum", "dump_at": True, "checksum_at": 7}) is None
    assert dx7_sysex.repair_one(b"\x00" + bad, {"repair": "checksum", "dump_at": True, "checksum_at": 7}) is None


def test_a_right_checksum_is_not_repaired() -> None:
    assert dx7_sysex.repair_one(_bank(), {"repair": "checksum", "dump_at": 0, "checksum_at": CHECKSUM_AT}) is None


def test_byte_count_repair_exact() -> None:
    bad = _bank(count=b"\x1f\x0a")
    assert dx7_sysex.repair_one(bad, {"repair": "byte-count", "dump_at": 0, "want": "2000"}) == (
        "byte count 1F 0A -> 20 00", Splice(4, 6, b"\x20\x00"))
    assert dx7_sysex.repair_one(bad, {"repair": "byte-count", "dump_at": 0, "want": "7f7f"}) == (
        "byte count 1F 0A -> 7F 7F", Splice(4, 6, b"\x7f\x7f"))


@pytest.mark.parametrize("facts", [
    {"repair": "byte-count", "want": "2000"},  # no dump_at
    {"repair": "byte-count", "dump_at": 2, "want": "2000"},  # no dump there
    {"repair": "byte-count", "dump_at": 0},  # no count
    {"repair": "byte-count", "dump_at": 0, "want": "20 0"},  # not hex bytes
    {"repair": "byte-count", "dump_at": 0, "want": "200000"},  # not two bytes
    {"repair": "byte-count", "dump_at": 0, "want": "1000"},  # already so
])
def test_byte_count_repair_refuses_facts_that_do_not_fit(facts: dict[str, object]) -> None:
    assert dx7_sysex.repair_one(_bank(count=b"\x10\x00"), facts) is None


def test_seven_bit_repair_counts_only_bytes_with_bit_7() -> None:
    data = b"\x00\x7f\x80\xff\x01"
    assert dx7_sysex.repair_one(data, {"repair": "seven-bit", "start": 1, "end": 5}) == (
        "cleared bit 7 of 2 data bytes (MIDI data is 7-bit)", Splice(1, 5, b"\x7f\x00\x7f\x01"))
    assert dx7_sysex.repair_one(data, {"repair": "seven-bit", "start": 0, "end": 3}) == (
        "cleared bit 7 of 1 data bytes (MIDI data is 7-bit)", Splice(0, 3, b"\x00\x7f\x00"))


@pytest.mark.parametrize("facts", [
    {"repair": "seven-bit", "end": 4}, {"repair": "seven-bit", "start": 2},
    {"repair": "seven-bit", "start": 3, "end": 2}, {"repair": "seven-bit", "start": 2, "end": 2},
    {"repair": "seven-bit", "start": 0, "end": 6},  # past the end
    {"repair": "seven-bit", "start": 0, "end": 2},  # nothing to clear
])
def test_seven_bit_repair_refuses_facts_that_do_not_fit(facts: dict[str, object]) -> None:
    assert dx7_sysex.repair_one(b"\x00\x7f\x80\xff\x01", facts) is None


@pytest.mark.parametrize(("head", "dump"), [
    (b"\xf0\x43\x00\x09", True), (b"\xf0\x43\x0f\x00", True), (b"\xf0\x43\x10\x09", False),
    (b"\xf0\x43\x00\x01", False), (b"\xf0\x44\x00\x09", False), (b"\x00\x00\x05\x09", False),
    (b"\xf0\x43\x20\x09", False), (b"\xf0\x43\x00", False), (b"\xf0\x43", False),
])
def test_what_counts_as_a_dx7_header(head: bytes, dump: bool) -> None:
    assert dx7_sysex._is_dump(head, 0) is dump


# -- Surge fxp ------------------------------------------------------------------------------------------
def _fxp(chunk: bytes, *, fill_byte_size: bool = False, name: bytes = b"Init", chunk_size: int | None = None) -> bytes:
    """CcnK, byteSize (what follows it, or 0 as Surge writes), FPCh, version, cjs3, fxVersion, numPrograms,
    prgName[28], chunkSize, chunk: big-endian, 60 bytes before the chunk."""
    size = len(chunk) if chunk_size is None else chunk_size
    rest = (b"FPCh" + struct.pack(">I", 1) + b"cjs3" + struct.pack(">II", 1, 1) + name.ljust(28, b"\0")
            + struct.pack(">I", size) + chunk)
    return b"CcnK" + struct.pack(">I", len(rest) if fill_byte_size else 0) + rest


def _sub3(xml: bytes, wavetables: bytes = b"", xml_size: int | None = None) -> bytes:
    size = len(xml) if xml_size is None else xml_size
    return b"sub3" + struct.pack("<I", size) + struct.pack("<6I", len(wavetables), 0, 0, 0, 0, 0) + xml + wavetables


XML = b'<?xml version="1.0"?><patch revision="21"><meta name="Init" category="Bass" /></patch>'


def test_the_fxp_layout_built_here() -> None:
    data = _fxp(_sub3(XML))
    assert len(data) == 60 + 32 + len(XML) and data[56:60] == struct.pack(">I", 32 + len(XML))
    assert (data[:4], data[8:12], data[16:20], data[28:32]) == (b"CcnK", b"FPCh", b"cjs3", b"Init")


def test_xml_span() -> None:
    assert fxp.xml_span(_fxp(_sub3(XML, b"WT"))) == fxp.XmlSpan(92, len(XML), True)
    assert fxp.xml_span(_fxp(_sub3(b""))) == fxp.XmlSpan(92, 0, True)  # the smallest sub3 chunk
    assert fxp.xml_span(_fxp(b" \n<patch/>")) == fxp.XmlSpan(60, 10, False)  # an old patch: the chunk is XML
    full = _fxp(_sub3(XML, b"WTWT"), chunk_size=32 + len(XML))  # XML filling the chunk exactly
    assert fxp.xml_span(full) == fxp.XmlSpan(92, len(XML), True)


@pytest.mark.parametrize("data", [
    _fxp(b"garbage <patch/>"),  # an old chunk that is not XML
    _fxp(b" "),
    _fxp(_sub3(XML), chunk_size=33 + len(XML)),  # a chunk longer than the file
    _fxp(_sub3(XML), chunk_size=0xFFFFFFFF),
    _fxp(_sub3(XML)[:31], chunk_size=31),  # sub3 needs its 32-byte header
    _fxp(_sub3(XML, xml_size=len(XML) + 1)),  # XML longer than the chunk
    _fxp(_sub3(XML, xml_size=0xFFFFFFFF)),
    b"CcnX" + _fxp(_sub3(XML))[4:], _fxp(_sub3(XML))[:8] + b"FPCx" + _fxp(_sub3(XML))[12:],
    _fxp(_sub3(XML))[:16] + b"cjs4" + _fxp(_sub3(XML))[20:],
    _fxp(_sub3(XML))[:59],  # shorter than the header
    b"",
])
def test_xml_span_refuses(data: bytes) -> None:
    assert fxp.xml_span(data) is None


def _expected_fxp(xml: bytes, wavetables: bytes, *, fill_byte_size: bool, name: bytes = b"Init") -> bytes:
    return _fxp(_sub3(xml, wavetables), fill_byte_size=fill_byte_size, name=name)


@pytest.mark.parametrize("fill", [False, True])
def test_replace_xml_recomputes_every_size_and_keeps_the_wavetables(fill: bool) -> None:
    data = _fxp(_sub3(XML, b"\x01\x02WAVE"), fill_byte_size=fill)
    new = b"<patch>longer and longer</patch>"
    splices = fxp.replace_xml(data, new)
    assert splices is not None
    assert apply_splices(data, splices) == _expected_fxp(new, b"\x01\x02WAVE", fill_byte_size=fill)
    assert fxp.replace_xml(b"not an fxp", new) is None


def test_old_patches_have_no_xml_size_to_update() -> None:
    data = _fxp(b"<patch/>")
    splices = fxp.replace_xml(data, b"<patch a='1'/>")
    assert splices is not None and apply_splices(data, splices) == _fxp(b"<patch a='1'/>")


def test_edit_xml_bounds() -> None:
    data = _fxp(_sub3(XML))
    size = len(XML)
    assert fxp.edit_xml(data, [Splice(0, 0, b"")]) == [Splice(92, 92, b"")]  # same size: no size changes
    first = fxp.edit_xml(data, [Splice(0, 1, b"<")])
    assert first == [Splice(92, 93, b"<")]
    last = fxp.edit_xml(data, [Splice(size, size, b" ")])
    assert last is not None and apply_splices(data, last) == _fxp(_sub3(XML + b" "))
    for bad in (Splice(-1, 0, b""), Splice(0, size + 1, b""), Splice(3, 2, b"")):
        assert fxp.edit_xml(data, [bad]) is None
    assert fxp.edit_xml(b"junk", [Splice(0, 0, b"")]) is None


def test_set_meta_replaces_an_attribute_escaped() -> None:
    data = _fxp(_sub3(XML, b"WT"))
    splices = fxp.set_meta(data, "category", 'Pads & "Keys" <x>')
    assert splices is not None
    new = XML.replace(b'category="Bass"', b'category="Pads &amp; &quot;Keys&quot; &lt;x&gt;"')
    assert apply_splices(data, splices) == _fxp(_sub3(new, b"WT"))


@pytest.mark.parametrize(("meta", "expected"), [
    (b'<meta name="Init"/>', b'<meta name="Init" author="Ann"/>'),
    (b'<meta name="Init" />', b'<meta name="Init" author="Ann" />'),
    (b'<meta name="Init">', b'<meta name="Init" author="Ann">'),
    (b'<meta name="Init"\t/>', b'<meta name="Init" author="Ann"\t/>'),
    (b'<meta name="Init"\n>', b'<meta name="Init" author="Ann"\n>'),
    (b'<meta name="Init"\r\n />', b'<meta name="Init" author="Ann"\r\n />'),
])
def test_set_meta_adds_an_attribute_after_the_last_one(meta: bytes, expected: bytes) -> None:
    xml = b"<patch>" + meta + b'<other author="Zed"/></patch>'  # another element's attribute is not the meta's
    data = _fxp(_sub3(xml))
    splices = fxp.set_meta(data, "author", "Ann")
    assert splices is not None
    assert apply_splices(data, splices) == _fxp(_sub3(xml.replace(meta, expected)))


def test_set_meta_name_also_writes_the_program_name() -> None:
    data = _fxp(_sub3(XML), fill_byte_size=True)
    long_name = "A very long patch name of forty chars!!"
    splices = fxp.set_meta(data, "name", long_name)
    assert splices is not None
    new = XML.replace(b'name="Init"', b'name="' + long_name.encode() + b'"')
    assert apply_splices(data, splices) == _fxp(_sub3(new), fill_byte_size=True, name=long_name.encode()[:27])
    short = fxp.set_meta(data, "name", "Ré")
    assert short is not None and apply_splices(data, short)[28:56] == "Ré".encode().ljust(28, b"\0")


def test_set_meta_needs_a_meta_element_in_an_fxp() -> None:
    assert fxp.set_meta(_fxp(_sub3(b"<patch/>")), "author", "x") is None
    assert fxp.set_meta(b"junk", "author", "x") is None
