"""Naming level: preset names and file names that break browsers, synths or other systems."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from presetctl.engine.fix import names
from presetctl.engine.fix.edits import FixAction, FixContext
from presetctl.engine.fix.toolkit import each, field_fix, preset_at, target
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Severity, Violation
from presetctl.engine.names import is_placeholder
from presetctl.engine.rules.base import MARKETPLACE, Fix, FixSafety, Level, Rule, RuleContext, RuleDoc

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

# Bytes a preset name may take in the target synth (fxp program name field, DX7 voice name).
NAME_LIMITS: dict[str, int] = {"presetctl": 128, "surge-fxp": 28, "fxp": 28, "dx7-syx": 10}
_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_SPACES = re.compile(r"^\s|\s$|\s{2,}")


def comparable(name: str) -> str:
    """Key for comparing a preset name with a file name: case, separators and accents folded.

    The characters a portable file name cannot hold count as separators too: N002's fix writes
    ``Bass?`` as ``Bass_.json``, which still names the preset ``Bass?``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r'[\s_\-.<>:"/\\|?*\x00-\x1f\x7f]+', " ", text).strip().casefold()


def is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t"


def check_name_matches_file(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    if len(doc.presets) != 1:
        return  # banks hold many names; the file name names the bank
    p = doc.presets[0]
    if p.name is None or is_placeholder(p.name):
        return  # an empty slot (blank, INIT VOICE) is not a name that disagrees with the file
    stem = ctx.path.name
    for suffix in ctx.path.suffixes[-1:]:
        stem = stem[: -len(suffix)]
    if comparable(p.name) != comparable(stem):
        yield Violation(f"preset name {p.name!r} differs from the file name {stem!r}", p.location("name"),
                        data={"name": p.name, "stem": stem})


def check_file_name(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    name = ctx.path.name
    bad = sorted(set(_BAD_CHARS.findall(name)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        yield Violation(f"file name contains characters that other systems reject: {shown}")
    if name.endswith((".", " ")) or name != name.lstrip(" "):
        yield Violation("file name starts or ends with a space or ends with a dot (Windows drops them)")


def check_reserved(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    stem = ctx.path.name.split(".", 1)[0].rstrip(" ").upper()
    if stem in _RESERVED:
        yield Violation(f"{stem} is a reserved device name on Windows: the file cannot be created there")


def check_name_length(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    limit = NAME_LIMITS.get(doc.format)
    if limit is None:
        return
    for p in doc.presets:
        if p.name and len(p.name.encode("utf-8")) > limit:
            yield Violation(f"name {p.name!r} is {len(p.name.encode('utf-8'))} bytes; {doc.format} keeps {limit}",
                            p.location("name"), data={"limit": limit})


# Fixed-width name fields padded with spaces by design (DX7: 10 characters, `BRASS   1`).
FIXED_WIDTH_NAMES = frozenset({"dx7-syx"})


def check_name_spacing(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    if doc.format in FIXED_WIDTH_NAMES:
        return
    for p in doc.presets:
        if p.name and _SPACES.search(p.name) and not any(is_control(c) for c in p.name):
            yield Violation(f"name {p.name!r} has leading, trailing or repeated spaces", p.location("name"))


def _plain(name: str) -> bool:
    """Printable ASCII holds no control or format character (those are below 0x20, 0x7F, or not
    ASCII): two O(1)-ish C calls instead of a Unicode lookup per character."""
    return name.isascii() and name.isprintable()


def check_name_controls(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for p in doc.presets:
        if p.name and not _plain(p.name) and any(is_control(c) for c in p.name):
            yield Violation(f"name {p.name!r} contains control or invisible formatting characters", p.location("name"))


# --- fixes ------------------------------------------------------------------------------------

def fix_name_sync(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        preset = preset_at(doc, v)
        if preset is None or is_placeholder(preset.name):
            return None  # a placeholder marks an empty slot: never renamed after the file
        return field_fix(doc, v, "name", ctx.stem, f"name {preset.name!r} -> {ctx.stem!r} (the file name)")
    return each(violations, make)


def fix_name_length(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        preset = preset_at(doc, v)
        limit = (v.data or {}).get("limit")
        if preset is None or not preset.name or not isinstance(limit, int):
            return None
        short = names.trim_name(preset.name, limit)
        return field_fix(doc, v, "name", short, f"name {preset.name!r} -> {short!r} ({limit}-byte limit)")
    return each(violations, make)


def fix_name_spacing(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        preset = preset_at(doc, v)
        if preset is None or not preset.name:
            return None
        clean = names.collapse_spaces(preset.name)
        return field_fix(doc, v, "name", clean, f"name {preset.name!r} -> {clean!r}") if clean else None
    return each(violations, make)


def fix_file_name(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    if not violations:
        return []
    new = names.portable_file_name(ctx.path.name)
    if new == ctx.path.name:
        return []
    return [FixAction("N002", f"file renamed {ctx.path.name!r} -> {new!r}", violations[0].location, rename=new,
                      targets=tuple(target(v) for v in violations))]


RULES = (
    Rule("N001", "name-file-mismatch", Level.NAMING, I, "Preset name differs from the file name",
         RuleDoc("Reports a single-preset file whose preset name differs from its file name (compared "
                 "ignoring case, accents, spaces, dashes and underscores).",
                 "Some synths list the file name, others the stored name: users see two names for one "
                 "sound, and search finds only one of them.",
                 "`Bass 01.vital` holding `preset_name: \"Wobble\"`",
                 "Rename the file or the preset so they agree.",
                 "Unsafe: the fixer renames the preset after the file, which may not be the name the "
                 "author meant. A placeholder name (blank, dashes, `INIT VOICE`) is neither reported nor "
                 "renamed: it marks an empty slot."),
         check=check_name_matches_file, fix=Fix(FixSafety.UNSAFE, "set the preset name from the file name", fix_name_sync,
                                                           uses_file_name=True), profile=MARKETPLACE),
    Rule("N002", "non-portable-file-name", Level.NAMING, W, "File name breaks on another OS",
         RuleDoc('Reports file names with `<>:"/\\|?*`, control characters, a leading space, or a trailing '
                 "space or dot.",
                 "Windows cannot create such files: unzipping the pack there fails or renames files.",
                 "`Bass: Deep?.vital`", "Rename the file.",
                 "Safe: the fixer replaces each character with `_` and never overwrites another file."),
         check=check_file_name, fix=Fix(FixSafety.SAFE, "replace the characters with '_'", fix_file_name)),
    Rule("N003", "reserved-file-name", Level.NAMING, E, "File name is a reserved Windows device name",
         RuleDoc("Reports file names whose stem is CON, PRN, AUX, NUL, COM1-9 or LPT1-9.",
                 "Windows treats these names as devices: the file cannot be created or opened.",
                 "`CON.vital`", "Rename the file."),
         check=check_reserved),
    Rule("N004", "name-too-long", Level.NAMING, W, "Preset name longer than the synth stores",
         RuleDoc("Reports a preset name longer, in UTF-8 bytes, than the target synth keeps (28 for "
                 "fxp program names, 10 for DX7 voices, 128 for the presetctl format).",
                 "The synth truncates the name: presets that differ only in their tail become "
                 "indistinguishable.",
                 "`Warm Analog Brass Section Wide` in a `.fxp`",
                 "Shorten the name.",
                 "Unsafe: the fixer keeps the start and the distinguishing tail, which changes the name."),
         check=check_name_length, fix=Fix(FixSafety.UNSAFE, "shorten the name, keeping the distinguishing tail",
                                                   fix_name_length), profile=MARKETPLACE),
    Rule("N005", "name-whitespace", Level.NAMING, I, "Preset name has stray spaces",
         RuleDoc("Reports names with leading, trailing or repeated spaces.",
                 "Sorting and search treat `Bass` and ` Bass` differently.",
                 '`"name": " Bass  01"`', "Trim the name.", "Safe."),
         check=check_name_spacing, fix=Fix(FixSafety.SAFE, "trim and collapse spaces", fix_name_spacing), profile=MARKETPLACE),
    Rule("N006", "name-control-characters", Level.NAMING, E, "Preset name contains control characters",
         RuleDoc("Reports names containing control characters or invisible formatting characters "
                 "(including bidirectional overrides).",
                 "Such names can corrupt terminal output or display differently from what they are.",
                 '`"name": "Bass\\u001b[2J"`', "Remove the characters."),
         check=check_name_controls),
)
