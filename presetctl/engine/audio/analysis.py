"""What a rendered test note measures: level, onset, release, and a spectral fingerprint.

Levels are in dBFS (full scale 1.0). A voice is *audible* where a 5 ms frame peaks at
``SILENT_DB`` or more. The *onset* is the first frame within ``ONSET_RANGE`` dB of the level
the held note can reach (an analytic bound from the envelopes: FM does not change a carrier's
amplitude, so the carriers' gains bound the output), so a swell that starts as a whisper has its
onset where it becomes part of the sound.

The fingerprint describes the timbre and its evolution, not the loudness: for four stretches of
the note (attack 0-100 ms, early 100-400 ms, held 400-1000 ms, release 1000-1400 ms) the energy
in 24 overlapping bands spaced evenly in log frequency (100 Hz - 7 kHz), in dB relative to the
voice's loudest band, floored at -60 dB. :func:`distance` is the root-mean-square difference of
two fingerprints in dB. Measured on the DX7 ROM1A bank: a copy with one step of fine tune on
one operator is within 1.7 dB (median), 3.5 dB (90%) of the original; the two closest different
voices of the bank are 7.1 dB apart. :data:`SOUND_ALIKE_DB` sits between (docs/audio.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt

from presetctl.engine.audio.levels import FLOOR_DB, ONSET_RANGE, SILENT_DB
from presetctl.engine.audio.render import Audition, Rendered

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
__all__ = ["FLOOR_DB", "ONSET_RANGE", "SILENT_DB", "VoiceSound", "analyse", "distance"]
FRAME_S = 0.005  # level frames
WINDOW_S = 0.1  # key-up and end-of-release level windows
ENVELOPE_POINTS = 40  # envelope picture points (50 ms each over 2 s)
BANDS = 24
BAND_LOW, BAND_HIGH = 100.0, 7000.0
# Stretches of the note, as fractions of the hold (h) and release (r) times: for the default
# 1 s + 1 s, 0-100 ms, 100-400 ms, 400-1000 ms and 1000-1400 ms.
SEGMENTS = ((0.0, 0.0, 0.1, 0.0), (0.1, 0.0, 0.4, 0.0), (0.4, 0.0, 1.0, 0.0), (1.0, 0.0, 1.0, 0.4))  # (h, r) start, end
FINGERPRINT_FLOOR = -60.0
FFT_SIZE = 512
SOUND_ALIKE_DB = 3.5  # fingerprints this close (RMS dB) sound alike
FINGERPRINT_SIZE = BANDS * len(SEGMENTS)


@dataclass(frozen=True, slots=True)
class VoiceSound:
    """The measurements of one voice's test note (what the rules and the stats section use)."""

    peak_db: float  # whole note
    held_peak_db: float  # while the key is down
    rms_db: float  # RMS while the key is down
    reachable_db: float  # the most the held note can reach (analytic)
    onset_ms: float | None  # None: no onset within the render
    keyup_db: float  # RMS over the last 100 ms before key-up
    release_db: float  # RMS over the last 100 ms of the release
    held_max_db: float  # loudest 100 ms RMS while the key is down
    fingerprint: tuple[float, ...]  # FINGERPRINT_SIZE values, dB
    envelope: tuple[float, ...]  # ENVELOPE_POINTS RMS values, dBFS

    @property
    def silent(self) -> bool:
        return self.held_peak_db < SILENT_DB

    def to_bytes(self) -> bytes:
        head = [self.peak_db, self.held_peak_db, self.rms_db, self.reachable_db,
                np.nan if self.onset_ms is None else self.onset_ms, self.keyup_db, self.release_db, self.held_max_db]
        return np.array([*head, *self.fingerprint, *self.envelope], dtype="<f4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> VoiceSound:
        v = np.frombuffer(data, dtype="<f4").astype(np.float64)
        if len(v) != 8 + FINGERPRINT_SIZE + ENVELOPE_POINTS:
            raise ValueError(f"a stored analysis has {len(v)} values")
        head = [float(x) for x in v[:8]]
        return cls(peak_db=head[0], held_peak_db=head[1], rms_db=head[2], reachable_db=head[3],
                   onset_ms=None if np.isnan(v[4]) else head[4], keyup_db=head[5], release_db=head[6],
                   held_max_db=head[7], fingerprint=tuple(v[8 : 8 + FINGERPRINT_SIZE].tolist()),
                   envelope=tuple(v[8 + FINGERPRINT_SIZE :].tolist()))


def db(x: F64 | float) -> F64:
    """Amplitude -> dBFS, with silence at FLOOR_DB."""
    with np.errstate(divide="ignore"):
        return np.maximum(FLOOR_DB, 20.0 * np.log10(np.asarray(x, dtype=np.float64)))


def _frames(audio: F32, size: int) -> F64:
    count = audio.shape[1] // size
    return audio[:, : count * size].astype(np.float64).reshape(audio.shape[0], count, size)


@cache
def _filterbank(rate: int) -> F64:
    """Triangular filters [BANDS, FFT_SIZE // 2 + 1], centres log-spaced BAND_LOW..BAND_HIGH."""
    freqs = np.fft.rfftfreq(FFT_SIZE, 1.0 / rate)
    edges = np.geomspace(BAND_LOW / 1.2, BAND_HIGH * 1.2, BANDS + 2)
    logf = np.log(np.maximum(freqs, 1e-9))
    le = np.log(edges)
    bank = np.zeros((BANDS, len(freqs)))
    for b in range(BANDS):
        lo, mid, hi = le[b], le[b + 1], le[b + 2]
        bank[b] = np.clip(np.minimum((logf - lo) / (mid - lo), (hi - logf) / (hi - mid)), 0.0, None)
    bank.setflags(write=False)
    return bank


def _fingerprints(audio: F32, note: Audition) -> F64:
    rate = note.sample_rate
    hop = FFT_SIZE // 2
    padded = np.pad(audio, ((0, 0), (0, max(0, FFT_SIZE - audio.shape[1]))))  # notes shorter than a frame
    count = (padded.shape[1] - FFT_SIZE) // hop + 1
    starts = np.arange(count) * hop
    window = np.hanning(FFT_SIZE).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(padded, FFT_SIZE, axis=1)[:, starts, :] * window
    power = np.abs(np.fft.rfft(frames, axis=2)) ** 2  # [N, frames, bins]
    centres = starts + FFT_SIZE / 2
    bank = _filterbank(rate)
    parts = []
    for h0, r0, h1, r1 in SEGMENTS:
        lo = (h0 * note.hold + r0 * note.release) * rate
        hi = (h1 * note.hold + r1 * note.release) * rate
        sel = (centres >= lo) & (centres < hi)
        if not sel.any():  # a stretch shorter than the hop: the frame nearest its middle
            sel = np.arange(count) == int(np.argmin(np.abs(centres - (lo + hi) / 2)))
        parts.append(power[:, sel, :].mean(axis=1) @ bank.T)  # [N, BANDS]
    energy = np.concatenate(parts, axis=1)
    level = 10.0 * np.log10(np.maximum(energy, 1e-30))  # silence: equal bands, not NaN
    top = np.max(level, axis=1, keepdims=True)
    return np.asarray(np.clip(level - top, FINGERPRINT_FLOOR, 0.0), dtype=np.float64)


def analyse(rendered: Rendered) -> list[VoiceSound]:
    """Measure every voice of a render."""
    audio, note = rendered.audio, rendered.note
    rate, key_off = note.sample_rate, note.key_off
    size = int(round(FRAME_S * rate))
    frame_peak = db(np.abs(_frames(audio, size)).max(axis=2))  # [N, frames]
    mag = np.abs(audio)
    peak = db(mag.max(axis=1))
    held_peak = db(mag[:, :key_off].max(axis=1))
    rms = db(np.sqrt(np.mean(np.square(audio[:, :key_off], dtype=np.float64), axis=1)))
    window = max(1, min(int(round(WINDOW_S * rate)), key_off, audio.shape[1] - key_off))
    keyup = db(np.sqrt(np.mean(np.square(audio[:, key_off - window : key_off], dtype=np.float64), axis=1)))
    release = db(np.sqrt(np.mean(np.square(audio[:, -window:], dtype=np.float64), axis=1)))
    held_windows = _frames(audio[:, :key_off], window)
    held_max = db(np.sqrt(np.mean(np.square(held_windows), axis=2)).max(axis=1))
    reachable = db(rendered.held_level)
    threshold = np.maximum(SILENT_DB, reachable - ONSET_RANGE)[:, None]
    started = frame_peak >= threshold
    first = np.argmax(started, axis=1)
    any_start = np.asarray(started.any(axis=1), dtype=bool)
    env_size = audio.shape[1] // ENVELOPE_POINTS
    envelope = db(np.sqrt(np.mean(np.square(_frames(audio, env_size)), axis=2)))
    prints = _fingerprints(audio, note)
    out = []
    for i in range(audio.shape[0]):
        onset = float(first[i] * FRAME_S * 1000.0) if any_start[i] else None
        out.append(VoiceSound(float(peak[i]), float(held_peak[i]), float(rms[i]), float(reachable[i]), onset,
                              float(keyup[i]), float(release[i]), float(held_max[i]),
                              tuple(np.round(prints[i], 3).tolist()), tuple(np.round(envelope[i], 2).tolist())))
    return out


def distance(a: VoiceSound, b: VoiceSound) -> float:
    """Root-mean-square difference of two fingerprints, in dB."""
    fa, fb = np.asarray(a.fingerprint), np.asarray(b.fingerprint)
    return float(np.sqrt(np.mean((fa - fb) ** 2)))


def fingerprint_matrix(sounds: list[VoiceSound]) -> F64:
    return np.array([s.fingerprint for s in sounds], dtype=np.float64).reshape(len(sounds), FINGERPRINT_SIZE)
