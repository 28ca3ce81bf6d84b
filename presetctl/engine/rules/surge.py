"""Format level for Surge XT patches (``surge-fxp``): codes ``U001``-``U019``.

``U001``-``U009``, ``U015``, ``U016`` and ``U017`` are structural: the loader (``formats/fxp.py``)
emits them while reading the fxp header, the ``sub3`` header, the wavetables and the XML, with the
byte offset; they are registered here so they are documented and selectable, with the fixes of
the XML that only Surge's parser reads (``formats/surge_xml.py``). The checks below read the
parsed XML (``Document.raw``) and the header facts in ``Document.facts.header``.

What Surge itself does decides the severity (``SurgeSynthesizerIO.cpp`` ``loadPatchByPath``,
``SurgePatch.cpp`` ``load_patch``/``load_xml``): it refuses a file without the fxp magics,
plays the init sound for XML of 4 MiB or more or without ``<patch>``/``<parameters>``, loads
what its lenient parser reads of anything else, crashes on a ``<tag>`` without ``tag`` and on a
revision 23+ patch without ``<tempoOnSave>``, and ignores ``<meta name>``/``<meta category>``
when it loads a patch from disk (the file and folder names win).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from xml.etree.ElementTree import Element

from presetctl.engine import taxonomy
from presetctl.engine.fix.edits import FixAction, FixContext, Splice
from presetctl.engine.fix.toolkit import target
from presetctl.engine.fix.writers import fxp as fxp_writer
from presetctl.engine.formats import surge_names, surge_xml
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import Fix, FixSafety, Level, Rule, RuleContext, RuleDoc

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
SURGE = frozenset({"surge-fxp"})
# Newest patch format known: ff_revision is 26 in src/common/SurgeStorage.h (XT 1.4 nightlies) and
# PatchFileValidation.cpp reads the zstd extension of revision 29 patches. Newer patches make Surge
# warn "Patch Version Mismatch" and drop what it does not know.
NEWEST_REVISION = 29
CATEGORIES = taxonomy.PROFILES["surge"]  # Surge XT's factory folders: the categories of its browser
NAME_FIELD = 28  # bytes of the fxp prgName field
TEMPO_REVISION = 23  # from this revision load_xml reads <tempoOnSave> without checking that it exists


def _root(doc: Document) -> Element | None:
    return doc.raw if isinstance(doc.raw, Element) else None


def _revision(root: Element) -> int | None:
    """The revision Surge reads (``QueryIntAttribute``: a leading integer), None when it reads none."""
    return surge_names.read_int(root.get("revision"))


def check_revision(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    root = _root(doc)
    if root is None:
        return
    revision, text = _revision(root), root.get("revision")
    where = Location(pointer="/patch/@revision")
    if revision is None:
        what = "patch has no revision" if text is None else f"patch revision {text!r} is not a number"
        yield Violation(f"{what}: Surge reads it as 0 and applies every conversion since revision 1 (envelope "
                        "shapes, filters, resonance, ...), so the patch does not sound as saved", where, code="U018")
    elif revision > NEWEST_REVISION:
        yield Violation(f"patch revision {revision} is newer than the newest known Surge XT format "
                        f"({NEWEST_REVISION}): Surge warns \"Patch Version Mismatch\" and drops what it does not "
                        "know", where, code="U010")


def check_tempo_on_save(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    root = _root(doc)
    revision = _revision(root) if root is not None else None
    if root is not None and revision is not None and revision >= TEMPO_REVISION and root.find("tempoOnSave") is None:
        yield Violation(f"revision {revision} patch has no <tempoOnSave>: Surge XT reads its v attribute through a "
                        "null pointer and crashes loading the patch", Location(pointer="/patch/tempoOnSave"))


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
    """Surge files a patch by its folder and ignores ``<meta category>`` when it loads one from disk
    (``loadPatchByPath`` sets the category from the folder; ``load_xml`` reads meta only for DAW
    state). It writes the folder path it saved from (``Argitoth\\Leads``), and its bundled
    third-party packs carry the author or pack name there (``Argitoth``, ``PSS``): its own
    convention, not a mismatch. What is left to tell is a category that names another of Surge's
    browser categories than the folder the patch sits in."""
    folder = ctx.path.parent.name
    listed = taxonomy.canonical(folder, CATEGORIES)
    if listed is None:
        return  # only folders named like a Surge category say what the category should be
    for p in doc.presets:
        named = taxonomy.canonical(_leaf(p.category), CATEGORIES) if p.category else None
        if named is not None and named != listed:
            yield Violation(f"category {p.category!r} names the Surge category {named!r}, but the patch sits in "
                            f"{folder!r}: Surge lists it there (it ignores <meta category> when it loads a patch "
                            f"from disk), tools that read the metadata file it under {named!r}",
                            p.location("category"), hint=f"use {folder!r}", data={"replacement": folder})


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


# --- fixes ------------------------------------------------------------------------------------

def _xml_of(doc: Document) -> bytes | None:
    span = fxp_writer.xml_span(doc.data)
    return doc.data[span.start : span.start + span.size] if span is not None else None


def fix_lenient_xml(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    """One rewrite of the whole XML for all of a code's findings: every repair at once (U008, U016 and
    U017 fixes propose the same text), since a partial repair leaves a patch strict parsers still reject."""
    xml = _xml_of(doc)
    if xml is None or not violations:
        return []
    body = xml.rstrip(b"\0")  # the loader reads up to the NUL terminator; the padding stays
    lenient = surge_xml.repair(body)
    splices = fxp_writer.replace_xml(doc.data, lenient.xml + xml[len(body):]) if lenient.repairs else None
    if not splices:
        return []
    counts = {code: sum(1 for r in lenient.repairs if r.code == code) for code in _REPAIRED}
    done = ", ".join(f"{n} {_REPAIRED[code]}" for code, n in counts.items() if n)
    return [FixAction(violations[0].code, f"patch XML made well-formed: {done}", violations[0].location,
                      tuple(splices), targets=tuple(target(v) for v in violations))]


_REPAIRED = {surge_xml.CONTROL: "control character(s) removed",
             surge_xml.NOT_UTF8: "non-UTF-8 byte(s) written as character references",
             surge_xml.MARKUP: "'&', '<' or unquoted value(s) escaped"}
# ``first``: the rewrite moves the byte offsets that other findings and fixes of the patch point at,
# so it runs in a pass of its own before them (as P002 does for JSON text).
_LENIENT_FIX = Fix(FixSafety.SAFE, "rewrite the patch XML so strict parsers read what Surge reads", fix_lenient_xml,
                   first=True)
_LENIENT_SAFETY = ("Safe: the fix rewrites only what Surge's parser reads leniently, in a form that TinyXML turns into "
                   "the same bytes (a non-UTF-8 byte as `&#xHH;`, a bare `&` as `&amp;`); only control characters, "
                   "which XML cannot hold, are removed from the text. The sound is untouched; the fxp and sub3 sizes "
                   "are recomputed. All findings of U008, U016 and U017 in the file are fixed together.")


def fix_tempo_on_save(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    xml = _xml_of(doc)
    close = xml.rfind(b"</patch>") if xml is not None else -1
    splices = fxp_writer.edit_xml(doc.data, [Splice(close, close, TEMPO_ELEMENT)]) if close >= 0 else None
    if not splices or not violations:
        return []
    v = violations[0]
    return [FixAction(v.code, f"{TEMPO_ELEMENT.decode()} added", v.location, tuple(splices), targets=(target(v),))]


TEMPO_ELEMENT = b'<tempoOnSave v="120" />'  # the tempo load_xml assumes when the element has no value
_STRUCTURE_WHY = ("Surge XT does not load the patch, or loads the init sound or only part of it: the patch does "
                  "not sound as saved.")

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
         RuleDoc("Reports patch XML that stays malformed after the repairs of what Surge's own parser accepts "
                 "(U008, U016, U017): a missing or mismatched end tag, a duplicate attribute, a NUL byte, a cut, "
                 "with line, column, XML byte and file byte. Also DTDs and entity declarations, which presetctl "
                 "never processes.",
                 "Surge's parser (TinyXML) stops at the same place without telling anyone and loads only what came "
                 "before it: the parameters after it keep Surge's defaults, and with no `<parameters>` read at all "
                 "the patch is the init sound. Every other tool rejects the file.",
                 "`<patch revision=\"16\"><meta name=\"Pad\"` (cut short)", "Export the patch again from Surge XT.")),
    Rule("U008", "surge-xml-invalid-character-reference", Level.FORMAT, W,
         "Control character in the patch XML",
         RuleDoc("Reports a character reference to a control character XML 1.0 forbids (`&#x10;`) or a raw control "
                 "byte in the patch XML, with line, column, XML byte, file byte and the attribute holding it (a "
                 "custom controller label, `<meta name>`, ...). presetctl reads the rest of the patch without the "
                 "character.",
                 "Surge's parser (TinyXML) loads the patch with the raw control byte (its writer produces such "
                 "references itself), but every strict XML parser rejects the whole file: librarians, converters "
                 "and scripts cannot read it. The character itself is invisible, or garbles a name.",
                 '`<entry label="Reverb Decay&#x10;" />`', "Remove the character (the fix does).",
                 _LENIENT_SAFETY),
         fix=_LENIENT_FIX),
    Rule("U009", "surge-patch-structure", Level.FORMAT, E, "Patch XML is not a <patch> with <parameters>",
         RuleDoc("Reports patch XML whose root element is not `<patch>` or that has no `<parameters>` element.",
                 "`SurgePatch::load_xml` returns silently after switching every effect off and clearing the "
                 "modulation: Surge plays the init sound and says nothing.",
                 "`<preset>...</preset>`", "Export the patch again from Surge XT.")),
    Rule("U010", "surge-revision-unknown", Level.FORMAT, W, "Patch revision newer than any known Surge XT",
         RuleDoc(f"Reports a `<patch revision>` newer than the newest known Surge XT patch format "
                 f"({NEWEST_REVISION}). A missing or unreadable revision is U018. `synth_version` of a Surge patch "
                 f"is this revision.",
                 "Surge shows \"Patch Version Mismatch\" and loads the patch without what it does not know (it "
                 "looks its own parameters up by name and ignores the others).",
                 '`<patch revision="99">`', "Load the patch in a Surge XT that knows its revision, or save it again."),
         check=check_revision, formats=SURGE, also_emits=("U018",)),
    Rule("U011", "surge-program-name-mismatch", Level.FORMAT, I, "fxp program name differs from the patch name",
         RuleDoc("Reports a patch whose fxp header `prgName` differs from `<meta name>`. A `prgName` that is the "
                 "name cut to the 28-byte field matches.",
                 "Hosts list the patch by `prgName`, Surge by the meta name: users see two names for one sound.",
                 '`prgName` "Default", `<meta name="Acid Bass">`', "Save the patch again from Surge XT."),
         check=check_program_name, formats=SURGE, profile="marketplace"),
    Rule("U012", "surge-category-folder-mismatch", Level.FORMAT, I,
         "Patch category names another Surge category than its folder",
         RuleDoc("When the patch sits in a folder named like a Surge XT category (Basses, Leads, Pads ...), reports "
                 "a `<meta category>` whose last component (categories may be written as paths, `Author\\Leads`) "
                 "names a different Surge category, ignoring case and plural. Surge's own conventions are not "
                 "reported: the folder path it saved from, and the author or pack name its bundled third-party "
                 "patches carry (`Argitoth`, `PSS`).",
                 "Surge itself lists the patch under its folder and ignores `<meta category>` when it loads a patch "
                 "from disk, so the sound and Surge's browser are unaffected; tools that read the metadata (and "
                 "users of other librarians) file the patch under the other category.",
                 '`Leads/Acid.fxp` with `category="Pads"`', "Set the category to the folder name."),
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
                 "Surge XT decodes garbage, cannot apply the tuning (it reports \"Error applying tuning!\" or drops "
                 "the patch's tuning) and plays the patch in the tuning it already had: not as saved.",
                 '`<patchTuning v="!!" />`', "Re-embed the tuning in Surge XT and save again.")),
    Rule("U016", "surge-xml-not-utf8", Level.FORMAT, W, "Patch XML holds bytes that are not UTF-8",
         RuleDoc("Reports bytes in the patch XML that are not UTF-8 although the XML declares (or defaults to) "
                 "UTF-8, typically a Latin-1 or Windows-1252 character in a name (`Donna´s` written as the single byte 0xB4), with line, "
                 "column, XML byte, file byte and the attribute holding it. presetctl reads them as Latin-1.",
                 "Surge's parser (TinyXML in legacy mode) copies the raw byte and loads the patch, but every "
                 "strict XML parser rejects the whole file: librarians, converters and scripts cannot read it.",
                 '`<meta name="Donna´s" />` with `´` as the byte 0xB4', "Write the character as UTF-8 or as a character "
                 "reference (the fix writes `&#xB4;`, which Surge reads as the same byte).", _LENIENT_SAFETY),
         fix=_LENIENT_FIX),
    Rule("U017", "surge-xml-unescaped-markup", Level.FORMAT, W, "Patch XML holds unescaped '&', '<' or unquoted values",
         RuleDoc("Reports an `&` that starts none of XML's five entities (`R&B`, `&nbsp;`), a `<` inside an attribute "
                 "value, or an attribute value without quotes, with line, column, XML byte and file byte.",
                 "Surge's parser (TinyXML) reads them literally and loads the patch, but every strict XML parser "
                 "rejects the whole file: librarians, converters and scripts cannot read it.",
                 '`<meta name="R&B Keys" />`', "Escape them (`&amp;`, `&lt;`) and quote the value.",
                 _LENIENT_SAFETY),
         fix=_LENIENT_FIX),
    Rule("U018", "surge-revision-missing", Level.FORMAT, E, "Patch revision missing or not a number",
         RuleDoc("Reports a `<patch>` without a `revision` attribute, or one Surge cannot read a number from "
                 "(TinyXML's `QueryIntAttribute`: a leading integer; `x17` reads none).",
                 "Surge then takes the patch for revision 0 and applies every conversion since revision 1 (attack "
                 "shapes, LFO sustain, filter types and subtypes, resonance, pan and width, voice limits, ...): "
                 "the patch does not sound as saved.",
                 '`<patch revision="x17">`', "Restore the revision the patch was saved with, or save it again from "
                 "the Surge that made it.")),
    Rule("U019", "surge-tempo-on-save-missing", Level.FORMAT, E, "Revision 23+ patch without <tempoOnSave>",
         RuleDoc(f"Reports a patch of revision {TEMPO_REVISION} or newer without a `<tempoOnSave>` element.",
                 "From revision 23 `SurgePatch::load_xml` calls `QueryDoubleAttribute` on the element without "
                 "checking that it exists: Surge XT crashes loading the patch, with the host that runs it.",
                 '`<patch revision="23"><meta name="Pad" /><parameters>...</parameters></patch>`',
                 "Add `<tempoOnSave v=\"120\" />` inside `<patch>` (the fix does).",
                 "Safe: 120 is the tempo Surge itself uses when the element has no value; the fxp and sub3 sizes "
                 "are recomputed."),
         check=check_tempo_on_save, formats=SURGE,
         fix=Fix(FixSafety.SAFE, "add <tempoOnSave v=\"120\" />", fix_tempo_on_save, first=True)),
)
