"""The core rules (S, M, N, V, A, Q): one positive and one negative fixture each, exact codes.

Each case writes presetctl presets into tmp_path and runs the engine with only the rule under
test selected, so the assertion is the exact list of (file, code, location) the rule reports.
V003 and V006 judge other formats against their synths' ranges: they are checked on a document
built in memory (the Helm and Vital loaders have their own tests).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any

import pytest

from presetctl import api
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Finding, OutOfRange, Parameter, Preset
from presetctl.engine.options import Options, PackConfig, Thresholds
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.registry import BY_CODE


def preset(name: str = "Warm Pad", *, drop: tuple[str, ...] = (), raw_name: Any = None, **changes: Any) -> dict[str, Any]:
    """A clean preset; ``changes`` replace metadata fields or, for top-level keys, whole blocks."""
    doc: dict[str, Any] = {
        "format_version": "1.0",
        "metadata": {"name": name if raw_name is None else raw_name, "author": "A. Person", "category": "Pad",
                     "tags": ["warm"], "description": "Mod wheel opens the filter.", "license": "CC-BY-4.0",
                     "synth": {"name": "Vital", "version": "1.5.5"}},
        "audio": {"voices": 8, "unison": 2, "oscillators": 2},
        # A per-name value keeps sounds distinct, so Q001 stays quiet unless a case wants it.
        "parameters": [{"name": "cutoff", "type": "float", "value": zlib.crc32(name.encode()) % 997 / 997,
                        "min": 0, "max": 1}],
        "modulations": [{"source": "lfo1", "target": "cutoff", "amount": 0.5}],
        "effects": [{"type": "reverb", "enabled": True}],
    }
    for key in drop:
        doc["metadata"].pop(key)
    for key, value in changes.items():
        if key in doc and key != "metadata":
            doc[key] = value
        else:
            doc["metadata"][key] = value
    return doc


def findings(tmp_path: Path, files: dict[str, Any], code: str, options: Options | None = None) -> tuple[Finding, ...]:
    """Write ``files`` into tmp_path/pack (adding to what is there) and validate with only ``code``."""
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    for name, doc in files.items():
        (folder / name).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    opts = replace(options or Options(), select=(code,), jobs=1)
    result = api.validate(["pack"], opts, cwd=str(tmp_path))
    assert {f.code for f in result.findings} <= {code}
    return result.findings


def run(tmp_path: Path, files: dict[str, Any], code: str, options: Options | None = None) -> list[tuple[str, str, str]]:
    """(file name in the pack, code, rendered location) of each finding."""
    return [(f.path.removeprefix("pack/"), f.code, f.location.render())
            for f in findings(tmp_path, files, code, options)]


def test_clean_preset_has_no_findings_at_all(tmp_path: Path) -> None:
    (tmp_path / "Warm Pad.json").write_text(json.dumps(preset()))
    assert api.validate([str(tmp_path)], Options(jobs=1)).findings == ()


# -- S: schema ----------------------------------------------------------------------------------------
def test_s001_reports_every_schema_error(tmp_path: Path) -> None:
    bad = preset(raw_name=7, audio={"voices": 0}, bogus=True)
    assert sorted(run(tmp_path, {"Warm Pad.json": bad}, "S001")) == [
        ("Warm Pad.json", "S001", "/audio/voices"),
        ("Warm Pad.json", "S001", "/metadata"),
        ("Warm Pad.json", "S001", "/metadata/name"),
    ]


def test_s001_messages_name_the_pointer(tmp_path: Path) -> None:
    (tmp_path / "Warm Pad.json").write_text(json.dumps(preset(raw_name=7)))
    result = api.validate([str(tmp_path)], Options(select=("S001",), jobs=1))
    assert [f.message for f in result.findings] == ["/metadata/name: 7 is not of type 'string'"]


def test_s001_negative(tmp_path: Path) -> None:
    assert run(tmp_path, {"Warm Pad.json": preset()}, "S001") == []


# -- M: metadata --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("code", "field"), [
    ("M002", "author"), ("M003", "category"), ("M006", "description"), ("M007", "license")])
def test_missing_metadata(tmp_path: Path, code: str, field: str) -> None:
    files = {"Warm Pad.json": preset(drop=(field,)), "Bass.json": preset("Bass", **{field: "  "}),
             "Keys.json": preset("Keys")}
    assert run(tmp_path, files, code) == [("Bass.json", code, f"/metadata/{field}"),
                                          ("Warm Pad.json", code, f"/metadata/{field}")]


def test_m001_missing_name(tmp_path: Path) -> None:
    files = {"Blank.json": preset(raw_name="   "), "Warm Pad.json": preset()}
    assert run(tmp_path, files, "M001") == [("Blank.json", "M001", "/metadata/name")]


def test_m004_unknown_category_and_fixable_spellings(tmp_path: Path) -> None:
    files = {"Warm Pad.json": preset(category="pads"), "Bass.json": preset("Bass", category="Wobble"),
             "Keys.json": preset("Keys", category="Keys")}
    assert [(f.path, f.message, f.hint, f.fixable) for f in findings(tmp_path, files, "M004")] == [
        ("pack/Bass.json", "category 'Wobble' is not in the taxonomy", "choose a category from the taxonomy "
         "(`presetctl rule M004`)", True),
        ("pack/Warm Pad.json", "category 'pads' is spelled 'Pad' in the taxonomy", "use 'Pad'", True),
    ]


def test_m005_tags(tmp_path: Path) -> None:
    files = {"Warm Pad.json": preset(tags=["Dark", "dark "]), "Keys.json": preset("Keys", tags=["dark", "soft"])}
    assert [f.message for f in findings(tmp_path, files, "M005")] == ["tag 'Dark' is not normalized (expected 'dark')",
                                                    "tag 'dark ' repeats another tag"]


def test_m008_synth_version_newer_than_the_target(tmp_path: Path) -> None:
    files = {"Warm Pad.json": preset(synth={"name": "Vital", "version": "1.6.0"}),
             "Keys.json": preset("Keys", synth={"name": "Vital", "version": "1.5.5"})}
    target = Options(pack=PackConfig(max_versions={"presetctl": "1.5.5"}))
    assert run(tmp_path, files, "M008", target) == [("Warm Pad.json", "M008", "/metadata/synth/version")]
    assert run(tmp_path, files, "M008") == []  # no target configured


# -- N: naming ------------------------------------------------------------------------------------------
def test_n001_name_differs_from_file_name(tmp_path: Path) -> None:
    files = {"Bass 01.json": preset("Wobble"), "warm_pad.json": preset("Warm Pad")}
    assert run(tmp_path, files, "N001") == [("Bass 01.json", "N001", "/metadata/name")]


def test_n002_non_portable_file_name(tmp_path: Path) -> None:
    files = {"Bass: Deep?.json": preset("Bass: Deep?"), "Warm Pad.json": preset()}
    assert run(tmp_path, files, "N002") == [("Bass: Deep?.json", "N002", "")]


def test_n003_reserved_file_name(tmp_path: Path) -> None:
    files = {"CON.json": preset("CON"), "aux.backup.json": preset("aux.backup"), "Console.json": preset("Console")}
    assert run(tmp_path, files, "N003") == [("CON.json", "N003", ""), ("aux.backup.json", "N003", "")]


def test_n004_name_too_long(tmp_path: Path) -> None:
    long_name = "é" * 100  # 100 characters pass the schema; 200 UTF-8 bytes exceed the 128 kept
    files = {"Long.json": preset(raw_name=long_name), "Warm Pad.json": preset("x" * 128)}
    assert run(tmp_path, files, "N004") == [("Long.json", "N004", "/metadata/name")]


def test_n005_name_whitespace(tmp_path: Path) -> None:
    files = {"Bass 01.json": preset(raw_name=" Bass  01"), "Warm Pad.json": preset()}
    assert run(tmp_path, files, "N005") == [("Bass 01.json", "N005", "/metadata/name")]


def test_n006_name_control_characters(tmp_path: Path) -> None:
    files = {"Evil.json": preset(raw_name="Evil\u202egnp.exe"), "Warm Pad.json": preset()}
    assert run(tmp_path, files, "N006") == [("Evil.json", "N006", "/metadata/name")]


# -- V: parameters --------------------------------------------------------------------------------------
def params(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return list(items)


CUTOFF = {"name": "cutoff", "type": "float", "value": 0.5, "min": 0, "max": 1}


@pytest.mark.parametrize(("code", "bad", "where"), [
    ("V001", params({"name": "cutoff", "type": "float", "value": "high"}), "/parameters/0/value"),
    ("V001", params({"name": "steps", "type": "int", "value": 2.5}), "/parameters/0/value"),
    ("V001", params({"name": "on", "type": "bool", "value": 1}), "/parameters/0/value"),
    ("V002", params(CUTOFF, {"name": "res", "type": "float", "value": 1.4, "min": 0, "max": 1}), "/parameters/1/value"),
    ("V004", params({"name": "res", "type": "float", "value": 0.5, "min": 1, "max": 0}), "/parameters/0"),
    ("V005", params(CUTOFF, dict(CUTOFF, value=0.7)), "/parameters/1"),
])
def test_declared_parameter_rules(tmp_path: Path, code: str, bad: list[dict[str, Any]], where: str) -> None:
    files = {"Warm Pad.json": preset(parameters=bad),
             "Keys.json": preset("Keys", parameters=params(CUTOFF, {"name": "steps", "type": "int", "value": 3.0},
                                                              {"name": "on", "type": "bool", "value": True}))}
    assert run(tmp_path, files, code) == [("Warm Pad.json", code, where)]


def _synth_doc(*values: float, how: OutOfRange | None = None) -> Document:
    ps = [Parameter(f"p{i}", v, 0.0, 1.0, pointer=f"/settings/p{i}", out_of_range=how) for i, v in enumerate(values)]
    p = Preset(format="helm", name="x", parameter_source=lambda: iter(ps))
    return Document("helm", b"{}", raw={}, presets=(p,))


AS_STORED = OutOfRange("Helm", "Helm plays it as stored", written=(-1.0, 2.0))
INDEXED = OutOfRange("Vital", "the editor reads past its table", indexed=True)


@pytest.mark.parametrize(("values", "how", "expected"), [
    ((0.0, 0.5, 1.0), None, []),
    ((1.5, 0.5), None, [("V003", "/settings/p0", "parameter 'p0' = 1.5 is outside the synth's range [0, 1]")]),
    ((float("nan"), -float("inf")), None, [("V006", "/settings/p0", "parameter 'p0' is nan"),
                                           ("V006", "/settings/p1", "parameter 'p1' is -inf")]),
    ((1.00000011920929,), None, []),  # the float32 right after 1: the bound itself, rounded
    ((1.5, 2.5), AS_STORED, [
        ("V007", "/settings/p0", "parameter 'p0' = 1.5 is beyond the knob's range [0, 1] but within what Helm itself "
         "saves ([-1, 2], from converting older patches): Helm plays it as stored; moving the knob snaps it into "
         "range"),
        ("V003", "/settings/p1", "parameter 'p1' = 2.5 is outside Helm's range [0, 1]: Helm plays it as stored")]),
    ((1.9, -0.5, 2.0, -1.0), INDEXED, [
        ("V008", "/settings/p2", "parameter 'p2' = 2 indexes past Vital's table [0, 1]: the editor reads past its table"),
        ("V008", "/settings/p3", "parameter 'p3' = -1 indexes past Vital's table [0, 1]: the editor reads past its "
         "table")]),
])
def test_v003_v006_v007_v008_synth_ranges(values: tuple[float, ...], how: OutOfRange | None,
                                          expected: list[tuple[str, str, str]]) -> None:
    rule = BY_CODE["V003"]
    assert rule.check is not None and rule.also_emits == ("V006", "V007", "V008")
    found = list(rule.check(_synth_doc(*values, how=how), RuleContext(PurePath("x.helm"), Options())))
    assert [(v.code or "V003", v.location.pointer, v.message) for v in found] == expected


def test_v003_leaves_the_presetctl_format_to_v002() -> None:
    doc = replace(_synth_doc(5.0), format="presetctl")
    assert list(BY_CODE["V003"].check(doc, RuleContext(PurePath("x.json"), Options()))) == []  # type: ignore[misc]


# -- A: audio and performance ---------------------------------------------------------------------------
def test_a001_voice_load(tmp_path: Path) -> None:
    files = {"Warm Pad.json": preset(audio={"voices": 16, "unison": 16, "oscillators": 3}),
             "Keys.json": preset("Keys", audio={"voices": 32, "unison": 4, "oscillators": 2})}  # 256: at the limit
    # (The presetctl loader gives no pointer for "voices" yet, so the location is the preset's.)
    assert [(f.path, f.message) for f in findings(tmp_path, files, "A001")] == [
        ("pack/Warm Pad.json", "16 voices x 16 unison x 3 oscillators = 768 oscillator voices, over the threshold of 256")]
    lower = Options(thresholds=Thresholds(max_voice_load=255))
    assert [p for p, _, _ in run(tmp_path, {}, "A001", lower)] == ["Keys.json", "Warm Pad.json"]


def test_a002_many_modulations(tmp_path: Path) -> None:
    mods = [{"source": f"lfo{i}", "target": "cutoff", "amount": 0.1} for i in range(65)]
    files = {"Warm Pad.json": preset(modulations=mods), "Keys.json": preset("Keys", modulations=mods[:64])}
    assert [(p, c) for p, c, _ in run(tmp_path, files, "A002")] == [("Warm Pad.json", "A002")]


def test_a003_long_effects_chain_counts_enabled_effects(tmp_path: Path) -> None:
    on = [{"type": f"fx{i}", "enabled": True} for i in range(9)]
    off = [{"type": f"fx{i}", "enabled": False} for i in range(20)]
    files = {"Warm Pad.json": preset(effects=on), "Keys.json": preset("Keys", effects=on[:8] + off)}
    assert [(p, c) for p, c, _ in run(tmp_path, files, "A003")] == [("Warm Pad.json", "A003")]


# -- Q: pack --------------------------------------------------------------------------------------------
def test_q001_duplicate_sound(tmp_path: Path) -> None:
    original = preset("Bass")
    copy = preset("Bass copy", parameters=original["parameters"])
    files = {"Bass.json": original, "Bass copy.json": copy, "Keys.json": preset("Keys")}
    found = findings(tmp_path, files, "Q001")
    assert [(f.path, f.location.render(), f.message) for f in found] == [
        ("pack/Bass copy.json", "", "same sound as 1 other preset, under other names: pack/Bass.json 'Bass'")]


def test_q002_duplicate_name(tmp_path: Path) -> None:
    files = {"A.json": preset("Glass"), "B.json": preset("A", raw_name="glass"), "C.json": preset("Keys")}
    found = findings(tmp_path, files, "Q002")
    assert [(f.path, f.message) for f in found] == [
        ("pack/A.json", "name 'Glass' is also used by 1 other preset with a different sound: pack/B.json")]
    placeholders = {"A.json": preset("Init"), "B.json": preset("B", raw_name="init"), "C.json": preset("Keys")}
    (tmp_path / "init").mkdir()
    assert findings(tmp_path / "init", placeholders, "Q002") == ()  # an init name collides with nothing


def test_q003_file_names_differ_only_by_case(tmp_path: Path) -> None:
    files = {"Bass.json": preset("Bass"), "bass.json": preset("bass"), "Keys.json": preset("Keys")}
    found = run(tmp_path, files, "Q003")
    assert len(found) == 1 and found[0][0] in {"Bass.json", "bass.json"} and found[0][1] == "Q003"


def test_q004_category_drift(tmp_path: Path) -> None:
    files = {"A.json": preset("A", category="Bass"), "B.json": preset("B", category="Bass"),
             "C.json": preset("C", category="Basses"), "D.json": preset("D", category="Pad")}
    assert run(tmp_path, files, "Q004") == [("C.json", "Q004", "")]


def test_q005_author_drift(tmp_path: Path) -> None:
    files = {"A.json": preset("A", author="Damon Armani"), "B.json": preset("B", author="Damon Armani"),
             "C.json": preset("C", author="DamonArmani"), "D.json": preset("D", author="Someone Else")}
    assert run(tmp_path, files, "Q005") == [("C.json", "Q005", "")]


def test_every_core_rule_has_a_case_here() -> None:
    covered = {"S001", "M001", "M002", "M003", "M004", "M005", "M006", "M007", "M008", "N001", "N002", "N003",
               "N004", "N005", "N006", "V001", "V002", "V003", "V004", "V005", "V006", "V007", "V008", "A001", "A002",
               "A003",
               "Q001", "Q002", "Q003", "Q004", "Q005"}
    core = {c for c in BY_CODE if c[0] in "SMNVAQ"}
    assert core - covered == set()
