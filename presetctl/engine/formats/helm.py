"""Helm presets (``.helm``: JSON): ``license synth_version patch_name folder_name author settings``.

``settings`` holds 120-140 numbers named like Helm's parameters plus ``modulations`` as
``{source, destination, amount}``. Ranges are Helm's own (``ValueDetailsLookup`` in
src/common/helm_common.cpp of mtytel/helm, as of 0.9.0): the ranges of its knobs.

What Helm does on load (src/common/load_save.cpp, ``varToState`` and ``loadControls``), which
decides what is a defect:

- A patch without ``synth_version`` is taken as 0.4.1, and one of 0.4.1 or older is read with
  its whole top level as the settings (the layout before 0.4.2).
- Patches of 0.8.6 and older are converted: ``beats_per_minute`` / 60 (BPM to beats per
  second), oscillator and sub volumes, ``filter_type`` to filter styles, saturation to
  distortion (``distortion_drive = filter_saturation + 12``), ``cutoff - keytrack * 12`` for
  0.5.0 and older, wet mixes. Nothing clamps the results, and 0.9 saves them as they are: its
  own factory patches hold ``distortion_drive`` up to 72 and ``cutoff`` down to 21. A value in
  such a converted range is Helm's doing (``OutOfRange.written``), not the file's.
- No value is clamped on load (``Value::set``); the knob shows the nearest end. Only the DSP
  clamps a few: the oscillator waveform to 0-10, unison voices to 1-15, delay and reverb
  feedback to -1..1; an LFO waveform above 12 plays as smooth random.
- No ``settings`` object (in a patch newer than 0.4.1) or no ``modulations`` array: Helm
  dereferences a null pointer and crashes (rules H001, H009).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import PurePath
from typing import Any

import orjson

from presetctl.engine.formats import sniff
from presetctl.engine.formats.base import COMPACT_JSON_FACTS, JSON_FACTS, Document, LoadContext, Loader
from presetctl.engine.formats.jsonutil import parse_json
from presetctl.engine.model import Effect, Modulation, OutOfRange, Parameter, Preset
from presetctl.engine.pointer import escape as escape_pointer_token
from presetctl.engine.versions import compare_versions

_TABLE = """
amp_attack 0 4|amp_decay 0 4|amp_release 0 4|amp_sustain 0 1|arp_frequency -1 4|arp_gate 0 1|arp_octaves 1 4
arp_on 0 1|arp_pattern 0 4|arp_sync 0 3|arp_tempo 0 11|beats_per_minute 0.333333333 5|cross_modulation 0 0.5
cutoff 28 127|delay_dry_wet 0 1|delay_feedback -1 1|delay_frequency -2 5|delay_on 0 1|delay_sync 0 3
delay_tempo 0 11|distortion_on 0 1|distortion_type 0 3|distortion_drive -30 30|distortion_mix 0 1|fil_attack 0 4
fil_decay 0 4|fil_env_depth -128 128|fil_release 0 4|fil_sustain 0 1|filter_saturation -60 60|filter_drive -12 20
filter_blend 0 2|filter_type 0 6|filter_style 0 2|filter_shelf 0 2|filter_on 0 1|formant_on 0 1|formant_x 0 1
formant_y 0 1|keytrack -1 1|legato 0 1|mod_attack 0 4|mod_decay 0 4|mod_release 0 4|mod_sustain 0 1
noise_volume 0 1|num_steps 1 32|osc_feedback_amount -1 1|osc_feedback_transpose -24 24|osc_feedback_tune -1 1
osc_mix 0 1|pitch_bend_range 0 48|poly_lfo_amplitude -1 1|poly_lfo_frequency -7 6|poly_lfo_sync 0 3
poly_lfo_tempo 0 11|poly_lfo_waveform 0 12|polyphony 1 32|portamento -9 -1|portamento_type 0 2|resonance 0 1
reverb_damping 0 1|reverb_dry_wet 0 1|reverb_feedback 0.8 1|reverb_on 0 1|step_frequency -5 6
step_sequencer_retrigger 0 2|step_sequencer_sync 0 3|step_sequencer_tempo 0 11|step_smoothing 0 0.5
stutter_frequency 0 7|stutter_sync 0 3|stutter_tempo 6 11|stutter_on 0 1|stutter_resample_frequency -7 4
stutter_resample_sync 0 3|stutter_resample_tempo 0 11|stutter_softness 0 1|sub_shuffle 0 1|sub_octave 0 1
sub_volume 0 1|sub_waveform 0 10|unison_1_harmonize 0 1|unison_2_harmonize 0 1|velocity_track -1 1|volume 0 1.4143
"""
_LFO = "amplitude -1 1|frequency -7 6|retrigger 0 2|sync 0 3|tempo 0 11|waveform 0 12"
_OSC = "transpose -48 48|tune -1 1|unison_detune 0 100|unison_voices 1 15|volume 0 1|waveform 0 10"
LAST_LEGACY_VERSION = "0.8.6"  # the newest version whose files Helm converts on load
FIRST_STORED_VERSION = "0.4.1"  # what Helm assumes when synth_version is missing; <= it: the top level is the settings
# Knob ranges of 0.8.6 and older where they differ from 0.9.0. BPM (a unit change) and the sub
# oscillator's tuning (replaced by sub_octave in 0.9.0) come from the snapshots of helm_common before
# 0.9; the stutter frequencies were -7..6 there, and since the release that changed them is not known,
# old patches may hold either range.
LEGACY_RANGES: Mapping[str, tuple[float, float]] = {
    "beats_per_minute": (20.0, 300.0), "sub_transpose": (-12.0, 12.0), "sub_tune": (-1.0, 1.0),
    "stutter_frequency": (-7.0, 7.0), "stutter_resample_frequency": (-7.0, 6.0),
}
# What 0.9 saves beyond its knobs after converting an old patch (no clamp anywhere on that path):
# saturation -60..60 moved to distortion_drive as is (filter types >= 6) or + 12; the old stutter
# ranges, which 0.9 does not convert. cutoff depends on the patch's keytrack (see _cutoff_written).
CONVERTED: Mapping[str, tuple[float, float]] = {
    "distortion_drive": (-60.0, 72.0), "stutter_frequency": (-7.0, 7.0), "stutter_resample_frequency": (-7.0, 6.0),
}
NOTES_PER_OCTAVE = 12.0
DEPRECATED = frozenset({"osc_mix", "filter_saturation", "filter_type"})
_EFFECTS = ("delay", "distortion", "formant", "reverb", "stutter")
_FORK = "waveforms above {n} exist only in the Helm2025 fork"
AS_STORED = OutOfRange("Helm", "Helm plays it as stored (the knob shows the nearest end), but no Helm version saves "
                               "such a value")
# What Helm's DSP does with the values it clamps (helm_oscillators.cpp, helm_lfo.cpp, helm_engine.cpp).
_DSP: Mapping[str, str] = {
    **{f"osc_{i}_waveform": "Helm's oscillator clamps it to 10 (nine pyramid) when it plays, so the patch does not "
                            "sound as the file says; " + _FORK.format(n=10) for i in (1, 2)},
    **{f"{lfo}_waveform": "Helm plays every LFO waveform above 12 as smooth random (12), so the patch does not sound "
                          "as the file says; " + _FORK.format(n=12) for lfo in ("mono_lfo_1", "mono_lfo_2", "poly_lfo")},
    **{f"osc_{i}_unison_voices": "Helm clamps it to 1-15 voices when it plays" for i in (1, 2)},
    "delay_feedback": "Helm clamps it to -1..1 when it plays",
    "reverb_feedback": "Helm plays it as stored between -1 and 1 (its reverb clamps beyond), but no Helm version "
                       "saves such a value",
}
BEHAVIOUR: Mapping[str, OutOfRange] = {k: OutOfRange("Helm", v) for k, v in _DSP.items()}


def _parse(spec: str, prefix: str = "") -> Iterator[tuple[str, tuple[float, float]]]:
    for item in spec.replace("\n", "|").split("|"):
        if item.strip():
            name, lo, hi = item.split()
            yield prefix + name, (float(lo), float(hi))


def _build() -> dict[str, tuple[float, float]]:
    table = dict(_parse(_TABLE))
    for i in (1, 2):
        table.update(_parse(_LFO, f"mono_lfo_{i}_"))
        table.update(_parse(_OSC, f"osc_{i}_"))
    table.update((f"step_seq_{i:02d}", (-1.0, 1.0)) for i in range(32))
    return table


RANGES: Mapping[str, tuple[float, float]] = _build()


def version_of(raw: Mapping[str, Any]) -> str:
    """The version Helm uses for a patch: ``synth_version``, or 0.4.1 when it is missing."""
    version = raw.get("synth_version")
    if version is None:
        return FIRST_STORED_VERSION
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        return f"{version:g}"  # Helm reads the JSON value as text: 0.9 -> "0.9"
    return version if isinstance(version, str) else ""


def is_legacy(version: str) -> bool:
    """Saved by a Helm whose units the current Helm converts on load (0.8.6 or older)."""
    return compare_versions(version, LAST_LEGACY_VERSION) <= 0


def is_flat(raw: Mapping[str, Any]) -> bool:
    """Helm reads the patch's top level as its settings (version 0.4.1 or older, or no version)."""
    return compare_versions(version_of(raw), FIRST_STORED_VERSION) <= 0


def settings_of(raw: Mapping[str, Any]) -> tuple[Any, str]:
    """The settings object Helm reads and its JSON pointer (the top level in the 0.4.1 layout)."""
    if is_flat(raw):
        return raw, ""
    return raw.get("settings"), "/settings"


def ranges_for(version: str) -> Mapping[str, tuple[float, float]]:
    return {**RANGES, **LEGACY_RANGES} if is_legacy(version) else RANGES


def _cutoff_written(settings: Mapping[str, Any]) -> tuple[float, float]:
    """``cutoff`` 0.9 may save: the knob range, or an old one minus ``keytrack * 12`` (Helm's conversion
    of 0.5.0 patches, which keeps keytrack as it is)."""
    lo, hi = RANGES["cutoff"]
    keytrack = _num(settings.get("keytrack"))
    if keytrack is None or not -1.0 <= keytrack <= 1.0:
        return lo, hi
    shift = keytrack * NOTES_PER_OCTAVE
    return min(lo, lo - shift), max(hi, hi - shift)


def behaviours(settings: Mapping[str, Any], version: str) -> Mapping[str, OutOfRange]:
    """What Helm does, for this patch, with a value outside each parameter's knob range."""
    out = dict(BEHAVIOUR)
    if not is_legacy(version):  # 0.9 saves what it converted: those values are Helm's own
        written = {**CONVERTED, "cutoff": _cutoff_written(settings)}
        out.update((k, OutOfRange("Helm", AS_STORED.effect, written=w)) for k, w in written.items())
    return out


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _parameters(settings: Mapping[str, Any], base: str, version: str) -> Iterator[Parameter]:
    ranges = ranges_for(version)
    how = behaviours(settings, version)
    for key, value in settings.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            bounds = ranges.get(key)
            yield Parameter(key, value, bounds[0] if bounds else None, bounds[1] if bounds else None,
                            pointer=f"{base}/{escape_pointer_token(key)}", out_of_range=how.get(key, AS_STORED))


def _modulations(settings: Mapping[str, Any]) -> tuple[Modulation, ...]:
    mods = settings.get("modulations")
    if not isinstance(mods, list):
        return ()
    return tuple(Modulation(m["source"], m["destination"], _num(m.get("amount")))
                 for m in mods if isinstance(m, dict) and isinstance(m.get("source"), str)
                 and isinstance(m.get("destination"), str))


def build_preset(raw: Mapping[str, Any], stem: str) -> Preset:
    settings, base = settings_of(raw)
    settings = settings if isinstance(settings, dict) else {}
    name = raw.get("patch_name")
    oscs = [i for i in (1, 2) if (_num(settings.get(f"osc_{i}_volume")) or 0.0) > 0.0]
    unison = [int(v) for i in oscs if (v := _num(settings.get(f"osc_{i}_unison_voices"))) is not None]
    polyphony = _num(settings.get("polyphony"))
    version = version_of(raw)
    return Preset(
        format="helm",
        name=name if isinstance(name, str) else stem,  # Helm lists a patch by its file name
        author=_text(raw, "author"),
        category=_text(raw, "folder_name"),
        license=_text(raw, "license"),
        synth="Helm",
        synth_version=_text(raw, "synth_version"),
        voices=int(polyphony) if polyphony is not None else None,
        unison=max(unison) if unison else None,
        oscillators=len(oscs),
        modulations=_modulations(settings),
        effects=tuple(Effect(e, (_num(settings.get(f"{e}_on")) or 0.0) >= 0.5)
                      for e in _EFFECTS if f"{e}_on" in settings),
        pointers={"name": "/patch_name" if isinstance(name, str) else "", "author": "/author",
                  "category": "/folder_name", "license": "/license", "synth_version": "/synth_version",
                  "voices": f"{base}/polyphony"},
        parameter_source=lambda: _parameters(settings, base, version),
        sound_key=lambda: orjson.dumps(settings, option=orjson.OPT_SORT_KEYS),
    )


class HelmLoader(Loader):
    format_id = "helm"
    extensions = (".helm",)
    description = "Helm preset (JSON)"

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.helm(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        parsed = parse_json(data)
        facts = COMPACT_JSON_FACTS if parsed.compact else JSON_FACTS
        if not parsed.ok:
            return Document(self.format_id, data, problems=parsed.problems, text=True, parsed=False, facts=facts)
        raw = parsed.value
        presets = (build_preset(raw, PurePath(ctx.path).stem),) if isinstance(raw, dict) else ()
        facts = replace(facts, members=(("", raw),))
        return Document(self.format_id, data, raw=raw, presets=presets, problems=parsed.problems, text=True,
                        facts=facts)


LOADER = HelmLoader()
