"""Byte-exact behaviour of the fix writers and name helpers (no disk, no CLI)."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from presetctl.engine.fix.model import Splice
from presetctl.engine.fix.names import numbered, portable_file_name, trim_name
from presetctl.engine.fix.planner import PlanRules, apply_splices, plan_file
from presetctl.engine.fix.writers import dx7_sysex
from presetctl.engine.fix.writers import json_text as jt
from presetctl.engine.fix.writers.registry import complete_edit
from presetctl.engine.formats import dx7_syx
from presetctl.engine.formats.base import Document, LoadContext
from presetctl.engine.options import Options, PackConfig


def test_replace_value_keeps_every_other_byte() -> None:
    body = b'{\n\t"metadata" :  {"name": "x", "category":"basses" ,"n": 1.50e0},\n\t"z": [1,2]\n}'
    splice = jt.replace_value(body, "/metadata/category", "Bass")
    assert splice is not None
    assert apply_splices(body, [splice]) == body.replace(b'"basses"', b'"Bass"')


def test_insert_member_goes_first_in_the_style_of_the_file() -> None:
    body = b'{\n    "preset_name": "x",\n    "settings": {"a": 1}\n}'
    splice = jt.insert_member(body, "", "author", "Ada")
    assert splice is not None
    assert apply_splices(body, [splice]) == b'{\n    "author": "Ada",\n    "preset_name": "x",\n    "settings": {"a": 1}\n}'
    compact = b'{"name":"x"}'
    s2 = jt.insert_member(compact, "", "author", "Ada")
    assert s2 is not None and apply_splices(compact, [s2]) == b'{"author":"Ada","name":"x"}'
    empty = b"{ }"
    s3 = jt.insert_member(empty, "", "k", 1)
    assert s3 is not None and apply_splices(empty, [s3]) == b'{"k": 1 }'


def test_duplicate_removal_keeps_the_last_value_and_nested_removals_fold() -> None:
    body = b'{\n  "a": 1, "b": {"x": 1, "x": [1,{"y":2,"y":3}], "z": 0}, "a": 2.50\n}'
    removals = jt.duplicate_removals(body)
    assert [k for k, _ in removals] == ["a", "x", "y"]
    assert apply_splices(body, [s for _, s in removals]) == b'{\n  "b": {"x": [1,{"y":3}], "z": 0}, "a": 2.50\n}'
    nested = b'{"x": {"y": 1, "y": 2}, "x": 3}'  # the "y" pair lies inside the removed first "x"
    inner = jt.duplicate_removals(nested)
    assert [k for k, _ in inner] == ["x"]
    assert apply_splices(nested, [s for _, s in inner]) == b'{"x": 3}'


def test_value_span_of_members_and_items() -> None:
    body = b'{"a": [10, {"b": "x,y"}], "c": true}'
    assert jt.value_span(body, "/a/1/b") == (17, 22)
    assert body[slice(*jt.value_span(body, "/a/0") or (0, 0))] == b"10"
    assert body[slice(*jt.value_span(body, "/c") or (0, 0))] == b"true"
    assert jt.value_span(body, "/missing") is None


@pytest.mark.parametrize(("name", "limit", "expected"), [
    ("Warm Analog Brass Section Wide 02", 28, "Warm Analog Brass Section 02"),
    ("Warm Analog Brass Section Wide", 28, "Warm Analog Brass Section Wi"),
    ("Short", 28, "Short"),
    ("ÄÖÜ Brass", 5, "ÄÖ"),  # never half a UTF-8 character
    ("E.Piano Tines B", 10, "E.Piano B"),
])
def test_trim_name_keeps_the_distinguishing_tail(name: str, limit: int, expected: str) -> None:
    assert trim_name(name, limit) == expected
    assert len(trim_name(name, limit).encode()) <= limit


@pytest.mark.parametrize(("name", "expected"), [
    ("Bass: Deep?.json", "Bass_ Deep_.json"),
    (" Lead.json.", "Lead.json"),
    ("a|b<c>.vital", "a_b_c_.vital"),
    ("...", "preset"),
])
def test_portable_file_name(name: str, expected: str) -> None:
    assert portable_file_name(name) == expected


def test_numbered() -> None:
    assert numbered("Bass.json", 2) == "Bass (2).json"
    assert numbered("Bass", 3) == "Bass (3)"


def _cs(payload: bytes) -> int:
    # the value that makes data + checksum a multiple of 128 (Dexed: sum & 0x7F == 0), not presetctl's function
    return (128 - sum(payload) % 128) % 128


def _bank(count: bytes = b"\x20\x00", checksum: int | None = None, high_bit: bool = False) -> bytes:
    data = bytearray(bytes((i * 7) % 128 for i in range(4096)))
    for v in range(32):
        data[v * 128 + 118 : v * 128 + 128] = f"VOICE {v + 1:<4}".encode()
    if high_bit:
        data[5] |= 0x80
    payload = bytes(b & 0x7F for b in data)
    cs = _cs(payload) if checksum is None else checksum
    return b"\xf0\x43\x00\x09" + count + bytes(data) + bytes([cs, 0xF7])


def _dx7_doc(data: bytes) -> Document:
    return dx7_syx.LOADER.load(data, LoadContext(PurePosixPath("b.syx")))


def test_dx7_repairs_touch_only_their_bytes() -> None:
    good = _bank()
    bad = _bank(count=b"\x10\x00", checksum=0x11)
    count = dx7_sysex.repair_one(bad, {"repair": "byte-count", "dump_at": 0, "want": "2000"})
    checksum = dx7_sysex.repair_one(bad, {"repair": "checksum", "dump_at": 0, "checksum_at": 4102})
    assert count == ("byte count 10 00 -> 20 00", Splice(4, 6, b"\x20\x00"))
    assert checksum == (f"checksum 11 -> {good[-2]:02X}", Splice(4102, 4103, bytes([good[-2]])))
    assert apply_splices(bad, [count[1], checksum[1]]) == good
    assert dx7_sysex.repair_one(good, {"repair": "checksum", "dump_at": 0, "checksum_at": 4102}) is None
    eight_bit = _bank(high_bit=True)
    masked = dx7_sysex.repair_one(eight_bit, {"repair": "seven-bit", "start": 6, "end": 134})
    assert masked is not None and apply_splices(eight_bit, [masked[1]]) == good


def test_dx7_voice_name_splice_keeps_the_checksum() -> None:
    good = _bank()
    doc = _dx7_doc(good)
    splice = dx7_sysex.set_voice_name(doc.raw, 3, "Brass Ä1")
    assert splice == Splice(6 + 2 * 128 + 118, 6 + 2 * 128 + 128, b"Brass _1  ")
    assert dx7_sysex.set_voice_name(doc.raw, 33, "x") is None
    renamed = apply_splices(good, complete_edit(doc, [splice]))
    assert renamed[:4102] == apply_splices(good, [splice])[:4102] and renamed[-1] == 0xF7
    assert renamed[4102] == _cs(renamed[6:4102]) != good[4102]


def test_dx7_edit_keeps_a_wrong_checksum_wrong_by_the_same_amount() -> None:
    # Recomputing it would be D001's (unsafe) fix riding along with a rename.
    good = _bank()
    wrong = good[:4102] + bytes([(good[4102] + 5) & 0x7F]) + good[4103:]
    splice = Splice(6 + 118, 6 + 128, b"NEW NAME  ")
    renamed = apply_splices(wrong, complete_edit(_dx7_doc(wrong), [splice]))
    assert (renamed[4102] - _cs(renamed[6:4102])) & 0x7F == 5
    high = good[:4102] + bytes([good[4102] | 0x80]) + good[4103:]  # D002's bit 7 stays too
    renamed = apply_splices(high, complete_edit(_dx7_doc(high), [splice]))
    assert renamed[4102] == _cs(renamed[6:4102]) | 0x80


def test_dx7_checksum_repair_and_rename_in_one_pass() -> None:
    good = _bank()
    bad = _bank(checksum=0x11)
    doc = _dx7_doc(bad)
    repair = dx7_sysex.repair_one(bad, {"repair": "checksum", "dump_at": 0, "checksum_at": 4102})
    name = dx7_sysex.set_voice_name(doc.raw, 1, "NEW")
    assert repair is not None and name is not None
    fixed = apply_splices(bad, complete_edit(doc, [repair[1], name]))
    assert fixed[4102] == _cs(fixed[6:4102]) and fixed[6 + 118 : 6 + 128] == b"NEW       "
    assert fixed[:6 + 118] == good[:6 + 118]


def test_dx7_single_voice_and_size_changing_edits() -> None:
    body = bytes(range(145)) + b"SINGLE    "
    single = b"\xf0\x43\x00\x00\x01\x1b" + body + bytes([_cs(body), 0xF7])
    doc = _dx7_doc(single)
    name = dx7_sysex.set_voice_name(doc.raw, 1, "OTHER")
    assert name == Splice(6 + 145, 6 + 155, b"OTHER     ")
    renamed = apply_splices(single, complete_edit(doc, [name]))
    assert renamed[161] == _cs(renamed[6:161])
    strip = Splice(0, 0, b"junk")  # outside the data: the checksum is left alone
    assert complete_edit(doc, [strip]) == [strip]


MARKET = Options(profiles=("marketplace",))  # the metadata fixes these tests exercise are in this profile


def _plan(body: bytes, name: str = "Bass.json", unsafe: bool = False, options: Options | None = None) -> bytes:
    opts = options or MARKET
    return plan_file(body, PurePosixPath("pack") / name, PlanRules.build(opts, opts, unsafe), opts).after


PRESET = (b'{\n  "format_version": "1.0",\n  "metadata": {\n    "name": "Bass",\n    "category": "basses",\n'
          b'    "tags": ["Dark", "dark "]\n  },\n  "parameters": [\n'
          b'    {"name": "cutoff", "type": "float", "value": 1.40, "min": 0, "max": 1.0}\n  ]\n}\n')


def test_safe_fixes_byte_exact() -> None:
    assert _plan(PRESET) == PRESET.replace(b'"basses"', b'"Bass"').replace(b'["Dark", "dark "]', b'["dark"]')


def test_unsafe_fixes_clamp_to_the_declared_bound_as_written() -> None:
    out = _plan(PRESET, unsafe=True)
    assert b'"value": 1.0, "min": 0, "max": 1.0}' in out
    assert _plan(out, unsafe=True) == out  # idempotent


def test_author_and_license_from_pack_config_go_first_in_metadata() -> None:
    opts = Options(pack=PackConfig(author="Ada Moog", license="CC0-1.0"), profiles=("marketplace",))
    out = _plan(PRESET, options=opts)
    assert out.startswith(b'{\n  "format_version": "1.0",\n  "metadata": {\n    "license": "CC0-1.0",\n'
                          b'    "author": "Ada Moog",\n    "name": "Bass",\n')


def test_bom_and_duplicate_keys() -> None:
    body = b'\xef\xbb\xbf{"format_version": "1.0", "metadata": {"name": "Bass", "category": "Lead", "category": "Bass"}, "parameters": []}'
    safe = _plan(body)
    assert safe == body[3:]  # P002 is unsafe: only the BOM goes
    assert _plan(body, unsafe=True) == b'{"format_version": "1.0", "metadata": {"name": "Bass", "category": "Bass"}, "parameters": []}'


def test_fix_that_does_not_remove_its_finding_is_rolled_back() -> None:
    opts = Options(category_aliases={"basses": "Bassy"}, profiles=("marketplace",))  # alias outside the taxonomy
    result = plan_file(PRESET, PurePosixPath("Bass.json"), PlanRules.build(opts, opts, False), opts)
    assert [(r.code, r.reason.split(" (")[0]) for r in result.rolled_back] == [
        ("M004", "the finding is still reported after the fix")]
    assert b'"basses"' in result.after and b'["dark"]' in result.after


def _surge(xml: bytes, tail: bytes = b"WTDATA", byte_size: bool = False) -> bytes:
    import struct

    chunk = b"sub3" + struct.pack("<I", len(xml)) + bytes(24) + xml + tail
    name = b"Old".ljust(28, b"\x00")
    head = b"CcnK" + struct.pack(">I", 0) + b"FPCh" + struct.pack(">I", 1) + b"cjs3" + struct.pack(">II", 1, 1) + name
    data = head + struct.pack(">I", len(chunk)) + chunk
    if byte_size:
        data = data[:4] + struct.pack(">I", len(data) - 8) + data[8:]
    return data


def test_surge_fxp_meta_edit_recomputes_every_size() -> None:
    from presetctl.engine.fix.writers import fxp

    xml = b'<?xml version="1.0"?><patch revision="17"><meta name="Old" category="Leads" /><parameters/></patch>'
    data = _surge(xml, byte_size=True)
    out = apply_splices(data, fxp.set_meta(data, "name", 'Brass & "Co"') or [])
    new_xml = xml.replace(b'name="Old"', b'name="Brass &amp; &quot;Co&quot;"')
    assert out == _surge(new_xml, byte_size=True)[:28] + b"Brass & \"Co\"".ljust(28, b"\x00") + _surge(new_xml, byte_size=True)[56:]
    added = apply_splices(data, fxp.set_meta(data, "author", "Ada") or [])
    assert added == _surge(xml.replace(b'Leads" />', b'Leads" author="Ada" />'), byte_size=True)
    zero = _surge(xml)  # Surge itself writes byteSize 0: it stays 0
    assert apply_splices(zero, fxp.set_meta(zero, "category", "Bass") or [])[4:8] == bytes(4)
    assert fxp.set_meta(b"not an fxp", "name", "x") is None


def test_long_name_is_trimmed_keeping_its_number_and_name_spacing_is_safe() -> None:
    long_name = "Very " * 30 + "Long 07"  # 157 bytes; presetctl keeps 128
    body = b'{"format_version": "1.0", "metadata": {"name": "%s"}, "parameters": []}' % long_name.encode()
    out = _plan(body, name="x.json", unsafe=True, options=Options(select=("N004",)))
    expected = ("Very " * 25).rstrip() + " 07"  # head cut to 128 - len(" 07") bytes
    assert out == body.replace(long_name.encode(), expected.encode())
    assert len(expected.encode()) <= 128
    spaced = b'{"format_version": "1.0", "metadata": {"name": "  Lead   One "}, "parameters": []}'
    assert _plan(spaced, options=Options(select=("N005",))) == spaced.replace(b'"  Lead   One "', b'"Lead One"')


def test_null_member_is_replaced_not_duplicated() -> None:
    opts = Options(pack=PackConfig(author="Ada"), select=("M002",))
    body = b'{"format_version": "1.0", "metadata": {"name": "Bass", "author": null}, "parameters": []}'
    assert _plan(body, options=opts) == body.replace(b"null", b'"Ada"')


def test_fix_that_brings_a_new_warning_is_rolled_back() -> None:
    opts = Options(select=("N001",))
    body = b'{"format_version": "1.0", "metadata": {"name": "x"}, "parameters": []}'
    result = plan_file(body, PurePosixPath("A" * 130 + ".json"), PlanRules.build(opts, MARKET, True), opts)
    assert result.after == body and not result.applied
    assert [(r.code, r.reason.split(" (")[0]) for r in result.rolled_back] == [("N001", "the fix introduced N004")]


def test_binary_diff_is_a_summary_of_fields_and_bytes() -> None:
    from presetctl.engine.fix.diff import render_diff
    from presetctl.engine.fix.model import AppliedFix

    bad = _bank(count=b"\x10\x00", checksum=0x11)
    good = _bank()
    text = render_diff("a.syx", "a.syx", bad, good, [AppliedFix("X", "byte count 10 00 -> 20 00")])
    assert text == ("--- a/a.syx\n+++ b/a.syx\n@@ binary file @@\n  X byte count 10 00 -> 20 00\n"
                    f"  bytes 4-4: 10 -> 20\n  bytes 4102-4102: 11 -> {good[4102]:02X}\n")
    assert render_diff("a.syx", "b.syx", good, good, []) == "rename from a.syx\nrename to b.syx\n"


@given(st.text())
def test_fxp_attribute_escaping_is_what_xml_saxutils_gives(value: str) -> None:
    # The writer escapes by hand (saxutils pulls urllib and ssl into start-up); it must not drift.
    from xml.sax.saxutils import escape

    from presetctl.engine.fix.writers.fxp import _attribute

    assert _attribute(value) == escape(value, {'"': "&quot;"}).encode("utf-8")


# -- the JSON splices at their edges (found by mutation testing, docs/testing.md) ---------------------------
def test_render_keeps_utf8_and_refuses_what_json_cannot_hold() -> None:
    assert jt.render("Bässe é") == '"Bässe é"'.encode()  # not \\u escapes: the file stays as readable as it was
    assert jt.render([1.5, None, True]) == b"[1.5, null, true]"
    for number in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="not JSON compliant"):
            jt.render(number)  # NaN would make a file no strict parser (or synth) reads


@pytest.mark.parametrize(("body", "pointer", "edited"), [
    (b'{"a": 1, "b": 2}', "", b'{"k": 1, "a": 1, "b": 2}'),
    (b'{"a":1,"b":2}', "", b'{"k":1,"a":1,"b":2}'),
    (b'{"a": 1,  "b": 2}', "", b'{"k": 1,  "a": 1,  "b": 2}'),  # the gap after the first comma, as it is
    (b'{"x": {"a": 1}, "y": 2}', "/x", b'{"x": {"k": 1, "a": 1}, "y": 2}'),  # one member: the file's comma style
    (b'{"x": {"a": 1}  ,"y":2}', "/x", b'{"x": {"k": 1,"a": 1}  ,"y":2}'),  # no ", " anywhere: no space
    (b'{"x": {}, "y": 1}', "/x", b'{"x": {"k": 1}, "y": 1}'),  # an empty object that is not the last thing
    (b'{\n  "a": 1\n}', "", b'{\n  "k": 1,\n  "a": 1\n}'),
])
def test_insert_member_in_every_layout(body: bytes, pointer: str, edited: bytes) -> None:
    splice = jt.insert_member(body, pointer, "k", 1)
    assert splice is not None and apply_splices(body, [splice]) == edited


@pytest.mark.parametrize(("body", "pointer"), [(b"[1]", ""), (b'{"x": [1]}', "/x"), (b'{"x": 1}', "/y")])
def test_insert_member_only_into_an_object_that_is_there(body: bytes, pointer: str) -> None:
    assert jt.insert_member(body, pointer, "k", 1) is None


def test_duplicate_removals_in_every_object_and_every_repeat() -> None:
    assert jt.duplicate_removals(b'{"x": {"a": 1}, "b": 1, "b": 2}') == [("b", Splice(16, 24, b""))]  # not the first
    assert jt.duplicate_removals(b'{"a":1,"a":2,"a":3}') == [("a", Splice(1, 7, b"")), ("a", Splice(7, 13, b""))]
    # a removal inside a removed member is dropped, and the ones after it still count
    assert jt.duplicate_removals(b'{"a": {"b":1,"b":2}, "a": 3, "c":1, "c":2}') == [
        ("a", Splice(1, 21, b"")), ("c", Splice(29, 36, b""))]
    # a key JSON cannot decode (a bad escape, a byte that is not UTF-8) is named by its raw text
    assert jt.duplicate_removals(b'{"\\q\xff": 1, "\\q\xff": 2}') == [('"\\q\ufffd"', Splice(1, 11, b""))]


def test_resolve_indexes_only_lists_within_their_length() -> None:
    raw = {"x": "abc", "l": [10, 20], "d": {"0": "zero"}}
    assert [jt.resolve(raw, p) for p in ("/x/0", "/l/1", "/l/2", "/l/-1", "/d/0", "")] == [
        None, 20, None, None, "zero", raw]
