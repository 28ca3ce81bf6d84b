"""Formats presetctl recognizes without validating them in depth: ZynAddSubFX ``.xiz``, u-he ``.h2p``
and Ableton ``.adv``/``.adg`` presets.

They are loaded far enough to name the preset and to hand scan-security what it needs: the XML
root (parsed with defusedxml: entities and external references refused), the gzip layer inflated
within the run's limits (``archive.inflate``), and the text fields of u-he's text format in
``DocumentFacts.texts``. Problems become ``G0xx`` violations (``rules/recognized.py``); the engine's
``R001`` says the file was recognized but not validated.

Also here: :func:`parse_xml`, the hardened XML parse shared with the fxp loaders.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as DET

from presetctl.engine import archive
from presetctl.engine.formats import sniff
from presetctl.engine.formats.base import Document, DocumentFacts, LoadContext, Loader
from presetctl.engine.model import Location, Preset, Violation

GZIP = b"\x1f\x8b"
_ENCODING = re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)")
_ASCII_SUPERSETS = frozenset({b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1", b"latin1"})
_LEADING = re.compile(rb"[ \t\r\n]+(?=<\?xml)")


@dataclass(frozen=True, slots=True)
class XmlResult:
    """A parsed XML root, or why not: ``offset`` is the byte offset of the error in the parsed bytes."""

    root: Element | None
    error: str = ""
    offset: int | None = None
    line: int | None = None
    column: int | None = None  # 1-based
    refused: bool = False  # a DTD, entity declaration or external reference: refused, not malformed


def _offset(data: bytes, line: int, column0: int) -> int:
    """Byte offset of expat's (1-based line, 0-based column in characters)."""
    start = 0
    for _ in range(line - 1):
        nl = data.find(b"\n", start)
        if nl < 0:
            return len(data)
        start = nl + 1
    end = data.find(b"\n", start)
    text = data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")
    return start + len(text[:column0].encode("utf-8", "replace"))


def _declaration_free(data: bytes) -> bool:
    """No DTD can hide in ``data``: it has no ``<!`` and is in an ASCII-compatible encoding (a DTD in
    UTF-16 or EBCDIC would not show as those bytes). Then expat cannot meet an entity declaration
    or an external reference, and ElementTree's C parser is as safe as defusedxml's Python one
    (which costs about 3 times more on a Surge patch)."""
    if b"<!" in data or b"\0" in data:
        return False
    m = _ENCODING.match(data, 0, 512)
    return m is None or m.group(1).lower() in _ASCII_SUPERSETS


def parse_xml(data: bytes, *, allow_dtd: bool) -> XmlResult:
    """Parse with defusedxml: entity declarations and external references are always refused,
    a DOCTYPE only when ``allow_dtd`` is False. Never raises for bad input."""
    try:
        if _declaration_free(data):
            root = ET.fromstring(data)
        else:
            root = DET.fromstring(data, forbid_dtd=not allow_dtd, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line, col = getattr(exc, "position", (1, 0))
        return XmlResult(None, str(exc), _offset(data, line, col), line, col + 1)
    except defusedxml.DTDForbidden:
        return XmlResult(None, "document type declaration (DTD) refused", max(data.find(b"<!DOCTYPE"), 0),
                         refused=True)
    except defusedxml.EntitiesForbidden:
        return XmlResult(None, "entity declaration refused (entity expansion)", max(data.find(b"<!ENTITY"), 0),
                         refused=True)
    except defusedxml.ExternalReferenceForbidden:
        return XmlResult(None, "external reference refused (external entity or DTD)", max(data.find(b"<!"), 0),
                         refused=True)
    except (ValueError, LookupError, RecursionError, MemoryError) as exc:
        # ValueError: other defusedxml refusals and bad encodings; LookupError: an unknown declared encoding
        return XmlResult(None, f"{type(exc).__name__}: {exc}", 0)
    return XmlResult(root)


def _inflate_if_gzip(data: bytes, ctx: LoadContext) -> tuple[bytes, str]:
    """(XML bytes, problem) of a gzip or plain file; problem is "" when all of it was read."""
    if not data.startswith(GZIP):
        return data, ""
    out = archive.inflate(data, ctx.max_decompressed, ctx.max_ratio)
    if out.complete:
        return out.data, ""
    why = {"limit": f"inflates past the {ctx.max_decompressed}-byte limit",
           "ratio": f"inflates more than {ctx.max_ratio} times its size (a decompression bomb)"}.get(
        out.problem, out.problem)
    return out.data, f"gzip stream {why}"


def _xml_document(fmt: str, data: bytes, ctx: LoadContext, allow_dtd: bool) -> tuple[Element | None, list[Violation], int]:
    """Inflate (bounded) and parse; problems as G-codes; also the white space skipped before ``<?xml``
    (ZynAddSubFX writes a newline there: its parser accepts it, XML does not; rule G007 says so)."""
    xml, problem = _inflate_if_gzip(data, ctx)
    if problem:
        return None, [Violation(f"{problem}; not read", Location(offset=0), code="G006")], 0
    problems: list[Violation] = []
    lead = _LEADING.match(xml)
    if lead:
        xml = xml[lead.end():]
    result = parse_xml(xml, allow_dtd=allow_dtd)
    if result.root is None:
        where = f" at line {result.line}, column {result.column}" if result.line else ""
        layer = " (inside the gzip stream)" if data.startswith(GZIP) else ""
        offset = None if layer or result.offset is None else result.offset + (lead.end() if lead else 0)
        problems.append(Violation(f"XML is not well-formed{where}{layer}: {result.error}", Location(offset=offset),
                                  code="G005"))
    return result.root, problems, lead.end() if lead else 0


# --- ZynAddSubFX --------------------------------------------------------------------------------

class XizLoader(Loader):
    format_id = "zyn-xiz"
    extensions = (".xiz",)
    description = "ZynAddSubFX instrument (gzip or plain XML; recognized, not validated)"
    validates = False

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.xiz(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        root, problems, lead = _xml_document(self.format_id, data, ctx, allow_dtd=True)  # Zyn writes <!DOCTYPE ...>
        facts = DocumentFacts(leading_space=lead)
        if root is None:
            return Document(self.format_id, data, problems=tuple(problems), validated=False, parsed=False, facts=facts)
        info = root.find("INSTRUMENT/INFO")
        fields = {s.get("name"): (s.text or "") for s in info.iter("string")} if info is not None else {}
        base = "/ZynAddSubFX-data/INSTRUMENT/INFO/string"
        preset = Preset(format=self.format_id, name=fields.get("name") or None, author=fields.get("author") or None,
                        description=fields.get("comments") or None, synth="ZynAddSubFX",
                        synth_version=_zyn_version(root),
                        pointers={"name": base, "author": base, "description": base})
        return Document(self.format_id, data, raw=root, presets=(preset,), problems=tuple(problems), validated=False,
                        facts=facts)


def _zyn_version(root: Element) -> str | None:
    parts = [root.get(f"version-{k}") for k in ("major", "minor", "revision")]
    numbers = [p for p in parts if p is not None]
    return ".".join(numbers) if numbers else None


# --- Ableton --------------------------------------------------------------------------------------

class AbletonLoader(Loader):
    format_id = "ableton"
    extensions = (".adv", ".adg")
    description = "Ableton Live device or rack preset (gzip XML; recognized, not validated)"
    validates = False

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.ableton(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        root, problems, _ = _xml_document(self.format_id, data, ctx, allow_dtd=False)
        if root is None:
            return Document(self.format_id, data, problems=tuple(problems), validated=False, parsed=False)
        creator = root.get("Creator")
        version = re.search(r"\d+(?:\.\d+)+", creator or "")
        synth = creator
        if creator and version:  # "Ableton Live 10.1.9": the synth is what comes before its version
            synth = creator[: version.start()].strip() or None
        preset = Preset(format=self.format_id, name=PurePath(ctx.path).stem, synth=synth,
                        synth_version=version.group() if version else None,
                        pointers={"synth": "/Ableton/@Creator", "synth_version": "/Ableton/@Creator"})
        return Document(self.format_id, data, raw=root, presets=(preset,), problems=tuple(problems), validated=False)


# --- u-he -----------------------------------------------------------------------------------------

_META_ITEM = re.compile(r"^([A-Za-z][\w ]*):\s*\n'((?:\\.|[^'\\])*)'", re.M)
_QUOTED = re.compile(r"^([#\w+]+)='((?:\\.|[^'\\])*)'", re.M)
_HEADER = re.compile(r"^#(AM|Vers)=(.*)$", re.M)
_UNESCAPE = re.compile(r"\\(.)")


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: {"r": "\r", "n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


class H2pLoader(Loader):
    format_id = "uhe-h2p"
    extensions = (".h2p",)
    description = "u-he preset (text; recognized, not validated)"
    validates = False

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.h2p(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        text = data.rstrip(b"\0").decode("utf-8", "replace")  # u-he pads the file with NULs
        problems: list[Violation] = []
        meta: dict[str, str] = {}
        texts: list[tuple[Location, str]] = []
        body_at = 0
        if text.startswith("/*@Meta"):
            end = text.find("*/")
            if end < 0:
                problems.append(Violation("the /*@Meta block is never closed with */", Location(offset=0),
                                          code="G008"))
                end = len(text)
            body_at = end + 2
            for m in _META_ITEM.finditer(text, 0, end):
                meta[m.group(1)] = _unescape(m.group(2))
                texts.append((Location(pointer=f"/@Meta/{m.group(1)}", offset=_byte_at(text, m.start(2))),
                              meta[m.group(1)]))
        header = {m.group(1): m.group(2).strip() for m in _HEADER.finditer(text, body_at)}
        if "AM" not in header:
            problems.append(Violation("no #AM= line naming the synth: not a u-he preset body", Location(offset=0),
                                      code="G008"))
        texts.extend(_quoted(text, body_at))
        categories = meta.get("Categories")
        preset = Preset(format=self.format_id, name=PurePath(ctx.path).stem, author=meta.get("Author") or None,
                        category=categories.split(":", 1)[0] if categories else None,
                        description=meta.get("Description") or None, synth=header.get("AM"),
                        synth_version=header.get("Vers"),
                        pointers={k: f"/@Meta/{v}" for k, v in (("author", "Author"), ("category", "Categories"),
                                                                ("description", "Description"))})
        facts = DocumentFacts(texts=tuple(texts), header={"meta": meta, **header})
        return Document(self.format_id, data, raw=None, presets=(preset,), problems=tuple(problems), text=True,
                        validated=False, facts=facts)


def _byte_at(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _quoted(text: str, start: int) -> Iterator[tuple[Location, str]]:
    """Quoted string values of the body (module names, file references)."""
    for m in _QUOTED.finditer(text, start):
        if m.group(2):
            yield Location(pointer=f"/{m.group(1)}", offset=_byte_at(text, m.start(2))), _unescape(m.group(2))


XIZ_LOADER = XizLoader()
ABLETON_LOADER = AbletonLoader()
H2P_LOADER = H2pLoader()
