"""What Surge XT itself does decides: patch XML only Surge's lenient parser reads (U008, U016, U017)
and its safe fix, revisions (U010, U018), the revision 23 crash (U019), categories (U012), the
init-sound cases (U004, U009), on generated patches and on the real corpus.

The fix's promise, "Surge reads the same bytes", is checked against a small model of TinyXML's
legacy-mode attribute reading written here from libs/tinyxml/src/tinyxmlparser.cpp (GetChar,
GetEntity), not against presetctl's own repair code.
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_format_surge import SNARE, XML, codes, load, make, violations

from presetctl.engine.fix.planner import PlanRules, plan_file
from presetctl.engine.formats import surge_xml
from presetctl.engine.options import Options
from presetctl.engine.rules.registry import BY_CODE

LEADS = "Leads/Acid.fxp"


def fixed(data: bytes, path: str = LEADS, unsafe: bool = False, options: Options | None = None) -> bytes:
    """The bytes ``fix`` writes for ``data`` (the planner: apply, re-validate, repeat to a fixed point)."""
    opts = options or Options()
    return plan_file(data, PurePosixPath(path), PlanRules.build(opts, opts, unsafe), opts).after


# TinyXML 2.x in TIXML_ENCODING_LEGACY: GetChar copies a byte, GetEntity turns "&#x..;"/"&#..;" into
# (char)ucs (its low byte), the five named entities into their character, and any other "&" into "&".
_ENTITIES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}
_ATTRS = re.compile(rb'([\w:.-]+)\s*=\s*(?:"([^"]*)"|([^\s/>"]+))')


def tinyxml_value(raw: bytes, quoted: bool = True) -> bytes:
    if not quoted:
        return raw  # an unquoted value is copied as it is, entities and all
    out, i = bytearray(), 0
    while i < len(raw):
        m = re.match(rb"&#(x[0-9A-Fa-f]+|[0-9]+);", raw[i:])
        if m:
            ucs = int(m.group(1)[1:], 16) if m.group(1)[:1] == b"x" else int(m.group(1))
            out.append(ucs & 0xFF)
            i += m.end()
            continue
        named = next((e for e in _ENTITIES if raw.startswith(e, i)), None)
        if named:
            out += _ENTITIES[named]
            i += len(named)
            continue
        out.append(raw[i])
        i += 1
    return bytes(out)


def surge_reads(xml: bytes) -> list[tuple[bytes, bytes]]:
    """Every attribute as Surge's parser holds it, in document order."""
    return [(m.group(1), tinyxml_value(m.group(2) if m.group(2) is not None else m.group(3), m.group(2) is not None))
            for m in _ATTRS.finditer(xml)]


def without_controls(pairs: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, bytes(b for b in v if b >= 0x20 or b in (9, 10, 13))) for k, v in pairs]


def xml_of(data: bytes) -> bytes:
    (size,) = struct.unpack_from("<I", data, 64)
    return data[92 : 92 + size]


# --- U016: a byte that is not UTF-8 -----------------------------------------------------------------

def test_latin1_byte_in_a_name_loads_as_surge_loads_it_and_the_fix_is_byte_exact() -> None:
    xml = XML.replace(b'name="Acid"', b'name="Donna\xb4s"')
    data = make(xml, name=b"Donna\xb4s")
    doc = load(data)
    assert doc.parsed and doc.presets[0].name == "Donna\u00b4s"  # read as Latin-1, like the fix writes it
    (v,) = doc.problems
    at = xml.index(b"\xb4")
    assert (v.code, v.location.offset, v.location.pointer) == ("U016", 92 + at, "//meta/@name")
    assert v.message == (f"byte 0xB4 is not UTF-8 (Latin-1 '\u00b4'; Surge keeps the raw byte) in //meta/@name at "
                         f"line 1, column {at + 1} (XML byte {at}, file byte {92 + at}): Surge's parser (TinyXML, "
                         "legacy mode) loads the patch with the raw byte, strict XML parsers reject the whole patch")
    out = fixed(data)
    assert out == make(XML.replace(b'name="Acid"', b'name="Donna&#xB4;s"'), name=b"Donna\xb4s")
    assert surge_reads(xml_of(out)) == surge_reads(xml)  # Surge reads the very same bytes
    assert ET.fromstring(xml_of(out)).find("meta").get("name") == "Donna\u00b4s"  # type: ignore[union-attr]
    assert load(out).problems == () and fixed(out) == out


def test_valid_utf8_is_left_alone_and_only_the_stray_bytes_are_reported() -> None:
    xml = XML.replace(b'comment="303ish"', b'comment="caf\xc3\xa9 \xe2\x82 \xff"')
    doc = load(make(xml))
    assert [(v.code, v.location.offset) for v in doc.problems] == [
        ("U016", 92 + xml.index(b"\xe2\x82")), ("U016", 92 + xml.index(b"\x82 ")), ("U016", 92 + xml.index(b"\xff"))]
    assert doc.presets[0].description == "caf\u00e9 \u00e2\u0082 \u00ff"


# --- U008: control characters ------------------------------------------------------------------------

@pytest.mark.parametrize("control", [b"&#x10;", b"&#16;", b"\x10"])
def test_control_character_in_meta_name_is_a_warning_with_a_fix(control: bytes) -> None:
    xml = XML.replace(b'name="Acid"', b'name="Ac' + control + b'id"')
    data = make(xml)
    doc = load(data)
    (v,) = doc.problems
    assert (v.code, v.location.pointer, BY_CODE["U008"].severity.label) == ("U008", "//meta/@name", "warning")
    assert doc.presets[0].name == "Acid"  # no N006 error on top: the name is read without the character
    assert [x.code for x in violations(doc) if x.code.startswith("N")] == []
    out = fixed(data)
    assert out == make(XML)
    assert without_controls(surge_reads(xml)) == surge_reads(xml_of(out))


def test_the_nul_terminator_counted_in_the_xml_size_stays() -> None:
    xml = XML.replace(b'author="Me"', b'author="M&#x10;e"') + b"\0"
    assert fixed(make(xml)) == make(XML + b"\0")


def test_snare_tight_pattern_is_fixed_and_wavetables_stay() -> None:
    wt = struct.pack("<4sIHH", b"\0" * 4, 4, 1, 4) + b"\x01" * 8
    xml = XML.replace(b"</parameters>", b'</parameters><customcontroller><entry i="5" bipolar="0" '
                      b'label="Reverb Decay&#x10;" /></customcontroller>')
    data = make(xml, (wt,), byte_size=None)  # byteSize = file length - 8: recomputed too
    out = fixed(data)
    assert out == make(xml.replace(b"&#x10;", b""), (wt,), byte_size=None)
    assert [b.read() for b in load(out).facts.blobs] == [wt]


# --- U017: '&', '<' and unquoted values ---------------------------------------------------------------

def test_unescaped_markup_reported_and_fixed_to_what_surge_reads() -> None:
    xml = XML.replace(b'comment="303ish"', b'comment="R&B &nbsp; <3"').replace(b'value="16"', b"value=16")
    data = make(xml)
    doc = load(data)
    assert [(v.code, v.location.pointer) for v in doc.problems] == [
        ("U017", "//meta/@comment"), ("U017", "//meta/@comment"), ("U017", "//meta/@comment"),
        ("U017", "//polylimit/@value")]
    assert doc.presets[0].description == "R&B &nbsp; <3" and doc.presets[0].voices == 16
    out = fixed(data)
    assert xml_of(out) == XML.replace(b'comment="303ish"', b'comment="R&amp;B &amp;nbsp; &lt;3"')
    assert surge_reads(xml_of(out)) == surge_reads(xml)


# --- all of them at once, and what stays broken --------------------------------------------------------

def test_every_repair_in_one_fix_run_reaches_the_fixed_point() -> None:
    xml = XML.replace(b'name="Acid"', b'name="Donna\xb4s&#x1B;"').replace(b'author="Me"', b'author="A&B"')
    data = make(xml)
    assert sorted(v.code for v in load(data).problems) == ["U008", "U016", "U017"]
    out = fixed(data)
    assert xml_of(out) == XML.replace(b'name="Acid"', b'name="Donna&#xB4;s"').replace(b'author="Me"',
                                                                                         b'author="A&amp;B"')
    assert ET.fromstring(xml_of(out)) is not None and load(out).problems == ()
    assert fixed(out) == out  # a second run changes nothing
    assert without_controls(surge_reads(xml)) == surge_reads(xml_of(out))


def test_the_xml_rewrite_goes_first_so_a_rename_in_the_same_run_is_not_rolled_back() -> None:
    """Snare Tight: N001 (unsafe) renames the patch, which moves the U008 reference behind it; the XML
    rewrite runs in a pass of its own first, so one run does both and a second changes nothing."""
    xml = XML.replace(b"</parameters>", b'</parameters><customcontroller><entry label="Decay&#x10;" />'
                      b"</customcontroller>")
    curation = Options(profiles=("marketplace",))  # N001 is a curation rule
    out = fixed(make(xml), "Leads/Acid Lead.fxp", unsafe=True, options=curation)
    clean = xml.replace(b"&#x10;", b"").replace(b'name="Acid"', b'name="Acid Lead"')
    assert out == make(clean, name=b"Acid Lead")
    assert fixed(out, "Leads/Acid Lead.fxp", unsafe=True, options=curation) == out


def test_what_tinyxml_rejects_too_stays_u007_located_in_the_original_bytes() -> None:
    xml = XML.replace(b'name="Acid"', b'name="Donna\xb4s"').replace(b'comment="303ish"', b'comment="a" comment="b"')
    doc = load(make(xml))
    assert not doc.parsed and sorted(v.code for v in doc.problems) == ["U007", "U016"]
    (u007,) = [v for v in doc.problems if v.code == "U007"]
    at = xml.index(b'comment="b"')
    assert u007.location.offset == 92 + at and f"(XML byte {at}, file byte {92 + at}): duplicate attribute;" in \
        u007.message
    assert fixed(make(xml)) == make(xml)  # no fix for a patch that cannot be read either way
    nul = load(make(XML.replace(b"<parameters>", b"<param\0eters>")))
    assert [v.code for v in nul.problems] == ["U007"]
    bad_ref = load(make(XML.replace(b'author="Me"', b'author="&#xZZ;"')))  # TinyXML fails on it as well
    assert [v.code for v in bad_ref.problems] == ["U007"]


def test_a_dtd_is_refused_never_repaired() -> None:
    xml = b'<?xml version="1.0"?><!DOCTYPE patch [<!ENTITY x "y">]><patch revision="16"><meta name="\xb4" /></patch>'
    doc = load(make(xml))
    assert [v.code for v in doc.problems] == ["U007"] and "presetctl never reads a DTD" in doc.problems[0].message


def test_old_layout_without_sub3_is_fixed_with_its_chunk_size() -> None:
    xml = XML.replace(b'author="Me"', b'author="M&#x10;e"')
    head = struct.pack(">4sI4sI4sII28sI", b"CcnK", 0, b"FPCh", 1, b"cjs3", 1, 1, b"Acid", len(xml))
    assert [v.code for v in load(head + xml).problems] == ["U008"]
    clean = XML.replace(b'author="Me"', b'author="Me"')
    assert fixed(head + xml) == head[:56] + struct.pack(">I", len(clean)) + clean


def test_many_repairs_are_summarized_after_ten() -> None:
    xml = XML.replace(b'comment="303ish"', b'comment="' + b"&" * 14 + b'"')
    found = [v for v in load(make(xml)).problems if v.code == "U017"]
    assert len(found) == 11 and found[-1].message == "4 more like it in the patch XML"
    assert load(fixed(make(xml))).problems == ()


_TOKENS = [b"a", b" ", b"&", b"&amp;", b"&#x10;", b"&#65;", b"&#xE9;", b"<", b">", b"'", b"&nbsp;", b"\xb4",
           b"\xc3\xa9", b"\xe2\x82", b"\x01", b"\t", b"\xf0\x9f\x8e\xb9", b"\xed\xa0\x80"]


@settings(max_examples=200, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=12), st.booleans())
def test_repair_makes_any_lenient_value_well_formed_with_the_same_bytes_for_surge(tokens: list[bytes],
                                                                                 quoted: bool) -> None:
    value = b"".join(tokens)
    if not quoted:
        value = value.replace(b" ", b"").replace(b"\t", b"").replace(b">", b"").lstrip(b"'") or b"x"
    attr = b'"' + value + b'"' if quoted else value
    xml = b'<?xml version="1.0" encoding="UTF-8"?><patch revision="16"><meta name=' + attr + b' /><parameters />' \
          b"</patch>"
    lenient = surge_xml.repair(xml)
    ET.fromstring(lenient.xml)  # strict XML reads it
    assert without_controls(surge_reads(xml)) == surge_reads(lenient.xml)
    assert surge_xml.repair(lenient.xml).repairs == ()  # and nothing is left to repair


# --- revisions, the tempoOnSave crash, categories, the init sound -------------------------------------

def test_revisions_as_surge_reads_them() -> None:
    no_revision = load(make(XML.replace(b' revision="16"', b"")))
    (v,) = [v for v in violations(no_revision) if v.code.startswith("U")]
    assert (v.code, v.location.pointer, BY_CODE["U018"].severity.label) == ("U018", "/patch/@revision", "error")
    assert v.message.startswith("patch has no revision: Surge reads it as 0 and applies every conversion since revision 1")
    assert codes(load(make(XML.replace(b'revision="16"', b'revision="x17"')))) == ["U018"]
    assert codes(load(make(XML.replace(b'revision="16"', b'revision="17abc"')))) == []  # QueryIntAttribute reads 17
    newer = XML.replace(b'revision="16"', b'revision="30"').replace(b"</patch>", b'<tempoOnSave v="90" /></patch>')
    (v,) = violations(load(make(newer)), only=("U010",))
    assert (v.code, BY_CODE["U010"].severity.label) == ("U010", "warning") and "Patch Version Mismatch" in v.message


def test_revision_23_without_tempo_on_save_crashes_surge_and_gets_the_element() -> None:
    rev23 = XML.replace(b'revision="16"', b'revision="23"')
    (v,) = [v for v in violations(load(make(rev23))) if v.code.startswith("U")]
    assert (v.code, v.location.pointer, BY_CODE["U019"].severity.label) == ("U019", "/patch/tempoOnSave", "error")
    assert v.message == ("revision 23 patch has no <tempoOnSave>: Surge XT reads its v attribute through a null "
                         "pointer and crashes loading the patch")
    assert codes(load(make(XML.replace(b'revision="16"', b'revision="22"')))) == []
    out = fixed(make(rev23))
    assert out == make(rev23.replace(b"</patch>", b'<tempoOnSave v="120" /></patch>'))
    assert codes(load(out)) == [] and fixed(out) == out


@pytest.mark.parametrize(("category", "path", "expected"), [
    (b"Argitoth", "Argitoth/Leads/Acid.fxp", []),  # author as category: Surge's bundled third-party convention
    (b"Argitoth\\Leads", "Argitoth/Leads/Acid.fxp", []),  # the folder path Surge writes when it saves
    (b"Monosynth", "Leads/Acid.fxp", []),  # not one of Surge's categories: nothing to contradict
    (b"Lead", "Leads/Acid.fxp", []),
    (b"Pads", "Leads/Acid.fxp", ["U012"]),
    (b"Kyurumi\\Pad", "Leads/Acid.fxp", ["U012"]),
])
def test_category_versus_folder_only_when_two_surge_categories_disagree(category: bytes, path: str,
                                                                         expected: list[str]) -> None:
    doc = load(make(XML.replace(b'category="Leads"', b'category="' + category + b'"')))
    assert codes(doc, path) == expected
    assert BY_CODE["U012"].severity.label == "info"  # Surge ignores <meta category> when it loads from disk


def test_init_sound_cases_say_so() -> None:
    (v,) = load(make(xml_size=1 << 22)).problems
    assert v.code == "U004" and v.message.endswith("Surge loads the init sound instead and reports a patch load error")
    params = load(make(XML.replace(b"<parameters>", b"<params>").replace(b"</parameters>", b"</params>")))
    (v,) = params.problems
    assert v.message == ("there is no <parameters>: Surge loads the init sound (effects off, no modulation) without "
                         "a message")


# --- the real corpus ----------------------------------------------------------------------------------

_WARNING_OR_WORSE = {c for c, r in BY_CODE.items() if c[0] in "UV" and r.severity.label in ("warning", "error")}


@pytest.mark.corpus
def test_corpus_factory_and_bundled_patches_get_only_what_surge_justifies(corpus: Path) -> None:
    """Every Surge patch of the corpus: no warning or error of the Surge and parameter rules except
    Snare Tight's control character, which strict parsers reject (Surge's own writer produced it)."""
    found = []
    files = sorted((corpus / "surge-fxp").rglob("*.fxp"))
    for p in files:
        rel = str(p.relative_to(corpus / "surge-fxp"))
        found += [(rel, v.code) for v in violations(load(p.read_bytes(), rel), rel) if v.code in _WARNING_OR_WORSE]
    assert len(files) == 467 and found == [(SNARE, "U008")]


@pytest.mark.corpus
def test_corpus_snare_tight_is_fixed_by_removing_the_reference_only(corpus: Path) -> None:
    data = (corpus / "surge-fxp" / SNARE).read_bytes()
    out = fixed(data, "Percussion/Snare Tight.fxp")
    at = data.index(b"&#x10;")
    delta = len(b"&#x10;")
    (size,) = struct.unpack_from("<I", data, 64)
    expected = bytearray(data[:at] + data[at + delta:])
    expected[56:60] = struct.pack(">I", struct.unpack_from(">I", data, 56)[0] - delta)
    expected[64:68] = struct.pack("<I", size - delta)
    assert out == bytes(expected)
    ET.fromstring(xml_of(out))  # strict XML reads it now
    assert without_controls(surge_reads(xml_of(data))) == surge_reads(xml_of(out))
    assert load(out).problems == ()


def test_a_non_finite_surge_value_without_a_range_is_v006() -> None:
    doc = load(make(XML.replace(b'value="27.5"', b'value="nan"')))
    assert [(v.code, v.location.pointer) for v in violations(doc) if v.code.startswith("V")] == [
        ("V006", "/patch/parameters/a_osc1_param4")]
