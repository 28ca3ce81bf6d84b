"""Measuring many DX7 voices: deduplicated, looked up in a render cache, the rest rendered in batches.

This is the one entry point the rules and the stats section call. Voices are keyed by the
sha256 of their sound bytes (:func:`~presetctl.engine.audio.dx7.sound_bytes`); a cache entry is
also tied to :func:`version`, which names the renderer, the test note and the analysis layout.
Missing voices are rendered ``BATCH`` at a time (numpy arrays over the whole batch), in
``jobs`` worker processes when there is enough work for more than one.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from presetctl.engine.audio.analysis import ENVELOPE_POINTS, FINGERPRINT_SIZE, VoiceSound, analyse
from presetctl.engine.audio.cache import RenderCache, usable
from presetctl.engine.audio.render import Audition, render
from presetctl.engine.audio.voice import sound_bytes
from presetctl.engine.audio.voicebatch import VoiceBatch

RENDERER = "presetctl-dx7-fm 1"  # bump when the renderer or the analysis changes what they measure
BATCH = 32  # voices rendered at once: amortizes the per-sample steps, stays in the CPU caches
Voice = Sequence[int]  # the 145 parameter values of a voice, in dx7_syx.FIELDS order


def version(note: Audition) -> str:
    return f"{RENDERER}; {note.describe()}; {FINGERPRINT_SIZE}+{ENVELOPE_POINTS} values"


def voice_key(values: Voice) -> str:
    return hashlib.sha256(sound_bytes(values)).hexdigest()


@dataclass(frozen=True)
class Measured:
    sounds: tuple[VoiceSound, ...]  # one per voice asked for, in order
    rendered: int  # distinct voices rendered now
    cached: int  # distinct voices found in the cache
    problem: str = ""  # why the cache could not be used, if it could not


def _measure_chunk(voices: Sequence[tuple[int, ...]], note: Audition) -> list[VoiceSound]:
    return analyse(render(VoiceBatch.from_values(voices), note))


def render_all(voices: Sequence[tuple[int, ...]], note: Audition, jobs: int = 1) -> list[VoiceSound]:
    """Measurements of ``voices`` (no cache), in order; ``jobs`` > 1 uses worker processes."""
    chunks = [list(voices[i : i + BATCH]) for i in range(0, len(voices), BATCH)]
    if jobs <= 1 or len(chunks) < 2:
        return [s for c in chunks for s in _measure_chunk(c, note)]
    results: list[list[VoiceSound] | None] = [None] * len(chunks)
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
        futures: dict[Future[list[VoiceSound]], int] = {pool.submit(_measure_chunk, c, note): i
                                                         for i, c in enumerate(chunks)}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when="FIRST_EXCEPTION")
                for fut in done:
                    results[futures[fut]] = fut.result()
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return [s for r in results if r is not None for s in r]


def measure(voices: Sequence[Voice], cache: RenderCache | None = None, note: Audition | None = None,
            jobs: int = 1) -> Measured:
    """Each voice's measurements: from ``cache`` where present, rendered (and stored) otherwise."""
    note = note or Audition()
    ver = version(note)
    keys = [voice_key(v) for v in voices]
    distinct: dict[str, tuple[int, ...]] = {}
    for k, v in zip(keys, voices, strict=True):
        distinct.setdefault(k, tuple(v))
    found: dict[str, VoiceSound] = {}
    problem = ""
    if cache is not None:
        cache, problem = usable(cache, ver)
        for k, raw in cache.get_many(ver, list(distinct)).items():
            try:
                found[k] = VoiceSound.from_bytes(raw)
            except ValueError:
                continue  # a damaged entry is a miss; the new value replaces it
    missing = [k for k in distinct if k not in found]
    for k, s in zip(missing, render_all([distinct[k] for k in missing], note, jobs), strict=True):
        found[k] = s
    if cache is not None and missing:
        try:
            cache.put_many(ver, {k: found[k].to_bytes() for k in missing})
        except (sqlite3.Error, OSError) as exc:
            problem = problem or f"render cache not updated ({type(exc).__name__}: {exc})"
    return Measured(tuple(found[k] for k in keys), len(missing), len(distinct) - len(missing), problem)
