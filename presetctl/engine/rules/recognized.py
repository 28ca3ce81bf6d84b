"""Codes of the recognized-only formats (``G0xx``): other synths' fxp, ZynAddSubFX, u-he, Ableton.

These formats are not validated in depth: the engine's ``R001`` says so for each file. What the
loaders (``formats/fxp.py``, ``formats/recognized.py``) notice while reading the header or the XML
is reported with these codes: the problems that stop or corrupt reading are emitted by the loaders
(and carried into scan-security as ``X072`` when ignored); the two cosmetic ones (``G004``,
``G007``) are checks here, so scan-security does not rate them.
"""

from __future__ import annotations

from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import MARKETPLACE, Level, Rule, RuleContext, RuleDoc

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
FXP = frozenset({"fxp"})
XML_FORMATS = frozenset({"fxp", "zyn-xiz", "ableton"})
GZIP_FORMATS = frozenset({"zyn-xiz", "ableton"})

def check_program_count(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    programs = doc.facts.header.get("num_programs")
    if not isinstance(programs, int):
        return
    swapped = int.from_bytes(programs.to_bytes(4, "big"), "little")
    if programs > 0xFFFF and swapped <= 0xFFFF:
        yield Violation(f"fxp numPrograms is {programs}, which is {swapped} written in little-endian byte order",
                        Location(offset=24))


def check_leading_space(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    lead = doc.facts.leading_space
    if lead:
        yield Violation(f"{lead} white-space byte(s) before the <?xml declaration: strict XML parsers reject the file",
                        Location(offset=0))


RULES = (
    Rule("G001", "fxp-header-invalid", Level.FORMAT, E, "fxp header cannot be read",
         RuleDoc("Reports a `.fxp`/`.fxb` of another synth that is shorter than the 60-byte header, lacks the `CcnK` "
                 "magic, is neither an `FPCh` chunk nor an `FxCk` parameter list, has a `chunkSize` of 0, or whose "
                 "chunk or parameters run past the end of the file.",
                 "Hosts refuse the file or load a truncated preset.", "an fxp cut short by a failed download",
                 "Export the preset again from its synth."), formats=FXP),
    Rule("G002", "fxp-other-byte-size-mismatch", Level.FORMAT, W, "fxp byteSize does not match the file length",
         RuleDoc("Reports an fxp header whose `byteSize` is not 0, the file length minus 8 (the VST 2 definition), "
                 "or the file length (what Serum writes, accepted as a known quirk).",
                 "Hosts and librarians that trust it read too little or too much.",
                 "a 4,000-byte Sylenth1 fxp whose header says `byteSize` 9000",
                 "Export the preset again from its synth."), formats=FXP, profile=MARKETPLACE),
    Rule("G003", "fxp-other-trailing-bytes", Level.FORMAT, W, "Bytes after the fxp chunk",
         RuleDoc("Reports bytes after the chunk (`chunkSize` + 60) or after the parameter list of an fxp.",
                 "Hosts never read them: leftovers of a bad edit, or data hidden from reviewers.",
                 "an fxp with a ZIP archive appended", "Export the preset again from its synth."), formats=FXP),
    Rule("G004", "fxp-program-count-byte-order", Level.FORMAT, I, "fxp numPrograms written in the wrong byte order",
         RuleDoc("Reports a `numPrograms` above 65,535 that reads as a small number in little-endian order "
                 "(OB-Xf writes 1 as `01 00 00 00`). The fxp header is big-endian.",
                 "Hosts ignore it for single presets, but bank tools that trust it try to read 16 million programs.",
                 "`numPrograms` 16777216", "Nothing to do for single presets; report it to the synth's authors."),
         check=check_program_count, formats=FXP, profile=MARKETPLACE),
    Rule("G005", "recognized-xml-not-well-formed", Level.FORMAT, E, "XML of a recognized preset does not parse",
         RuleDoc("Reports XML (ZynAddSubFX, Ableton, OB-Xf's chunk) that a strict parser rejects, with the line and "
                 "column, including DTDs with entity declarations and external references, which are never "
                 "processed. ZynAddSubFX's bare `<!DOCTYPE ZynAddSubFX-data>` is accepted.",
                 "The synth may load part of it or nothing; tools cannot read it.",
                 '`<!ENTITY xxe SYSTEM "file:///etc/passwd">` in an `.adg`', "Export the preset again."),
         formats=XML_FORMATS),
    Rule("G006", "recognized-gzip-unreadable", Level.FORMAT, E, "Compressed preset cannot be inflated",
         RuleDoc("Reports a gzip ZynAddSubFX or Ableton preset that is corrupt or truncated, or that inflates past "
                 "`limits.max-decompressed` or `limits.max-ratio` (a decompression bomb). It is not read further.",
                 "The synth cannot load it, or runs out of memory loading it.", "a 40 KB `.adg` inflating to 4 GB",
                 "Delete the file, or export the preset again."), formats=GZIP_FORMATS),
    Rule("G007", "xiz-text-before-xml-declaration", Level.FORMAT, I, "White space before the <?xml declaration",
         RuleDoc("Reports a ZynAddSubFX instrument whose XML starts with white space (often a newline) before "
                 "`<?xml ...?>`.",
                 "ZynAddSubFX's own parser accepts it, but XML forbids anything before the declaration: strict "
                 "parsers and converters reject the file.", "`\\n<?xml version=\"1.0\"?>`",
                 "Remove the leading white space."), check=check_leading_space, formats=frozenset({"zyn-xiz"}), profile=MARKETPLACE),
    Rule("G008", "h2p-malformed", Level.FORMAT, W, "u-he preset text is not in the expected layout",
         RuleDoc("Reports a u-he `.h2p` whose `/*@Meta` block is never closed, or without the `#AM=` line that names "
                 "the synth.",
                 "u-he synths skip such files; the metadata (author, description) cannot be read.",
                 "a `.h2p` cut short after `/*@Meta`", "Save the preset again from the synth."),
         formats=frozenset({"uhe-h2p"})),
)
