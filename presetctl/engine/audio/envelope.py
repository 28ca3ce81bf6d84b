"""DX7 envelope generators, as piecewise-linear curves over time.

Amplitude EG (per operator; the DX7's behaviour as the msfa engine of Dexed documents it):
levels live in a log domain counted in *doublings* (1 doubling = 6.02 dB). An operator's gain
is ``2 ** (L - 14)`` in units of one cycle of phase: at output level 99 and EG level 99 the
level is 15 doublings, a gain of 2 cycles (a modulation index of 4 pi). Each stage moves the
level toward its target:

- falling: linearly in the log domain (exponentially in amplitude) at the stage's speed;
- rising: first a jump to 6.7 doublings (the DX7's attack starts about 40 dB above nothing),
  then faster the lower it is: speed x ``floor(17 - L)``, a curve that slows near the top.

The speed of rate ``R`` (0-99, plus keyboard rate scaling, capped at 63 after ``R * 41 >> 6``)
is ``(4 + q % 4) * 2 ** (2 + q // 4) / 2**24`` doublings per sample at 44.1 kHz. Targets are
``max(16, (scale(L) >> 1) * 64 + outlevel - 4256) / 256`` doublings, ``outlevel`` being the
scaled output level x 32 plus keyboard level scaling and velocity, in 1/256 doubling steps.
While the key is down the EG runs stages 1-3 and holds; at key-up it runs stage 4 from wherever
it is. A gain under 1120 / 2**24 is silence (the engine skips such operators).

Pitch EG: levels 0-99 map to -4..+4 octaves (50: none), linearly in both directions; its
rates and level curve are fitted to the DX7's (see :func:`peg_octaves`, :func:`peg_speed`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from presetctl.engine.audio.voicebatch import VoiceBatch

F64 = npt.NDArray[np.float64]
REFERENCE_RATE = 44100.0  # the rates above are per sample at this rate
JUMP = 1716 / 256  # doublings: where every attack starts
TOP = 17.0  # rising speed factor floor(TOP - L)
FLOOR = 16 / 256  # lowest target
GAIN_THRESHOLD = 1120 / 2**24  # gains below this are silence
UNITY = 14.0  # level at which the gain is 1 cycle


def scale_level(x: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
    """The DX7's level scale: 28 + x from 20 up; compressed below (a power law fitted to it)."""
    xi = x.astype(np.int32)
    low = np.rint(46.0 * (np.clip(xi, 0, 19) / 19.0) ** 0.6).astype(np.int32)
    return np.where(xi >= 20, 28 + xi, low)


def _exp_curve(group: npt.NDArray[np.int32]) -> F64:
    """Keyboard-scaling exponential curve by group of 3 keys: linear to 9, then doubling every
    ~4 groups, then +16 per group, capped at 250 (fitted to the DX7's curve)."""
    g = group.astype(np.float64)
    mid = 9.0 * np.exp2((g - 9.0) / 3.94)
    return np.where(g <= 9, g, np.where(g <= 24, mid, np.minimum(250.0, 126.0 + 16.0 * (g - 24))))


Notes = npt.NDArray[np.int32]  # [N]: each voice's MIDI note (the played key plus its transpose)


def level_scaling(batch: VoiceBatch, notes: Notes) -> npt.NDArray[np.int32]:
    """Keyboard level scaling at each voice's note, in scaled-level steps ([N, 6])."""
    op = batch.op
    offset = notes[:, None] - op["kbd_breakpoint"].astype(np.int32) - 17
    right = offset >= 0
    group = np.where(right, (offset + 1) // 3, (1 - offset) // 3).astype(np.int32)
    depth = np.where(right, op["kbd_right_depth"], op["kbd_left_depth"]).astype(np.int32)
    curve = np.where(right, op["kbd_right_curve"], op["kbd_left_curve"]).astype(np.int32)
    linear = (group * depth * 329) >> 12
    exponential = (_exp_curve(np.minimum(group, 32)) * depth * 329).astype(np.int64) >> 15
    scale = np.where((curve == 0) | (curve == 3), linear, exponential).astype(np.int32)
    return np.where(curve < 2, -scale, scale)


def velocity_offset(sensitivity: npt.NDArray[np.integer], velocity: int) -> F64:
    """Level change for ``velocity`` in 1/256 doubling steps: 0 near velocity 100, down to
    about -13 doublings at velocity 1 and sensitivity 7 (a power law fitted to the DX7's curve)."""
    v = min(127, max(1, velocity))
    value = 254.0 * (v / 127.0) ** 0.3 - 239.0
    out: F64 = np.asarray(sensitivity, dtype=np.float64) * (value * 2.0)
    return out


def rate_scaling(batch: VoiceBatch, notes: Notes) -> npt.NDArray[np.int32]:
    x = np.clip(notes // 3 - 7, 0, 31)[:, None]
    return (batch.op["kbd_rate_scaling"].astype(np.int32) * x) >> 3


def outlevels(batch: VoiceBatch, notes: Notes, velocity: int) -> F64:
    """Each operator's output level with scaling and velocity, in 1/256 doubling steps ([N, 6])."""
    scaled = np.minimum(127, scale_level(batch.op["output_level"]) + level_scaling(batch, notes)) * 32
    return np.asarray(np.maximum(0.0, scaled + velocity_offset(batch.op["key_vel_sens"], velocity)), dtype=np.float64)


def targets(batch: VoiceBatch, outlevel: F64) -> F64:
    """The four EG targets of each operator, in doublings ([N, 6, 4])."""
    eg = (scale_level(batch.eg_levels) >> 1) * 64
    return np.asarray(np.maximum(16.0, eg + outlevel[:, :, None] - 4256.0) / 256.0, dtype=np.float64)


def increments(batch: VoiceBatch, notes: Notes, sample_rate: float) -> F64:
    """Speed of each stage in doublings per sample at ``sample_rate`` ([N, 6, 4])."""
    q = np.minimum(63, ((batch.eg_rates.astype(np.int32) * 41) >> 6) + rate_scaling(batch, notes)[:, :, None])
    per_sample = (4 + (q & 3)) * np.exp2(2 + (q >> 2)) / 2**24
    return np.asarray(per_sample * (REFERENCE_RATE / sample_rate), dtype=np.float64)


def gain(level: F64) -> F64:
    """Gain (cycles of phase, or output units x 16) of a log level; silence under the threshold."""
    g = np.exp2(level - UNITY)
    g[g < GAIN_THRESHOLD] = 0.0
    return g


# --- one operator's curve -----------------------------------------------------------------------

def _move(t: float, level: float, target: float, inc: float, stop: float,
          ts: list[float], ls: list[float]) -> tuple[float, float, bool]:
    """Run one stage from (t, level) toward ``target``; append breakpoints; halt at ``stop``.
    Returns the time and level reached and whether the target was."""
    if target > level:
        if level < JUMP:
            level = min(JUMP, target)
            ts.append(t + 1e-9)
            ls.append(level)
        while level < target:
            whole = math.floor(level)
            speed = (16 - whole) * inc  # floor(17 - L) inside the band (whole, whole + 1)
            end = min(whole + 1.0, target)
            dt = (end - level) / speed
            if t + dt >= stop:
                level += (stop - t) * speed
                ts.append(stop)
                ls.append(level)
                return stop, level, False
            t += dt
            level = end
            ts.append(t)
            ls.append(level)
        return t, level, True
    dt = (level - target) / inc
    if t + dt >= stop:
        level -= (stop - t) * inc
        ts.append(stop)
        ls.append(level)
        return stop, level, False
    t += dt
    ts.append(t)
    ls.append(target)
    return t, target, True


def amp_curve(target: Sequence[float], inc: Sequence[float], key_off: float, end: float) -> tuple[list[float], list[float]]:
    """Breakpoints (samples, doublings) of one operator's EG for a note held ``key_off`` samples."""
    ts, ls = [0.0], [0.0]
    t, level = 0.0, 0.0
    for stage in range(3):
        t, level, reached = _move(t, level, target[stage], inc[stage], key_off, ts, ls)
        if not reached:
            break
    if t < key_off:
        ts.append(key_off)
        ls.append(level)
    _move(key_off, level, target[3], inc[3], end, ts, ls)
    return ts, ls


def amp_levels(batch: VoiceBatch, notes: Notes, velocity: int, sample_rate: float, key_off: int, end: int,
               times: F64) -> tuple[F64, F64]:
    """EG level (doublings) of every operator at ``times`` (samples): [N, 6, len(times)]; and the
    highest level each operator reaches while the key is held, however long ([N, 6])."""
    tg = targets(batch, outlevels(batch, notes, velocity))
    inc = increments(batch, notes, sample_rate)
    out = np.empty((batch.size, 6, len(times)))
    tgl, incl = tg.tolist(), inc.tolist()
    for v in range(batch.size):
        for o in range(6):
            ts, ls = amp_curve(tgl[v][o], incl[v][o], float(key_off), float(end))
            out[v, o] = np.interp(times, ts, ls)
    return out, tg[:, :, :3].max(axis=2)  # stages 1-3 reach their targets in turn


# --- pitch EG -----------------------------------------------------------------------------------

def peg_octaves(level: npt.NDArray[np.integer]) -> F64:
    """Pitch EG level -> octaves: 1/32 octave per step within 35 of 50, steeper to +-4 at 99 / 0."""
    d = level.astype(np.float64) - 50.0
    inner = 35.0 / 32.0
    steep = np.where(d < 0, (4.0 - inner) / 15.0, (4.0 - inner) / 14.0)
    return np.where(np.abs(d) <= 35, d / 32.0, np.sign(d) * (inner + (np.abs(d) - 35.0) * steep))


def peg_speed(rate: npt.NDArray[np.integer]) -> F64:
    """Pitch EG speed in octaves per second (fitted to the DX7: ~0.05 at rate 0, ~12 at 99)."""
    r = rate.astype(np.float64)
    units = np.where(r < 20, 1.0 + 0.55 * r, 12.0 * np.exp(0.0388 * (r - 20.0)))
    return units / 21.3


def _glide(t: float, level: float, target: float, speed: float, stop: float,
           ts: list[float], ls: list[float]) -> tuple[float, float, bool]:
    """Move linearly toward ``target`` at ``speed`` per sample; halt at ``stop``."""
    dt = abs(target - level) / speed
    if t + dt >= stop:
        level += math.copysign((stop - t) * speed, target - level)
        ts.append(stop)
        ls.append(level)
        return stop, level, False
    ts.append(t + dt)
    ls.append(target)
    return t + dt, target, True


def _linear_curve(start: float, target: Sequence[float], speed: Sequence[float], key_off: float,
                  end: float) -> tuple[list[float], list[float]]:
    ts, ls = [0.0], [start]
    t, level = 0.0, start
    for stage in range(3):
        t, level, reached = _glide(t, level, target[stage], speed[stage], key_off, ts, ls)
        if not reached:
            break
    if t < key_off:
        ts.append(key_off)
        ls.append(level)
    _glide(key_off, level, target[3], speed[3], end, ts, ls)
    return ts, ls


def pitch_octaves(batch: VoiceBatch, sample_rate: float, key_off: int, end: int, times: F64) -> F64:
    """Pitch EG offset in octaves at ``times`` (samples), [N, len(times)]."""
    levels = peg_octaves(batch.pitch_levels)
    speeds = peg_speed(batch.pitch_rates) / sample_rate
    out = np.zeros((batch.size, len(times)))
    flat = np.all(levels == 0.0, axis=1)
    for v in np.nonzero(~flat)[0].tolist():
        lv = levels[v].tolist()
        ts, ls = _linear_curve(lv[3], lv, speeds[v].tolist(), float(key_off), float(end))
        out[v] = np.interp(times, ts, ls)
    return out
