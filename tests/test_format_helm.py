"""Helm loader and H rules: synthetic patches per rule, plus the real corpus (factory + Hans45)."""

from __future__ import annotations

import json
from pathlib import Path, PurePath

import orjson

from presetctl.engine.formats import helm, registry
from presetctl.engine.formats.base import LoadContext
from presetctl.engine.options import Options
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.registry import BY_CODE


def patch(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"license": "CC", "synth_version": "0.9.0", "patch_name": "Bass 1",
                               "folder_name": "Bass", "author": "A",
                               "settings": {"cutoff": 80.0, "polyphony": 4, "osc_1_volume": 0.5,
                                            "osc_1_unison_voices": 3, "beats_per_minute": 2.0,
                                            "modulations": [{"source": "lfo", "destination": "cutoff",
                                                             "amount": 0.5}]}}
    base.update(over)
    return base


def load(raw: object, name: str = "Bass 1.helm"):  # type: ignore[no-untyped-def]
    return helm.LOADER.load(orjson.dumps(raw), LoadContext(PurePath(name)))


def run(doc, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    rule = BY_CODE["H006" if code == "H007" else code]  # H006's check also emits H007
    assert rule.check is not None
    return [v.message for v in rule.check(doc, RuleContext(PurePath("x.helm"), Options())) if v.code in ("", code)]


def out_of_range(doc) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.name for p in doc.presets[0].parameters
            if p.minimum is not None and p.maximum is not None and not p.minimum <= p.value <= p.maximum]


def test_mapping() -> None:
    p = load(patch()).presets[0]
    assert (p.name, p.category, p.author, p.license, p.synth_version) == ("Bass 1", "Bass", "A", "CC", "0.9.0")
    assert (p.voices, p.unison, p.oscillators) == (4, 3, 1)
    assert [(m.source, m.target, m.amount) for m in p.modulations] == [("lfo", "cutoff", 0.5)]
    assert load(patch(patch_name=None)).presets[0].name == "Bass 1"  # not a string: the file name
    raw = patch()
    del raw["patch_name"]
    assert load(raw, "Old One.helm").presets[0].name == "Old One"
    assert registry.detect(orjson.dumps(patch()), PurePath("x.json")) is helm.LOADER


def test_ranges_and_legacy_units() -> None:
    assert out_of_range(load(patch())) == []
    s = dict(patch()["settings"])  # type: ignore[arg-type]
    s["cutoff"] = 200.0
    assert out_of_range(load(patch(settings=s))) == ["cutoff"]
    # beats_per_minute was stored in BPM up to 0.8.6 (Helm divides by 60 on load).
    legacy = dict(patch()["settings"], beats_per_minute=120)  # type: ignore[arg-type]
    assert out_of_range(load(patch(settings=legacy, synth_version="0.8.6"))) == []
    assert out_of_range(load(patch(settings=legacy, synth_version="0.9.0"))) == ["beats_per_minute"]
    assert len(run(load(patch(synth_version="0.8.6")), "H004")) == 1
    assert run(load(patch()), "H004") == []


def test_rules_positive_negative() -> None:
    good = load(patch())
    for code in ("H001", "H002", "H003", "H005", "H006", "H007", "H008"):
        assert run(good, code) == [], code
    assert run(load([]), "H001") == ["patch is an array, not a JSON object"]
    assert len(run(load({"synth_version": "0.9.0"}), "H001")) == 1
    bad = patch(author=1, settings={"cutoff": "80", "modulations": [{"source": "a"}]})
    assert run(load(bad), "H002") == ["author is a number, not a string", "parameter 'cutoff' is a string, not a number",
                                      "modulation 1 is not {source: string, destination: string, amount: number}"]
    assert len(run(load(patch(synth_version="0.9.x")), "H003")) == 1
    assert len(run(load(patch(synth_version="1.0.0")), "H003")) == 1
    assert run(load(patch(category="x")), "H005") == ["unknown top-level key 'category': Helm ignores it"]
    assert run(load(patch(settings={"cutof": 1})), "H006") == ["parameter 'cutof' is not a Helm parameter: Helm ignores it"]
    assert len(run(load(patch(settings={"osc_mix": 0.5})), "H007")) == 1
    raw = patch()
    del raw["patch_name"]
    assert len(run(load(raw), "H008")) == 1


def test_corpus_counts(corpus: Path, cli) -> None:  # type: ignore[no-untyped-def]
    files = sorted((corpus / "helm").rglob("*.helm"))
    assert len(files) == 299
    raws = {f: json.loads(f.read_bytes()) for f in files}
    # Independent counts with plain json over the files.
    legacy = sum(1 for r in raws.values() if tuple(map(int, r["synth_version"].split("."))) <= (0, 8, 6))
    no_name = sum(1 for r in raws.values() if "patch_name" not in r)
    assert (legacy, no_name) == (9, 5)
    hans = [f for f in files if "Hans45__Helm2025" in str(f)]
    # Out-of-range per Helm 0.9.0's table, verified by hand against helm_common.cpp: every one of the
    # 25 generated patches (e.g. resonance 12 in [0, 1], osc_1_waveform 20 in [0, 10]); 21 factory
    # patches (distortion_drive up to 72 in [-30, 30], stutter_frequency -7 in [0, 7], cutoff 21 in [28, 127]).
    bad_hans = sum(1 for f in hans if out_of_range(helm.LOADER.load(f.read_bytes(), LoadContext(PurePath(f.name)))))
    assert (len(hans), bad_hans) == (25, 25)
    result = cli(["validate", str(corpus / "helm"), "-o", "json", "--exit-zero", "--profile", "marketplace"])
    report = json.loads(result.stdout)
    assert report["summary"]["by_status"] == {"validated": 299, "recognized": 0, "unknown": 1, "skipped": 0,
                                              "broken": 0}  # the unknown one is the LICENSE file
    found = [(f["code"], f["path"]) for f in report["findings"]]
    assert not [c for c, _ in found if c == "E001"]
    assert sum(1 for c, _ in found if c == "H004") == legacy
    assert sum(1 for c, _ in found if c == "H008") == no_name
    v003_files = {p for c, p in found if c == "V003"}
    assert len([p for p in v003_files if "Hans45__Helm2025" in p]) == 25
    assert len([p for p in v003_files if "mtytel__helm" in p]) == 21
