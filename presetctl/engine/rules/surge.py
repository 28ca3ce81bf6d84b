"""Format level for Surge XT patches (``surge-fxp``): codes ``U001``-``U015``.

``U001``-``U009`` and ``U015`` are structural: the loader (``formats/fxp.py``) emits them while
reading the fxp header, the ``sub3`` header, the wavetables and the XML, with the byte offset;
they are registered here so they are documented and selectable. The checks below read the
parsed XML (``Document.raw``) and the header facts in ``Document.facts.header``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from presetctl.engine import taxonomy
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import Level, Rule, RuleContext, RuleDoc

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
SURGE = frozenset({"surge-fxp"})
# Newest patch format known: ff_revision is 26 in src/common/SurgeStorage.h (XT 1.4 nightlies) and
# PatchFileValidation.cpp reads the zstd extension of revision 29 patches. Newer patches make Surge
# warn "Patch Version Mismatch" and drop what it does not know.
NEWEST_REVISION = 29
CATEGORIES = taxonomy.PROFILES["surge"]  # Surge XT's factory folders: the categories of its browser
NAME_FIELD = 28  # bytes of the fxp prgName field


def _root(doc: Document) -> Element | None:
    return doc.raw if isinstance(doc.raw, Element) else None


def check_revision(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    root = _root(doc)
    if root is None:
        return
    revision = root.get("revision")
    where = Location(pointer="/patch/@revision")
    if revision is None or not revision.strip().isdigit():
        yield Violation(f"patch revision {revision!r} is not a number: Surge reads it as 0 and applies every "
                        "conversion since Surge 1.0", where)
    elif int(revision) > NEWEST_REVISION:
        yield Violation(f"patch revision {revision} is newer than the newest known Surge XT format "
                        f"({NEWEST_REVISION})", where)


def names_match(program: bytes, name: str) -> bool:
    """prgName equals the meta name, or is it cut to the 28-byte field (or 27 plus a terminator)."""
    full = name.encode("utf-8")
    if program == full:
        return True
    return full.startswith(program) and len(program) >= min(len(full), NAME_FIELD - 1)


def check_program_name(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    program = doc.facts.header.get("program_name")
    for p in doc.presets:
        if isinstance(program, bytes) and p.name and not names_match(program, p.name):
            shown = program.decode("utf-8", "replace")
            yield Violation(f"the fxp header names the program {shown!r} but the patch is named {p.name!r}: hosts "
                            "list the header's name", Location(pointer="/fxp/prgName", offset=28),
                            data={"name": p.name, "program_name": shown})


def _leaf(category: str) -> str:
    """Last component of a category written as a path (``Kyurumi\\Leads``, ``Luna/Bass``)."""
    return re.split(r"[\\/]", category.strip())[-1]


def check_category_folder(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    folder = ctx.path.parent.name
    if taxonomy.canonical(folder, CATEGORIES) is None:
        return  # only folders named like a Surge category say what the category should be
    for p in doc.presets:
        if p.category and p.category.strip() and taxonomy.fold(_leaf(p.category)) != taxonomy.fold(folder):
            yield Violation(f"category {p.category!r} does not match the folder {folder!r} that Surge lists the "
                            "patch under", p.location("category"), hint=f"use {folder!r}",
                            data={"replacement": folder})


def _tags(root: Element) -> Element | None:
    meta = root.find("meta")
    return meta.find("tags") if meta is not None else None


def check_tag_attribute(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    root = _root(doc)
    tags = _tags(root) if root is not None else None
    for n, tag in enumerate(tags.findall("tag") if tags is not None else (), 1):
        if tag.get("tag") is None:
            yield Violation(f"<tag> number {n} has no tag attribute: Surge XT reads it as a null string and crashes",
                            Location(pointer=f"/patch/meta/tags/tag[{n}]"))


def check_tag_list(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    root = _root(doc)
    tags = _tags(root) if root is not None else None
    if tags is None:
        return
    for n, child in enumerate(tags, 1):
        where = Location(pointer=f"/patch/meta/tags/{child.tag}[{n}]")
        if child.tag != "tag":
            yield Violation(f"<{child.tag}> inside <tags>: Surge reads only <tag tag=\"...\"> elements", where)
        elif child.get("tag") is not None and not child.get("tag", "").strip():
            yield Violation("empty tag: it shows as a blank entry in Surge's tag search", where)


_STRUCTURE_WHY = "Surge XT refuses the patch (PatchFileValidation.cpp) or loads something other than what was saved."

RULES = (
    Rule("U001", "surge-fxp-header-invalid", Level.FORMAT, E, "Surge fxp header cannot be read",
         RuleDoc("Reports a `.fxp` Surge patch shorter than the 60-byte fxp header, without the `CcnK` magic, "
                 "that is not an `FPCh` chunk, whose `chunkSize` is 0, or whose chunk runs past the end of the file.",
                 _STRUCTURE_WHY, "a patch cut short by a failed download", "Export the patch again from Surge XT.")),
    Rule("U002", "fxp-byte-size-mismatch", Level.FORMAT, W, "fxp byteSize does not match the file length",
         RuleDoc("Reports an fxp header whose `byteSize` (offset 4) is neither 0 (what Surge writes) nor the file "
                 "length minus 8 (what the VST 2 format defines).",
                 "Surge ignores it, but hosts and librarians that trust it read too little or too much.",
                 "`byteSize` 5000 in a 26,000-byte file", "Export the patch again, or set byteSize to 0."),
         profile="marketplace"),
    Rule("U003", "surge-fxp-trailing-bytes", Level.FORMAT, W, "Bytes after the chunk or the last wavetable",
         RuleDoc("Reports bytes that no size accounts for: after the fxp chunk (`chunkSize` + 60 is less than the "
                 "file length), or after the XML and wavetables that the `sub3` header declares (except the "
                 "extension of revision 29+ patches, sized by `<serialization absSize>`).",
                 "Surge never reads them: they are leftovers of a bad edit or data hidden from reviewers.",
                 "a patch with a ZIP archive appended", "Export the patch again from Surge XT.")),
    Rule("U004", "surge-patch-header-invalid", Level.FORMAT, E, "Surge sub3 header is invalid",
         RuleDoc("Reports a chunk that starts with neither `sub3` nor XML, is shorter than the 32-byte `sub3` "
                 "header, or declares an XML size of 0, of 4 MiB or more, or larger than the chunk.",
                 _STRUCTURE_WHY, "`sub3` XML size 0x7FFFFFFF", "Export the patch again from Surge XT.")),
    Rule("U005", "surge-wavetable-invalid", Level.FORMAT, E, "Embedded wavetable block does not fit",
         RuleDoc("Reports an embedded wavetable whose block is smaller than its 12-byte header or runs past the "
                 "chunk, whose dimensions are outside Surge's limits (1-4096 samples, up to 512 tables), or whose "
                 "samples need more bytes than the block holds. Blocks after a bad one are not read.",
                 _STRUCTURE_WHY, "a block declaring 4096 x 512 samples in 100 bytes",
                 "Export the patch again from Surge XT.")),
    Rule("U006", "surge-wavetable-oversized", Level.FORMAT, W, "Wavetable block holds bytes beyond its samples",
         RuleDoc("Reports a wavetable block larger than its header plus samples.",
                 "Surge ignores the extra bytes: they are hidden from anyone reviewing the patch in Surge.",
                 "a block declaring 1 table of 256 16-bit samples (12 + 512 bytes) that is 4,000 bytes long",
                 "Export the patch again from Surge XT.")),
    Rule("U007", "surge-xml-not-well-formed", Level.FORMAT, E, "Surge patch XML does not parse",
         RuleDoc("Reports patch XML that a strict XML parser rejects (with line, column, XML byte and file byte), "
                 "including DTDs and entity declarations, which presetctl never processes.",
                 "Surge's lenient parser may load part of it or nothing; other tools reject the patch.",
                 "`<patch revision=\"16\"><meta name=\"Pad\"` (cut short)", "Export the patch again from Surge XT.")),
    Rule("U008", "surge-xml-invalid-character-reference", Level.FORMAT, W,
         "XML character reference to a character XML forbids",
         RuleDoc("Reports character references such as `&#x10;` to control characters that XML 1.0 forbids, with "
                 "line, column, XML byte, file byte and the attribute holding it. presetctl reads the rest of the "
                 "patch with the reference blanked.",
                 "Surge's parser (TinyXML) loads such patches, but every strict XML parser rejects the whole file: "
                 "librarians, converters and scripts cannot read it.",
                 '`<entry label="&#x10;" />`', "Remove the character from the text in Surge and save again.")),
    Rule("U009", "surge-patch-structure", Level.FORMAT, E, "Patch XML is not a <patch> with <parameters>",
         RuleDoc("Reports patch XML whose root element is not `<patch>` or that has no `<parameters>` element.",
                 _STRUCTURE_WHY, "`<preset>...</preset>`", "Export the patch again from Surge XT.")),
    Rule("U010", "surge-revision-unknown", Level.FORMAT, W, "Patch revision missing, garbled or unknown",
         RuleDoc(f"Reports a `<patch revision>` that is not a number or is newer than the newest known Surge XT "
                 f"patch format ({NEWEST_REVISION}). `synth_version` of a Surge patch is this revision.",
                 "Surge converts old patches by revision: a missing revision makes it apply every conversion since "
                 "1.0, and a newer one makes it warn and drop what it does not know.",
                 '`<patch revision="x17">`', "Save the patch again with Surge XT."),
         check=check_revision, formats=SURGE),
    Rule("U011", "surge-program-name-mismatch", Level.FORMAT, I, "fxp program name differs from the patch name",
         RuleDoc("Reports a patch whose fxp header `prgName` differs from `<meta name>`. A `prgName` that is the "
                 "name cut to the 28-byte field matches.",
                 "Hosts list the patch by `prgName`, Surge by the meta name: users see two names for one sound.",
                 '`prgName` "Default", `<meta name="Acid Bass">`', "Save the patch again from Surge XT."),
         check=check_program_name, formats=SURGE, profile="marketplace"),
    Rule("U012", "surge-category-folder-mismatch", Level.FORMAT, W, "Patch category differs from its folder",
         RuleDoc("When the patch sits in a folder named like a Surge XT category (Basses, Leads, Pads ...), "
                 "reports a `<meta category>` whose last component (categories may be written as paths, "
                 "`Author\\Leads`) differs from the folder, ignoring case and plural.",
                 "Surge's browser files the patch under its folder; tools that read the metadata file it elsewhere.",
                 '`Leads/Acid.fxp` with `category="Monosynth"`', "Set the category to the folder name."),
         check=check_category_folder, formats=SURGE, profile="marketplace"),
    Rule("U013", "surge-tag-missing-attribute", Level.FORMAT, E, "<tag> element without a tag attribute",
         RuleDoc("Reports a `<tag>` in `<meta><tags>` that has no `tag` attribute.",
                 "Surge XT builds a string from the missing attribute (a null pointer) and crashes on load.",
                 "`<tags><tag/></tags>`", "Remove the element or give it `tag=\"...\"`."),
         check=check_tag_attribute, formats=SURGE),
    Rule("U014", "surge-tag-list-malformed", Level.FORMAT, W, "Tag list holds empty tags or unknown elements",
         RuleDoc("Reports elements other than `<tag>` inside `<meta><tags>`, and tags whose text is empty. Repeated "
                 "and unnormalized tags are M005.",
                 "Surge ignores unknown elements (their tags are lost) and shows empty tags as blank entries.",
                 '`<tags><keyword tag="dark"/><tag tag=""/></tags>`', "Use `<tag tag=\"word\"/>` for each tag."),
         check=check_tag_list, formats=SURGE),
    Rule("U015", "surge-patch-tuning-invalid", Level.FORMAT, E, "Embedded tuning is not base64",
         RuleDoc("Reports a `<patchTuning>` whose `v` (scale) or `m` (mapping) attribute does not decode as base64.",
                 "Surge XT refuses the patch (\"Invalid embedded tuning encoding\").",
                 '`<patchTuning v="!!" />`', "Re-embed the tuning in Surge XT and save again.")),
)
