"""Schema level: the presetctl format against schemas/preset.schema.json."""

from __future__ import annotations

from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import Level, Rule, RuleContext, RuleDoc
from presetctl.engine.schemas import schema_errors


def check_schema(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for pointer, message in schema_errors(doc.raw):
        where = pointer or "the document"
        yield Violation(f"{where}: {message}", Location(pointer=pointer))


RULES = (
    Rule("S001", "schema-violation", Level.SCHEMA, Severity.ERROR, "Preset does not match the presetctl schema",
         RuleDoc("Validates a presetctl preset against `schemas/preset.schema.json` (JSON Schema 2020-12) and "
                 "reports every error, not only the first, each at its JSON pointer. For `anyOf`/`oneOf` "
                 "the alternative that came closest is named.",
                 "Tools and synths that import the format rely on the schema: a field of the wrong type "
                 "or an unknown key is a preset that some importer will reject or misread.",
                 '`{"format_version": "1.0", "metadata": {"name": 7}, "parameters": []}` -> '
                 "`/metadata/name: 7 is not of type 'string'`",
                 "Change the value at the reported pointer to what the schema asks; see docs/format.md."),
         check=check_schema, formats=frozenset({"presetctl"})),
)
