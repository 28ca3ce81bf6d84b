"""The compiled passes (presetctl/_speedups.c) against their pure-Python twins and the slow path.

Each compiled function must answer as its Python twin does where that one is exact, and never
say "clean" where the slow path would find something. The walks they spare are held against the
fast paths in test_fast_path.py and test_clean_path.py, which run with the compiled passes when
they are built; here the compiled and the Python passes meet head on, and a whole corpus run
with ``PRESETCTL_PURE_PYTHON=1`` must report exactly what the run with the compiled passes does.
CI builds the extension and sets ``PRESETCTL_REQUIRE_SPEEDUPS=1``: a failed build fails there.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import require_corpus, require_tool
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fast_path import _JSON_VALUES, _python_all_dull, _walk_depth, dull_trees, json_trees, param_dicts, tricky

from presetctl.engine.rules import parameters
from presetctl.engine.rules.security import json_shape
from presetctl.engine.security import content
from presetctl.engine.speedups import Compiled


@pytest.fixture(scope="module")
def compiled() -> Compiled:
    try:
        from presetctl import _speedups
    except ImportError:
        require_tool("the compiled passes (presetctl/_speedups.c)", False, "PRESETCTL_REQUIRE_SPEEDUPS",
                     "a C compiler and Python's headers, then pip install -e .")
        raise
    return _speedups


def test_the_package_uses_the_compiled_passes_unless_told_not_to(compiled: Compiled) -> None:
    from presetctl.engine import speedups

    assert speedups.compiled is compiled
    code = "from presetctl.engine import speedups; print(speedups.compiled is None)"
    for value, pure in (("1", "True"), ("0", "False"), ("", "False")):
        env = {**os.environ, "PRESETCTL_PURE_PYTHON": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == pure, value


# --- dull_text: every string a short identifier -------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.one_of(st.lists(json_trees, max_size=20), st.dictionaries(tricky, json_trees, max_size=6),
                 st.lists(dull_trees, max_size=20), st.lists(st.one_of(dull_trees, tricky), max_size=20)))
def test_dull_text_matches_the_python_pass_and_the_strings(compiled: Compiled, node: Any) -> None:
    text = orjson.dumps(node)
    assert compiled.dull_text(text) == content.dull_text_python(text) == _python_all_dull(node)


@pytest.mark.parametrize(("text", "dull"), [
    (b'[]', True), (b'{}', True), (b'["a"]', True), (b'{"k_1":["x"]}', True), (b'["' + b"x" * 23 + b'"]', True),
    (b'["' + b"x" * 24 + b'"]', False), (b'[""]', False), (b'["1a"]', False), (b'["a b"]', False),
    (b'["a\\"b"]', False), (b'["\xc3\xa9"]', False), (b'[1,true,null,"_"]', True), (b'{"a":"b-c"}', False),
])
def test_dull_text_cases(compiled: Compiled, text: bytes, dull: bool) -> None:
    assert compiled.dull_text(text) is dull
    assert content.dull_text_python(text) is dull


# --- json_depth: the nesting depth when numbers hold nothing absurd -----------------------------------

@settings(max_examples=500, deadline=None)
@given(_JSON_VALUES.filter(lambda v: isinstance(v, (dict, list))), st.booleans())
def test_json_depth_is_the_depth_wherever_the_python_pass_knows_it(compiled: Compiled, value: Any,
                                                                   indent: bool) -> None:
    data = json.dumps(value, indent=2 if indent else None).encode()
    depth = compiled.json_depth(data, 64)
    python = json_shape.quick_depth_python(data, 64)
    if python is not None:
        assert depth == python  # never less capable than the Python pass
    if depth is not None:
        assert depth == _walk_depth(value)
        assert not _absurd_numbers(value)


def _absurd_numbers(value: Any) -> bool:
    """What the shape walk reports as numbers (X051/X052): past float32, or integers past 2**53."""
    if isinstance(value, dict):
        return any(_absurd_numbers(v) for v in value.values())
    if isinstance(value, list):
        return any(_absurd_numbers(v) for v in value)
    if isinstance(value, float):
        return not math.isfinite(value) or abs(value) > json_shape.FLOAT32_MAX
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) > json_shape.EXACT_INT
    return False


@pytest.mark.parametrize(("text", "depth"), [
    (b'["[", "]"]', 1), (b'{"a{":1}', 1), (b'["]["]', 1), (b'[""]', 1), (b'[[],{}]', 2), (b'5', 0),
    (b'[1e38]', None), (b'[1E+5]', 1), (b'[1e-45]', None), (b'[1234567890123456]', None),
    (b'[123456789012345]', 1), (b'[0.1234567890123456]', None), (b'["\\u0041"]', None),
    (b'{"a":[[[]]]}', 4), (b'[true,false,null]', 1),
])
def test_json_depth_cases(compiled: Compiled, text: bytes, depth: int | None) -> None:
    assert compiled.json_depth(text, 64) == depth


def test_json_depth_past_the_limit_is_left_to_the_walk(compiled: Compiled) -> None:
    for n in (64, 65, 66):
        text = b"[" * n + b"]" * n
        expected = n if n <= 65 else None
        assert compiled.json_depth(text, 64) == expected == json_shape.quick_depth_python(text, 64)


# --- plainly_fine: the declared-parameter pre-check ---------------------------------------------------

odd_values = st.one_of(st.floats(allow_nan=True), st.integers(-2**70, 2**70), st.booleans(), st.none(),
                       st.sampled_from(["float", "int", "bool", "enum", "", "saw"]), st.lists(st.integers(), max_size=1),
                       st.dictionaries(st.just("k"), st.integers(), max_size=1))
odd_dicts = st.dictionaries(st.sampled_from(["name", "type", "value", "min", "max", "default"]), odd_values, max_size=6)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(param_dicts, odd_dicts, st.integers(), st.just([]), st.just("x")), max_size=8))
def test_plainly_fine_answers_as_the_python_pass(compiled: Compiled, params: list[Any]) -> None:
    assert compiled.plainly_fine(params) == parameters._plainly_fine_python(params)


def test_plainly_fine_cases(compiled: Compiled) -> None:
    fine = [{"name": "a", "type": "float", "value": 0.5, "min": 0, "max": 1}, {"name": "b", "value": True},
            {"name": "c", "type": "enum", "value": "saw"}, {"name": "d", "type": "int", "value": 3, "max": 3}]
    assert compiled.plainly_fine(fine) and parameters._plainly_fine_python(fine)
    for bad in ([{"name": "a", "value": 1}, {"name": "a", "value": 2}],  # a name twice
                [{"name": "a", "type": "int", "value": 0.5}], [{"name": "a", "type": "bool", "value": 1}],
                [{"name": "a", "value": 2, "max": 1}], [{"name": "a", "value": -1, "min": 0}],
                [{"name": "a", "value": 1, "min": "0"}], [{"name": ["a"], "value": 1}],
                [{"name": "a", "type": ["int"], "value": 1}], [{"name": "a"}], [1], [{"name": "a", "value": None}],
                [{"name": "a", "value": float("nan"), "max": 1.0}]):
        assert not compiled.plainly_fine(bad), bad
        assert not parameters._plainly_fine_python(bad), bad
    assert compiled.plainly_fine([]) and compiled.plainly_fine([{"name": "a", "value": 1, "min": None}])
    with pytest.raises(TypeError):
        compiled.plainly_fine(("not", "a", "list"))  # type: ignore[arg-type]


# --- param_columns: a parameter list column-wise, for stats --------------------------------------------

class _OddDict(dict):  # type: ignore[type-arg]
    def get(self, key: Any, default: Any = None) -> Any:
        return "odd"


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(param_dicts, odd_dicts, st.integers(), st.just([]), st.just("x"),
                          st.dictionaries(st.sampled_from(["name", "default"]), st.one_of(tricky, st.none(), odd_values),
                                          max_size=2)), max_size=8))
def test_param_columns_are_the_python_columns(compiled: Compiled, params: list[Any]) -> None:
    from presetctl.engine.formats import presetctl_json
    from presetctl.engine.model import ParameterColumns

    columns = compiled.param_columns(params)
    assert columns is not None
    assert repr(ParameterColumns(*columns)) == repr(presetctl_json._columns_python(params))


def test_param_columns_cases(compiled: Compiled) -> None:
    from presetctl.engine.formats import presetctl_json

    params: list[Any] = [{"name": "a", "value": 1, "min": 0, "max": 2, "default": 1}, 5, {"value": "saw"},
                         {"name": 3, "value": [1], "min": True, "max": 2.5}, {"name": None, "value": False}]
    assert compiled.param_columns(params) == (("a", "#2", "3", "None"), (1, "saw", None, False),
                                             (0.0, None, None, None), (2.0, None, 2.5, None), (1, None, None, None))
    assert presetctl_json._columns(params) == presetctl_json._columns_python(params)
    odd = [{"name": "a"}, _OddDict(name="b")]
    assert compiled.param_columns(odd) is None  # a dict subclass: the Python loop decides
    assert presetctl_json._columns(odd) == presetctl_json._columns_python(odd)
    with pytest.raises(OverflowError):
        compiled.param_columns([{"min": 10**400}])  # as float(10**400) in Python
    with pytest.raises(OverflowError):
        presetctl_json._columns_python([{"min": 10**400}])


# --- the whole path: the same report with and without the compiled passes ----------------------------

@pytest.mark.corpus
@pytest.mark.parametrize("command", [["validate", "--profile", "marketplace"], ["scan-security"]])
def test_the_corpus_reports_the_same_with_the_python_passes(compiled: Compiled, tmp_path: Path,
                                                            command: list[str]) -> None:
    corpus = require_corpus()
    reports = []
    for pure in ("1", "0"):
        env = {**os.environ, "PRESETCTL_PURE_PYTHON": pure, "PRESETCTL_STATE_DIR": str(tmp_path / f"state{pure}")}
        out = subprocess.run([sys.executable, "-m", "presetctl", *command, str(corpus), "-o", "json", "--no-cache"],
                             env=env, capture_output=True, check=False)
        assert out.returncode in (0, 1), out.stderr
        report = json.loads(out.stdout)
        report["summary"].pop("seconds")  # the one field that may differ
        reports.append(json.dumps([report["findings"], report["summary"]], sort_keys=True))
    assert reports[0] == reports[1]
    assert len(reports[0]) > 10_000  # findings were compared, not two empty reports


# --- the text walk checks small containers too, each byte at most once -------------------------------

def test_the_walk_skips_small_dull_blocks_and_serializes_no_byte_twice(compiled: Compiled,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import PurePosixPath

    from presetctl.engine.formats.base import Document
    from presetctl.engine.options import Options
    from presetctl.engine.rules.base import RuleContext

    # 40 levels of four members each, the one string worth yielding at the bottom: every level's
    # check fails; without the rule "no check below a failed one" the walk would serialize the
    # subtree again at each level (40 times the document).
    leaf: Any = {"a": 1, "b": 2, "c": 3, "name": "Deep Pad"}
    for level in range(40):
        leaf = {"x": 1, "y": 2, "z": 3, f"k{level}": leaf}
    raw = {"metadata": leaf, "audio": {"voices": 1, "unison": 1, "oscillators": 2, "rate": 48000}}
    serialized: list[int] = []
    original = content.all_dull

    def counting(node: Any) -> bool:
        serialized.append(len(orjson.dumps(node)))
        return original(node)

    monkeypatch.setattr(content, "all_dull", counting)
    scan = content.Scan(Document("presetctl", b"", raw=raw), RuleContext(PurePosixPath("p.json"), Options()))
    texts = [(t.location.pointer, t.text) for t in scan._walk_json(raw)]
    assert texts == [("/metadata/" + "/".join(f"k{i}" for i in reversed(range(40))) + "/name", "Deep Pad")]
    assert sorted(serialized) == sorted([len(orjson.dumps(raw["audio"])), len(orjson.dumps(raw["metadata"]))])


@pytest.mark.corpus
def test_stats_are_the_same_with_the_python_passes(compiled: Compiled, tmp_path: Path) -> None:
    """On the corpus and on a generated pack of presetctl presets (whose parameter lists the compiled
    ``param_columns`` reads, with enum values and bounds among them)."""
    from test_fast_path import generate

    generated = tmp_path / "pack"
    generate.write_pack(generated, 46, 60, seed=11)
    for target in (require_corpus(), generated):
        outputs = []
        for pure in ("1", "0"):
            env = {**os.environ, "PRESETCTL_PURE_PYTHON": pure, "PRESETCTL_STATE_DIR": str(tmp_path / f"state{pure}")}
            out = subprocess.run([sys.executable, "-m", "presetctl", "stats", str(target), "--json"],
                                 env=env, capture_output=True, check=False)
            assert out.returncode == 0, out.stderr
            outputs.append(json.loads(out.stdout))
        assert outputs[0] == outputs[1]
        assert outputs[0]["sound"]["parameters"]  # the parameter section was compared, not two empty ones
