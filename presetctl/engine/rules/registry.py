"""The rule table: every code presetctl can report. One line per rule module.

Each line names the code families (first letters) the module's rules carry and the formats its
checks apply to (None: any format). A rule module is imported when a run needs it: when a file of
one of its formats is checked, or when a code of one of its families is looked up (a loader's
finding, ``--select D``). Validating a Helm preset thus imports no DX7, Surge or audio rules
(start-up, tests/test_startup.py). ``RULES`` and ``BY_CODE`` hold every rule and import every
module: ``presetctl rules``, the docs, the SARIF rule table. tests/test_rules_registry.py holds
each line to its module (families, formats, pack rules only where every run loads them).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from presetctl.engine.rules.base import Rule

_PACKAGE = "presetctl.engine.rules."

# module -> (code families, formats its checks apply to; None: any format)
MODULES: dict[str, tuple[str, frozenset[str] | None]] = {
    "engine_codes": ("FPER", None),
    "schema": ("S", frozenset({"presetctl"})),
    "metadata": ("M", None),
    "naming": ("N", None),
    "parameters": ("V", None),
    "performance": ("A", None),
    "pack": ("Q", None),
    "json_formats": ("TH", frozenset({"vital", "vitalbank", "helm"})),
    "dx7": ("D", frozenset({"dx7-syx"})),
    "surge": ("U", frozenset({"surge-fxp"})),
    "recognized": ("G", frozenset({"fxp", "ableton", "zyn-xiz", "uhe-h2p"})),
    "audio": ("W", frozenset({"surge-fxp", "vital", "vitalbank", "dx7-syx"})),
    "security.paths": ("X", None),
    "security.payloads": ("X", None),
    "security.lua": ("X", None),
    "security.archives": ("X", None),
    "security.xml": ("X", None),
    "security.json_shape": ("X", None),
    "security.text": ("X", None),
    "security.files": ("X", None),
}

if TYPE_CHECKING:  # built on first use by __getattr__ below
    RULES: tuple[Rule, ...]
    BY_CODE: Mapping[str, Rule]


@cache
def module_rules(module: str) -> tuple[Rule, ...]:
    """The rules of one module of the table (imported now if it was not)."""
    rules: tuple[Rule, ...] = importlib.import_module(_PACKAGE + module).RULES
    return rules


def rules_of(modules: Iterable[str]) -> tuple[Rule, ...]:
    """The rules of ``modules``, in code order (the order of ``RULES``)."""
    return tuple(sorted((r for m in modules for r in module_rules(m)), key=lambda r: r.code))


def modules_for_format(format_id: str) -> tuple[str, ...]:
    """The modules whose checks can apply to a document of ``format_id`` (every format's, and its own)."""
    return tuple(m for m, (_, formats) in MODULES.items() if formats is None or format_id in formats)


def any_format_modules() -> tuple[str, ...]:
    """The modules every run loads (their checks apply to any format; the pack rules are among them)."""
    return tuple(m for m, (_, formats) in MODULES.items() if formats is None)


def family_modules(prefix: str) -> tuple[str, ...]:
    """The modules that may hold codes starting with ``prefix`` (every module for an empty prefix)."""
    return tuple(m for m, (families, _) in MODULES.items() if not prefix or prefix[0] in families)


@cache
def _family(letter: str) -> dict[str, Rule]:
    return {r.code: r for r in rules_of(family_modules(letter))}


def lookup(code: str) -> Rule | None:
    """The rule of ``code`` (importing only its family's modules), None for an unknown code."""
    return _family(code[:1]).get(code) if code else None


def any_code_starts_with(prefix: str) -> bool:
    return any(r.code.startswith(prefix) for r in rules_of(family_modules(prefix)))


@cache
def all_rules() -> tuple[Rule, ...]:
    rules = rules_of(MODULES)
    if len({r.code for r in rules}) != len(rules):  # pragma: no cover - caught by the test suite at import
        raise RuntimeError("duplicate rule code in the registry")
    return rules


@cache
def by_code() -> Mapping[str, Rule]:
    return {r.code: r for r in all_rules()}


def __getattr__(name: str) -> Any:
    """``RULES`` and ``BY_CODE``: every rule, built (every module imported) when first asked for."""
    if name == "RULES":
        return all_rules()
    if name == "BY_CODE":
        return by_code()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
