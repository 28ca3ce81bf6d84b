"""Meta-tests of the rule registry: every rule is complete, documented, reachable and printable.

They run over whatever rules are registered, so a rule added later is held to the same bar.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from presetctl.engine.model import SecuritySeverity, Severity
from presetctl.engine.rules.base import FixSafety, Level, Rule
from presetctl.engine.rules.registry import BY_CODE, RULES

PACKAGE = Path(__file__).resolve().parents[1] / "presetctl"
CODE_RE = re.compile(r"^[A-Z][0-9]{3}$")
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Code prefix -> the levels its rules may have (prefixes group rules, as in ruff).
PREFIX_LEVELS = {
    "E": {Level.FILE}, "F": {Level.FILE}, "R": {Level.FILE}, "P": {Level.PARSE}, "S": {Level.SCHEMA},
    "M": {Level.METADATA}, "N": {Level.NAMING}, "V": {Level.PARAMETERS}, "A": {Level.PERFORMANCE},
    "Q": {Level.PACK}, "X": {Level.SECURITY},
}
IDS = [r.code for r in RULES]
# Rules registered without an example, reported to their authors; the list may only shrink
# (test_example_gaps_are_exactly_the_known_ones fails when one is fixed and still listed).
EXAMPLE_GAPS: frozenset[str] = frozenset()


def _source() -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py")))


def test_codes_and_names_are_unique() -> None:
    assert len(BY_CODE) == len(RULES)
    names = [r.name for r in RULES]
    assert sorted(n for n in names if names.count(n) > 1) == []
    assert IDS == sorted(IDS)


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_rule_is_complete(rule: Rule) -> None:
    assert CODE_RE.match(rule.code), rule.code
    assert NAME_RE.match(rule.name), rule.name
    assert isinstance(rule.severity, Severity)
    assert isinstance(rule.level, Level)
    assert rule.summary.strip() and not rule.summary.endswith(".") and "\n" not in rule.summary
    if rule.code[0] in PREFIX_LEVELS:
        assert rule.level in PREFIX_LEVELS[rule.code[0]], (rule.code, rule.level)
    if rule.security is not None:
        assert isinstance(rule.security, SecuritySeverity)


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_rule_has_a_full_doc(rule: Rule) -> None:
    doc = rule.doc
    assert len(doc.what) >= 20, "what it does"
    assert len(doc.why) >= 20, "why it matters"
    assert doc.fix.strip(), "how to fix"
    if rule.code != "E001" and rule.code not in EXAMPLE_GAPS:  # an internal error has no example input
        assert doc.example.strip(), "an example"
    if rule.fix is not None:
        assert isinstance(rule.fix.safety, FixSafety)
        assert rule.fix.description.strip()
        assert doc.fix_safety.strip(), "a fixable rule says why its fix is safe or unsafe"
    else:
        assert not doc.fix_safety, "fix safety without a fix"


def test_example_gaps_are_exactly_the_known_ones() -> None:
    gaps = {r.code for r in RULES if r.code != "E001" and not r.doc.example.strip()}
    assert gaps == EXAMPLE_GAPS & set(BY_CODE)


def test_every_fixable_rule_carries_its_fixer() -> None:
    """A fix is part of its rule: a callable that proposes edits, defined in the rule's module."""
    fixable = [r for r in RULES if r.fix is not None]
    assert len(fixable) == 24
    for r in fixable:
        assert r.fix is not None and callable(r.fix.apply), r.code
        assert r.fix.apply.__module__.startswith("presetctl.engine.rules."), r.code  # beside the rules, not a table
    # fixes that move what other findings point at run in a pass of their own first
    assert [r.code for r in RULES if r.fix is not None and r.fix.first] == ["P002", "U008", "U016", "U017", "U019"]
    assert sorted(r.code for r in RULES if r.fix is not None and r.fix.uses_file_name) == ["M001", "N001"]


def test_every_rule_can_be_reported() -> None:
    """A rule with no check must be emitted by name somewhere (a loader, discovery, another rule)."""
    source = _source()
    emitted_by_others = {c for r in RULES for c in r.also_emits}
    silent = []
    for r in RULES:
        if r.check is not None or r.pack_check is not None or r.code in emitted_by_others:
            continue
        if source.count(f'"{r.code}"') < 2:  # the registration itself is one occurrence
            silent.append(r.code)
    assert silent == []


def test_also_emits_names_registered_rules() -> None:
    for r in RULES:
        for code in r.also_emits:
            assert code in BY_CODE, (r.code, code)


def test_every_level_has_rules() -> None:
    assert {r.level for r in RULES} == set(Level) - ({Level.FORMAT} - {r.level for r in RULES})


@pytest.mark.parametrize("rule", RULES, ids=IDS)
def test_rule_command_prints_the_doc(cli, rule: Rule) -> None:  # type: ignore[no-untyped-def]
    result = cli(["rule", rule.code.lower()])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"## {rule.code} {rule.name}\n")
    assert f"Default severity: {rule.severity.label}" in out
    assert f"Level: {rule.level.value}" in out
    assert "### What it does\n" + rule.doc.what in out
    assert "### Why is this bad?\n" + rule.doc.why in out
    assert "### How to fix\n" + rule.doc.fix in out
    if rule.fix is not None:
        assert f"Fix: {rule.fix.safety.value} ({rule.fix.description})" in out
        assert "### Fix safety\n" in out
    else:
        assert "Fix: none." in out
