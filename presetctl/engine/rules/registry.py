"""The rule table: every code presetctl can report. One line per rule module."""

from __future__ import annotations

from presetctl.engine.rules import (
    engine_codes,
    metadata,
    naming,
    pack,
    parameters,
    performance,
    schema,
)
from presetctl.engine.rules.base import Rule

_MODULES = (
    engine_codes,
    schema,
    metadata,
    naming,
    parameters,
    performance,
    pack,
)

RULES: tuple[Rule, ...] = tuple(sorted((r for m in _MODULES for r in m.RULES), key=lambda r: r.code))
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}

if len(BY_CODE) != len(RULES):  # pragma: no cover - caught by the test suite at import
    raise RuntimeError("duplicate rule code in the registry")
