"""Metadata level: name, author, category, tags, description, license, synth version."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence

from presetctl.engine import taxonomy
from presetctl.engine.fix import fields
from presetctl.engine.fix.edits import FixAction, FixContext, Fixer
from presetctl.engine.fix.toolkit import each, field_fix, preset_at, target
from presetctl.engine.fix.writers import json_text
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Preset, Severity, Violation
from presetctl.engine.names import is_placeholder
from presetctl.engine.rules.base import MARKETPLACE, CheckFn, Fix, FixSafety, Level, Rule, RuleContext, RuleDoc
from presetctl.engine.versions import compare_versions

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _each(doc: Document) -> Iterator[Preset]:
    yield from doc.presets


# Fields a format has no place for: asking for them would flag every preset of the format.
NOT_STORED: dict[str, frozenset[str]] = {
    "dx7-syx": frozenset({"author", "category", "description", "license"}),  # a voice holds a 10-char name only
    "vital": frozenset({"license"}),
    "helm": frozenset({"description"}),  # Helm saves patch_name, folder_name, author, license only
}


def _missing(field: str, label: str) -> CheckFn:
    def check(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
        if field in NOT_STORED.get(doc.format, ()):
            return
        for p in _each(doc):
            if _blank(getattr(p, field)):
                yield Violation(f"preset has no {label}", p.location(field if field in p.pointers else "metadata"))
    return check


def check_category(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    choices = taxonomy.allowed(doc.format, ctx.options.taxonomy)
    if choices is None:
        return
    aliases = ctx.options.category_aliases
    for p in _each(doc):
        if _blank(p.category):
            continue
        assert p.category is not None
        if p.category in choices:
            continue
        target = aliases.get(p.category) or taxonomy.canonical(p.category, choices)
        if target is not None:
            yield Violation(f"category {p.category!r} is spelled {target!r} in the taxonomy", p.location("category"),
                            hint=f"use {target!r}", data={"replacement": target})
            continue
        close = difflib.get_close_matches(p.category, choices, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "choose a category from the taxonomy (`presetctl rule M004`)"
        yield Violation(f"category {p.category!r} is not in the taxonomy", p.location("category"), hint=hint)


def normal_tag(tag: str) -> str:
    return re.sub(r"\s+", " ", tag.strip()).casefold()


def check_tags(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for p in _each(doc):
        seen: set[str] = set()
        for tag in p.tags:
            norm = normal_tag(tag)
            if norm in seen:
                yield Violation(f"tag {tag!r} repeats another tag", p.location("tags"), data={"tag": tag})
            elif norm != tag:
                yield Violation(f"tag {tag!r} is not normalized (expected {norm!r})", p.location("tags"),
                                data={"tag": tag, "replacement": norm})
            seen.add(norm)


def check_version(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    newest = ctx.options.pack.max_versions.get(doc.format)
    if newest is None:
        return
    for p in _each(doc):
        if p.synth_version and compare_versions(p.synth_version, newest) > 0:
            yield Violation(f"saved with {p.synth or doc.format} {p.synth_version}, newer than the pack's target {newest}",
                            p.location("synth_version"),
                            hint="users on the target version may not be able to load it; save it again with that version")


# --- fixes ------------------------------------------------------------------------------------

def fix_missing_name(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    """Only an absent name of a single-preset file gets the file name. In a bank the file names the
    bank, not a voice; and a name that is there but blank (or ``INIT VOICE``, dashes) is a
    placeholder for an empty slot: nine of them renamed after the file are nine equal names."""
    if len(doc.presets) != 1:
        return []

    def make(v: Violation) -> FixAction | None:
        preset = preset_at(doc, v)
        if preset is None or (preset.name is not None and is_placeholder(preset.name)):
            return None
        return field_fix(doc, v, "name", ctx.stem, f"name set to {ctx.stem!r} (the file name)", insert=True)
    return each(violations, make)


def _from_config(field: str, value: str | None) -> Fixer:
    def fixer(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
        if not value:
            return []  # nothing configured: the fix is not offered
        return each(violations, lambda v: field_fix(doc, v, field, value, f"{field} set to {value!r} (pack config)",
                                                           insert=True))
    return fixer


def fix_author(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    return _from_config("author", ctx.options.pack.author)(doc, violations, ctx)


def fix_license(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    return _from_config("license", ctx.options.pack.license)(doc, violations, ctx)


def fix_category(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        target = (v.data or {}).get("replacement")
        preset = preset_at(doc, v)
        if not isinstance(target, str) or preset is None:
            return None
        return field_fix(doc, v, "category", target, f"category {preset.category!r} -> {target!r}")
    return each(violations, make)


def fix_tags(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    out: list[FixAction] = []
    by_pointer: dict[str, list[Violation]] = {}
    for v in violations:
        by_pointer.setdefault(v.location.pointer, []).append(v)
    for pointer, group in by_pointer.items():
        tags = json_text.resolve(doc.raw, pointer) if fields.json_body(doc) else None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            continue
        clean = list(dict.fromkeys(normal_tag(t) for t in tags if normal_tag(t)))
        splice = fields.set_json(doc, pointer, clean)
        if splice is not None:
            out.append(FixAction("M005", f"tags {tags!r} -> {clean!r}", group[0].location, (splice,),
                                 targets=tuple(target(v) for v in group)))
    return out


RULES = (
    Rule("M001", "missing-name", Level.METADATA, E, "Preset has no name",
         RuleDoc("Reports a preset whose name is missing or blank.",
                 "Browsers list presets by name; a nameless preset shows as 'Init' or as its file name, "
                 "and cannot be found by search.",
                 '`"metadata": {"name": "  "}`', "Give the preset a name (often the file name).",
                 "Safe: the fix copies the file name, which is what synths show anyway. Only an absent name "
                 "of a single-preset file is filled: a voice of a bank and a placeholder name (blank, dashes, "
                 "`INIT VOICE`) are left alone, since the file name would make them all the same name."),
         check=_missing("name", "name"), fix=Fix(FixSafety.SAFE, "use the file name as the preset name", fix_missing_name,
                                                      uses_file_name=True), profile=MARKETPLACE),
    Rule("M002", "missing-author", Level.METADATA, W, "Preset has no author",
         RuleDoc("Reports a preset without an author.",
                 "Credit is how sound designers get paid and found; marketplaces reject packs without it.",
                 '`"metadata": {"name": "Bass"}`', "Set the author; `[tool.presetctl.pack] author` fills it in.",
                 "Safe when the pack's author is configured."),
         check=_missing("author", "author"), fix=Fix(FixSafety.SAFE, "fill the author from the pack config", fix_author), profile=MARKETPLACE),
    Rule("M003", "missing-category", Level.METADATA, W, "Preset has no category",
         RuleDoc("Reports a preset without a category (Vital: `preset_style`).",
                 "Browsers filter by category: an uncategorized preset is invisible to users who browse.",
                 '`"metadata": {"name": "Bass"}`', "Set a category from the taxonomy."),
         check=_missing("category", "category"), profile=MARKETPLACE),
    Rule("M004", "unknown-category", Level.METADATA, W, "Category not in the taxonomy",
         RuleDoc("Reports a category that is not in the taxonomy configured for the format (`taxonomy`; "
                 "the default picks each format's own profile). Categories that differ from a taxonomy "
                 "entry only by case, spacing or plural, or that the alias table maps, are fixable.",
                 "Category drift (`Bass`, `Basses`, `BASS`) splits one browser folder into several.",
                 '`"category": "basses"` -> `Bass`',
                 "Use the taxonomy's spelling; add aliases under `[tool.presetctl] category-aliases`.",
                 "Safe for case, spacing, plural and configured aliases."),
         check=check_category, fix=Fix(FixSafety.SAFE, "replace with the taxonomy spelling", fix_category), profile=MARKETPLACE),
    Rule("M005", "tag-not-normalized", Level.METADATA, I, "Tag not normalized or repeated",
         RuleDoc("Reports tags with surrounding or repeated white space, upper case, or that repeat "
                 "another tag once normalized.",
                 "Tag search is exact in most browsers: `Dark`, `dark ` and `dark` are three tags.",
                 '`"tags": ["Dark", "dark "]`', "Lower-case and trim tags; drop repeats.",
                 "Safe: tags compare case-insensitively in every browser we know."),
         check=check_tags, fix=Fix(FixSafety.SAFE, "normalize tags and drop repeats", fix_tags), profile=MARKETPLACE),
    Rule("M006", "missing-description", Level.METADATA, I, "Preset has no description",
         RuleDoc("Reports a preset without a description or comment.",
                 "A line on how to play the sound (mod wheel, macros) is what makes a pack usable.",
                 '`"metadata": {"name": "Bass"}` (no `description`)', "Add a description."),
         check=_missing("description", "description"), profile=MARKETPLACE),
    Rule("M007", "missing-license", Level.METADATA, I, "Preset has no license",
         RuleDoc("Reports a preset without license information.",
                 "Without a license, redistribution is legally unclear; free packs in particular need one.",
                 '`"metadata": {"name": "Bass"}` (no `license`)',
                 "Set the license; `[tool.presetctl.pack] license` fills it in.",
                 "Safe when the pack's license is configured."),
         check=_missing("license", "license"), fix=Fix(FixSafety.SAFE, "fill the license from the pack config", fix_license), profile=MARKETPLACE),
    Rule("M008", "synth-version-too-new", Level.METADATA, E, "Saved with a newer synth than the pack targets",
         RuleDoc("Reports a preset saved with a synth version newer than the pack's configured target "
                 "(`[tool.presetctl.pack] max-versions = {vital = \"1.5.5\"}`).",
                 "Users on the target version may be unable to load a preset saved by a newer version.",
                 "`synth_version: 1.6.0` with target 1.5.5", "Save the preset again with the target version."),
         check=check_version),
)
