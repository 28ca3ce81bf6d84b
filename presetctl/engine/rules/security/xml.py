"""XML document type declarations: DTDs, entity expansion (billion laughs), external entities (XXE).

Loaders parse XML with defusedxml, which refuses all of these, so such a file reaches the rules
unparsed; these rules say why, by reading the declarations as text (never expanding them) in
the file and in decoded content (gzip XML of ZynAddSubFX and Ableton, XML inside archives).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Violation
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import CRITICAL, HIGH, MEDIUM, security_rule
from presetctl.engine.security.content import Scan
from presetctl.safe_text import excerpt

_DOCTYPE = re.compile(rb"<!DOCTYPE\s+([^\s\[>]+)\s*(?:(SYSTEM|PUBLIC)\s+(\"[^\"]*\"|'[^']*'))?", re.I)
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s>]+)\s+(?:(SYSTEM|PUBLIC)\s+(\"[^\"]*\"|'[^']*')|(\"[^\"]*\"|'[^']*'))",
                     re.I | re.S)
_REF = re.compile(rb"[&%][A-Za-z_:][\w.:-]*;")
MAX_DECLS = 10_000


def _sources(doc: Document, scan: Scan) -> Iterator[tuple[bytes, Location, str]]:
    """(xml bytes, location, how it was found): the file, then decoded payloads that hold XML."""
    if b"<!" in doc.data:
        yield doc.data, Location(), "the file"
    for d in scan.decoded():
        if b"<!" in d.data:
            yield d.data, d.location, f"{d.source} data"


def _may_declare(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    """Whether any source holds ``<!`` (a memchr for ``<`` first: most presets hold none)."""
    data = doc.data
    if b"<" in data and b"<!" in data:
        return True
    return any(b"<!" in d.data for d in scan.decoded())


def _at(loc: Location, where: str, offset: int) -> Location:
    return Location(offset=offset) if where == "the file" else loc


def check_doctype(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for data, loc, where in _sources(doc, scan):
        for m in _DOCTYPE.finditer(data):
            rest = data[m.end() : m.end() + 64].lstrip()
            if rest.startswith(b"["):  # a bare <!DOCTYPE name> (ZynAddSubFX writes one) declares nothing
                yield Violation(f"XML DTD with an internal subset in <!DOCTYPE "
                                f"{excerpt(m.group(1).decode('latin-1'), 40)} [...]> in {where}: presets never need "
                                "declarations, and safe parsers refuse entities", _at(loc, where, m.start()))


def check_expansion(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for data, loc, where in _sources(doc, scan):
        internal = nested = 0
        first = None
        for n, m in enumerate(_ENTITY.finditer(data)):
            if n >= MAX_DECLS:
                scan.hit("xml-decls", f"more than {MAX_DECLS} entity declarations; the rest were not read", loc)
                break
            if m.group(5) is not None:
                internal += 1
                first = first if first is not None else m.start()
                if _REF.search(m.group(5)):
                    nested += 1
        if internal:
            kind = (f"{nested} of them refer to other entities (exponential 'billion laughs' expansion)" if nested
                    else "each reference expands to its text")
            yield Violation(f"{internal} internal XML entit{'y' if internal == 1 else 'ies'} declared in {where}; "
                            f"{kind}", _at(loc, where, first or 0))


def check_external(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for data, loc, where in _sources(doc, scan):
        for m in _ENTITY.finditer(data):
            if m.group(3) is not None:
                kind = "parameter entity" if m.group(1) else "entity"
                target = excerpt(m.group(4)[1:-1].decode("latin-1"), 60)
                yield Violation(f"external XML {kind} {excerpt(m.group(2).decode('latin-1'), 40)} -> {target} in "
                                f"{where}: a parser that resolves it reads a local file or fetches a URL (XXE)",
                                _at(loc, where, m.start()))
        for m in _DOCTYPE.finditer(data):
            if m.group(2) is not None:
                target = excerpt(m.group(3)[1:-1].decode("latin-1"), 60)
                yield Violation(f"external DTD {target} in {where}: a parser that loads it fetches it (XXE)",
                                _at(loc, where, m.start()))


RULES = (
    security_rule("X040", "xml-dtd", MEDIUM, "XML document carries a DTD with declarations",
                  RuleDoc("Reports `<!DOCTYPE name [ ... ]>` (a document type declaration with an internal subset) in "
                          "XML presets (Surge patches, ZynAddSubFX, Ableton ...) and in XML found inside compressed or "
                          "encoded content. A bare `<!DOCTYPE name>`, which ZynAddSubFX writes, declares nothing and "
                          "is not reported.",
                          "No preset format declares elements or entities; a DTD is the vehicle of entity expansion and "
                          "external entity attacks, and parsers differ on what they do with it.",
                          '`<?xml version="1.0"?><!DOCTYPE patch [ ... ]><patch ...>`',
                          "Remove the DOCTYPE declaration (and any entities), or export the preset again."),
                  check_doctype, quick=_may_declare),
    security_rule("X041", "xml-entity-expansion", HIGH, "XML declares internal entities (billion laughs)",
                  RuleDoc("Reports internal entity declarations (`<!ENTITY name \"...\">`), and says how many refer to "
                          "other entities, which makes expansion exponential.",
                          "Ten nested entities of ten references each expand 1 KB into gigabytes: a parser that expands "
                          "them (many synths use plain expat or libxml2) runs out of memory.",
                          '`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">`',
                          "Delete the file; presets never declare entities."),
                  check_expansion, quick=_may_declare),
    security_rule("X042", "xml-external-entity", CRITICAL, "XML declares an external entity or DTD (XXE)",
                  RuleDoc("Reports `SYSTEM`/`PUBLIC` entities (general or parameter) and external DTDs.",
                          "A parser that resolves them reads local files into the document or fetches URLs: file "
                          "disclosure and server-side request forgery (the TuxGuitar `.gp` and CVE-2020-14940 class).",
                          '`<!ENTITY xxe SYSTEM "file:///etc/passwd">`', "Delete the file."),
                  check_external, quick=_may_declare),
)
