"""The fast paths of the clean file held against their exact references.

* schema: jsonschema-rs ``is_valid`` against python-jsonschema (the reference), and S001
  reported exactly when the reference finds errors, one finding per reference error;
* duplicate keys: the colon/token counting of ``parse_json`` against the standard library's
  ``object_pairs_hook`` (which sees every key);
* declared parameters: the column-wise ``_plainly_fine`` pre-check against the exact loop;
* ``benchmarks/generate.py``: valid, clean, deterministic, distinct presets.

No timing is asserted here; benchmarks/compare.py measures speed.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.api import validate
from presetctl.engine.discover import Candidate
from presetctl.engine.formats.base import Document, DocumentFacts
from presetctl.engine.formats.jsonutil import parse_json
from presetctl.engine.options import Options
from presetctl.engine.pipeline import check_file
from presetctl.engine.rules import parameters
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.schemas import fast_validator, pointer_of, reference_validator
from presetctl.engine.security import content

REPO = Path(__file__).resolve().parents[1]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()
SPECS = generate.parameter_specs(24)
RULES = RuleSet(Options(select=("S001",)))

# --- documents: generated presets and mutations of them -------------------------------------------

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12), st.sampled_from(["", "1.0", "1.0\n", "float", "int", "bool", "enum", "sample", "x" * 200]),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["name", "value", "min", "type", "k"]), inner, max_size=3),
), max_leaves=6)


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            _containers(v, out)
    elif isinstance(node, list):
        out.append(node)
        for v in node:
            _containers(v, out)
    return out


@st.composite
def documents(draw: st.DrawFn) -> Any:
    import random

    doc = generate.make_preset(random.Random(draw(st.integers(0, 10**6))), draw(st.integers(0, 99)), SPECS)
    for _ in range(draw(st.integers(0, 3))):
        targets = _containers(doc, [])
        node = targets[draw(st.integers(0, len(targets) - 1))]
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if action == "delete":
                del node[key]
            elif action == "set":
                node[key] = draw(json_values)
            else:
                node[draw(st.sampled_from(["extra", "name", "min", "max", "amount", "voices"]))] = draw(json_values)
        elif isinstance(node, list) and node:
            i = draw(st.integers(0, len(node) - 1))
            if action == "delete":
                del node[i]
            elif action == "set":
                node[i] = draw(json_values)
            else:
                node.append(copy.deepcopy(node[i]) if draw(st.booleans()) else draw(json_values))
    return doc


def _reference_errors(doc: Any) -> list[Any]:
    return list(reference_validator().iter_errors(doc))


def _rs_pointer(error: Any) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in error.instance_path)


def _rs_pointers(doc: Any) -> list[str]:
    return sorted(_rs_pointer(e) for e in fast_validator().iter_errors(doc))


def _reference_pointers(doc: Any) -> list[str]:
    return sorted(pointer_of(e) for e in _reference_errors(doc))


def _regex_newline_divergence(doc: Any) -> list[str]:
    """Pointers where only jsonschema-rs finds an error: Python's `$` matches before a final
    newline, ECMA-262's (jsonschema-rs) does not. Asserts that is the only kind of disagreement."""
    reference = set(_reference_pointers(doc))
    only_rs = [e for e in fast_validator().iter_errors(doc) if _rs_pointer(e) not in reference]
    for e in only_rs:
        assert type(e.kind).__name__ == "Pattern" and isinstance(e.instance, str) and e.instance.endswith("\n")
    return sorted(_rs_pointer(e) for e in only_rs)


def _s001(doc: Any) -> list[tuple[str, str]]:
    """(pointer, message) of the S001 findings check_file reports for ``doc`` written to a file."""
    fd, name = tempfile.mkstemp(suffix=".json")
    try:
        os.write(fd, orjson.dumps(doc))
        os.close(fd)
        outcome = check_file(Candidate(name, "doc.json", os.path.getsize(name)), RULES)
    finally:
        os.unlink(name)
    return [(f.location.pointer, f.message) for f in outcome.findings if f.code == "S001"]


def _s001_findings(doc: Any) -> list[str]:
    return [message for _, message in _s001(doc)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_jsonschema_rs_agrees_with_the_reference(doc: Any) -> None:
    # Same verdict and the same error pointers, one for one, except the regex divergence.
    divergent = _regex_newline_divergence(doc)
    assert fast_validator().is_valid(doc) == (not _reference_errors(doc) and not divergent)
    assert _rs_pointers(doc) == sorted(_reference_pointers(doc) + divergent)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_s001_reports_every_reference_error_at_its_pointer(doc: Any) -> None:
    # The schema has no anyOf/oneOf, so best-match never moves a pointer: one finding per
    # reference error, at the reference's pointer, plus one per error only jsonschema-rs finds.
    expected = sorted(_reference_pointers(doc) + _regex_newline_divergence(doc))
    assert sorted(pointer for pointer, _ in _s001(doc)) == expected


def test_valid_generated_documents_have_no_schema_finding() -> None:
    import random

    for seed in range(20):
        doc = generate.make_preset(random.Random(seed), seed, generate.parameter_specs(400))
        assert _reference_errors(doc) == [] and fast_validator().is_valid(doc) and _s001(doc) == []


def test_regex_newline_divergence_is_reported() -> None:
    doc = {"format_version": "1.0\n", "metadata": {"name": "x"}, "parameters": []}
    assert _reference_errors(doc) == []  # python-jsonschema: re.search("^1\\.[0-9]+$") matches
    assert not fast_validator().is_valid(doc)  # ECMA-262 `$`: end of input only
    assert _s001_findings(doc) == ['/format_version: "1.0\\n" does not match "^1\\.[0-9]+$"']


def test_divergence_is_reported_next_to_reference_errors() -> None:
    doc = {"format_version": "1.0\n", "metadata": {"name": 7}, "parameters": []}
    assert _s001(doc) == [  # in report order: by line
        ("/format_version", '/format_version: "1.0\\n" does not match "^1\\.[0-9]+$"'),
        ("/metadata/name", "/metadata/name: 7 is not of type 'string'"),
    ]


def test_s001_messages_come_from_the_reference() -> None:
    doc = {"format_version": "2", "metadata": {"name": 7, "tags": ["a", "a"]}, "parameters": [{"value": 1}],
           "audio": {"voices": 0}}
    assert sorted(_s001_findings(doc)) == sorted([
        "/audio/voices: 0 is less than the minimum of 1",
        "/format_version: '2' does not match '^1\\\\.[0-9]+$'",
        "/metadata/name: 7 is not of type 'string'",
        "/metadata/tags: ['a', 'a'] has non-unique elements",
        "/parameters/0: 'name' is a required property",
    ])


# --- duplicate keys -------------------------------------------------------------------------------

def _reference_duplicates(text: bytes) -> list[str]:
    dupes: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                dupes.append(k)
            seen.add(k)
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return list(dict.fromkeys(dupes))


keys = st.sampled_from(["a", "b", "a:", '"', 'x":', "\\", "é", " :", "\u2028"])
leaves = st.one_of(st.integers(-5, 5), st.sampled_from(["", ":", '":', "a\\b", "12:00", '"k":', " : "]), st.booleans())
objects = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(st.tuples(keys, inner), max_size=4)), max_leaves=10)


def _write(node: Any, style: dict[str, Any]) -> str:
    """JSON text where tuples-lists are objects that may repeat keys, in varied spellings."""
    sep = style["sep"]
    if isinstance(node, list) and node and all(isinstance(x, tuple) for x in node):
        parts = [f"{_string(k, style['ascii'])}{sep}:{style['after']}{_write(v, style)}" for k, v in node]
        return "{" + ",".join(parts) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_write(x, style) for x in node) + "]"
    if isinstance(node, str):
        return _string(node, style["ascii"])
    return json.dumps(node)


def _string(text: str, ascii_only: bool) -> str:
    return json.dumps(text, ensure_ascii=ascii_only).replace(":", "\\u003a" if ascii_only else ":")


@settings(max_examples=300, deadline=None)
@given(objects.filter(lambda n: isinstance(n, list)), st.sampled_from(["", " ", "\n"]), st.sampled_from(["", " "]),
       st.booleans())
def test_duplicate_keys_match_the_stdlib_hook(node: Any, sep: str, after: str, ascii_only: bool) -> None:
    text = _write(node, {"sep": sep, "after": after, "ascii": ascii_only}).encode()
    parsed = parse_json(text)
    assert parsed.ok
    found = [v.data["key"] for v in parsed.problems if v.code == "P002" and v.data]
    assert found == _reference_duplicates(text)


def test_duplicate_key_hidden_by_an_escaped_quote_is_found() -> None:
    # The escaped quote re-serializes as \" followed by ':', a pattern a naive '":' count takes for a key.
    text = b'{"k": 1, "k": 2, "s": "a\\u0022:"}'
    assert [v.code for v in parse_json(text).problems] == ["P002"]


def test_deep_nesting_within_the_parser_limit_is_not_an_internal_error() -> None:
    text = b'{"a":' * 300 + b"1" + b"}" * 300
    parsed = parse_json(text)
    assert parsed.ok and parsed.problems == ()


# --- security text walk: subtrees skipped by all_dull -----------------------------------------------

tricky = st.sampled_from(["", "a", "_", "A1", "1a", "0", "x" * 23, "x" * 24, "osc_1_level", "a b", "é", "a\"b",
                          "a\\b", "a\nb", "\u2028", "../x", "file:///etc/passwd", "None", "class", "a-b", "a.b"])
json_trees = st.recursive(
    st.one_of(tricky, st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=20), st.dictionaries(tricky, inner, max_size=5)),
    max_leaves=60,
)


dull_trees = st.recursive(  # mostly dull, so that all_dull's True answers get as much testing as its False ones
    st.one_of(st.sampled_from(["a", "_", "A1", "osc_1_level", "x" * 23, "None"]), st.integers(-2**63, 2**64 - 1),
              st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=20), st.dictionaries(st.sampled_from(["k", "name", "K_2"]), inner,
                                                                          max_size=4)),
    max_leaves=60,
)


def _python_all_dull(node: Any) -> bool:
    strings: list[Any] = []
    for c in _containers(node, []):
        strings.extend(c if isinstance(c, list) else [*c, *c.values()])
    return all(content.dull(x) for x in strings if isinstance(x, str))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(json_trees, max_size=20), st.dictionaries(tricky, json_trees, max_size=6),
                 st.lists(dull_trees, max_size=20), st.lists(st.one_of(dull_trees, tricky), max_size=20)))
def test_all_dull_is_exact(node: Any) -> None:
    assert content.all_dull(node) == _python_all_dull(node)


def test_all_dull_says_walk_it_for_what_orjson_cannot_write() -> None:
    assert not content.all_dull([2**64] * 20)  # past 64 bits: the walk decides, never a skip
    assert not content.all_dull({1: "a"})


def _walk(raw: Any, skip: bool) -> list[tuple[str, str, str]]:
    scan = content.Scan(Document("presetctl", b"", raw=raw), RuleContext(PurePosixPath("p.json"), Options()))
    original = content.all_dull
    if not skip:
        content.all_dull = lambda node: False  # type: ignore[assignment]
    try:
        return [(t.location.pointer, t.text, t.role) for t in scan._walk_json(raw)]
    finally:
        content.all_dull = original


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(documents(), st.dictionaries(tricky, json_trees, max_size=6), st.lists(json_trees, min_size=16, max_size=40)))
def test_text_walk_skips_nothing_it_would_yield(raw: Any) -> None:
    assert _walk(raw, skip=True) == _walk(raw, skip=False)


def test_text_walk_skips_the_parameter_list_of_a_clean_preset() -> None:
    import random

    doc = generate.make_preset(random.Random(3), 3, generate.parameter_specs(400))
    assert content.all_dull(doc["parameters"]) and not content.all_dull([doc["metadata"]] * 16)
    texts = _walk(doc, skip=True)
    assert texts == _walk(doc, skip=False)
    assert {p.split("/")[1] for p, _, _ in texts} == {"format_version", "metadata"}


# --- declared parameters --------------------------------------------------------------------------

param_values = st.one_of(st.integers(-3, 3), st.floats(-3, 3, allow_nan=False), st.booleans(),
                         st.sampled_from(["saw", "", "1"]), st.none(), st.lists(st.integers(), max_size=1))
param_dicts = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.sampled_from(["a", "b", "c"]), st.integers(0, 2), st.lists(st.just("a"), max_size=1)),
    "type": st.one_of(st.sampled_from(["float", "int", "bool", "enum", "other"]), st.lists(st.just("x"), max_size=1)),
    "value": param_values, "min": param_values, "max": param_values,
})


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(param_dicts, st.integers(), st.just([])), max_size=6))
def test_parameter_precheck_never_hides_a_violation(params: list[Any]) -> None:
    doc = Document("presetctl", b"", raw={"parameters": params})
    ctx = RuleContext(PurePosixPath("p.json"), Options())
    exact = _exact_declared(doc, ctx)
    if parameters._plainly_fine(params):
        assert exact == []
    assert list(parameters.check_declared(doc, ctx)) == exact


def _exact_declared(doc: Document, ctx: RuleContext) -> list[Any]:
    original = parameters._plainly_fine
    parameters._plainly_fine = lambda params: False  # type: ignore[assignment]
    try:
        return list(parameters.check_declared(doc, ctx))
    finally:
        parameters._plainly_fine = original


# --- benchmarks/generate.py -----------------------------------------------------------------------

def test_generated_presets_are_valid_clean_distinct_and_deterministic(tmp_path: Path) -> None:
    files = generate.write_pack(tmp_path / "pack", 46, 60, seed=7)  # two of each of the 23 categories
    assert len(files) == 46
    docs = [orjson.loads(f.read_bytes()) for f in files]
    for doc in docs:
        assert _reference_errors(doc) == []
        assert fast_validator().is_valid(doc)
        assert len(doc["parameters"]) == 60
    assert len({d["metadata"]["name"] for d in docs}) == 46
    assert len({orjson.dumps(d["parameters"]) for d in docs}) == 46
    assert {d["metadata"]["category"] for d in docs} == set(generate.CATEGORIES)

    result = validate([str(tmp_path / "pack")], Options(jobs=1))
    assert result.findings == ()
    assert result.status_counts["validated"] == 46

    again = generate.write_pack(tmp_path / "again", 46, 60, seed=7)
    assert [f.read_bytes() for f in again] == [f.read_bytes() for f in files]
    other = generate.write_pack(tmp_path / "other", 3, 60, seed=8)
    assert other[0].read_bytes() != files[0].read_bytes()


@pytest.mark.parametrize("count", [1, 400])
def test_parameter_specs_have_unique_names(count: int) -> None:
    specs = generate.parameter_specs(count)
    assert len(specs) == count == len({s[0] for s in specs})


def test_generate_size_is_about_twenty_kilobytes_at_400_parameters(tmp_path: Path) -> None:
    files = generate.write_pack(tmp_path, 5, 400, seed=0)
    mean = sum(f.stat().st_size for f in files) / len(files)
    assert 19_000 < mean < 23_000  # 21.4 KB on average over 20,000


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(alphabet="ab{}[]\"\\ e1+-.", max_size=12),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(alphabet="k{[\"\\", max_size=4), inner, max_size=5),
    max_leaves=40,
)


def _walk_depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_walk_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_walk_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(_JSON_VALUES.filter(lambda v: isinstance(v, (dict, list))), st.booleans())
def test_quick_shape_pass_never_hides_what_the_walk_finds(value: Any, indent: bool) -> None:
    from presetctl.engine.rules.security import json_shape

    data = json.dumps(value, indent=2 if indent else None).encode()
    depth = json_shape.quick_depth(data, 64)
    if depth is None:
        return  # the walk decides
    assert depth == _walk_depth(value)
    ctx = RuleContext(PurePosixPath("x.json"), Options())
    doc = Document("presetctl", data, raw=json.loads(data), facts=DocumentFacts())  # no locator: forces the walk
    walked = content.scan_of(doc, ctx)
    shape = json_shape._shape(doc, walked)
    assert shape.deepest == depth and not shape.numbers and not shape.oversized
