"""Recognized-only formats: other synths' fxp, ZynAddSubFX ``.xiz``, u-he ``.h2p``, Ableton ``.adv``/``.adg``.

They are named and handed to scan-security (bounded gzip, hardened XML, texts); hostile XML in any
of them is refused by the loader and reported by the security rules. Corpus counts are computed
independently from the bytes (struct, gzip, regular expressions)."""

from __future__ import annotations

import gzip
import re
import struct
import zlib
from collections import Counter
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.formats import fxp, recognized, registry
from presetctl.engine.formats.base import Document, LoadContext, Loader
from presetctl.engine.model import FileStatus, Violation
from presetctl.engine.options import Options
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.runner import run

OPTIONS = Options(profiles=("marketplace",))  # G004 and G007 are in the marketplace profile
RULES = RuleSet(OPTIONS)
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
          b"<r>&b;</r>")
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
DTD = b'<?xml version="1.0"?><!DOCTYPE r [<!ELEMENT r ANY>]><r/>'
XIZ = (b'\n<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ZynAddSubFX-data>\n<ZynAddSubFX-data version-major="2" '
       b'version-minor="4" version-revision="1"><INSTRUMENT><INFO><string name="name">Warm Pad</string>'
       b'<string name="author">Paul</string><string name="comments">slow</string></INFO></INSTRUMENT>'
       b"</ZynAddSubFX-data>")
ADG = (b'<?xml version="1.0" encoding="UTF-8"?>\r\n<Ableton MajorVersion="5" Creator="Ableton Live 10.1.30">'
       b'<FileRef><Path Value="D:/Users/Rob/Documents/x.adv" /></FileRef></Ableton>')
H2P = (b"/*@Meta\n\nAuthor:\n'Rob'\n\nDescription:\n'Based on \\\"it\\\"'\n\nCategories:\n'Keys:Piano'\n\n*/\n\n"
       b"#AM=Diva\n#Vers=10001\n#cm=main\nCcOp=60.00\nModule='Chorus1'\n\0\0")


def load(loader: Loader, data: bytes, name: str, limit: int = 100 * 1024 * 1024) -> Document:
    return loader.load(data, LoadContext(PurePosixPath(name), max_decompressed=limit))


def violations(doc: Document, name: str) -> list[Violation]:
    out = list(doc.problems)
    ctx = RuleContext(PurePosixPath(name), OPTIONS)
    for rule in RULES.checks_for(doc.format, doc.parsed, doc.validated):
        assert rule.check is not None
        out.extend(v if v.code else Violation(v.message, v.location, rule.code) for v in rule.check(doc, ctx))
    return out


def codes(doc: Document, name: str) -> set[str]:
    return {v.code for v in violations(doc, name)}


def other_fxp(plugin: bytes, chunk: bytes, *, name: bytes = b"Lead", byte_size: int | None = None,
              programs: int = 1) -> bytes:
    data = struct.pack(">4sI4sI4sII28sI", b"CcnK", 0, b"FPCh", 1, plugin, 1, programs, name, len(chunk)) + chunk
    size = len(data) - 8 if byte_size is None else byte_size
    return data[:4] + struct.pack(">I", size) + data[8:]


# --- models and detection ----------------------------------------------------------------------------

def test_models_and_detection() -> None:
    doc = load(recognized.XIZ_LOADER, XIZ, "Warm Pad.xiz")
    p = doc.presets[0]
    assert (doc.format, doc.validated, doc.parsed) == ("zyn-xiz", False, True)
    assert (p.name, p.author, p.description, p.synth, p.synth_version) == ("Warm Pad", "Paul", "slow", "ZynAddSubFX",
                                                                          "2.4.1")
    assert doc.problems == () and doc.facts.leading_space == 1
    assert [(v.code, v.location.offset) for v in violations(doc, "x.xiz") if v.code.startswith("G")] == [("G007", 0)]
    assert codes(load(recognized.XIZ_LOADER, gzip.compress(XIZ.lstrip()), "x.xiz"), "x.xiz") == {"R001"}

    doc = load(recognized.ABLETON_LOADER, gzip.compress(ADG), "Rack.adg")
    p = doc.presets[0]
    assert (doc.format, p.name, p.synth, p.synth_version) == ("ableton", "Rack", "Ableton Live", "10.1.30")
    assert {"R001", "X002"} <= codes(doc, "Rack.adg")  # the user path inside the gzip XML is found

    doc = load(recognized.H2P_LOADER, H2P, "Piano.h2p")
    p = doc.presets[0]
    assert (p.name, p.author, p.category, p.description, p.synth, p.synth_version) == (
        "Piano", "Rob", "Keys", 'Based on "it"', "Diva", "10001")
    assert [(loc.pointer, t) for loc, t in doc.facts.texts] == [
        ("/@Meta/Author", "Rob"), ("/@Meta/Description", 'Based on "it"'), ("/@Meta/Categories", "Keys:Piano"),
        ("/Module", "Chorus1")]
    assert doc.facts.texts[0][0].offset == H2P.index(b"Rob")
    assert doc.problems == ()
    for data, name, loader in ((XIZ, "x.xml", recognized.XIZ_LOADER), (H2P, "x.txt", recognized.H2P_LOADER),
                               (ADG, "x.xml", recognized.ABLETON_LOADER),
                               (other_fxp(b"XfsX", b"x"), "x.bin", fxp.OTHER_LOADER)):
        assert registry.detect(data[:4096], PurePosixPath(name)) is loader


def test_other_fxp_header_checks() -> None:
    serum = other_fxp(b"XfsX", zlib.compress(b"serum state" * 10))
    doc = load(fxp.OTHER_LOADER, serum, "x.fxp")
    assert (doc.format, doc.validated, doc.problems, doc.presets[0].synth) == ("fxp", False, (), "Serum")
    (blob,) = doc.facts.blobs
    assert blob.read() == b"serum state" * 10 and blob.location.offset == 60
    sylenth = other_fxp(b"syl1", b"1lys" + struct.pack("<I", 11) + zlib.compress(b"hello world"))
    assert load(fxp.OTHER_LOADER, sylenth, "x.fxp").facts.blobs[0].read() == b"hello world"
    assert load(fxp.OTHER_LOADER, other_fxp(b"XfsX", b"abc", byte_size=len(other_fxp(b"XfsX", b"abc"))),
                "x.fxp").problems == ()  # Serum's byteSize quirk is accepted
    cases = {
        other_fxp(b"abcd", b"abc", byte_size=7): ("G002", 4),
        other_fxp(b"abcd", b"abc") + b"tail": ("G003", 63),
        other_fxp(b"abcd", b"abc")[:-1]: ("G001", 56),
        other_fxp(b"abcd", b"abc")[:30]: ("G001", 0),
        other_fxp(b"OBXf", b"abc", programs=0x01000000): ("G004", 24),
    }
    for data, (code, offset) in cases.items():
        got = [(v.code, v.location.offset) for v in violations(load(fxp.OTHER_LOADER, data, "x.fxp"), "x.fxp")]
        assert (code, offset) in got, (code, got)
    obxf = b'<?xml version="1.0"?> <OB-Xf Volume="0.5" author="Me" category="Brass"/>'
    doc = load(fxp.OTHER_LOADER, other_fxp(b"OBXf", b"VC2!" + struct.pack("<I", len(obxf) + 1) + obxf + b"\0"), "x.fxp")
    assert (doc.presets[0].category, doc.presets[0].author, doc.raw.tag) == ("Brass", "Me", "OB-Xf")


# --- hostile input -----------------------------------------------------------------------------------

def _hostile_cases() -> list[tuple[Loader, bytes, str, set[str], str]]:
    vc2 = lambda xml: other_fxp(b"OBXf", b"VC2!" + struct.pack("<I", len(xml)) + xml)  # noqa: E731
    return [
        (recognized.XIZ_LOADER, LAUGHS, "a.xiz", {"X040", "X041"}, "G005"),
        (recognized.XIZ_LOADER, gzip.compress(LAUGHS), "b.xiz", {"X040", "X041"}, "G005"),
        (recognized.XIZ_LOADER, gzip.compress(XXE), "c.xiz", {"X040", "X042"}, "G005"),
        (recognized.ABLETON_LOADER, gzip.compress(XXE), "d.adg", {"X040", "X042"}, "G005"),
        (recognized.ABLETON_LOADER, gzip.compress(LAUGHS), "e.adv", {"X040", "X041"}, "G005"),
        (recognized.ABLETON_LOADER, gzip.compress(DTD), "f.adv", {"X040"}, "G005"),
        (recognized.H2P_LOADER, H2P.replace(b"CcOp", LAUGHS + b"\nCcOp"), "g.h2p", {"X040", "X041"}, ""),
        (fxp.OTHER_LOADER, vc2(XXE), "h.fxp", {"X040", "X042"}, "G005"),
        (fxp.OTHER_LOADER, vc2(LAUGHS), "i.fxp", {"X040", "X041"}, "G005"),
    ]


@pytest.mark.parametrize(("loader", "data", "name", "security", "loader_code"), _hostile_cases())
def test_hostile_xml_refused_and_reported(loader: Loader, data: bytes, name: str, security: set[str],
                                          loader_code: str) -> None:
    doc = load(loader, data, name)
    if loader_code:
        assert loader_code in [v.code for v in doc.problems]
    assert security <= codes(doc, name)


def test_gzip_bomb_is_bounded() -> None:
    bomb = gzip.compress(b"<Ableton>" + b" " * (8 << 20) + b"</Ableton>")
    doc = load(recognized.ABLETON_LOADER, bomb, "bomb.adg", limit=1 << 20)
    (v,) = doc.problems
    assert (v.code, doc.parsed) == ("G006", False) and "not read" in v.message
    serum = load(fxp.OTHER_LOADER, other_fxp(b"XfsX", zlib.compress(b"\0" * (4 << 20))), "x.fxp", limit=1 << 20)
    with pytest.raises(ValueError, match="not fully inflated"):
        serum.facts.blobs[0].read()


PROPS = settings(max_examples=150, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
LOADERS = (recognized.XIZ_LOADER, recognized.H2P_LOADER, recognized.ABLETON_LOADER, fxp.OTHER_LOADER)


def _no_crash(data: bytes) -> None:
    for loader in LOADERS:
        name = f"x{loader.extensions[0]}"
        doc = load(loader, data, name, limit=1 << 20)
        violations(doc, name)
        for blob in doc.facts.blobs:
            try:
                blob.read()
            except ValueError:
                pass


@PROPS
@given(st.binary(max_size=800))
def test_random_bytes_never_raise(data: bytes) -> None:
    _no_crash(data)
    _no_crash(gzip.compress(data))
    _no_crash(other_fxp(b"OBXf", b"VC2!" + data))


@PROPS
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=10), st.integers(0, 5000))
def test_mutated_files_never_raise(edits: list[tuple[int, int]], cut: int) -> None:
    for base in (XIZ, H2P, gzip.compress(ADG), other_fxp(b"syl1", b"1lys\0\0\0\0" + zlib.compress(b"abc" * 50))):
        buf = bytearray(base)
        for at, value in edits:
            buf[at % len(buf)] = value
        _no_crash(bytes(buf))
        _no_crash(bytes(buf[: cut % (len(buf) + 1)]))


# --- the real corpus -----------------------------------------------------------------------------------

@pytest.mark.corpus
def test_corpus_xiz(corpus: Path) -> None:
    files = sorted((corpus / "zynaddsubfx-xiz").rglob("*.xiz"))
    assert len(files) == 47
    gz = leading = 0
    found = Counter()
    for p in files:
        data = p.read_bytes()
        xml = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        gz += data[:2] == b"\x1f\x8b"
        leading += xml[:1].isspace()
        doc = load(recognized.XIZ_LOADER, data, p.name)
        assert doc.parsed and doc.format == "zyn-xiz" and not doc.validated and doc.problems == ()
        found.update(v.code for v in violations(doc, p.name) if v.code.startswith("G"))
        m = re.search(rb'<INFO>\s*<string name="name">([^<]*)</string>', xml)
        assert doc.presets[0].name == (m.group(1).decode() if m and m.group(1) else None), p
    assert (gz, leading) == (21, 33)
    assert found == Counter({"G007": 33})


@pytest.mark.corpus
def test_corpus_ableton_and_h2p(corpus: Path) -> None:
    files = sorted(p for p in (corpus / "ableton").rglob("*") if p.suffix in (".adv", ".adg"))
    assert len(files) == 19
    for p in files:
        data = p.read_bytes()
        creator = re.search(rb'Creator="([^"]*)"', gzip.decompress(data))
        doc = load(recognized.ABLETON_LOADER, data, p.name)
        assert doc.parsed and doc.problems == () and creator is not None
        assert f"{doc.presets[0].synth} {doc.presets[0].synth_version}" == creator.group(1).decode()
    files = sorted((corpus / "uhe-h2p").rglob("*.h2p"))
    assert len(files) == 9
    for p in files:
        data = p.read_bytes()
        doc = load(recognized.H2P_LOADER, data, p.name)
        author = re.search(rb"Author:\n'([^']*)'", data)
        synth = re.search(rb"^#AM=(.*)$", data, re.M)
        assert doc.problems == () and author is not None and synth is not None
        assert (doc.presets[0].author, doc.presets[0].synth) == (author.group(1).decode(), synth.group(1).decode())


@pytest.mark.corpus
def test_corpus_other_fxp(corpus: Path) -> None:
    files = sorted([*(corpus / "other-fxp").rglob("*.fxp"), *(corpus / "obxf-fxp").rglob("*.fxp")])
    assert len(files) == 85
    plugins: Counter[str] = Counter()
    found: Counter[str] = Counter()
    swapped = raw_chunks = 0
    for p in files:
        data = p.read_bytes()
        plugin = data[16:20].decode()
        plugins[plugin] += 1
        swapped += struct.unpack(">I", data[24:28])[0] == 0x01000000
        doc = load(fxp.OTHER_LOADER, data, p.name)
        assert doc.format == "fxp" and doc.parsed and not doc.validated and doc.problems == ()
        found.update(v.code for v in violations(doc, p.name) if v.code.startswith("G"))
        if plugin in ("XfsX", "syl1"):  # zlib chunks are decoded for scan-security; 4 Sylenth1 chunks are raw
            try:
                inflated = zlib.decompressobj().decompress(data[60 if plugin == "XfsX" else 68 :])
            except zlib.error:
                assert doc.facts.blobs == ()
                raw_chunks += 1
            else:
                (blob,) = doc.facts.blobs
                assert blob.read() == inflated
        if plugin == "OBXf":
            category = re.search(rb' category="([^"]*)"', data)
            assert doc.raw is not None and category is not None
            assert doc.presets[0].category == category.group(1).decode()
    assert plugins == Counter({"OBXf": 37, "XfsX": 35, "syl1": 13})
    assert swapped == 22 and found == Counter({"G004": 22}) and raw_chunks == 4


@pytest.mark.corpus
def test_corpus_every_file_accounted_for(corpus: Path) -> None:
    folders = ["surge-fxp", "other-fxp", "obxf-fxp", "zynaddsubfx-xiz", "uhe-h2p", "ableton"]
    expected = sum(1 for f in folders for p in (corpus / f).rglob("*") if p.is_file())
    result = run([str(corpus / f) for f in folders], Options(select=("R001", "U", "G"), jobs=1), cwd=str(corpus))
    assert len(result.files) == expected == 627
    assert Counter(o.status for o in result.files) == Counter({FileStatus.VALIDATED: 467, FileStatus.RECOGNIZED: 160})
    assert result.format_counts == {"ableton": 19, "fxp": 85, "surge-fxp": 467, "uhe-h2p": 9, "zyn-xiz": 47}
    assert Counter(f.code for f in result.findings) == Counter(
        {"R001": 160, "U012": 24, "G007": 33, "G004": 22, "U011": 11, "U008": 1})
