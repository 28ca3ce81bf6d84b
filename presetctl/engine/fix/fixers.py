"""The fixers: rule code -> function(document, violations, context) -> proposed fixes.

A fixer only proposes; the planner applies, re-validates and keeps a fix only if its finding
is gone and no new error appeared. Every fixer is pure: same document, same proposals, which
is what makes ``presetctl fix`` idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from presetctl.engine.fix import fields, names
from presetctl.engine.fix.model import FixAction, Splice
from presetctl.engine.fix.writers import dx7_sysex, json_text
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Preset, Violation
from presetctl.engine.options import Options
from presetctl.engine.rules.metadata import normal_tag


@dataclass(frozen=True)
class FixContext:
    path: PurePosixPath  # the file's current (possibly already renamed) path, as reported
    options: Options

    @property
    def stem(self) -> str:
        name = self.path.name
        suffix = self.path.suffix
        return name[: -len(suffix)] if suffix else name


Fixer = Callable[[Document, Sequence[Violation], FixContext], list[FixAction]]


def _target(v: Violation) -> tuple[str, str]:
    return (v.code, v.location.render())


def _preset_at(doc: Document, v: Violation) -> Preset | None:
    if v.location.voice is not None:
        return next((p for p in doc.presets if p.index == v.location.voice), None)
    return doc.presets[0] if len(doc.presets) == 1 else None


def _field_fix(doc: Document, v: Violation, field: str, value: str, description: str,
               *, insert: bool = False) -> FixAction | None:
    preset = _preset_at(doc, v)
    if preset is None:
        return None
    splices = fields.set_field(doc, preset, field, value, insert=insert)
    if not splices:
        return None
    return FixAction(v.code, description, v.location, splices, targets=(_target(v),))


def _each(doc: Document, violations: Sequence[Violation], make: Callable[[Violation], FixAction | None]) -> list[FixAction]:
    return [a for v in violations if (a := make(v)) is not None]


def fix_bom(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    if not doc.data.startswith(fields.BOM) or not violations:
        return []
    return [FixAction("F009", "removed the UTF-8 byte order mark", violations[0].location,
                      (Splice(0, 3, b""),), targets=tuple(_target(v) for v in violations))]


def fix_duplicate_keys(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    body = fields.json_body(doc)
    if body is None or not violations:
        return []
    text, shift = body
    removals = json_text.duplicate_removals(text)
    if not removals:
        return []
    keys = ", ".join(repr(k) for k in dict.fromkeys(k for k, _ in removals))
    return [FixAction("P002", f"removed earlier occurrences of duplicate keys {keys} (the last value stays)",
                      violations[0].location, tuple(fields.shifted(s, shift) for _, s in removals),
                      targets=tuple(_target(v) for v in violations))]


def fix_missing_name(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    return _each(doc, violations, lambda v: _field_fix(doc, v, "name", ctx.stem, f"name set to {ctx.stem!r} (the file name)",
                                                       insert=True))


def _from_config(field: str, value: str | None) -> Fixer:
    def fixer(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
        if not value:
            return []  # nothing configured: the fix is not offered
        return _each(doc, violations, lambda v: _field_fix(doc, v, field, value, f"{field} set to {value!r} (pack config)",
                                                           insert=True))
    return fixer


def fix_author(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    return _from_config("author", ctx.options.pack.author)(doc, violations, ctx)


def fix_license(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    return _from_config("license", ctx.options.pack.license)(doc, violations, ctx)


def fix_category(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        target = (v.data or {}).get("replacement")
        preset = _preset_at(doc, v)
        if not isinstance(target, str) or preset is None:
            return None
        return _field_fix(doc, v, "category", target, f"category {preset.category!r} -> {target!r}")
    return _each(doc, violations, make)


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
                                 targets=tuple(_target(v) for v in group)))
    return out


def fix_name_sync(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    return _each(doc, violations, lambda v: _field_fix(
        doc, v, "name", ctx.stem, f"name {(v.data or {}).get('name')!r} -> {ctx.stem!r} (the file name)"))


def fix_name_length(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        preset = _preset_at(doc, v)
        limit = (v.data or {}).get("limit")
        if preset is None or not preset.name or not isinstance(limit, int):
            return None
        short = names.trim_name(preset.name, limit)
        return _field_fix(doc, v, "name", short, f"name {preset.name!r} -> {short!r} ({limit}-byte limit)")
    return _each(doc, violations, make)


def fix_name_spacing(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        preset = _preset_at(doc, v)
        if preset is None or not preset.name:
            return None
        clean = names.collapse_spaces(preset.name)
        return _field_fix(doc, v, "name", clean, f"name {preset.name!r} -> {clean!r}") if clean else None
    return _each(doc, violations, make)


def fix_file_name(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    if not violations:
        return []
    new = names.portable_file_name(ctx.path.name)
    if new == ctx.path.name:
        return []
    return [FixAction("N002", f"file renamed {ctx.path.name!r} -> {new!r}", violations[0].location, rename=new,
                      targets=tuple(_target(v) for v in violations))]


def _clamp(value: float, lo: float | None, hi: float | None) -> float:
    if lo is not None and value < lo:
        return lo
    if hi is not None and value > hi:
        return hi
    return value


def _number(x: object) -> float | None:
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def fix_declared_range(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        data = v.data or {}
        value = _number(json_text.resolve(doc.raw, v.location.pointer))
        if value is None:
            return None
        new = _clamp(value, _number(data.get("min")), _number(data.get("max")))
        splice = fields.set_json(doc, v.location.pointer, new)
        if splice is None or new == value:
            return None
        return FixAction(v.code, f"{v.location.pointer}: {value!r} clamped to {new!r}", v.location, (splice,),
                         targets=(_target(v),))
    return _each(doc, violations, make)


def fix_synth_range(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        if fields.json_body(doc) is None or v.location.voice is not None:
            return None  # binary formats: no writer for parameters yet
        pointer = v.location.pointer
        node = json_text.resolve(doc.raw, pointer)
        if isinstance(node, dict) and _number(node.get("value")) is not None:
            pointer += "/value"
            node = node["value"]
        value = _number(node)
        if value is None:
            return None
        data = v.data or {}
        new = _clamp(value, _number(data.get("min")), _number(data.get("max")))
        splice = fields.set_json(doc, pointer, new)
        if splice is None or new == value:
            return None
        return FixAction(v.code, f"{pointer}: {value!r} clamped to {new!r} (synth range)", v.location, (splice,),
                         targets=(_target(v),))
    return _each(doc, violations, make)


def fix_sysex_bank(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    """DX7 checksum, byte count and 8-bit data bytes: each finding gets only its own repair (so an
    unsafe checksum rewrite never rides along with a safe byte-count fix), for any dump in the file."""
    def make(v: Violation) -> FixAction | None:
        found = dx7_sysex.repair_one(doc.data, v.data or {})
        if found is None:
            return None
        return FixAction(v.code, found[0], v.location, (found[1],), targets=(_target(v),))
    return _each(doc, violations, make)


FIXERS: dict[str, Fixer] = {
    "F009": fix_bom,
    "P002": fix_duplicate_keys,
    "M001": fix_missing_name,
    "M002": fix_author,
    "M004": fix_category,
    "M005": fix_tags,
    "M007": fix_license,
    "N001": fix_name_sync,
    "N002": fix_file_name,
    "N004": fix_name_length,
    "N005": fix_name_spacing,
    "V002": fix_declared_range,
    "V003": fix_synth_range,
    "D001": fix_sysex_bank, "D002": fix_sysex_bank, "D003": fix_sysex_bank, "D005": fix_sysex_bank,
}

# Fixes that go first, without pointer-based fixes in their pass: they move text that pointers resolve in.
EXCLUSIVE = ("P002",)

# Fixes that copy the file name into the preset: they wait for a pending rename.
FROM_FILE_NAME = ("M001", "N001")
