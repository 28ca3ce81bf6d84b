"""An FM renderer for DX7 voices, vectorized across the voices of a batch.

One test note per voice (:class:`Audition`: middle C, velocity 100, 1 s held, 1 s released, at
16 kHz by default). The work is done in blocks of samples, with arrays over all voices and
operators at once:

1. Envelopes are piecewise-linear curves (:mod:`.envelope`), sampled every ``CONTROL`` samples
   and interpolated in between (the DX7 and msfa also update gains per block).
2. Phases: each operator's frequency (ratio mode: the note's frequency x coarse x (1 + fine/100),
   detuned; fixed mode: 10 ** (coarse % 4 + fine / 100) Hz), integrated over the pitch EG.
3. Feedback is the only recursion: the operators of each voice's feedback loop (one operator,
   or 6-5 / 6-5-4 in algorithms 6 and 4) run sample by sample, as numpy arrays over the voices
   that use feedback (and over segments of the block: :func:`_run_loops`). The loop adds
   (y[n-1] + y[n-2]) x 2 ** (fb - 9) cycles to the top operator's phase, as the DX7 does (the
   mean of two samples keeps it from oscillating at the Nyquist frequency).
4. Every operator is then computed over the whole block, operators 6 down to 1, each phase-
   modulated by the sum of its modulators' outputs (their gain is in cycles of phase); the
   feedback operators get the recursion's values added to their phase.
5. The output is the sum of the carriers / 16, so full scale 1.0 is where msfa's (Dexed's)
   output clips: one carrier at full level peaks at -18 dBFS, six at -2.5 dBFS.

Not modelled: the LFO (pitch and amplitude modulation), pitch bend and controllers, the
operators' free-running phase when oscillator key sync is off (phases always start at 0), the
DX7's DAC and its quantization noise. docs/audio.md lists what is approximated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from presetctl.engine.audio import envelope
from presetctl.engine.audio.algorithms import ALGORITHMS, OPERATORS
from presetctl.engine.audio.voicebatch import VoiceBatch

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
TWO_PI = 2.0 * np.pi
CONTROL = 16  # samples between envelope points (1 ms at 16 kHz)
FULL_SCALE = 16.0  # carrier gains (cycles) that make 0 dBFS
BLOCK = 1024  # samples computed at once (a multiple of CONTROL; the same for any batch, so a
# voice renders to the same samples whichever voices share its batch)
SEGMENT = 128  # feedback recursion: samples run in sequence (the rest of a block runs beside them)
WARMUP = 64  # samples a segment of the recursion starts early, from rest


@dataclass(frozen=True)
class Tables:
    """The chart as arrays, indexed [algorithm 0-31, operator index 0-5] (index = number - 1)."""

    modulation: npt.NDArray[np.uint8]  # [alg, target, source] = 1 when source modulates target
    carrier: npt.NDArray[np.uint8]  # [alg, op] = 1 for carriers
    feedback_to: npt.NDArray[np.int8]  # [alg] operator index receiving feedback
    loop_length: npt.NDArray[np.int8]  # [alg] operators in the feedback loop (1, 2 or 3)


@cache
def tables() -> Tables:
    """The chart as arrays (built once per process; read-only)."""
    mod = np.zeros((32, OPERATORS, OPERATORS), dtype=np.uint8)
    car = np.zeros((32, OPERATORS), dtype=np.uint8)
    fb_to = np.zeros(32, dtype=np.int8)
    length = np.zeros(32, dtype=np.int8)
    for a in ALGORITHMS:
        for m, t in a.edges:
            mod[a.number - 1, t - 1, m - 1] = 1
        for c in a.carriers:
            car[a.number - 1, c - 1] = 1
        fb_to[a.number - 1] = a.feedback_to - 1
        length[a.number - 1] = len(a.loop)
    for arr in (mod, car, fb_to, length):
        arr.setflags(write=False)
    return Tables(mod, car, fb_to, length)


@dataclass(frozen=True, slots=True)
class Audition:
    """The note every voice plays: a key, a velocity, how long it is held and then released."""

    note: int = 60
    velocity: int = 100
    hold: float = 1.0
    release: float = 1.0
    sample_rate: int = 16000

    @property
    def key_off(self) -> int:
        return int(round(self.hold * self.sample_rate))

    @property
    def length(self) -> int:
        return self.key_off + int(round(self.release * self.sample_rate))

    def describe(self) -> str:
        return (f"MIDI note {self.note}, velocity {self.velocity}, held {self.hold:g} s then released "
                f"{self.release:g} s, at {self.sample_rate} Hz")


@dataclass(frozen=True)
class Rendered:
    audio: F32  # [N, samples], full scale 1.0
    held_level: F64  # [N] highest output the held note can reach (sum of carrier gains), full scale 1.0
    note: Audition


def frequencies(batch: VoiceBatch, notes: npt.NDArray[np.int32]) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Each operator's frequency in Hz before the pitch EG ([N, 6]), and which ones are fixed."""
    op = batch.op
    coarse = op["freq_coarse"].astype(np.float64)
    fine = op["freq_fine"].astype(np.float64)
    detune = op["detune"].astype(np.float64) - 7.0
    base = 440.0 * np.exp2((notes.astype(np.float64) - 69.0) / 12.0)[:, None]
    octave = np.log2(base)
    # Detune: about 1 cent per step at middle C, more at low notes (Dexed's fit of a real DX7).
    detune_oct = detune * (0.0209 / 7.0) * np.exp(-0.396 * octave) * octave
    ratio = np.where(coarse == 0, 0.5, coarse) * (1.0 + fine / 100.0)
    fixed_hz = np.power(10.0, (op["freq_coarse"] & 3) + fine / 100.0) * np.exp2(detune * 13457 / 2**24)
    fixed = op["osc_mode"] == 1
    return np.where(fixed, fixed_hz, base * ratio * np.exp2(detune_oct)), fixed


@dataclass
class _Loop:
    """The voices whose feedback loop has ``length`` operators, and the loop's state (not frozen:
    ``w1``/``w2`` carry the recursion from one block to the next within one render call)."""

    voices: npt.NDArray[np.intp]
    ops: npt.NDArray[np.intp]  # [n, length] operator indices, loop top first
    scale: F64  # [n] 2 pi 2 ** (fb - 9): output (cycles) -> fed-back phase (radians)
    w1: F64  # fed-back phase one sample ago
    w2: F64  # two samples ago


def _loops(batch: VoiceBatch) -> list[_Loop]:
    tab = tables()
    alg = batch.algorithm.astype(np.intp)
    fb = batch.feedback.astype(np.int64)
    out = []
    for length in (1, 2, 3):
        voices = np.nonzero((fb > 0) & (tab.loop_length[alg] == length))[0]
        if not len(voices):
            continue
        top = tab.feedback_to[alg[voices]].astype(np.intp)
        ops = top[:, None] - np.arange(length)[None, :]  # loops run 6 -> 5 -> 4 (indices down)
        scale = TWO_PI * np.exp2(fb[voices] - 9.0)
        out.append(_Loop(voices, ops, scale, np.zeros(len(voices)), np.zeros(len(voices))))
    return out


def _run_loops(loops: list[_Loop], phase: F32, gain: F32, segment: int) -> list[F64]:
    """The fed-back phase (radians) each loop's top operator gets in this block: [block, n] each.

    The only per-sample loop of the renderer. To keep its Python steps few, the block is cut
    into segments of ``segment`` samples that run side by side as extra columns; each segment
    but the first starts ``WARMUP`` samples early from rest, and the recursion forgets its start
    within a few samples wherever the feedback is stable (feedback up to 5, and 6-7 at moderate
    levels). At feedback 6-7 near full level the DX7's feedback is chaotic: there the segments
    give the same spectrum as one sequence, not the same samples. ``segment`` >= the block
    length runs the exact recursion.
    """
    width = phase.shape[2]
    length = max(1, min(segment, width))
    count = -(-width // length)
    warm = WARMUP if count > 1 else 0
    rows = warm + length
    # Sample read by row t of segment k: k * length - warm + t (clamped; masked where invented).
    at = np.arange(count)[None, :] * length - warm + np.arange(rows)[:, None]  # [rows, count]
    valid = (at >= 0) & (at < width)
    at = np.clip(at, 0, width - 1)
    plans = []
    for lp in loops:
        n = len(lp.voices)
        a, mult = [], []
        for s in range(lp.ops.shape[1]):
            ph = phase[lp.voices, lp.ops[:, s], :]  # [n, width]
            gn = gain[lp.voices, lp.ops[:, s], :].astype(np.float64)
            gn = gn * (lp.scale[:, None] if s == lp.ops.shape[1] - 1 else TWO_PI)
            a.append(ph[:, at].transpose(1, 2, 0).reshape(rows, count * n).astype(np.float64))
            m = gn[:, at] * valid[None, :, :]
            mult.append(np.ascontiguousarray(m.transpose(1, 2, 0).reshape(rows, count * n)))
        w = np.zeros((rows + 2, count * n))
        w[warm], w[warm + 1] = 0.0, 0.0
        plans.append((a, mult, w, np.empty(count * n), lp))
    for t in range(rows):
        if t == warm:  # the first segment continues from the previous block's true state
            for _, _, w, _, lp in plans:
                w[t, : len(lp.voices)] = lp.w2
                w[t + 1, : len(lp.voices)] = lp.w1
        for a, mult, w, tmp, _ in plans:
            np.add(w[t], w[t + 1], out=tmp)
            tmp += a[0][t]
            np.sin(tmp, out=tmp)
            for s in range(1, len(a)):
                tmp *= mult[s - 1][t]
                tmp += a[s][t]
                np.sin(tmp, out=tmp)
            np.multiply(tmp, mult[-1][t], out=w[t + 2])
    extra = []
    for lp, (_, _, w, _, _) in zip(loops, plans, strict=True):
        n = len(lp.voices)
        fed = (w[warm : warm + length] + w[warm + 1 : warm + length + 1]).reshape(length, count, n)
        extra.append(fed.transpose(1, 0, 2).reshape(count * length, n)[:width])  # w(n-2) + w(n-1)
        last = (width - 1) // length  # the segment holding the block's last sample
        row = warm + (width - 1) - last * length + 2
        lp.w2, lp.w1 = w[row - 1, last * n : (last + 1) * n].copy(), w[row, last * n : (last + 1) * n].copy()
    return extra


def render(batch: VoiceBatch, note: Audition | None = None, segment: int = SEGMENT) -> Rendered:
    """Render ``note`` on every voice of ``batch`` (``segment``: see :func:`_run_loops`)."""
    note = note or Audition()
    n, total, rate = batch.size, note.length, float(note.sample_rate)
    tab = tables()
    alg = batch.algorithm.astype(np.intp)
    modulation = (TWO_PI * tab.modulation[alg]).astype(np.float32)  # [N, target, source], radians per cycle
    carriers = (tab.carrier[alg] / FULL_SCALE).astype(np.float32)[:, None, :]  # [N, 1, 6]
    notes = (note.note + batch.transpose.astype(np.int32) - 24).astype(np.int32)

    control_times = np.arange(0, total + 3 * CONTROL, CONTROL, dtype=np.float64)
    levels, held = envelope.amp_levels(batch, notes, note.velocity, rate, note.key_off, total, control_times)
    gains = envelope.gain(levels)  # [N, 6, controls]
    pitch = np.exp2(envelope.pitch_octaves(batch, rate, note.key_off, total, control_times))  # [N, controls]
    hz, fixed = frequencies(batch, notes)
    step = hz / rate  # cycles per sample
    fixed_ops = [(int(v), int(o), float(step[v, o])) for v, o in zip(*np.nonzero(fixed), strict=True)]
    loops = _loops(batch)

    padded = -(-total // CONTROL) * CONTROL  # whole control steps; trimmed at the end
    audio = np.zeros((n, padded), dtype=np.float32)
    elapsed = np.zeros(n)  # integral of the pitch multiplier, in samples
    size = BLOCK
    ramp = np.arange(CONTROL, dtype=np.float64) / CONTROL
    # Work buffers, reused by every block: fresh arrays of this size cost more in page faults
    # than the arithmetic done in them.
    cycles = np.empty((n, 6, size))
    whole = np.empty((n, 6, size))
    phase = np.empty((n, 6, size), dtype=np.float32)
    gain = np.empty((n, 6, size), dtype=np.float32)
    out = np.empty((n, 6, size), dtype=np.float32)
    arg = np.empty((n, 1, size), dtype=np.float32)
    for start in range(0, padded, size):
        stop = min(padded, start + size)
        width, first, steps = stop - start, start // CONTROL, (stop - start) // CONTROL
        g = gains[:, :, first : first + steps + 1]
        gv = gain[:, :, :width].reshape(n, 6, steps, CONTROL)
        np.multiply((g[:, :, 1:] - g[:, :, :-1])[..., None], ramp, out=gv, casting="same_kind")
        gv += g[:, :, :-1, None]
        p = pitch[:, first : first + steps + 1]
        mult = (p[:, :-1, None] + (p[:, 1:] - p[:, :-1])[..., None] * ramp).reshape(n, width)
        running = np.cumsum(mult, axis=1)
        ratio_time = elapsed[:, None] + running - mult  # pitch-weighted samples before each sample
        elapsed += running[:, -1]
        cyc, whl, ph = cycles[:, :, :width], whole[:, :, :width], phase[:, :, :width]
        np.multiply(step[:, :, None], ratio_time[:, None, :], out=cyc)
        for v, o, inc in fixed_ops:  # fixed frequencies ignore the pitch EG
            np.multiply(inc, np.arange(start, stop, dtype=np.float64), out=cyc[v, o])
        np.subtract(cyc, np.rint(cyc, out=whl), out=cyc)  # wrap to [-0.5, 0.5] cycles
        np.multiply(cyc, TWO_PI, out=ph, casting="same_kind")
        for lp, extra in zip(loops, _run_loops(loops, ph, gain[:, :, :width], segment), strict=True):
            ph[lp.voices, lp.ops[:, 0], :] += extra.T.astype(np.float32)
        ops, a = out[:, :, :width], arg[:, :, :width]
        for o in range(5, -1, -1):
            if o < 5:
                np.matmul(modulation[:, o : o + 1, o + 1 :], ops[:, o + 1 :, :], out=a)
                a += ph[:, o : o + 1, :]
            else:
                a[...] = ph[:, o : o + 1, :]
            np.sin(a, out=a)
            np.multiply(a[:, 0, :], gain[:, o, :width], out=ops[:, o, :])
        np.matmul(carriers, ops, out=audio[:, None, start:stop])
    held_level = np.sum(tab.carrier[alg] * envelope.gain(held), axis=1) / FULL_SCALE
    return Rendered(audio[:, :total], held_level, note)
