"""Embedded wavetables and samples (W001-W005): a positive and a negative case per rule, on
generated Vital presets and on Surge XT patches from the corpus with their wavetable bytes edited."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np
import orjson
import pytest
from audio_data import load, sine_frame, vital_preset, write_json
from hypothesis import given, settings
from hypothesis import strategies as st

from presetctl.engine.audio import embedded
from presetctl.engine.model import Violation

KEYFRAME_1 = "/settings/wavetables/0/groups/0/components/0/keyframes/1/wave_data"


def found(preset: dict[str, object]) -> list[Violation]:
    return list(embedded.violations(load(orjson.dumps(preset), "pack/test.vital")))


def codes(preset: dict[str, object]) -> list[str]:
    return [v.code for v in found(preset)]


def test_a_clean_preset_has_no_finding() -> None:
    assert found(vital_preset([sine_frame(), sine_frame(amplitude=0.5)])) == []


def test_nan_in_a_keyframe_is_an_error_at_that_keyframe() -> None:
    bad = sine_frame()
    bad[17] = np.nan
    bad[900] = np.inf
    (v,) = found(vital_preset([sine_frame(), bad]))
    assert v.code == "W001" and v.location.pointer == KEYFRAME_1
    assert "1 NaN and 1 infinite value, first at sample 17:" in v.message
    assert "keyframe 1 (position 64)" in v.message


def test_far_beyond_full_scale_only_when_the_synth_plays_it_so() -> None:
    loud = sine_frame(amplitude=3.0)
    (v,) = found(vital_preset([loud], normalize=False))
    assert v.code == "W002" and "3 x full scale (+9.5 dBFS)" in v.message
    assert found(vital_preset([loud], normalize=True)) == []  # Vital normalizes it
    assert found(vital_preset([sine_frame(amplitude=1.9)], normalize=False)) == []  # not *far* beyond
    # Before Vital 0.4.7 every wavetable played unnormalized, whatever the flag says.
    assert codes(vital_preset([loud], normalize=True, version="0.4.2")) == ["W002"]


def test_dc_offset_only_when_the_synth_keeps_it() -> None:
    shifted = sine_frame(amplitude=0.5, offset=0.3)
    (v,) = found(vital_preset([shifted], remove_dc=False))
    assert v.code == "W003" and "DC offset +0.300" in v.message
    assert found(vital_preset([shifted], remove_dc=True)) == []
    pcm = (np.full(3000, 9000) + np.sin(np.arange(3000)) * 4000).astype("<i2")  # mean +0.27
    (s,) = found(vital_preset(sample=pcm))
    assert s.code == "W003" and s.location.pointer == "/settings/sample/samples" and "sample 'Test sample'" in s.message


def test_an_all_zero_wavetable_or_sample_that_plays() -> None:
    zero = np.zeros(2048, dtype="<f4")
    (v,) = found(vital_preset([zero, zero]))
    assert v.code == "W004" and v.location.pointer.endswith("/keyframes/0/wave_data") and "wavetable 1" in v.message
    assert found(vital_preset([zero, zero], osc_on=0.0)) == []  # its oscillator is off
    assert found(vital_preset([zero, sine_frame()])) == []  # one silent keyframe in a morph is a design
    silent = np.zeros(5000, dtype="<i2")
    assert codes(vital_preset(sample=silent)) == ["W004"]
    assert found(vital_preset(sample=silent, sample_on=0.0)) == []


def test_lengths_and_rates_vital_does_not_accept() -> None:
    short = sine_frame(size=1000)
    (v,) = found(vital_preset([sine_frame(), short]))
    assert v.code == "W005" and v.location.pointer == KEYFRAME_1 and "4000 bytes" in v.message and "8192" in v.message
    pcm = np.zeros(100, dtype="<i2") + 5
    (s,) = found(vital_preset(sample=pcm, sample_length=44100))
    assert s.code == "W005" and "44100 samples (88200 bytes) but the data holds 200 bytes" in s.message
    assert [x.code for x in found(vital_preset(sample_rate=0))] == ["W005"]
    assert found(vital_preset(sample=pcm, sample_length=100)) == []


def test_bad_base64_is_reported_not_raised() -> None:
    preset = vital_preset()
    preset["settings"]["wavetables"][0]["groups"][0]["components"][0]["keyframes"][0]["wave_data"] = "A" * 301  # type: ignore[index]
    (v,) = found(preset)
    assert v.code == "W005" and "cannot be decoded" in v.message


def test_old_16_bit_keyframes_are_read_as_16_bit() -> None:
    pcm = (np.sin(np.arange(2048) / 2048 * 2 * np.pi) * 30000).astype("<i2")
    preset = vital_preset(version="0.3.7")
    kf = preset["settings"]["wavetables"][0]["groups"][0]["components"][0]["keyframes"][0]  # type: ignore[index]
    kf["wave_data"] = base64.b64encode(pcm.tobytes()).decode()
    assert found(preset) == []  # 4096 bytes is a whole 16-bit keyframe; read as float it would be short


# --- Surge XT: corpus patches with their wavetable bytes edited ------------------------------------

def _surge_with_float_table(corpus: Path) -> tuple[Path, bytes, int, int, int]:
    """A corpus Surge patch holding a float32 wavetable: path, bytes, block offset, samples, tables."""
    for path in sorted((corpus / "surge-fxp").rglob("*.fxp")):
        data = path.read_bytes()
        doc = load(data, "patch.fxp")
        for blob in doc.facts.blobs:
            if blob.kind == "wavetable":
                raw = blob.read()
                samples, tables, flags = struct.unpack_from("<IHH", raw, 4)
                if not flags & 0x4:
                    assert blob.location.offset is not None
                    return path, data, blob.location.offset, samples, tables
    raise AssertionError("the corpus has Surge patches with float wavetables")


def _surge_codes(data: bytes) -> list[Violation]:
    return list(embedded.violations(load(data, "patch.fxp")))


@pytest.mark.corpus
def test_surge_wavetables_from_the_corpus(corpus: Path) -> None:
    path, data, at, samples, tables = _surge_with_float_table(corpus)
    assert _surge_codes(data) == []
    table = np.frombuffer(data, "<f4", samples * tables, at + 12).reshape(tables, samples).copy()
    nan = bytearray(data)
    table[3, 5] = np.nan
    nan[at + 12 : at + 12 + table.nbytes] = table.tobytes()
    (v,) = _surge_codes(bytes(nan))
    assert v.code == "W001" and v.location.offset == at and "sample 5 of table 3" in v.message
    loud = bytearray(data)
    loud[at + 12 : at + 12 + table.nbytes] = (np.nan_to_num(table) * 0 + 4.0).astype("<f4").tobytes()
    assert [x.code for x in _surge_codes(bytes(loud))] == ["W002"]
    zero = bytearray(data)
    zero[at + 12 : at + 12 + table.nbytes] = bytes(table.nbytes)
    assert [x.code for x in _surge_codes(bytes(zero))] == ["W004"]
    odd = bytearray(data)  # same bytes, counted as tables of 96 samples: not a power of two
    total = samples * tables
    assert total % 96 == 0
    struct.pack_into("<IH", odd, at + 4, 96, total // 96)
    (w,) = _surge_codes(bytes(odd))
    assert w.code == "W005" and "96 samples per table is not a power of two" in w.message
    assert [p.code for p in load(bytes(odd), "patch.fxp").problems if p.code in ("U005", "U006")] == []


def _second_keyframe(corpus: Path) -> tuple[Path, tuple[int, int, int, int]]:
    """A corpus Vital preset and the indices of a keyframe (not the first) holding wave data."""
    for path in sorted((corpus / "vital").rglob("*.vital")):
        tables = json.loads(path.read_bytes()).get("settings", {}).get("wavetables", [])
        for t, table in enumerate(tables):
            for g, group in enumerate(table.get("groups", [])):
                for c, comp in enumerate(group.get("components", [])):
                    for k, keyframe in enumerate(comp.get("keyframes", [])):
                        if k >= 1 and "wave_data" in keyframe:
                            return path, (t, g, c, k)
    raise AssertionError("the corpus has Vital wavetables with several keyframes")


@pytest.mark.corpus
def test_vital_keyframe_nan_in_a_corpus_preset_reported_at_its_pointer(cli, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The issue's proof: a real Vital preset with a NaN in one keyframe gets W001 at that keyframe."""
    source, (t, g, c, k) = _second_keyframe(corpus)
    preset = json.loads(source.read_bytes())
    keyframe = preset["settings"]["wavetables"][t]["groups"][g]["components"][c]["keyframes"][k]
    wave = np.frombuffer(base64.b64decode(keyframe["wave_data"]), "<f4").copy()
    wave[100] = np.nan
    keyframe["wave_data"] = base64.b64encode(wave.tobytes()).decode()
    write_json(tmp_path / "nan.vital", preset)
    (tmp_path / "clean.vital").write_bytes(source.read_bytes())
    result = cli(["validate", str(tmp_path), "--select", "W", "-o", "json", "--exit-zero"])
    findings = json.loads(result.stdout)["findings"]
    pointer = f"/settings/wavetables/{t}/groups/{g}/components/{c}/keyframes/{k}/wave_data"
    assert [(Path(f["path"]).name, f["code"], f["pointer"]) for f in findings] == [
        ("nan.vital", "W001", pointer)]
    assert findings[0]["severity"] == "error" and "first at sample 100" in findings[0]["message"]


@pytest.mark.corpus
def test_the_corpus_has_no_embedded_audio_finding_but_what_is_documented(corpus: Path) -> None:
    """Every Vital and Surge file of the corpus decodes; none has NaN, silence or a bad length."""
    codes_seen: list[str] = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix.lower() not in (".vital", ".fxp") or not path.is_file():
            continue
        codes_seen += [v.code for v in embedded.violations(load(path.read_bytes(), path.name))]
    assert codes_seen == []


def test_a_vital_bank_member_is_checked_and_named(tmp_path: Path) -> None:
    import io
    import zipfile

    bad = sine_frame()
    bad[3] = np.nan
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("Bank/Presets/Good.vital", orjson.dumps(vital_preset()))
        z.writestr("Bank/Presets/Bad.vital", orjson.dumps(vital_preset([bad])))
    (v,) = embedded.violations(load(buf.getvalue(), "bank.vitalbank"))
    assert v.code == "W001" and v.location.entry == "Bank/Presets/Bad.vital"
    assert v.location.pointer == "/settings/wavetables/0/groups/0/components/0/keyframes/0/wave_data"


_floats = st.floats(allow_nan=True, allow_infinity=True, width=32)


_frames = st.builds(
    lambda zero, amp, off, edits: _edited(zero, amp, off, edits),
    st.booleans(), st.floats(0, 8, width=32), st.floats(-1, 1, width=32),
    st.lists(st.tuples(st.integers(0, 2047), _floats), max_size=6))


def _edited(zero: bool, amplitude: float, offset: float, edits: list[tuple[int, float]]) -> np.ndarray:
    frame = np.zeros(2048, dtype="<f4") if zero else sine_frame(amplitude=amplitude, offset=offset)
    for at, value in edits:
        frame[at] = value
    return frame


@settings(max_examples=200, deadline=None)
@given(_frames, st.booleans(), st.booleans())
def test_keyframe_checks_agree_with_a_plain_reading(frame: np.ndarray, normalize: bool, remove_dc: bool) -> None:
    got = {v.code: v for v in found(vital_preset([frame], normalize=normalize, remove_dc=remove_dc))}
    finite = np.isfinite(frame)
    assert ("W001" in got) == (not finite.all())
    if not finite.all():
        assert f"first at sample {int(np.argmin(finite))}:" in got["W001"].message
    clean = np.where(finite, frame, 0.0)
    assert ("W002" in got) == (not normalize and float(np.abs(clean).max()) > embedded.FAR_BEYOND)
    assert ("W003" in got) == (not remove_dc and abs(float(clean.mean(dtype=np.float64))) > embedded.DC_LIMIT)
    assert ("W004" in got) == (not frame.any())


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=0, max_size=12000), st.integers(-5, 100000))
def test_any_bytes_as_embedded_audio_give_findings_not_exceptions(data: bytes, length: int) -> None:
    preset = vital_preset()
    text = base64.b64encode(data).decode() or "A" * 300
    preset["settings"]["wavetables"][0]["groups"][0]["components"][0]["keyframes"][0]["wave_data"] = text.ljust(300, "=")  # type: ignore[index]
    preset["settings"]["sample"]["samples"] = text.ljust(300, "=")  # type: ignore[index]
    preset["settings"]["sample"]["length"] = length  # type: ignore[index]
    assert all(v.code in ("W001", "W002", "W003", "W004", "W005") for v in found(preset))
