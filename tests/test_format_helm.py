"""Helm loader and H rules: synthetic patches per rule, plus the real corpus (factory + Hans45)."""

from __future__ import annotations

import json
from pathlib import Path, PurePath, PurePosixPath

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
    for code in ("H001", "H002", "H003", "H005", "H006", "H007", "H008", "H009"):
        assert run(good, code) == [], code
    assert run(load([]), "H001") == ["patch is an array, not a JSON object: Helm loads nothing"]
    assert run(load({"synth_version": "0.9.0"}), "H001") == [
        "patch of Helm 0.9.0 has no settings object: Helm dereferences it and crashes"]
    bad = patch(author=1, settings={"cutoff": "80", "modulations": [{"source": "a"}]})
    assert run(load(bad), "H002") == ["author is a number, not a string", "parameter 'cutoff' is a string, not a number",
                                      "modulation 1 is not {source: string, destination: string, amount: number}"]
    assert len(run(load(patch(synth_version="0.9.x")), "H003")) == 1
    assert len(run(load(patch(synth_version="1.0.0")), "H003")) == 1
    assert run(load(patch(category="x")), "H005") == ["unknown top-level key 'category': Helm ignores it"]
    assert run(load(patch(settings={"cutof": 1, "modulations": []})), "H006") == [
        "parameter 'cutof' is not a Helm parameter: Helm ignores it"]
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
    factory = [f for f in files if "mtytel__helm" in str(f)]

    def outside(f: Path, ranges: dict[str, tuple[float, float]]) -> list[str]:
        s = raws[f]["settings"]
        return [k for k, (lo, hi) in ranges.items() if isinstance(s.get(k), int | float) and not lo <= s[k] <= hi]

    # Knob ranges of Helm 0.9.0 (helm_common.cpp), written here, not taken from presetctl's table: the
    # generated pack breaks them in every patch (resonance 12 in [0, 1], osc_1_waveform 20 of 11 waves).
    generated = {"resonance": (0, 1), "osc_1_waveform": (0, 10), "osc_2_waveform": (0, 10)}
    assert (len(hans), sum(1 for f in hans if outside(f, generated))) == (25, 25)
    # What Helm 0.9's conversion of <= 0.8.6 patches saves outside the knobs (saturation -60..60 + 12 ->
    # distortion_drive, cutoff - keytrack * 12, stutter_frequency kept at -7..6): one V007 per value.
    converted = {"distortion_drive": (-30, 30), "cutoff": (28, 127), "stutter_frequency": (0, 7)}
    converted_values = sum(len(outside(f, converted)) for f in factory)
    assert (len(factory), converted_values) == (274, 22)
    result = cli(["validate", str(corpus / "helm"), "-o", "json", "--exit-zero", "--profile", "marketplace"])
    report = json.loads(result.stdout)
    assert report["summary"]["by_status"] == {"validated": 299, "recognized": 0, "unknown": 1, "skipped": 0,
                                              "broken": 0}  # the unknown one is the LICENSE file
    found = [(f["code"], f["path"]) for f in report["findings"]]
    assert not [c for c, _ in found if c == "E001"]
    assert sum(1 for c, _ in found if c == "H004") == legacy
    assert sum(1 for c, _ in found if c == "H008") == no_name
    v003_files = {p for c, p in found if c == "V003"}
    assert len([p for p in v003_files if "Hans45__Helm2025" in p]) == 25  # the generated pack: still reported
    # Helm's own factory presets: every value outside a knob range is one Helm 0.9 itself saved when it
    # converted an older patch (V007, info), none a warning or worse from the format or range rules.
    assert [p for p in v003_files if "mtytel__helm" in p] == []
    assert sum(1 for c, p in found if c == "V007" and "mtytel__helm" in p) == converted_values
    severe = {c for c, r in BY_CODE.items() if c[0] in "HV" and r.severity.label != "info"}
    assert [(c, p) for c, p in found if c in severe and "mtytel__helm" in p] == []


def v_findings(doc) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(code, pointer, message) of the range rule (V003 and the codes it emits)."""
    rule = BY_CODE["V003"]
    assert rule.check is not None
    return [(v.code, v.location.pointer, v.message) for v in rule.check(doc, RuleContext(PurePath("x.helm"), Options()))]


def settings(**values: object) -> dict[str, object]:
    return {**patch()["settings"], **values}  # type: ignore[dict-item]


def test_values_helm_saved_itself_when_converting_old_patches_are_info() -> None:
    """0.9 converts <= 0.8.6 patches on load without clamping (load_save.cpp varToState) and saves the
    result: saturation -60..60 + 12 -> distortion_drive, cutoff - keytrack * 12, stutter kept at -7..6."""
    drive = v_findings(load(patch(settings=settings(distortion_drive=72))))
    assert drive == [("V007", "/settings/distortion_drive",
                      "parameter 'distortion_drive' = 72 is beyond the knob's range [-30, 30] but within what Helm "
                      "itself saves ([-60, 72], from converting older patches): Helm plays it as stored; moving the "
                      "knob snaps it into range")]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(distortion_drive=-60))))] == ["V007"]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(distortion_drive=72.5))))] == ["V003"]
    # cutoff: the patch's own keytrack decides how far below 28 Helm's conversion went
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(cutoff=22.1875, keytrack=1))))] == ["V007"]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(cutoff=22.1875, keytrack=0))))] == ["V003"]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(cutoff=139, keytrack=-1))))] == ["V007"]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(stutter_frequency=-7))))] == ["V007"]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(stutter_frequency=-7.5))))] == ["V003"]


def test_ranges_of_the_version_that_saved_the_patch() -> None:
    old = patch(synth_version="0.8.6", settings=settings(beats_per_minute=120, stutter_frequency=-7))
    assert v_findings(load(old)) == []  # BPM and the old stutter range were that version's knobs
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(beats_per_minute=120))))] == ["V003"]
    # an old patch never held a converted drive: beyond the knob is not Helm's doing there
    assert [c for c, _, _ in v_findings(load(patch(synth_version="0.8.6", settings=settings(distortion_drive=72,
                                                                                               beats_per_minute=120))))] \
        == ["V003"]


def test_what_helm_does_beyond_the_range_is_in_the_message() -> None:
    found = v_findings(load(patch(settings=settings(osc_1_waveform=20, mono_lfo_1_waveform=13, resonance=40))))
    assert found == [
        ("V003", "/settings/osc_1_waveform", "parameter 'osc_1_waveform' = 20 is outside Helm's range [0, 10]: Helm's "
         "oscillator clamps it to 10 (nine pyramid) when it plays, so the patch does not sound as the file says; "
         "waveforms above 10 exist only in the Helm2025 fork"),
        ("V003", "/settings/mono_lfo_1_waveform", "parameter 'mono_lfo_1_waveform' = 13 is outside Helm's range "
         "[0, 12]: Helm plays every LFO waveform above 12 as smooth random (12), so the patch does not sound as the "
         "file says; waveforms above 12 exist only in the Helm2025 fork"),
        ("V003", "/settings/resonance", "parameter 'resonance' = 40 is outside Helm's range [0, 1]: Helm plays it as "
         "stored (the knob shows the nearest end), but no Helm version saves such a value")]


def test_float32_values_at_a_bound_are_in_range() -> None:
    """Helm and Vital store float32: 4.000000476837158 is the float32 right after 4 (Hans45's arp_frequency)."""
    assert v_findings(load(patch(settings=settings(arp_frequency=4.000000476837158)))) == []
    assert v_findings(load(patch(settings=settings(mono_lfo_1_frequency=6.000000476837158)))) == []
    assert v_findings(load(patch(settings=settings(resonance=-1e-9)))) == []  # a bound of 0: a step of the span
    assert v_findings(load(patch(settings=settings(arp_frequency=4.0000015)))) == [
        ("V003", "/settings/arp_frequency", "parameter 'arp_frequency' = 4.0000015 is outside Helm's range [-1, 4]: "
         "Helm plays it as stored (the knob shows the nearest end), but no Helm version saves such a value")]
    assert [c for c, _, _ in v_findings(load(patch(settings=settings(resonance=-1e-6))))] == ["V003"]


def test_crash_cases_are_errors() -> None:
    no_mods = {k: v for k, v in patch()["settings"].items() if k != "modulations"}  # type: ignore[union-attr]
    assert run(load(patch(settings=no_mods)), "H009") == [
        "no modulations array: Helm dereferences the missing array and crashes loading the patch"]
    assert run(load(patch(settings=settings(modulations={}))), "H009") == [
        "modulations is an object, not an array: Helm dereferences the missing array and crashes loading the patch"]
    assert run(load(patch(settings=settings(modulations=[3]))), "H009") == [
        "modulation 1 is a number, not an object: Helm dereferences it and crashes loading the patch"]
    assert run(load(patch(settings=[])), "H001") == [
        "settings is an array, not an object: Helm dereferences it and crashes"]
    assert BY_CODE["H009"].severity.label == BY_CODE["H001"].severity.label == "error"


def test_a_patch_without_version_is_read_as_helm_reads_0_4_1() -> None:
    """No synth_version: Helm takes 0.4.1, whose layout has the settings at the top level."""
    raw = patch()
    del raw["synth_version"]
    doc = load(raw)
    assert run(doc, "H003") == ["no synth_version: Helm takes the patch for 0.4.1, reads its top level as the "
                                "settings and ignores the settings object (every parameter at its default), and "
                                "applies every conversion since"]
    assert run(doc, "H009") == ["no modulations array: Helm dereferences the missing array and crashes loading the "
                                "patch"]
    flat = {"patch_name": "Old", "cutoff": 80.0, "modulations": [], "beats_per_minute": 120}
    flat_doc = load(flat)
    assert run(flat_doc, "H001") == [] and run(flat_doc, "H009") == [] and v_findings(flat_doc) == []
    assert [p.pointer for p in flat_doc.presets[0].parameters] == ["/cutoff", "/beats_per_minute"]
    assert run(load(dict(flat, synth_version="0.4.1")), "H001") == []  # 0.4.1 itself: the same layout


def test_missing_modulations_fix_is_byte_exact() -> None:
    from presetctl.engine.fix.planner import PlanRules, plan_file

    body = b'{"synth_version": "0.9.0", "patch_name": "Bass 1", "settings": {"cutoff": 80.0, "polyphony": 4}}'
    opts = Options(select=("H009",))
    plan = plan_file(body, PurePosixPath("Bass/Bass 1.helm"), PlanRules.build(opts, opts, False), opts)
    assert plan.after == body.replace(b'{"cutoff"', b'{"modulations": [], "cutoff"')
    again = plan_file(plan.after, PurePosixPath("Bass/Bass 1.helm"), PlanRules.build(opts, opts, False), opts)
    assert again.after == plan.after and again.applied == ()
    wrong = body.replace(b'"polyphony": 4', b'"polyphony": 4, "modulations": {}')
    assert plan_file(wrong, PurePosixPath("x.helm"), PlanRules.build(opts, opts, False), opts).after == wrong
