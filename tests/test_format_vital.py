"""Vital loader, bank loader and T rules: synthetic presets per rule, plus the real corpus."""

from __future__ import annotations

import base64
import io
import json
import tracemalloc
import zipfile
from pathlib import Path, PurePath

import orjson
import pytest

from presetctl.engine.formats import registry, vital
from presetctl.engine.formats.base import LoadContext
from presetctl.engine.options import Options
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.registry import BY_CODE


def preset(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"author": "A", "comments": "c", "macro1": "M1", "macro2": "M2", "macro3": "M3",
                               "macro4": "M4", "preset_name": "Pad", "preset_style": "Pad",
                               "settings": {"polyphony": 8.0, "osc_1_on": 1.0, "osc_1_unison_voices": 4.0,
                                            "filter_1_cutoff": 60.0, "modulations": [
                                                {"source": "lfo_1", "destination": "filter_1_cutoff"},
                                                {"source": "", "destination": ""}],
                                            "modulation_1_amount": 0.5,
                                            "sample": {"name": "n", "samples": "AAAA" * 200}},
                               "synth_version": "1.5.5"}
    base.update(over)
    return base


def load(raw: object, name: str = "Pad.vital"):  # type: ignore[no-untyped-def]
    return vital.LOADER.load(orjson.dumps(raw), LoadContext(PurePath(name)))


def codes(doc, code: str) -> list[str]:  # type: ignore[no-untyped-def]
    rule = BY_CODE[code]
    assert rule.check is not None
    return [v.message for v in rule.check(doc, RuleContext(PurePath("Pad.vital"), Options()))]


def test_mapping_and_lazy_blobs() -> None:
    doc = load(preset())
    p = doc.presets[0]
    assert (p.name, p.category, p.author, p.description, p.synth_version) == ("Pad", "Pad", "A", "c", "1.5.5")
    assert p.voices == 8 and p.unison == 4 and p.oscillators == 1
    assert [(m.source, m.target, m.amount) for m in p.modulations] == [("lfo_1", "filter_1_cutoff", 0.5)]
    cutoff = next(x for x in p.parameters if x.name == "filter_1_cutoff")
    assert (cutoff.minimum, cutoff.maximum, cutoff.pointer) == (8.0, 136.0, "/settings/filter_1_cutoff")
    (blob,) = doc.facts.blobs
    assert blob.kind == "sample" and blob.location.pointer == "/settings/sample/samples"
    assert blob.read() == b"\0" * 600


def test_name_falls_back_to_stem_and_t004() -> None:
    raw = preset()
    del raw["preset_name"]
    doc = load(raw, "Warm Keys.vital")
    assert doc.presets[0].name == "Warm Keys"
    assert codes(doc, "T004") == ["preset has no preset_name: Vital shows the file name instead"]
    assert codes(load(preset()), "T004") == []


def test_structure_types_version_keys() -> None:
    assert codes(load(preset()), "T001") == [] and codes(load(preset()), "T002") == []
    assert codes(load([1]), "T001") == ["preset is an array, not a JSON object"]
    assert len(codes(load(preset(settings=3)), "T001")) == 1
    bad = preset(author=7)
    bad["settings"] = {"filter_1_cutoff": "60", "modulations": [{"source": 1}]}  # type: ignore[index]
    assert codes(load(bad), "T002") == ["author is a number, not a string",
                                        "parameter 'filter_1_cutoff' is a string, not a number",
                                        "modulation 1 is not an object with string source and destination"]
    assert codes(load(preset()), "T003") == []
    assert len(codes(load(preset(synth_version="v1.5")), "T003")) == 1
    assert len(codes(load(preset(synth_version="9.0.0")), "T003")) == 1
    assert codes(load(preset(synth_version=1.5)), "T003") == []  # not a string: T002 (an error) says it
    assert codes(load(preset()), "T005") == []
    assert codes(load(preset(presetName="x")), "T005") == ["unknown top-level key 'presetName': Vital ignores it"]


def test_sniffing() -> None:
    head = orjson.dumps(preset())[:4096]
    assert registry.detect(head, PurePath("x.vital")) is vital.LOADER
    assert registry.detect(head, PurePath("x.json")) is vital.LOADER
    assert registry.detect(b"PK\x03\x04", PurePath("x.vitalbank")) is vital.BANK_LOADER


def bank(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_vitalbank() -> None:
    data = bank({"Presets/A.vital": orjson.dumps(preset()), "Presets/B.vital": b"{bad",
                 "Wavetables/w.vitaltable": b"{}", "../evil.vital": orjson.dumps(preset())})
    doc = vital.BANK_LOADER.load(data, LoadContext(PurePath("b.vitalbank")))
    assert [p.index for p in doc.presets] == [1, 2]
    got = sorted((v.code, v.location.entry) for v in doc.problems)
    assert got == [("P001", "Presets/B.vital"), ("T011", "../evil.vital")]
    assert any(b.kind == "archive-member" and b.location.entry == "Wavetables/w.vitaltable" for b in doc.facts.blobs)
    empty = vital.BANK_LOADER.load(bank({"w.vitaltable": b"{}"}), LoadContext(PurePath("b.vitalbank")))
    assert [v.code for v in empty.problems] == ["T013"]
    broken = vital.BANK_LOADER.load(b"PK\x03\x04garbage", LoadContext(PurePath("b.vitalbank")))
    assert [v.code for v in broken.problems] == ["T010"] and not broken.parsed
    many = vital.BANK_LOADER.load(bank({f"{i}.vital": b"{}" for i in range(5)}),
                                  LoadContext(PurePath("b.vitalbank"), max_entries=3))
    assert [v.code for v in many.problems] == ["T012"]
    bomb = vital.BANK_LOADER.load(bank({"z.vital": b" " * (3 << 20)}), LoadContext(PurePath("b.vitalbank"), max_ratio=2))
    assert [v.code for v in bomb.problems] == ["T012"]  # no T013 on top of a limit


def test_corpus_loads_and_counts(corpus: Path, cli) -> None:  # type: ignore[no-untyped-def]
    files = sorted((corpus / "vital").rglob("*.vital"))
    assert len(files) == 82
    # Independent count with plain json: presets without preset_name.
    expected_missing = sum(1 for f in files if "preset_name" not in json.loads(f.read_bytes()))
    assert expected_missing == 11
    result = cli(["validate", str(corpus / "vital"), "-o", "json", "--exit-zero", "--profile", "marketplace"])
    report = json.loads(result.stdout)
    assert report["summary"]["files"] == 82 and report["summary"]["by_status"]["validated"] == 82
    found = [f["code"] for f in report["findings"]]
    assert "E001" not in found and found.count("T004") == expected_missing
    # Factory presets stay inside Vital's ranges. The oracle: ranges of Vital's synth_parameters.cpp for the
    # knobs every preset has, written here (not presetctl's table), checked with plain json.
    ranges = {"volume": (0, 7399.4404), "polyphony": (1, 32), "voice_transpose": (-48, 48), "sub_level": (0, 1),
              "reverb_dry_wet": (0, 1), "delay_dry_wet": (0, 1), "chorus_voices": (1, 4)}
    for n in (1, 2, 3):
        ranges |= {f"osc_{n}_level": (0, 1), f"osc_{n}_pan": (-1, 1), f"osc_{n}_transpose": (-48, 48)}
    for n in (1, 2):
        ranges |= {f"filter_{n}_cutoff": (8, 136), f"filter_{n}_resonance": (0, 1)}
    values = [(k, s[k]) for f in files for s in [json.loads(f.read_bytes()).get("settings", {})] for k in ranges
              if isinstance(s.get(k), int | float)]
    outside = [(k, v) for k, v in values if not ranges[k][0] <= v <= ranges[k][1]]
    assert len(values) > 1500 and found.count("V003") == len(outside) == 0


def test_load_decodes_no_blob_until_asked(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of loading a big preset stays close to its JSON parse because base64 wavetables and
    samples are only listed, never decoded, until a rule reads them (the timing ratio itself is
    measured in benchmarks/, see docs/performance.md: timed tests are flaky on shared machines)."""
    biggest = max((corpus / "vital").rglob("*.vital"), key=lambda f: f.stat().st_size)
    calls: list[int] = []
    real = base64.b64decode
    monkeypatch.setattr(vital.base64, "b64decode", lambda s, *a, **k: calls.append(len(s)) or real(s, *a, **k))
    doc = vital.LOADER.load(biggest.read_bytes(), LoadContext(PurePath(biggest.name)))
    blobs = doc.facts.blobs
    assert blobs and calls == []
    assert blobs[0].read() and len(calls) == 1


def test_bank_bomb_member_is_cut_at_the_ratio_not_at_the_entry_limit() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("Bomb/Wavetables/zeros.vitaltable", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(200):  # 200 MiB of zeros deflate to about 200 KB
                member.write(block)
    data = buf.getvalue()
    tracemalloc.start()
    doc = vital.BANK_LOADER.load(data, LoadContext(path=PurePath("bomb.vitalbank"), max_entry_size=100 << 20))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [v.code for v in doc.problems] == ["T012"]
    assert "compressed size" in doc.problems[0].message
    assert peak < 2.5 * (200 * len(data) + (1 << 20))  # bounded by the ratio (about 40 MB), not by the 100 MiB limit
    capped = vital.BANK_LOADER.load(data, LoadContext(path=PurePath("bomb.vitalbank")))
    assert [v.code for v in capped.problems] == ["T012"]
    assert f"past {25 << 20} bytes" in capped.problems[0].message  # the default per-member cap (ClamAV's 25 MB)


def _range_findings(doc) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    rule = BY_CODE["V003"]
    assert rule.check is not None
    return [(v.code, v.location.pointer, v.message)
            for v in rule.check(doc, RuleContext(PurePath("Pad.vital"), Options()))]


def _with(**values: float) -> dict[str, object]:
    raw = preset()
    raw["settings"] = {**raw["settings"], **values}  # type: ignore[dict-item]
    return raw


def test_missing_synth_version_is_an_error_because_vital_refuses_the_preset() -> None:
    raw = preset()
    del raw["synth_version"]
    rule = BY_CODE["T003"]
    assert rule.check is not None
    found = [(v.code, v.message) for v in rule.check(load(raw), RuleContext(PurePath("Pad.vital"), Options()))]
    assert found == [("T006", 'no synth_version: Vital refuses the preset ("Preset file is corrupted")')]
    assert BY_CODE["T006"].severity.label == "error" and BY_CODE["T003"].severity.label == "warning"


def test_float32_values_at_a_bound_are_in_range() -> None:
    """Vital saves float32 widened to double: the float32 after a bound is that bound plus rounding."""
    assert _range_findings(load(_with(chorus_feedback=0.949999988079071, filter_1_cutoff=136.0000152587890625))) == []
    assert _range_findings(load(_with(chorus_feedback=0.9500000476837158))) == []
    assert _range_findings(load(_with(filter_1_cutoff=136.0001))) == [
        ("V003", "/settings/filter_1_cutoff", "parameter 'filter_1_cutoff' = 136.0001 is outside Vital's range "
         "[8, 136]: Vital plays it as stored (the knob shows the nearest end), but never saves such a value itself")]


def test_indexed_values_past_a_table_are_errors() -> None:
    """VoiceSection::setAllValues: kStereoModeNames[stereo_mode] with no bound check (and the like)."""
    assert _range_findings(load(_with(stereo_mode=2.0))) == [
        ("V008", "/settings/stereo_mode", "parameter 'stereo_mode' = 2 indexes past Vital's table [0, 1]: Vital's "
         "editor reads past the end of its name table when it shows the preset (undefined behaviour: garbage text "
         "or a crash)")]
    assert [c for c, _, _ in _range_findings(load(_with(lfo_3_smooth_mode=-1.0, osc_2_destination=15.0,
                                                         sample_destination=14.0)))] == ["V008", "V008"]
    assert _range_findings(load(_with(stereo_mode=1.9, lfo_1_smooth_mode=-0.5))) == []  # truncated: 1 and 0
    assert BY_CODE["V008"].severity.label == "error" and BY_CODE["V007"].severity.label == "info"
