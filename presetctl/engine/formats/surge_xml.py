"""Surge's patch XML as Surge reads it: what its parser accepts that XML does not, and the repair.

Surge parses the patch with TinyXML (classic 2.x) in legacy mode and never checks its error
(``SurgePatch::load_xml``: ``doc.Parse(temp, nullptr, TIXML_ENCODING_LEGACY)``; the declared
``encoding`` is not consulted). Legacy mode copies bytes as they are, so a patch can load in
Surge and still be rejected by every strict XML parser (libs/tinyxml/src/tinyxmlparser.cpp):

- a byte that is not UTF-8 (a Latin-1 ``´`` in ``Donna´s``): copied raw (``GetChar``);
- a character reference to a character XML forbids (``&#x10;``): ``GetEntity`` stores
  ``(char)ucs``, the raw byte 0x10; TinyXML's own writer produces these (``PutString``), and a
  raw control byte is copied as well;
- an ``&`` that starts none of the five entities: kept as a literal ``&``; a ``<`` inside a
  quoted attribute value: kept; an unquoted attribute value: read up to white space, ``/`` or
  ``>``, with no entity decoding.

:func:`repair` rewrites exactly those spots so that strict parsers read what Surge reads:
a non-UTF-8 byte becomes ``&#xHH;``, which TinyXML in legacy mode turns back into the very same
byte (and XML reads as the Latin-1 character); ``&`` and ``<`` become ``&amp;`` and ``&lt;``; an
unquoted value gets quotes. The one repair that changes what Surge holds is a control
character: XML 1.0 cannot express it, so it is removed (a text such as a controller label
loses an invisible character; the sound is untouched). What TinyXML itself rejects (a missing
or mismatched end tag, a duplicate attribute, a NUL byte, a malformed ``&#`` reference) is left
alone: the strict parse still fails there, and Surge loads only what came before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The XML codes of the repairs (registered in rules/surge.py).
CONTROL, NOT_UTF8, MARKUP = "U008", "U016", "U017"
_ENTITY_OK = rb"(?:amp|lt|gt|quot|apos);"
_CONTENT = re.compile(
    rb"(?P<ref>&#(?:x[0-9A-Fa-f]+|[0-9]+);)"
    rb"|(?P<amp>&(?!#)(?!" + _ENTITY_OK + rb"))"
    rb"|(?P<ctl>[\x01-\x08\x0b\x0c\x0e-\x1f])"
    rb"|(?P<lt><)"
    rb"|(?P<high>[\x80-\xff]+)")
_NAME = re.compile(rb"[^\s/>=\"'<]+")
_SPACE = re.compile(rb"[ \t\r\n]*")
_UNQUOTED = re.compile(rb"[^ \t\r\n/>]*")
_DECLARED = re.compile(rb"(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)")
_ASCII_ENCODINGS = frozenset({b"utf-8", b"utf8", b"us-ascii", b"ascii", b"iso-8859-1", b"latin-1", b"latin1",
                              b"windows-1252", b"cp1252"})
_HIGH = re.compile(rb"[\x80-\xff]+")
_ESCAPES = {0x26: b"&amp;", 0x3C: b"&lt;", 0x22: b"&quot;"}
_SKIP = ((b"<?", b"?>"), (b"<!--", b"-->"), (b"<!", b">"), (b"</", b">"))


@dataclass(frozen=True, slots=True)
class Repair:
    """Replace ``xml[start:end]`` with ``text``; ``what`` says why, ``owner`` where (``//meta/@name``)."""

    code: str
    start: int
    end: int
    text: bytes
    what: str
    owner: str


@dataclass(frozen=True, slots=True)
class Lenient:
    xml: bytes  # the repaired XML (the input when nothing needed repair)
    repairs: tuple[Repair, ...]

    def original_offset(self, offset: int) -> int:
        """The offset in the input XML of ``offset`` in the repaired XML."""
        shift = 0
        for r in self.repairs:
            new_start = r.start + shift
            if offset < new_start:
                break
            if offset < new_start + len(r.text):
                return r.start
            shift += len(r.text) - (r.end - r.start)
        return offset - shift


def is_xml_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _utf8_length(lead: int) -> int:
    return 2 if 0xC2 <= lead <= 0xDF else 3 if 0xE0 <= lead <= 0xEF else 4 if 0xF0 <= lead <= 0xF4 else 0


def _bad_bytes(run: bytes) -> Iterator[int]:
    """Offsets in ``run`` (bytes >= 0x80) of the bytes that are not part of a UTF-8 sequence."""
    i = 0
    while i < len(run):
        n = _utf8_length(run[i])
        if n:
            try:
                run[i : i + n].decode("utf-8")
            except UnicodeDecodeError:
                n = 0
            if len(run[i : i + n]) < n:
                n = 0
        if n:
            i += n
        else:
            yield i
            i += 1


def _content(xml: bytes, start: int, end: int, owner: str, in_attribute: bool) -> Iterator[Repair]:
    """Repairs inside text or a quoted attribute value ``xml[start:end]``."""
    for m in _CONTENT.finditer(xml, start, end):
        kind = m.lastgroup
        if kind == "ref":
            ref = m.group()
            code = int(ref[3:-1], 16) if ref[2:3] == b"x" else int(ref[2:-1])
            if not is_xml_char(code):
                yield Repair(CONTROL, m.start(), m.end(), b"", f"character reference {ref.decode()} to U+{code:04X}, "
                             "a control character XML 1.0 forbids (Surge reads the raw byte)", owner)
        elif kind == "amp":
            yield Repair(MARKUP, m.start(), m.end(), b"&amp;", "'&' that starts no entity (Surge reads a literal '&')",
                         owner)
        elif kind == "ctl":
            yield Repair(CONTROL, m.start(), m.end(), b"", f"raw control byte 0x{m.group()[0]:02X}, which XML 1.0 "
                         "forbids (Surge keeps it)", owner)
        elif kind == "lt" and in_attribute:
            yield Repair(MARKUP, m.start(), m.end(), b"&lt;", "'<' inside an attribute value (Surge reads a literal "
                         "'<')", owner)
        elif kind == "high":
            for i in _bad_bytes(m.group()):
                byte = m.group()[i]
                at = m.start() + i
                yield Repair(NOT_UTF8, at, at + 1, f"&#x{byte:02X};".encode(), f"byte 0x{byte:02X} is not UTF-8 "
                             f"(Latin-1 {chr(byte)!r}; Surge keeps the raw byte)", owner)


def _unquoted(xml: bytes, start: int, end: int, owner: str) -> Repair:
    """An unquoted value: TinyXML copies it raw (no entities), so everything is escaped and quoted."""
    raw = xml[start:end]
    bad = {m.start() + i for m in _HIGH.finditer(raw) for i in _bad_bytes(m.group())}
    text = bytearray(b'"')
    for i, byte in enumerate(raw):
        if i in bad:
            text += f"&#x{byte:02X};".encode()
        elif byte >= 0x20 or byte in (0x9, 0xA, 0xD):  # a control byte cannot be written in XML: dropped
            text += _ESCAPES.get(byte, bytes((byte,)))
    text += b'"'
    return Repair(MARKUP, start, end, bytes(text), "attribute value without quotes (Surge reads it up to the next "
                  "space, '/' or '>')", owner)


def _start_tag(xml: bytes, at: int) -> tuple[int, list[Repair], bool]:
    """Repairs in the start tag at ``xml[at] == '<'``: where scanning goes on, the repairs, and whether
    the element stays open (a ``>``, not ``/>``)."""
    name = _NAME.match(xml, at + 1)
    if name is None:
        return at + 1, [], False
    element = name.group().decode("latin-1")
    out: list[Repair] = []
    i = name.end()
    while i < len(xml):
        i = _space(xml, i)
        if xml.startswith((b">", b"/>"), i):
            opened = xml[i] == 0x3E
            return i + (1 if opened else 2), out, opened
        attr = _NAME.match(xml, i)
        if attr is None:
            break  # not a tag TinyXML reads either: the strict parse reports it
        owner = f"//{element}/@{attr.group().decode('latin-1')}"
        i = _space(xml, attr.end())
        if xml[i : i + 1] != b"=":
            break
        i = _space(xml, i + 1)
        quote = xml[i : i + 1]
        if quote in (b'"', b"'"):
            close = xml.find(quote, i + 1)
            if close < 0:
                return len(xml), out, False
            out.extend(_content(xml, i + 1, close, owner, in_attribute=True))
            i = close + 1
            continue
        end = _unquoted_end(xml, i)
        if end == i:
            break
        out.append(_unquoted(xml, i, end, owner))
        i = end
    return i, out, False


def _space(xml: bytes, i: int) -> int:
    m = _SPACE.match(xml, i)
    return m.end() if m else i


def _unquoted_end(xml: bytes, i: int) -> int:
    m = _UNQUOTED.match(xml, i)
    return m.end() if m else i


def _scan(xml: bytes) -> Iterator[Repair]:
    i, open_elements = 0, [""]
    while i < len(xml):
        lt = xml.find(b"<", i)
        stop = len(xml) if lt < 0 else lt
        if stop > i:
            owner = open_elements[-1]
            yield from _content(xml, i, stop, f"//{owner}" if owner else "", in_attribute=False)
        if lt < 0:
            return
        skip = next((close for open_, close in _SKIP if xml.startswith(open_, lt)), None)
        if skip is not None:
            if xml.startswith(b"</", lt) and len(open_elements) > 1:
                open_elements.pop()
            end = xml.find(skip, lt + 2)
            i = len(xml) if end < 0 else end + len(skip)
            continue
        i, repairs, opened = _start_tag(xml, lt)
        yield from repairs
        name = _NAME.match(xml, lt + 1)
        if opened and name is not None:
            open_elements.append(name.group().decode("latin-1"))


def _ascii_compatible(xml: bytes) -> bool:
    """The bytes can be scanned as ASCII: no declaration, or one naming an ASCII-compatible encoding."""
    m = _DECLARED.match(xml)
    return m is None or m.group(1).lower() in _ASCII_ENCODINGS


def repair(xml: bytes) -> Lenient:
    """The patch XML with what only TinyXML accepts rewritten so that XML parsers read it too."""
    if not _ascii_compatible(xml):
        return Lenient(xml, ())  # TinyXML reads bytes: a UTF-16 patch is not one Surge reads either
    repairs = tuple(sorted(_scan(xml), key=lambda r: r.start))
    if not repairs:
        return Lenient(xml, ())
    parts: list[bytes] = []
    at = 0
    for r in repairs:
        parts += [xml[at : r.start], r.text]
        at = r.end
    parts.append(xml[at:])
    return Lenient(b"".join(parts), repairs)
