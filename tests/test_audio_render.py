"""The FM renderer against facts that do not depend on any other implementation.

Pitch from the note and the frequency ratios, silence from output levels, the carriers of the
DX7's algorithm chart (written out here independently of presetctl's own table), the DX7's
0.75 dB level steps, harmonics growing with feedback; and the vectorized renderer held against a
plain per-sample reference (hypothesis), as every optimization in presetctl is.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from audio_data import sine_voice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.audio import envelope, render
from presetctl.engine.audio.algorithms import ALGORITHMS
from presetctl.engine.audio.render import CONTROL, Audition
from presetctl.engine.audio.voice import INDEX, PARAMETERS, init_voice, pack_voice, voice_values, with_values
from presetctl.engine.audio.voicebatch import VoiceBatch
from presetctl.engine.formats.dx7_syx import FIELDS

RATE = 16000
MIDDLE_C = 440.0 * 2 ** ((60 - 69) / 12)  # 261.63 Hz

# The DX7 front-panel algorithm chart: the operators on the bottom row of each algorithm (the
# ones heard). Written from the chart, not from presetctl's table.
CHART_CARRIERS = {
    1: {1, 3}, 2: {1, 3}, 3: {1, 4}, 4: {1, 4}, 5: {1, 3, 5}, 6: {1, 3, 5}, 7: {1, 3}, 8: {1, 3},
    9: {1, 3}, 10: {1, 4}, 11: {1, 4}, 12: {1, 3}, 13: {1, 3}, 14: {1, 3}, 15: {1, 3}, 16: {1}, 17: {1},
    18: {1}, 19: {1, 4, 5}, 20: {1, 2, 4}, 21: {1, 2, 4, 5}, 22: {1, 3, 4, 5}, 23: {1, 2, 4, 5},
    24: {1, 2, 3, 4, 5}, 25: {1, 2, 3, 4, 5}, 26: {1, 2, 4}, 27: {1, 2, 4}, 28: {1, 3, 6},
    29: {1, 2, 3, 5}, 30: {1, 2, 3, 6}, 31: {1, 2, 3, 4, 5}, 32: {1, 2, 3, 4, 5, 6},
}


def rendered(voices: list[tuple[int, ...]], note: Audition | None = None, **kw: int) -> np.ndarray:
    return render.render(VoiceBatch.from_values(voices), note or Audition(), **kw).audio


def peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


def held_amplitude(samples: np.ndarray) -> float:
    return float(np.abs(samples[8000:16000]).max())


def test_ratio_one_renders_a_sine_at_the_note_and_ratio_two_doubles_it() -> None:
    audio = rendered([sine_voice(), sine_voice(op1_freq_coarse=2), sine_voice(op1_freq_coarse=0)])
    held = audio[:, 4000:16000]
    assert peak_hz(held[0]) == pytest.approx(MIDDLE_C, rel=0.01)
    assert peak_hz(held[1]) == pytest.approx(2 * MIDDLE_C, rel=0.01)
    assert peak_hz(held[2]) == pytest.approx(MIDDLE_C / 2, rel=0.01)  # coarse 0 is ratio 0.5
    # A pure sine: nothing but the fundamental (99.9% of the energy within a few bins).
    spectrum = np.abs(np.fft.rfft(held[0] * np.hanning(held.shape[1]))) ** 2
    k = int(round(MIDDLE_C * held.shape[1] / RATE))
    assert spectrum[k - 3 : k + 4].sum() / spectrum.sum() > 0.999


def test_fine_fixed_frequency_and_transpose() -> None:
    audio = rendered([
        sine_voice(op1_freq_fine=50),  # ratio 1.5
        sine_voice(op1_osc_mode=1, op1_freq_coarse=2, op1_freq_fine=0),  # fixed 100 Hz
        sine_voice(op1_osc_mode=1, op1_freq_coarse=3, op1_freq_fine=30),  # fixed 1000 * 10 ** 0.3 Hz
        sine_voice(transpose=36),  # an octave up
    ])
    held = audio[:, 4000:16000]
    assert peak_hz(held[0]) == pytest.approx(1.5 * MIDDLE_C, rel=0.01)
    assert peak_hz(held[1]) == pytest.approx(100.0, rel=0.01)
    assert peak_hz(held[2]) == pytest.approx(1000 * 10**0.3, rel=0.01)
    assert peak_hz(held[3]) == pytest.approx(2 * MIDDLE_C, rel=0.01)


def test_detune_moves_the_pitch_a_little_either_way() -> None:
    audio = rendered([sine_voice(op1_detune=0), sine_voice(), sine_voice(op1_detune=14)])
    zero_crossings = [np.count_nonzero(np.diff(np.signbit(row[:16000]))) for row in audio]
    low, centre, high = zero_crossings
    assert low < centre < high
    assert high - low < 0.03 * centre  # a few cents, not a semitone


def test_output_level_zero_on_every_carrier_is_silence_in_every_algorithm() -> None:
    voices = []
    for alg in ALGORITHMS:
        changes = {"algorithm": alg.number - 1, "feedback": 7}
        for op in range(1, 7):  # modulators at full level, carriers at 0
            changes[f"op{op}_output_level"] = 0 if op in CHART_CARRIERS[alg.number] else 99
        voices.append(with_values(init_voice(), changes))
    audio = rendered(voices)
    assert not np.any(audio)


def test_each_algorithms_carriers_are_the_operators_that_reach_the_output() -> None:
    """Operator k alone at full level: heard exactly when the chart makes it a carrier."""
    voices = []
    for alg in range(1, 33):
        for op in range(1, 7):
            changes = {"algorithm": alg - 1, **{f"op{o}_output_level": 99 if o == op else 0 for o in range(1, 7)}}
            voices.append(with_values(init_voice(), changes))
    audio = rendered(voices, Audition(hold=0.1, release=0.05))
    heard = np.abs(audio).max(axis=1) > 1e-3
    for alg in range(1, 33):
        reached = {op for op in range(1, 7) if heard[(alg - 1) * 6 + op - 1]}
        assert reached == CHART_CARRIERS[alg], alg
        assert ALGORITHMS[alg - 1].carriers == CHART_CARRIERS[alg], alg


def test_a_single_carrier_at_full_level_peaks_at_minus_18_dbfs() -> None:
    # The DX7's output stage: six carriers at full level reach about -2.5 dBFS, one about -18.
    one = held_amplitude(rendered([sine_voice()])[0])
    assert 20 * math.log10(one) == pytest.approx(-18.06, abs=0.05)


def test_eg_and_output_levels_step_by_the_dx7s_075_db() -> None:
    """8 level steps (above 20) are 6 dB: the amplitude halves for every 8 steps."""
    voices = [sine_voice(**{f"op1_eg_level{i}": lvl for i in (1, 2, 3)}) for lvl in (99, 91, 83, 75)]
    voices += [sine_voice(op1_output_level=lvl) for lvl in (99, 91, 83)]
    amps = [held_amplitude(row) for row in rendered(voices)]
    eg, out = amps[:4], amps[4:]
    for a, b in zip(eg, eg[1:], strict=False):
        assert b / a == pytest.approx(0.5, rel=0.02)
    for a, b in zip(out, out[1:], strict=False):
        assert b / a == pytest.approx(0.5, rel=0.02)


def test_envelope_stages_follow_the_levels_over_time() -> None:
    # Attack to 99, decay to 91 (-6 dB), sustain at 83 (-12 dB), release to 0.
    voice = sine_voice(op1_eg_rate1=99, op1_eg_rate2=60, op1_eg_rate3=60, op1_eg_level1=99, op1_eg_level2=91,
                       op1_eg_level3=83, op1_eg_rate4=70, op1_eg_level4=0)
    audio = rendered([voice])[0]
    window = 160
    level = [float(np.abs(audio[i : i + window]).max()) for i in range(0, len(audio) - window, window)]
    top = max(level)
    assert level[-1] == 0.0  # released to nothing
    sustain = level[(16000 - 2 * window) // window]
    assert sustain / top == pytest.approx(0.25, rel=0.03)  # level 83: 16 steps under 99


def test_velocity_sensitivity_lowers_soft_notes() -> None:
    voices = [sine_voice(op1_key_vel_sens=7), sine_voice(op1_key_vel_sens=0)]
    soft = rendered(voices, Audition(velocity=20))
    loud = rendered(voices, Audition(velocity=127))
    assert held_amplitude(soft[0]) < 0.25 * held_amplitude(loud[0])
    assert held_amplitude(soft[1]) == pytest.approx(held_amplitude(loud[1]), rel=1e-6)


def _harmonic_share(samples: np.ndarray, f0: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    k = int(round(f0 * len(samples) / RATE))
    return 1.0 - float(spectrum[k - 3 : k + 4].sum() / spectrum.sum())


def _centroid(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) ** 2
    return float((spectrum * np.arange(len(spectrum))).sum() / spectrum.sum() * RATE / len(samples))


def test_feedback_adds_harmonics_monotonically() -> None:
    # Operator 6 alone (algorithm 32: the feedback operator is a carrier).
    base = sine_voice(op1_output_level=0, op6_output_level=99)
    audio = rendered([with_values(base, {"feedback": fb}) for fb in range(8)])
    shares = [_harmonic_share(row[4000:16000], MIDDLE_C) for row in audio]
    bright = [_centroid(row[4000:16000]) for row in audio]
    assert shares[0] < 1e-3
    # Energy leaves the fundamental step by step until the loop turns chaotic at 6 (about 90%
    # of it in harmonics and noise from there); the brightness keeps rising through 7.
    assert all(b > a for a, b in zip(shares[:7], shares[1:7], strict=False)), shares
    assert all(b > a for a, b in zip(bright, bright[1:], strict=False)), bright


def test_feedback_loops_through_three_operators_in_algorithm_4() -> None:
    base = with_values(init_voice(), {"algorithm": 3, "op1_output_level": 0, "op4_output_level": 99,
                                      "op5_output_level": 60, "op6_output_level": 60})
    audio = rendered([with_values(base, {"feedback": fb}) for fb in (0, 4, 6)])
    shares = [_harmonic_share(row[4000:16000], MIDDLE_C) for row in audio]
    assert shares[0] < shares[1] < shares[2]


def test_segmented_feedback_equals_the_exact_recursion_where_it_is_stable() -> None:
    voices = [sine_voice(op1_output_level=0, op6_output_level=level, feedback=fb)
              for fb in range(1, 6) for level in (70, 85, 99)]
    voices.append(with_values(init_voice(), {"algorithm": 5, "op1_output_level": 0, "op5_output_level": 99,
                                             "op6_output_level": 80, "feedback": 3}))
    exact = rendered(voices, segment=10**9)
    fast = rendered(voices)
    assert np.abs(exact - fast).max() < 5e-3
    # Where the DX7's feedback is chaotic (6-7 at full level), the level still agrees.
    chaotic = [sine_voice(op1_output_level=0, op6_output_level=99, feedback=fb) for fb in (6, 7)]
    for e, f in zip(rendered(chaotic, segment=10**9), rendered(chaotic), strict=True):
        assert np.sqrt(np.mean(f**2)) == pytest.approx(np.sqrt(np.mean(e**2)), rel=0.05)


def test_a_voice_renders_the_same_alone_or_in_any_batch() -> None:
    rng = np.random.default_rng(5)
    voices = [tuple(int(rng.integers(0, f.maximum + 1)) for f in FIELDS) for _ in range(7)]
    together = rendered(voices)
    for i, v in enumerate(voices):
        assert np.array_equal(rendered([v])[0], together[i])


# --- the plain reference -------------------------------------------------------------------------

def reference(values: tuple[int, ...], note: Audition) -> np.ndarray:
    """One voice, one sample at a time, operator by operator, straight from the chart."""
    batch = VoiceBatch.from_values([values])
    notes = np.array([note.note + int(batch.transpose[0]) - 24], dtype=np.int32)
    total, rate = note.length, float(note.sample_rate)
    times = np.arange(0, total + 3 * CONTROL, CONTROL, dtype=np.float64)
    levels, _ = envelope.amp_levels(batch, notes, note.velocity, rate, note.key_off, total, times)
    gains = envelope.gain(levels)[0]
    pitch = np.exp2(envelope.pitch_octaves(batch, rate, note.key_off, total, times))[0]
    hz, fixed = render.frequencies(batch, notes)
    alg = ALGORITHMS[int(batch.algorithm[0])]
    fb = int(batch.feedback[0])
    history = [0.0, 0.0]
    elapsed = 0.0
    out = np.zeros(total)
    for n in range(total):
        j, r = divmod(n, CONTROL)
        frac = r / CONTROL
        y: dict[int, float] = {}
        for op in range(6, 0, -1):
            g = gains[op - 1, j] + (gains[op - 1, j + 1] - gains[op - 1, j]) * frac
            cycles = hz[0, op - 1] / rate * (n if fixed[0, op - 1] else elapsed)
            phase = 2 * math.pi * (cycles - round(cycles) + sum(y[m] for m in alg.modulators_of(op)))
            if fb and op == alg.feedback_to:
                phase += 2 * math.pi * 2.0 ** (fb - 9) * (history[0] + history[1])
            y[op] = g * math.sin(phase)
        if fb:
            history = [history[1], y[alg.feedback_from]]
        out[n] = sum(y[c] for c in alg.carriers) / 16.0
        elapsed += pitch[j] + (pitch[j + 1] - pitch[j]) * frac
    return out


_levels = st.integers(0, 99)
_voice = st.fixed_dictionaries({
    "algorithm": st.integers(0, 31), "feedback": st.integers(0, 4), "transpose": st.integers(12, 36),
    **{f"op{o}_output_level": _levels for o in range(1, 7)},
    **{f"op{o}_freq_coarse": st.integers(0, 8) for o in range(1, 7)},
    **{f"op{o}_freq_fine": st.integers(0, 99) for o in range(1, 7)},
    **{f"op{o}_osc_mode": st.sampled_from([0, 0, 0, 1]) for o in range(1, 7)},
    **{f"op{o}_eg_rate{i}": st.integers(30, 99) for o in range(1, 7) for i in range(1, 5)},
    **{f"op{o}_eg_level{i}": _levels for o in range(1, 7) for i in range(1, 5)},
    **{f"pitch_eg_level{i}": st.integers(40, 60) for i in range(1, 5)},
    **{f"pitch_eg_rate{i}": st.integers(50, 99) for i in range(1, 5)},
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_voice, min_size=1, max_size=4))
def test_vectorized_renderer_matches_the_plain_reference(changes: list[dict[str, int]]) -> None:
    note = Audition(hold=0.03, release=0.02)
    voices = [with_values(init_voice(), c) for c in changes]
    fast = render.render(VoiceBatch.from_values(voices), note, segment=10**9).audio
    for i, v in enumerate(voices):
        assert np.abs(fast[i] - reference(v, note)).max() < 2e-4


@settings(max_examples=200, deadline=None)
@given(st.tuples(*(st.integers(0, f.maximum) for f in FIELDS)), st.binary(min_size=10, max_size=10))
def test_packed_voices_decode_to_their_values(values: tuple[int, ...], name: bytes) -> None:
    name = bytes(b & 0x7F for b in name)
    packed = pack_voice(values, name)
    assert len(packed) == 128 and len(values) == PARAMETERS
    assert voice_values(packed) == values
    assert packed[118:128] == name


def test_out_of_range_values_are_clamped_as_a_dx7_clamps_them() -> None:
    wild = with_values(sine_voice(), {"op1_output_level": 127, "algorithm": 31})
    tame = with_values(sine_voice(), {"op1_output_level": 99})
    assert np.array_equal(rendered([wild])[0], rendered([tame])[0])
    assert INDEX["op1_output_level"] == next(i for i, f in enumerate(FIELDS) if f.name == "op1_output_level")
