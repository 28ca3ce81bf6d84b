"""Audio: DX7 voices that sound alike though their bytes differ (opt-in: it renders every voice).

Each distinct DX7 voice (by its sound bytes) is rendered once through the render cache
(:func:`presetctl.engine.audio.batch.measure`, in ``Options.jobs`` processes) and reduced to a
spectral fingerprint; a voice and the voices whose fingerprints lie within ``SOUND_ALIKE_DB`` of
it form a group (leaders first: the voice with the most such neighbours). This finds the re-saved, renamed and slightly tweaked
copies that byte and parameter comparisons miss (a one-step fine-tune change moves every
parameter-distance measure, but not the sound). Exact byte copies are ``duplicates.exact``;
here they are listed inside the group their sound belongs to. Silent voices are left out (they
all "sound alike") and listed under ``silent``.

Opt-in: ``presetctl stats --section audio``, or ``profile = "audio"`` in the config adds the
section to the default set. The first run over a library renders it (about 150 voices per
second per core); later runs read the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from presetctl.engine.audio import analysis, batch
from presetctl.engine.audio.cache import SqliteCache
from presetctl.engine.audio.render import Audition
from presetctl.engine.formats.dx7_syx import FIELDS
from presetctl.engine.stats.common import presets_of, table
from presetctl.engine.stats.duplicates import close_pairs
from presetctl.engine.stats.model import Envelope, FileFacts, ParamSchema, PresetFacts, Section, StatsContext
from presetctl.engine.workers import effective_jobs

FORMAT = "dx7-syx"


def _voice_values(p: PresetFacts, columns: dict[ParamSchema, list[int] | None]) -> tuple[int, ...] | None:
    """The 145 parameter values of a DX7 preset's facts, in the sysex field order."""
    if p.schema is None or p.values is None:
        return None
    if p.schema not in columns:
        where = {name: i for i, name in enumerate(p.schema.names)}
        columns[p.schema] = [where[f.name] for f in FIELDS] if all(f.name in where for f in FIELDS) else None
    cols = columns[p.schema]
    if cols is None:
        return None
    values = p.values[cols]
    if not np.all(np.isfinite(values)):
        return None
    return tuple(int(v) for v in values)


def _groups(refs: Sequence[list[str]], pi: npt.NDArray[np.intp], pj: npt.NDArray[np.intp]) -> list[list[int]]:
    """Groups around leaders: the sound with the most close neighbours leads a group of itself and
    its neighbours not yet grouped, and so on. Every member is close to its leader, so a group
    spans at most twice the threshold; chains of small steps never merge distant sounds."""
    near: dict[int, set[int]] = {}
    for a, b in zip(pi.tolist(), pj.tolist(), strict=True):
        near.setdefault(a, set()).add(b)
        near.setdefault(b, set()).add(a)
    order = sorted(near, key=lambda k: (-len(near[k]), min(refs[k])))
    taken: set[int] = set()
    out = []
    for leader in order:
        if leader in taken:
            continue
        members = [leader, *sorted(k for k in near[leader] if k not in taken)]
        if len(members) < 2:
            continue
        taken.update(members)
        out.append(members)
    return out


def _diameter(prints: npt.NDArray[np.float64]) -> float:
    """Largest RMS distance within a group (Gram matrix: m x m, never m x m x width)."""
    sq = np.einsum("ij,ij->i", prints, prints)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (prints @ prints.T)
    return float(np.sqrt(max(0.0, float(d2.max())) / prints.shape[1]))


def sound_alike(refs: Sequence[list[str]], prints: npt.NDArray[np.float64],
                threshold: float = analysis.SOUND_ALIKE_DB) -> list[dict[str, Any]]:
    """Groups of sounds (``refs[i]``: the voices holding sound ``i``; ``prints[i]``: its
    fingerprint) within ``threshold`` of their group's leader, with each group's largest distance."""
    count, width = prints.shape
    if count < 2 or width == 0:
        return []
    scale = float(np.sqrt(width))  # Euclidean / sqrt(width) = the RMS distance in dB
    pi, pj, _ = close_pairs(prints, threshold * scale)
    out = []
    for members in _groups(refs, pi, pj):
        paths = sorted(r for m in members for r in refs[m])
        out.append({"paths": paths, "distance": round(_diameter(prints[members]), 3)})
    return sorted(out, key=lambda g: (g["distance"], g["paths"][0]))


def _group_sounds(alike: Sequence[dict[str, Any]], sound_of: dict[str, int], refs_of: dict[tuple[int, ...], list[str]],
                  sounds: Sequence[tuple[int, ...]]) -> list[tuple[int, int, list[str]]]:
    """(group number, sound index, its voices) for each distinct sound of each sound-alike group:
    byte-identical copies share one row (and one picture)."""
    out = []
    for n, g in enumerate(alike, 1):
        for i in sorted({sound_of[ref] for ref in g["paths"]}, key=lambda i: min(refs_of[sounds[i]])):
            out.append((n, i, sorted(refs_of[sounds[i]])))
    return out


def opt_in_section() -> Section:
    """In place of the section when it was not asked for, so outputs keep one shape."""
    why = "opt-in (it renders every DX7 voice): presetctl stats --section audio, or profile = \"audio\" in the config"
    return Section("audio", {"available": False, "reason": why}, notes=(why,))


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    columns: dict[ParamSchema, list[int] | None] = {}
    refs_of: dict[tuple[int, ...], list[str]] = {}
    for p in presets_of(files):
        if p.format != FORMAT:
            continue
        values = _voice_values(p, columns)
        if values is not None:
            refs_of.setdefault(values, []).append(p.ref)
    sounds = list(refs_of)
    note = Audition()
    with SqliteCache() as cache:
        measured = batch.measure(sounds, cache, note, jobs=effective_jobs(ctx.options))
    audible = [i for i, s in enumerate(measured.sounds) if not s.silent]
    silent = sorted(r for i, s in enumerate(measured.sounds) if s.silent for r in refs_of[sounds[i]])
    prints = analysis.fingerprint_matrix([measured.sounds[i] for i in audible])
    alike = sound_alike([refs_of[sounds[i]] for i in audible], prints)
    envelopes = _group_sounds(alike, {ref: i for i, s in enumerate(sounds) for ref in refs_of[s]}, refs_of, sounds)
    seconds = note.hold + note.release
    voices = sum(len(r) for r in refs_of.values())
    data: dict[str, Any] = {
        "sound_alike": alike,
        "threshold_db": analysis.SOUND_ALIKE_DB,
        "voices": voices,
        "distinct": len(sounds),
        "rendered": measured.rendered,
        "cached": measured.cached,
        "silent": silent,
        "test_note": note.describe(),
        "renderer": batch.RENDERER,
        # The level over the test note of every voice in a group (RMS dBFS, evenly spaced over the note).
        "envelopes": [{"group": n, "voices": refs, "points": list(Envelope.of(measured.sounds[i].envelope, seconds).points)}
                      for n, i, refs in envelopes],
        "envelope_seconds": seconds,
        "envelope_key_up": note.hold,
    }
    tables = (
        table("sound_alike", f"DX7 voices that sound alike (fingerprint distance <= {analysis.SOUND_ALIKE_DB:g} dB)",
              ("group", "distance dB", "voices"),
              [(i, g["distance"], tuple(g["paths"])) for i, g in enumerate(alike, 1)], ctx.top),
        table("envelopes", "Level over the test note of the sounds that sound alike (RMS, -80 to 0 dBFS; key up "
              f"at {note.hold:g} s)", ("group", "voices", "peak dBFS", "RMS dBFS", "envelope"),
              [(n, tuple(refs), round(measured.sounds[i].peak_db, 1), round(measured.sounds[i].rms_db, 1),
                Envelope.of(measured.sounds[i].envelope, seconds, note.hold)) for n, i, refs in envelopes], ctx.top),
        table("silent", "Silent DX7 voices", ("voice",), [(r,) for r in silent], ctx.top),
    )
    notes = [f"{voices} DX7 voices ({len(sounds)} distinct sounds): {measured.rendered} rendered now, "
             f"{measured.cached} from the render cache; {len(alike)} groups sound alike, {len(silent)} silent",
             f"test note: {note.describe()}"]
    if measured.problem:
        notes.append(measured.problem)
    return Section("audio", data, tuple(t for t in tables if t.rows), (), tuple(notes))
