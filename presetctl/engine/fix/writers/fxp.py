"""Surge XT ``.fxp`` patches: edit the embedded XML, every size that depends on it recomputed.

Layout: a 60-byte big-endian fxp header (``CcnK``, byteSize, ``FPCh``, version, ``cjs3``,
fxVersion, numPrograms, prgName[28], chunkSize), then the chunk: a 32-byte little-endian
``sub3`` header (XML size, six wavetable sizes), the XML, the wavetables; patches older than
``sub3`` hold the XML as the whole chunk. Changing the XML changes up to three sizes: the XML
size, chunkSize and (when the writer filled it; Surge writes 0) byteSize. All are returned as
splices in the original file's coordinates, so the wavetable bytes after the XML are never
touched.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from presetctl.engine.fix.model import Splice

HEADER = 60
SUB3 = 32
NAME_AT, NAME_LEN = 28, 28
_META = re.compile(rb"<meta\b[^>]*>")


@dataclass(frozen=True, slots=True)
class XmlSpan:
    start: int  # file offset of the XML
    size: int
    sub3: bool  # False: an old patch whose chunk is the XML


def xml_span(data: bytes) -> XmlSpan | None:
    """Where the XML of a Surge fxp is, or None when the file is not one a writer can edit."""
    if len(data) < HEADER or data[:4] != b"CcnK" or data[8:12] != b"FPCh" or data[16:20] != b"cjs3":
        return None
    (chunk_size,) = struct.unpack_from(">I", data, 56)
    if HEADER + chunk_size > len(data):
        return None
    if data[HEADER : HEADER + 4] != b"sub3":
        return XmlSpan(HEADER, chunk_size, False) if data[HEADER : HEADER + chunk_size].lstrip()[:1] == b"<" else None
    if chunk_size < SUB3:
        return None
    (xml_size,) = struct.unpack_from("<I", data, HEADER + 4)
    if HEADER + SUB3 + xml_size > HEADER + chunk_size:
        return None
    return XmlSpan(HEADER + SUB3, xml_size, True)


def edit_xml(data: bytes, edits: Sequence[Splice]) -> list[Splice] | None:
    """File splices for ``edits`` in XML coordinates (offsets into the XML), plus the sizes."""
    span = xml_span(data)
    if span is None or any(e.start < 0 or e.end > span.size or e.start > e.end for e in edits):
        return None
    out = [Splice(span.start + e.start, span.start + e.end, e.text) for e in edits]
    delta = sum(len(e.text) - (e.end - e.start) for e in edits)
    if delta:
        (byte_size,) = struct.unpack_from(">I", data, 4)
        if byte_size == len(data) - 8:
            out.append(Splice(4, 8, struct.pack(">I", byte_size + delta)))
        (chunk_size,) = struct.unpack_from(">I", data, 56)
        out.append(Splice(56, 60, struct.pack(">I", chunk_size + delta)))
        if span.sub3:
            out.append(Splice(HEADER + 4, HEADER + 8, struct.pack("<I", span.size + delta)))
    return sorted(out, key=lambda s: s.start)


def replace_xml(data: bytes, xml: bytes) -> list[Splice] | None:
    """Splices replacing the whole XML with ``xml`` (the sizes follow)."""
    span = xml_span(data)
    if span is None:
        return None
    return edit_xml(data, [Splice(0, span.size, xml)])


def _attribute(value: str) -> bytes:
    # What xml.sax.saxutils.escape(value, {'"': "&quot;"}) gives, without importing it: it pulls in
    # urllib.request, http.client and ssl, 20 ms of every command's start-up (rules import fixers).
    return value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace('"', "&quot;").encode("utf-8")


def set_meta(data: bytes, attr: str, value: str) -> list[Splice] | None:
    """Splices setting ``<meta attr="value">`` and the sizes that follow from it."""
    span = xml_span(data)
    if span is None:
        return None
    xml = data[span.start : span.start + span.size]
    meta = _META.search(xml)
    if meta is None:
        return None
    found = re.compile(rb"(?<=\s)" + re.escape(attr.encode()) + rb'="([^"]*)"').search(xml, meta.start(), meta.end())
    if found is not None:
        edit = Splice(found.start(1), found.end(1), _attribute(value))
    else:
        close = meta.end() - (2 if xml[meta.end() - 2 : meta.end()] == b"/>" else 1)
        while xml[close - 1 : close] in (b" ", b"\t", b"\n", b"\r"):
            close -= 1  # after the last attribute, so the tag keeps its own spacing before "/>"
        edit = Splice(close, close, b" " + attr.encode() + b'="' + _attribute(value) + b'"')
    out = edit_xml(data, [edit])
    if out is None:
        return None
    if attr == "name":
        name = value.encode("utf-8")[: NAME_LEN - 1]
        out.append(Splice(NAME_AT, NAME_AT + NAME_LEN, name.ljust(NAME_LEN, b"\x00")))
    return sorted(out, key=lambda s: s.start)
