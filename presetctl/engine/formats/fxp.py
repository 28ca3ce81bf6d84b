"""VST 2 ``.fxp`` presets: Surge XT patches (``surge-fxp``, validated) and other synths' (``fxp``).

Every fxp starts with a 60-byte big-endian header: ``CcnK``, byteSize (of the rest of the file,
excluding magic and byteSize itself), ``FPCh`` (opaque chunk; ``FxCk`` holds a float parameter
list), version, the plugin id, fxVersion, numPrograms, prgName[28] (no terminator when full),
chunkSize. Hosts list the program by prgName.

Surge (plugin id ``cjs3``; ``src/common/PatchFileHeaderStructs.h``, ``SurgeSynthesizerIO.cpp`` and
``SurgePatch.cpp`` of surge-synthesizer/surge) puts in the chunk a 32-byte little-endian ``sub3``
header (XML size, six wavetable sizes: 2 scenes x 3 oscillators), the XML patch, then the
wavetable blocks: a 12-byte ``wt_header`` (4 zero bytes, n_samples u32, n_tables u16, flags u16;
flag 0x4 = 16-bit samples) and n_samples x n_tables samples; older patches store the XML directly
in the chunk. Surge refuses a file without its three magics; it plays the init sound for a chunk
that holds no XML, XML of 4 MiB or more, or XML without ``<patch>``/``<parameters>``; everything
else it loads as far as its lenient parser reads (``surge_xml``). Since revision 29 a
zstd-compressed extension may follow the wavetables, sized by ``<serialization absSize>``.

Other synths (Serum ``XfsX``, Sylenth1 ``syl1``, OB-Xf ``OBXf``, ...) are header-checked only;
their chunk is handed to scan-security decoded where it is zlib (Serum, Sylenth1) or JUCE binary
XML (``VC2!``: OB-Xf).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any
from xml.etree.ElementTree import Element

from presetctl.engine import archive
from presetctl.engine.formats import sniff, surge_names, surge_xml
from presetctl.engine.formats.base import NO_FACTS, Blob, Document, DocumentFacts, LoadContext, Loader, Script
from presetctl.engine.formats.recognized import parse_xml
from presetctl.engine.model import Location, Modulation, Parameter, Preset, Violation

HEADER = 60
SUB3 = 32
WT_HEADER = 12
XML_LIMIT = 1 << 22  # Surge refuses XML of 4 MiB or more
MAX_WT_SAMPLES = 4096  # max_wtable_size in src/common/dsp/Wavetable.h
MAX_WT_TABLES = 512  # max_subtables
WTF_INT16 = 0x4
NAME_AT, NAME_LEN = 28, 28
PLUGINS = {b"cjs3": "Surge", b"XfsX": "Serum", b"syl1": "Sylenth1", b"OBXf": "OB-Xf"}
_META = re.compile(rb"<meta\b[^>]*?(?:/>|>.*?</meta>)", re.S)


@dataclass(frozen=True, slots=True)
class FxpHeader:
    byte_size: int
    fx_magic: bytes
    version: int
    plugin_id: bytes
    fx_version: int
    num_programs: int
    name_bytes: bytes  # prgName up to its first NUL
    chunk_size: int  # FPCh: chunkSize; FxCk: numParams

    @property
    def name(self) -> str:
        return self.name_bytes.decode("utf-8", "replace")


def read_header(data: bytes) -> FxpHeader | None:
    """The header fields, or None when the file is shorter than a header or not ``CcnK``."""
    if len(data) < HEADER or data[:4] != b"CcnK":
        return None
    byte_size, fx_magic, version, plugin, fx_version, programs = struct.unpack_from(">I4sI4sII", data, 4)
    name = data[NAME_AT : NAME_AT + NAME_LEN].split(b"\0", 1)[0]
    (chunk,) = struct.unpack_from(">I", data, 56)
    return FxpHeader(byte_size, fx_magic, version, plugin, fx_version, programs, name, chunk)


def _v(code: str, message: str, offset: int | None = None, pointer: str = "") -> Violation:
    return Violation(message, Location(pointer=pointer, offset=offset), code=code)


@dataclass(frozen=True, slots=True)
class Codes:
    """The codes a loader reports container problems with (Surge: U0xx, other synths: G0xx)."""

    header: str
    size: str
    trailing: str


def check_container(data: bytes, h: FxpHeader, codes: Codes, byte_sizes: tuple[int, ...]) -> tuple[list[Violation], int | None]:
    """Container problems and the end of the chunk (None when the chunk cannot be read)."""
    out: list[Violation] = []
    if h.byte_size not in byte_sizes:
        expected = " or ".join(str(b) for b in byte_sizes)
        out.append(_v(codes.size, f"fxp byteSize is {h.byte_size}, expected {expected} for a {len(data)}-byte file: "
                                  "hosts that trust it read too little or too much", 4))
    if h.fx_magic == b"FxCk":  # a parameter list: numParams floats after the header
        end = HEADER + 4 * h.chunk_size
    elif h.fx_magic == b"FPCh":
        if h.chunk_size == 0:
            out.append(_v(codes.header, "fxp chunkSize is 0: the preset holds no data", 56))
            return out, None
        end = HEADER + h.chunk_size
    else:
        out.append(_v(codes.header, f"fxp type {h.fx_magic!r} is not a single preset (expected FPCh or FxCk)", 8))
        return out, None
    if end > len(data):
        out.append(_v(codes.header, f"fxp chunk of {end - HEADER} bytes runs {end - len(data)} bytes past the end "
                                    f"of the {len(data)}-byte file (truncated)", 56))
        return out, None
    if end < len(data):
        out.append(_v(codes.trailing, f"{len(data) - end} byte(s) after the fxp chunk, which ends at byte {end}", end))
    return out, end


# --- Surge XT -------------------------------------------------------------------------------------

SURGE_CODES = Codes("U001", "U002", "U003")


@dataclass(frozen=True, slots=True)
class Layout:
    xml_at: int
    xml_size: int
    tail: int  # end of the last wavetable block that could be read
    wavetables: tuple[Blob, ...]
    binary: bool  # False: an old patch whose chunk is the XML itself


def _wavetables(data: bytes, sizes: tuple[int, ...], tail: int, end: int, out: list[Violation]) -> tuple[int, list[Blob]]:
    blobs: list[Blob] = []
    for i, size in enumerate(sizes):
        if not size:
            continue
        where = f"scene {'AB'[i // 3]} oscillator {i % 3 + 1}"
        if size < WT_HEADER or size > end - tail:
            out.append(_v("U005", f"wavetable block of {where} is {size} bytes at byte {tail}, but "
                                  f"{max(end - tail, 0)} bytes remain in the chunk: Surge refuses the patch", tail))
            return tail, blobs
        _, samples, tables, flags = struct.unpack_from("<4sIHH", data, tail)
        width = 2 if flags & WTF_INT16 else 4
        need = samples * tables * width
        if samples == 0 or samples > MAX_WT_SAMPLES or tables > MAX_WT_TABLES:
            out.append(_v("U005", f"wavetable of {where} declares {samples} samples x {tables} tables (Surge allows "
                                  f"1-{MAX_WT_SAMPLES} x 0-{MAX_WT_TABLES}): Surge refuses the patch", tail + 4))
        elif need > size - WT_HEADER:
            out.append(_v("U005", f"wavetable of {where} needs {need} bytes of samples but its block holds "
                                  f"{size - WT_HEADER}: Surge refuses the patch", tail))
        elif need < size - WT_HEADER:
            out.append(_v("U006", f"wavetable block of {where} holds {size - WT_HEADER - need} byte(s) beyond its "
                                  f"{samples} x {tables} samples", tail + WT_HEADER + need))
        start, stop = tail, tail + size
        blobs.append(Blob(Location(pointer=f"/wavetable/{i // 3}/{i % 3}", offset=start), "wavetable",
                          _slice(data, start, stop), size))
        tail = stop
    return tail, blobs


def _slice(data: bytes, start: int, stop: int) -> Callable[[], bytes]:
    return lambda: data[start:stop]


def surge_layout(data: bytes, end: int, out: list[Violation]) -> Layout | None:
    """Where the XML and the wavetables are; None (with a U004) when the XML cannot be found."""
    if data[HEADER : HEADER + 4] != b"sub3":
        if data[HEADER:end].lstrip()[:1] == b"<":
            return Layout(HEADER, end - HEADER, end, (), False)
        out.append(_v("U004", f"the chunk starts with {data[HEADER:HEADER + 4]!r}, neither a sub3 header nor XML", HEADER))
        return None
    if end - HEADER < SUB3:
        out.append(_v("U004", f"the chunk is {end - HEADER} bytes, shorter than the {SUB3}-byte sub3 header", HEADER))
        return None
    xml_size, *sizes = struct.unpack_from("<7I", data, HEADER + 4)
    xml_at = HEADER + SUB3
    if xml_size == 0 or xml_size >= XML_LIMIT:
        out.append(_v("U004", f"sub3 XML size is {xml_size} (Surge reads 1 to {XML_LIMIT - 1}): Surge loads the init "
                              "sound instead" + (" and reports a patch load error" if xml_size else ""), HEADER + 4))
        return None
    if xml_size > end - xml_at:
        out.append(_v("U004", f"sub3 XML size {xml_size} runs past the chunk, which leaves {end - xml_at} bytes: "
                              "Surge refuses the patch", HEADER + 4))
        return None
    tail, blobs = _wavetables(data, tuple(sizes), xml_at + xml_size, end, out)
    return Layout(xml_at, xml_size, tail, tuple(blobs), True)


def _where(xml: bytes, offset: int, at: int) -> str:
    """``line L, column C (XML byte X, file byte F)`` of an offset in the XML (columns in bytes, 1-based)."""
    line = xml.count(b"\n", 0, offset) + 1
    column = offset - (xml.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, column {column} (XML byte {offset}, file byte {at + offset})"


_SURGE_READS = {
    surge_xml.CONTROL: "Surge's parser (TinyXML) loads the patch with it",
    surge_xml.NOT_UTF8: "Surge's parser (TinyXML, legacy mode) loads the patch with the raw byte",
    surge_xml.MARKUP: "Surge's parser (TinyXML) loads the patch",
}
_EXPAT_POSITION = re.compile(r": line \d+, column \d+$")
_MAX_SHOWN = 10  # repairs reported one by one per code; the rest are counted in one more finding


def _repair_problems(xml: bytes, at: int, repairs: tuple[surge_xml.Repair, ...]) -> Iterator[Violation]:
    for code in sorted({r.code for r in repairs}):
        mine = [r for r in repairs if r.code == code]
        for r in mine[:_MAX_SHOWN]:
            owner = f" in {r.owner}" if r.owner else ""
            yield _v(code, f"{r.what}{owner} at {_where(xml, r.start, at)}: {_SURGE_READS[code]}, strict XML "
                           "parsers reject the whole patch", at + r.start, r.owner)
        if len(mine) > _MAX_SHOWN:
            yield _v(code, f"{len(mine) - _MAX_SHOWN} more like it in the patch XML", at + mine[_MAX_SHOWN].start)


def parse_surge_xml(xml: bytes, at: int, out: list[Violation]) -> tuple[Element | None, bytes]:
    """The patch XML as Surge reads it, and the well-formed text it was read from.

    XML a strict parser rejects is read again after :func:`surge_xml.repair`, which rewrites only
    what Surge's own parser accepts (reported as U008, U016 and U017, each with a safe fix); what
    stays malformed is U007. DTDs and entity declarations are refused, never repaired.
    """
    result = parse_xml(xml, allow_dtd=False)
    if result.root is not None:
        return result.root, xml
    error, offset = result.error, result.offset or 0
    if not result.refused:
        lenient = surge_xml.repair(xml)
        if lenient.repairs:
            out.extend(_repair_problems(xml, at, lenient.repairs))
            again = parse_xml(lenient.xml, allow_dtd=False)
            if again.root is not None:
                return again.root, lenient.xml
            error, offset = again.error, lenient.original_offset(again.offset or 0)
    error = _EXPAT_POSITION.sub("", error)  # expat's own (0-based) column would contradict ours
    why = ("presetctl never reads a DTD" if result.refused else
           "Surge's parser stops there too and loads only what came before (the rest keeps Surge's defaults)")
    out.append(_v("U007", f"patch XML is not well-formed at {_where(xml, offset, at)}: {error}; {why}",
                  at + offset))
    return None, xml


def lenient_base64(text: str) -> bytes:
    """Decode like Surge's ``base64_decode``: up to the first character outside the alphabet."""
    m = re.match(r"[A-Za-z0-9+/]*", text)
    body = m.group() if m else ""
    body = body[: len(body) // 4 * 4 + (len(body) % 4 if len(body) % 4 > 1 else 0)]
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return b""


def _scripts(root: Element) -> tuple[Script, ...]:
    out: list[Script] = []
    formulae = root.find("formulae")
    for n, f in enumerate(formulae.iter("formula") if formulae is not None else (), 1):
        if f.get("formula"):
            out.append(_script(f.get("formula", ""), f"/patch/formulae/formula[{n}]/@formula"))
    extra = root.find("extraoscdata")
    for child in extra if extra is not None else ():
        if child.get("wavetable_formula"):
            out.append(_script(child.get("wavetable_formula", ""), f"/patch/extraoscdata/{child.tag}/@wavetable_formula"))
    return tuple(out)


def _script(value: str, pointer: str) -> Script:
    try:
        source = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        source = value.encode("utf-8", "replace")  # not base64: Surge would decode garbage; scan the text
    language = "lua-bytecode" if source.startswith((b"\x1bLua", b"\x1bLJ")) else "lua"
    return Script(Location(pointer=pointer), language, source)


def _number(text: str | None) -> float | int | None:
    if text is None:
        return None
    try:  # Surge writes floats as "0.500000": test before raising, exceptions cost more than the parse
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return None


def _parameters(root: Element) -> Iterator[Parameter]:
    params = root.find("parameters")
    for p in params if params is not None else ():
        value = _number(p.get("value"))
        yield Parameter(str(p.tag), value if value is not None else p.get("value"),
                        pointer=f"/patch/parameters/{p.tag}")


def _modulations(root: Element) -> tuple[Modulation, ...]:
    params = root.find("parameters")
    revision = surge_names.stored_revision(root.get("revision"))  # source ids depend on it
    out = []
    for p in params if params is not None else ():
        for mr in p.findall("modrouting"):
            depth = _number(mr.get("depth"))
            out.append(Modulation(surge_names.modsource_name(mr.get("source"), revision), str(p.tag),
                                  float(depth) if depth is not None else None))
    return tuple(out)


def _tags(root: Element) -> tuple[str, ...]:
    tags = root.find("meta/tags")
    return tuple(t.get("tag", "") for t in tags.findall("tag")) if tags is not None else ()


def _sound_key(xml: bytes, data: bytes, layout: Layout) -> Callable[[], bytes]:
    """The patch without its <meta> (name, category, author ...): equal for the same sound."""
    return lambda: _META.sub(b"", xml, count=1) + data[layout.xml_at + layout.xml_size : layout.tail]


def surge_preset(root: Element, xml: bytes, data: bytes, layout: Layout) -> Preset:
    meta = root.find("meta")
    get = meta.get if meta is not None else (lambda key, default=None: default)
    poly = root.find("parameters/polylimit")
    polylimit = _number(poly.get("value")) if poly is not None else None
    m = "/patch/meta/@"
    return Preset(
        format="surge-fxp", name=get("name"), author=get("author"), category=get("category"),
        description=get("comment"), license=get("license"), tags=_tags(root), synth="Surge XT",
        synth_version=root.get("revision"), voices=int(polylimit) if isinstance(polylimit, (int, float)) else None,
        modulations=_modulations(root),
        pointers={"name": m + "name", "author": m + "author", "category": m + "category", "description": m + "comment",
                  "license": m + "license", "tags": "/patch/meta/tags", "synth_version": "/patch/@revision",
                  "voices": "/patch/parameters/polylimit", "metadata": "/patch/meta"},
        parameter_source=lambda: _parameters(root), sound_key=_sound_key(xml, data, layout),
    )


def _tail_problems(data: bytes, root: Element | None, layout: Layout, end: int, out: list[Violation]) -> tuple[Blob, ...]:
    """Bytes after the wavetables: the zstd extension of revision 29+ patches, or trailing bytes."""
    rest = end - layout.tail
    if rest <= 0 or not layout.binary:
        return ()
    declared = root.find("serialization") if root is not None else None
    revision = _number(root.get("revision")) if root is not None else None
    claimed = _number(declared.get("absSize")) if declared is not None else None
    if isinstance(revision, int) and revision > 28 and claimed == rest:
        return (Blob(Location(pointer="/extension", offset=layout.tail), "extension", _slice(data, layout.tail, end), rest),)
    out.append(_v("U003", f"{rest} byte(s) after the patch XML and wavetables (which end at byte {layout.tail}) "
                          "that no size in the sub3 header accounts for", layout.tail))
    return ()


def _tuning_problems(root: Element, out: list[Violation]) -> None:
    tuning = root.find("patchTuning")
    for attr in ("v", "m"):
        value = tuning.get(attr) if tuning is not None else None
        if value and not lenient_base64(value):
            out.append(_v("U015", f"patchTuning {attr}= is not base64: Surge cannot apply the tuning (invalid embedded "
                                  "tuning encoding)", pointer=f"/patch/patchTuning/@{attr}"))


class SurgeFxpLoader(Loader):
    format_id = "surge-fxp"
    extensions = (".fxp",)
    description = "Surge XT patch (fxp: header, sub3, XML, wavetables)"

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.surge_fxp(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        h = read_header(data)
        if h is None:
            what = "shorter than the 60-byte fxp header" if len(data) < HEADER else "not an fxp file (no CcnK magic)"
            return _broken(self.format_id, data, [_v("U001", f"the file is {len(data)} bytes, {what}", 0)])
        if h.fx_magic != b"FPCh":
            return _broken(self.format_id, data, [_v("U001", f"a Surge patch is an FPCh chunk, this file is "
                                                             f"{h.fx_magic!r}", 8)])
        out, end = check_container(data, h, SURGE_CODES, (0, len(data) - 8))
        header: dict[str, Any] = {"byte_size": h.byte_size, "fx_magic": h.fx_magic.decode("latin-1"),
                                  "version": h.version, "plugin_id": "cjs3", "fx_version": h.fx_version,
                                  "num_programs": h.num_programs, "program_name": h.name_bytes,
                                  "chunk_size": h.chunk_size}
        layout = surge_layout(data, end, out) if end is not None else None
        texts = ((Location(pointer="/fxp/prgName", offset=NAME_AT), h.name),) if h.name_bytes else ()
        if layout is None or end is None:
            return _broken(self.format_id, data, out, DocumentFacts(header=header, texts=texts))
        header.update(xml_at=layout.xml_at, xml_size=layout.xml_size, binary=layout.binary)
        xml = data[layout.xml_at : layout.xml_at + layout.xml_size]
        root, read = parse_surge_xml(xml.rstrip(b"\0"), layout.xml_at, out)  # Surge's parser stops at a NUL terminator
        blobs = layout.wavetables + _tail_problems(data, root, layout, end, out)
        facts = DocumentFacts(header=header, texts=texts, blobs=blobs)
        if root is None:
            return _broken(self.format_id, data, out, facts)
        if root.tag != "patch" or root.find("parameters") is None:
            what = f"the root element is <{root.tag}>, not <patch>" if root.tag != "patch" else "there is no <parameters>"
            out.append(_v("U009", f"{what}: Surge loads the init sound (effects off, no modulation) without a message",
                          layout.xml_at, "/" + str(root.tag)))
        _tuning_problems(root, out)
        facts = replace(facts, scripts=_scripts(root))
        preset = surge_preset(root, read, data, layout)
        return Document(self.format_id, data, raw=root, presets=(preset,), problems=tuple(out), facts=facts)


def _broken(fmt: str, data: bytes, problems: list[Violation], facts: DocumentFacts = NO_FACTS) -> Document:
    return Document(fmt, data, problems=tuple(problems), parsed=False, validated=fmt != "fxp", facts=facts)


# --- other synths ---------------------------------------------------------------------------------

OTHER_CODES = Codes("G001", "G002", "G003")
BANK_MAGICS = sniff.FXP_BANK_MAGICS


def _zlib_at(data: bytes, at: int) -> bool:
    head = data[at : at + 2]
    return len(head) == 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


def _inflater(data: bytes, ctx: LoadContext) -> Callable[[], bytes]:
    def read() -> bytes:
        out = archive.inflate(data, ctx.max_decompressed, ctx.max_ratio, wbits=zlib.MAX_WBITS)
        if not out.complete:
            raise ValueError(f"zlib chunk not fully inflated: {out.problem}")
        return out.data
    return read


class OtherFxpLoader(Loader):
    format_id = "fxp"
    extensions = (".fxp", ".fxb")
    description = "fxp preset of another synth (Serum, Sylenth1, OB-Xf ...): header-checked only"
    validates = False

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.other_fxp(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        h = read_header(data)
        if h is None:
            what = "shorter than the 60-byte fxp header" if len(data) < HEADER else "not an fxp file (no CcnK magic)"
            return _broken(self.format_id, data, [_v("G001", f"the file is {len(data)} bytes, {what}", 0)])
        synth = PLUGINS.get(h.plugin_id, f"plugin {h.plugin_id.decode('latin-1')!r}")
        header: dict[str, Any] = {"byte_size": h.byte_size, "fx_magic": h.fx_magic.decode("latin-1"),
                                  "plugin_id": h.plugin_id.decode("latin-1"), "synth": synth,
                                  "num_programs": h.num_programs, "program_name": h.name_bytes}
        if h.fx_magic in BANK_MAGICS:  # banks: recognized, their layout (156-byte header) is not checked
            return Document(self.format_id, data, validated=False, facts=DocumentFacts(header=header))
        # Serum writes byteSize as the whole file length: a known quirk, accepted like hosts do.
        out, end = check_container(data, h, OTHER_CODES, (0, len(data) - 8, len(data)))
        texts = ((Location(pointer="/fxp/prgName", offset=NAME_AT), h.name),) if h.name_bytes else ()
        facts = DocumentFacts(header=header, texts=texts)
        if end is None:
            return _broken(self.format_id, data, out, facts)
        chunk = data[HEADER:end] if h.fx_magic == b"FPCh" else b""
        root: Element | None = None
        blobs: list[Blob] = []
        for at in (0, 8):  # Serum: zlib right away; Sylenth1: "1lys", size, then zlib
            if _zlib_at(chunk, at):
                blobs.append(Blob(Location(pointer="/fxp/chunk", offset=HEADER + at), "chunk",
                                  _inflater(chunk[at:], ctx), len(chunk) - at))
                break
        if chunk[:4] == b"VC2!" and len(chunk) >= 8:  # JUCE binary XML: size, then the XML text
            (size,) = struct.unpack_from("<I", chunk, 4)
            result = parse_xml(chunk[8 : 8 + size].rstrip(b"\0"), allow_dtd=False)
            root = result.root
            if root is None:
                out.append(_v("G005", f"the XML in the chunk is not well-formed: {result.error}",
                              HEADER + 8 + (result.offset or 0)))
        get = root.get if root is not None else (lambda key, default=None: default)
        preset = Preset(format=self.format_id, name=h.name or None, synth=synth, author=get("author"),
                        category=get("category"), pointers={"name": "/fxp/prgName"})
        facts = replace(facts, blobs=tuple(blobs))
        return Document(self.format_id, data, raw=root, presets=(preset,), problems=tuple(out), validated=False,
                        facts=facts)


LOADER = SurgeFxpLoader()
OTHER_LOADER = OtherFxpLoader()
