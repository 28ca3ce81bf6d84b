"""Setting one metadata field of one preset, whatever the format: the writer dispatch.

JSON formats (``facts.locator == "json"``) are edited in their text through the preset's
field pointers; other formats through their own writer. A format without a writer for a field
yields no splice, and the fix is simply not offered.
"""

from __future__ import annotations

from typing import Any

from presetctl.engine.fix.edits import Splice
from presetctl.engine.fix.writers import json_text
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Preset
from presetctl.engine.pointer import unescape

BOM = b"\xef\xbb\xbf"


def json_body(doc: Document) -> tuple[bytes, int] | None:
    """The JSON text of a parsed JSON document and the offset of its body in the file."""
    if doc.facts.locator != "json" or not doc.parsed:
        return None
    if doc.data.startswith(BOM):
        return doc.data[3:], 3
    return doc.data, 0


def shifted(splice: Splice, shift: int) -> Splice:
    return Splice(splice.start + shift, splice.end + shift, splice.text) if shift else splice


def set_json(doc: Document, pointer: str, value: Any, *, insert: bool | str = False) -> Splice | None:
    """Replace the value at ``pointer``; with ``insert``, add the member when it is missing
    (``insert="only"``: the caller knows it is missing, so no search for it)."""
    body = json_body(doc)
    if body is None or not pointer.startswith("/"):
        return None
    text, shift = body
    splice = json_text.replace_value(text, pointer, value) if insert != "only" else None
    if splice is None and insert:
        parent, _, key = pointer.rpartition("/")
        splice = json_text.insert_member(text, parent, unescape(key), value)
    return shifted(splice, shift) if splice is not None else None


def set_field(doc: Document, preset: Preset, field: str, value: str, *, insert: bool = False) -> tuple[Splice, ...]:
    """Splices setting a text field (name, author, category, license) of ``preset``; () if no writer can."""
    if doc.facts.locator == "json":
        pointer = preset.pointers.get(field, "")
        parent, _, key = pointer.rpartition("/")
        holder = json_text.resolve(doc.raw, parent)
        absent = isinstance(holder, dict) and key not in holder
        how: bool | str = "only" if insert and absent else insert
        splice = set_json(doc, pointer, value, insert=how) if pointer else None
        return (splice,) if splice is not None else ()
    # The binary writers are imported for their own formats' files only (only the DX7 loader makes a
    # Dx7File): the metadata rules of every run import this module.
    if field == "name" and doc.format == "dx7-syx" and preset.index is not None:
        from presetctl.engine.fix.writers import dx7_sysex
        from presetctl.engine.formats.dx7_syx import Dx7File

        if isinstance(doc.raw, Dx7File):
            splice = dx7_sysex.set_voice_name(doc.raw, preset.index, value)
            return (splice,) if splice is not None else ()
    if doc.format == "surge-fxp" and field in SURGE_META:
        from presetctl.engine.fix.writers import fxp

        return tuple(fxp.set_meta(doc.data, SURGE_META[field], value) or ())
    return ()


# Preset fields -> attributes of Surge's <meta> element.
SURGE_META = {"name": "name", "category": "category", "author": "author", "license": "license"}
