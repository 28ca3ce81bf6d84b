"""The rule table: every code presetctl can report. One line per rule module."""

from __future__ import annotations

from presetctl.engine.rules import (
    audio,
    dx7,
    engine_codes,
    json_formats,
    metadata,
    naming,
    pack,
    parameters,
    performance,
    recognized,
    schema,
    surge,
)
from presetctl.engine.rules.base import Rule
from presetctl.engine.rules.security import archives, files, json_shape, lua, paths, payloads, text, xml

_MODULES = (
    engine_codes,
    schema,
    metadata,
    naming,
    parameters,
    performance,
    pack,
    json_formats,
    dx7,
    surge,
    recognized,
    audio,
    paths,
    payloads,
    lua,
    archives,
    xml,
    json_shape,
    text,
    files,
)

RULES: tuple[Rule, ...] = tuple(sorted((r for m in _MODULES for r in m.RULES), key=lambda r: r.code))
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}

if len(BY_CODE) != len(RULES):  # pragma: no cover - caught by the test suite at import
    raise RuntimeError("duplicate rule code in the registry")
