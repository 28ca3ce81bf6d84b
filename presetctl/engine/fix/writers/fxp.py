"""Surge XT ``.fxp`` patches: edit a ``<meta>`` attribute in the embedded XML, sizes recomputed.

Layout: a 60-byte big-endian fxp header (``CcnK``, byteSize, ``FPCh``, version, ``cjs3``,
fxVersion, numPrograms, prgName[28], chunkSize), then the chunk: a 32-byte little-endian
``sub3`` header (XML size, six wavetable sizes), the XML, the wavetables. Changing the XML
changes three sizes: the XML size, chunkSize and (when the writer filled it; Surge writes 0)
byteSize. All are returned as splices in the original file's coordinates, so the wavetable
bytes after the XML are never touched.
"""

from __future__ import annotations

import re
import struct
from xml.sax.saxutils import escape

from presetctl.engine.fix.model import Splice

HEADER = 60
SUB3 = 32
NAME_AT, NAME_LEN = 28, 28
_META = re.compile(rb"<meta\b[^>]*>")


def _layout(data: bytes) -> tuple[int, int] | None:
    """(XML start, XML size) of a Surge fxp, or None when the file is not one."""
    if len(data) < HEADER + SUB3 or data[:4] != b"CcnK" or data[8:12] != b"FPCh" or data[16:20] != b"cjs3":
        return None
    if data[HEADER : HEADER + 4] != b"sub3":
        return None
    (xml_size,) = struct.unpack_from("<I", data, HEADER + 4)
    start = HEADER + SUB3
    if start + xml_size > len(data):
        return None
    return start, xml_size


def _attribute(value: str) -> bytes:
    return escape(value, {'"': "&quot;"}).encode("utf-8")


def set_meta(data: bytes, attr: str, value: str) -> list[Splice] | None:
    """Splices setting ``<meta attr="value">`` and the sizes that follow from it."""
    layout = _layout(data)
    if layout is None:
        return None
    start, size = layout
    meta = _META.search(data, start, start + size)
    if meta is None:
        return None
    found = re.compile(rb"(?<=\s)" + re.escape(attr.encode()) + rb'="([^"]*)"').search(data, meta.start(), meta.end())
    if found is not None:
        edit = Splice(found.start(1), found.end(1), _attribute(value))
    else:
        close = meta.end() - (2 if data[meta.end() - 2 : meta.end()] == b"/>" else 1)
        while data[close - 1 : close] in (b" ", b"\t", b"\n", b"\r"):
            close -= 1  # after the last attribute, so the tag keeps its own spacing before "/>"
        edit = Splice(close, close, b" " + attr.encode() + b'="' + _attribute(value) + b'"')
    delta = len(edit.text) - (edit.end - edit.start)
    out = [edit]
    if attr == "name":
        name = value.encode("utf-8")[: NAME_LEN - 1]
        out.append(Splice(NAME_AT, NAME_AT + NAME_LEN, name.ljust(NAME_LEN, b"\x00")))
    if delta:
        (byte_size,) = struct.unpack_from(">I", data, 4)
        if byte_size == len(data) - 8:
            out.append(Splice(4, 8, struct.pack(">I", byte_size + delta)))
        (chunk_size,) = struct.unpack_from(">I", data, 56)
        out.append(Splice(56, 60, struct.pack(">I", chunk_size + delta)))
        out.append(Splice(HEADER + 4, HEADER + 8, struct.pack("<I", size + delta)))
    return sorted(out, key=lambda s: s.start)
