"""Issue 14's clean-file fast paths, each held against the path it short-cuts (with and without it):

* ``parse_json``: a text that is orjson's own compact form needs no key count (``compact``);
* the security text walk cuts the parameter list out of a compact file instead of serializing
  it again (``content.compact_slices``): same texts, same findings, on hypothesis documents and
  on every JSON preset of the corpus written compactly;
* the quick shape pass pairs quotes by counting (a bracket inside a string sends it to the walk);
* X070 answers from the first byte of JSON text;
* summaries carry a sound hash only when a pack rule of the run compares sounds
  (``Rule.reads_sound``): every other pack rule finds the same without it;
* N006 clears printable ASCII names without a Unicode lookup per character.

No timing is asserted here; benchmarks/compare.py measures speed.
"""

from __future__ import annotations

import dataclasses
import json
import random
import unicodedata
from pathlib import PurePosixPath
from typing import Any

import orjson
import pytest
from conftest import require_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast_path import _JSON_VALUES, _walk_depth, documents, generate, json_trees, tricky

from presetctl.engine.formats.base import Document
from presetctl.engine.formats.jsonutil import parse_json
from presetctl.engine.model import PresetSummary, Violation
from presetctl.engine.options import Options
from presetctl.engine.pipeline import load_document, run_rules, summarize
from presetctl.engine.rules import naming
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.registry import RULES
from presetctl.engine.rules.security import files, json_shape
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.security import content

EVERY = RuleSet(Options(profiles=("marketplace",)))


# --- parse_json: the compact form -------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.one_of(documents(), st.dictionaries(tricky, json_trees, max_size=6)), st.sampled_from([b"", b"\n", b" \r\n"]),
       st.booleans())
def test_compact_text_is_recognized_and_a_duplicate_key_never_is(value: Any, tail: bytes, duplicate: bool) -> None:
    text = orjson.dumps(value) + tail
    if duplicate and isinstance(value, dict) and value:
        key = orjson.dumps(next(iter(value)))
        text = b"{" + key + b":0," + text[1:]  # the same key twice: the parser keeps the last
    parsed = parse_json(text)
    assert parsed.ok
    codes = [v.code for v in parsed.problems]
    if duplicate and isinstance(value, dict) and value:
        assert not parsed.compact and codes == ["P002"]
    else:
        assert parsed.compact and codes == []


def test_a_pretty_or_reordered_text_is_not_compact() -> None:
    assert not parse_json(b'{"a": 1}').compact
    assert not parse_json(b'{"a":1.50}').compact  # orjson writes 1.5
    assert not parse_json(b'\n{"a":1}').compact
    assert parse_json(b'\xef\xbb\xbf{"a":1}').compact  # the BOM is F009's; the body is compact


# --- the text walk on a compact file ------------------------------------------------------------------

def _texts(doc: Document, path: str = "p.json") -> list[tuple[str, str, str]]:
    scan = content.Scan(doc, RuleContext(PurePosixPath(path), Options()))
    return [(t.location.render(), t.text, t.role) for t in scan.texts()]


def _loaded(data: bytes, path: str = "p.json") -> Document:
    loaded = load_document(data, PurePosixPath(path), Options().limits)
    assert loaded is not None
    return loaded[0]


def _without_compact(doc: Document) -> Document:
    return dataclasses.replace(doc, facts=dataclasses.replace(doc.facts, compact=False))


large_lists = st.lists(st.one_of(tricky, st.integers(-10**6, 10**6), st.lists(tricky, max_size=3), st.sampled_from(["osc_1", "a b", "x" * 30])),
                       min_size=16, max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents(), st.dictionaries(tricky, st.one_of(json_trees, large_lists), max_size=6)),
       st.booleans(), st.booleans())
def test_walk_of_a_compact_file_yields_what_the_plain_walk_does(raw: Any, newline: bool, bom: bool) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + orjson.dumps(raw) + (b"\n" if newline else b"")
    doc = _loaded(data)
    assert doc.facts.compact == isinstance(raw, dict)
    assert _texts(doc) == _texts(_without_compact(doc))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "k\"", "é", "parameters"]),
                       st.one_of(json_trees, large_lists), max_size=6), st.sampled_from([b"", b"\n"]))
def test_compact_slices_cut_out_exactly_the_serialization(root: dict[str, Any], tail: bytes) -> None:
    body = orjson.dumps(root) + tail
    cut = content.compact_slices(root, body)
    large = [v for v in root.values() if type(v) is list and len(v) >= content.SKIP_CHECK_MIN]
    assert len(cut) == (1 if large else 0)
    for node_id, text in cut.items():
        node = next(v for v in root.values() if id(v) == node_id)
        assert len(node) == max(map(len, large)) and text == orjson.dumps(node)  # the longest, cut exactly
        assert content.dull_text(text) == content.all_dull(node)


def test_the_parameter_list_of_a_generated_preset_is_cut_not_serialized() -> None:
    raw = generate.make_preset(random.Random(5), 5, generate.parameter_specs(400))
    data = orjson.dumps(raw) + b"\n"
    assert content.compact_slices(raw, data) == {id(raw["parameters"]): orjson.dumps(raw["parameters"])}
    doc = _loaded(data)
    assert doc.facts.compact
    texts = _texts(doc)
    assert texts == _texts(_without_compact(doc))
    assert {p.split("/")[1] for p, _, _ in texts if p} == {"format_version", "metadata"}


def _findings(doc: Document, path: str) -> list[tuple[str, str, str]]:
    found = run_rules(doc, EVERY.context(PurePosixPath(path)), EVERY)
    return sorted((v.code, v.location.render(), v.message) for v in found)


@pytest.mark.corpus
@pytest.mark.slow
def test_compact_corpus_presets_give_the_same_texts_and_findings() -> None:
    """Every JSON preset of the corpus, written compactly by orjson: the walk and every rule give
    the same with the compact facts as without."""
    root = require_corpus()
    checked = 0
    for f in sorted(root.rglob("*")):
        if f.suffix.lower() not in (".json", ".vital", ".helm") or f.is_symlink() or f.stat().st_size > 4 << 20:
            continue
        try:
            value = orjson.loads(f.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if not isinstance(value, dict):
            continue
        path = f"{f.stem}.json"  # the presetctl loader is the one that records compact text
        doc = _loaded(orjson.dumps(value), path)
        if not doc.facts.compact:
            continue
        plain = _without_compact(doc)
        assert _texts(doc, path) == _texts(plain, path), f
        assert _findings(doc, path) == _findings(plain, path), f
        checked += 1
    assert checked > 100


# --- the quick shape pass: quotes paired by counting ---------------------------------------------------

@pytest.mark.parametrize(("text", "depth"), [
    (b'["[", "]"]', None), (b'{"a{":1}', None), (b'["]["]', None), (b'["", "[]"]', None), (b'[""]', 1),
    (b'{"a":"","b":[""]}', 2), (b'[[],{}]', 2), (b'{"k":"v","l":["x","y",{"z":""}]}', 3),
])
def test_quick_depth_sends_a_bracket_in_a_string_to_the_walk(text: bytes, depth: int | None) -> None:
    # the Python pass pairs quotes by counting; the compiled one skips strings (test_speedups.py)
    assert json_shape.quick_depth_python(text, 64) == depth


@settings(max_examples=400, deadline=None)
@given(_JSON_VALUES.filter(lambda v: isinstance(v, (dict, list))), st.booleans())
def test_quick_depth_is_the_depth_or_nothing(value: Any, indent: bool) -> None:
    data = json.dumps(value, indent=2 if indent else None, ensure_ascii=False).encode()
    depth = json_shape.quick_depth(data, 64)
    assert depth is None or depth == _walk_depth(value)


# --- X070: JSON text disguises nothing -----------------------------------------------------------------

def _reference_disguise(data: bytes, suffix: str) -> str:
    expected = files._EXPECTED.get(suffix)
    if expected is None or not data:
        return ""
    kind = files.content_kind(data)
    return "" if kind in ("text", "binary") or kind in expected else kind


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"{", b"[", b"", b"PK\x03\x04", b"MZ", b"\x1f\x8b", b"<html", b" {", b"\xef\xbb\xbf{"]),
       st.binary(max_size=80), st.sampled_from([*files._EXPECTED, ".txt", ".json"]))
def test_disguise_shortcut_answers_as_content_kind(head: bytes, rest: bytes, suffix: str) -> None:
    data = head + rest
    doc = Document("presetctl", data)
    ctx = RuleContext(PurePosixPath(f"x{suffix}"), Options())
    assert files._disguise(doc, ctx) == _reference_disguise(data, suffix)


# --- summaries without a sound hash ------------------------------------------------------------------

def _summaries() -> list[PresetSummary]:
    names = ["Bass", "bass", "Lead", "Pad", "INIT VOICE", "Bass "]
    out = []
    for i in range(24):
        out.append(PresetSummary(f"pack/{'sub/' if i % 3 else ''}{names[i % 6]}{i % 4}.json", ["presetctl", "vital"][i % 2],
                                 names[i % 6], ["Ada", "ada", "A.D.A"][i % 3], ["Bass", "bass", "Basses"][i % 3],
                                 f"h{i % 5}", None, ()))
    out.append(PresetSummary("pack/BASS0.json", "presetctl", "Bass", None, None, "h0", None, ()))
    return out


def _pack(rule_code: str, summaries: list[PresetSummary]) -> list[tuple[str, str, str]]:
    rule = next(r for r in RULES if r.code == rule_code)
    assert rule.pack_check is not None
    return sorted((path, v.location.render(), v.message) for path, v in rule.pack_check(summaries, Options()))


@pytest.mark.parametrize("code", [r.code for r in RULES if r.pack_check is not None])
def test_pack_rules_that_do_not_read_the_sound_hash_find_the_same_without_it(code: str) -> None:
    summaries = _summaries()
    blank = [dataclasses.replace(s, sound_hash="") for s in summaries]
    reads = next(r for r in RULES if r.code == code).reads_sound
    if reads:
        assert _pack(code, summaries) != _pack(code, blank)  # the declaration is not idle
    else:
        assert _pack(code, summaries) == _pack(code, blank)


def test_the_default_run_leaves_the_sound_hash_out_and_marketplace_keeps_it() -> None:
    default, market = RuleSet(Options()), RuleSet(Options(profiles=("marketplace",)))
    # The default pack rules read paths only (Q003) or nothing of the sound: neither is computed.
    assert not default.wants_summaries and not default.wants_sound
    assert market.wants_summaries and market.wants_sound
    raw = generate.make_preset(random.Random(1), 1, generate.parameter_specs(20))
    doc = _loaded(orjson.dumps(raw))
    with_sound, without = summarize(doc, "p.json"), summarize(doc, "p.json", sound=False)
    assert with_sound[0].sound_hash and without == (dataclasses.replace(with_sound[0], sound_hash=""),)


# --- N006 --------------------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.text(max_size=12) | st.text(alphabet=[chr(c) for c in range(0, 0xA0)] + ["\u00ad", "\u200b"], max_size=12))
def test_plain_names_hold_no_control_character(name: str) -> None:
    if naming._plain(name):
        assert not any(naming.is_control(c) for c in name)
        assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in name)


def test_name_controls_still_found() -> None:
    for name, found in (("Lead\x1b", True), ("Lead\u200b", True), ("Le\tad", False), ("Lead", False)):
        raw = generate.make_preset(random.Random(1), 1, generate.parameter_specs(4))
        raw["metadata"]["name"] = name
        doc = _loaded(orjson.dumps(raw))
        got = list(naming.check_name_controls(doc, RuleContext(PurePosixPath("p.json"), Options())))
        assert [type(v) for v in got] == ([Violation] if found else [])


# --- the corpus: each fast path against its reference, file by file ------------------------------------

def _reference_duplicate_keys(body: bytes) -> list[str]:
    dupes: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                dupes.append(k)
            seen.add(k)
        return dict(pairs)

    try:
        json.loads(body, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return []
    return list(dict.fromkeys(dupes))[:50]


def _walk_shape(data: bytes, path: str) -> tuple[int, int, int]:
    doc = dataclasses.replace(_loaded(data, path), facts=dataclasses.replace(_loaded(data, path).facts, locator=""))
    shape = json_shape._shape(doc, content.scan_of(doc, RuleContext(PurePosixPath(path), Options())))
    return shape.deepest, len(shape.numbers), len(shape.oversized)


@pytest.mark.corpus
@pytest.mark.slow
def test_fast_paths_agree_with_their_references_on_the_corpus() -> None:
    """Duplicate keys (compact shortcut), the quick shape pass, X070's first byte and N006's ASCII
    test, each against the path it short-cuts, on every file of the corpus (and every JSON one
    written compactly too)."""
    root = require_corpus()
    files_seen = json_seen = 0
    for f in sorted(root.rglob("*")):
        if not f.is_file() or f.is_symlink() or f.stat().st_size > 4 << 20:
            continue
        data, path = f.read_bytes(), f.name
        files_seen += 1
        doc = Document("unknown", data)
        ctx = RuleContext(PurePosixPath(path), Options())
        assert files._disguise(doc, ctx) == _reference_disguise(data, f.suffix.lower()), f
        if f.suffix.lower() not in (".json", ".vital", ".helm"):
            continue
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue
        json_seen += 1
        for text in (data, orjson.dumps(value) if isinstance(value, (dict, list)) else data):
            parsed = parse_json(text)
            found = [v.data["key"] for v in parsed.problems if v.code == "P002" and v.data]
            assert found == _reference_duplicate_keys(text.removeprefix(b"\xef\xbb\xbf")), f
            depth = json_shape.quick_depth(text, 64)
            if depth is not None and isinstance(value, (dict, list)):
                assert _walk_shape(text, path) == (depth, 0, 0), f
        loaded = _loaded(data, path)
        reference = naming._plain
        naming._plain = lambda name: False  # type: ignore[assignment]
        try:
            exact = list(naming.check_name_controls(loaded, ctx))
        finally:
            naming._plain = reference
        assert list(naming.check_name_controls(loaded, ctx)) == exact, f
    assert files_seen > 1000 and json_seen > 100


@pytest.mark.corpus
@pytest.mark.slow
def test_default_pack_findings_on_the_corpus_do_not_need_the_sound_hash() -> None:
    root = require_corpus()
    summaries = []
    for f in sorted(root.rglob("*")):
        if f.is_file() and not f.is_symlink() and f.stat().st_size < 4 << 20:
            loaded = load_document(f.read_bytes(), PurePosixPath(f.relative_to(root).as_posix()), Options().limits)
            if loaded is not None:
                summaries.extend(summarize(loaded[0], f.relative_to(root).as_posix()))
    assert len(summaries) > 1000 and any(s.sound_hash for s in summaries)
    blank = [dataclasses.replace(s, sound_hash="") for s in summaries]
    for rule in RuleSet(Options()).pack_rules():
        assert not rule.reads_sound
        assert _pack(rule.code, summaries) == _pack(rule.code, blank)
