"""Vital presets (``.vital``: JSON) and banks (``.vitalbank``: a zip of presets and assets).

A Vital preset is one JSON object: ``author comments macro1..4 preset_name preset_style
settings synth_version``. ``settings`` holds ~780 numbers named like Vital's own parameters
plus a few structured keys (``modulations``, ``lfos``, ``wavetables``, ``sample``), where
wavetables and samples are embedded as base64 strings of up to several megabytes. Those are
never decoded here: they become lazy :class:`Blob` values, so loading costs about a JSON parse.

Parameter ranges are Vital's own (``ValueDetailsLookup`` in src/common/synth_parameters.cpp of
mtytel/vital, with the constants it folds in from synth_constants.h, distortion.h,
digital_svf.h, synth_lfo.h and synth_oscillator.h resolved to numbers). Vital stores values as
32-bit floats (``mono_float``, widened to double in the JSON), and so are its bounds: the range
rule compares within two float32 steps of a bound (``rules/parameters.within``).

Out of range, Vital plays a value as stored (``LoadSave::loadControls`` -> ``Value::set``, no
clamp; only the knob shows the nearest end), except the few values its editor uses, truncated to
an int, as an index into a name table without a bound check (``VoiceSection``, ``LfoSection``,
``OscillatorSection`` and ``SampleSection::setAllValues``): those read past the array.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import PurePath, PurePosixPath
from typing import Any

import orjson

from presetctl.engine import archive
from presetctl.engine.formats import sniff
from presetctl.engine.formats.base import (
    COMPACT_JSON_FACTS,
    JSON_FACTS,
    Blob,
    Document,
    DocumentFacts,
    LoadContext,
    Loader,
)
from presetctl.engine.formats.jsonutil import parse_json
from presetctl.engine.model import AssetRef, Effect, Location, Modulation, OutOfRange, Parameter, Preset, Violation
from presetctl.engine.pointer import escape as escape_pointer_token

# name min max, one per line; "{n}" groups are expanded below.
_GLOBAL = """
bypass 0 1|beats_per_minute 0.333333333 5|delay_dry_wet 0 1|delay_feedback -1 1|delay_frequency -2 9
delay_aux_frequency -2 9|delay_on 0 1|delay_style 0 3|delay_filter_cutoff 8 136|delay_filter_spread 0 1
delay_sync 0 3|delay_tempo 4 12|delay_aux_sync 0 3|delay_aux_tempo 4 12|distortion_on 0 1|distortion_type 0 5
distortion_drive -30 30|distortion_mix 0 1|distortion_filter_order 0 2|distortion_filter_cutoff 8 136
distortion_filter_resonance 0 1|distortion_filter_blend 0 2|legato 0 1|macro_control_1 0 1|macro_control_2 0 1
macro_control_3 0 1|macro_control_4 0 1|pitch_bend_range 0 48|polyphony 1 32|voice_tune -1 1
voice_transpose -48 48|voice_amplitude 0 1|stereo_routing 0 1|stereo_mode 0 1|portamento_time -10 4
portamento_slope -8 8|portamento_force 0 1|portamento_scale 0 1|reverb_pre_low_cutoff 0 128
reverb_pre_high_cutoff 0 128|reverb_low_shelf_cutoff 0 128|reverb_low_shelf_gain -6 0
reverb_high_shelf_cutoff 0 128|reverb_high_shelf_gain -6 0|reverb_dry_wet 0 1|reverb_delay 0 0.3
reverb_decay_time -6 6|reverb_size 0 1|reverb_chorus_amount 0 1|reverb_chorus_frequency -8 3|reverb_on 0 1
sub_on 0 1|sub_direct_out 0 1|sub_transpose -48 48|sub_transpose_quantize 0 8191|sub_tune -1 1|sub_level 0 1
sub_pan -1 1|sub_waveform 0 5|sample_on 0 1|sample_random_phase 0 1|sample_keytrack 0 1|sample_loop 0 1
sample_bounce 0 1|sample_transpose -48 48|sample_transpose_quantize 0 8191|sample_tune -1 1|sample_level 0 1
sample_destination 0 14|sample_pan -1 1|velocity_track -1 1|volume 0 7399.4404|phaser_on 0 1
phaser_dry_wet 0 1|phaser_feedback 0 1|phaser_frequency -5 2|phaser_sync 0 3|phaser_tempo 0 10
phaser_center 8 136|phaser_blend 0 2|phaser_mod_depth 0 48|phaser_phase_offset 0 1|flanger_on 0 1
flanger_dry_wet 0 0.5|flanger_feedback -1 1|flanger_frequency -5 2|flanger_sync 0 3|flanger_tempo 0 10
flanger_center 8 136|flanger_mod_depth 0 1|flanger_phase_offset 0 1|chorus_on 0 1|chorus_dry_wet 0 1
chorus_feedback -0.95 0.95|chorus_cutoff 8 136|chorus_spread 0 1|chorus_voices 1 4|chorus_frequency -6 3
chorus_sync 0 3|chorus_tempo 0 10|chorus_mod_depth 0 1|chorus_delay_1 -10 -5.64386|chorus_delay_2 -10 -5.64386
compressor_on 0 1|compressor_attack 0 1|compressor_release 0 1|compressor_enabled_bands 0 3|compressor_mix 0 1
compressor_low_band_unused 0 1|eq_on 0 1|eq_low_mode 0 1|eq_low_cutoff 8 136|eq_low_gain -15 15
eq_low_resonance 0 1|eq_band_mode 0 1|eq_band_cutoff 8 136|eq_band_gain -15 15|eq_band_resonance 0 1
eq_high_mode 0 1|eq_high_cutoff 8 136|eq_high_gain -15 15|eq_high_resonance 0 1|effect_chain_order 0 362879
voice_priority 0 4|voice_override 0 1|oversampling 0 3|pitch_wheel -1 1|mod_wheel 0 1|mpe_enabled 0 1
view_spectrogram 0 2
"""
_COMPRESSOR_BANDS = "".join(
    f"|compressor_{b}_upper_threshold -80 0|compressor_{b}_lower_threshold -80 0|compressor_{b}_upper_ratio 0 1"
    f"|compressor_{b}_lower_ratio -1 1|compressor_{b}_gain -30 30" for b in ("low", "band", "high"))
_ENV = ("delay 0 1.4142135624|attack 0 2.37842|hold 0 1.4142135624|decay 0 2.37842|release 0 2.37842"
        "|attack_power -20 20|decay_power -20 20|release_power -20 20|sustain 0 1")
_LFO = ("phase 0 1|sync_type 0 5|frequency -7 9|sync 0 4|tempo 0 12|fade_time 0 8|smooth_mode 0 1"
        "|smooth_time -10 4|delay_time 0 4|stereo -0.5 0.5|keytrack_transpose -60 36|keytrack_tune -1 1")
_RANDOM = ("style 0 3|frequency -7 9|sync 0 4|tempo 0 12|stereo 0 1|sync_type 0 1|keytrack_transpose -60 36"
           "|keytrack_tune -1 1")
_FILTER = ("mix 0 1|cutoff 8 136|resonance 0 1|drive 0 20|blend 0 2|style 0 9|model 0 7|on 0 1|blend_transpose 0 84"
           "|keytrack -1 1|formant_x 0 1|formant_y 0 1|formant_transpose -12 12|formant_resonance 0.3 1"
           "|formant_spread -1 1|osc1_input 0 1|osc2_input 0 1|osc3_input 0 1|sample_input 0 1|filter_input 0 1")
_OSC = ("on 0 1|transpose -48 48|transpose_quantize 0 8191|tune -1 1|pan -1 1|stack_style 0 10|unison_detune 0 10"
        "|unison_voices 1 16|unison_blend 0 1|detune_power -5 5|detune_range 0 48|level 0 1|midi_track 0 1"
        "|smooth_interpolation 0 1|spectral_unison 0 1|wave_frame 0 256|frame_spread -128 128|stereo_spread 0 1"
        "|phase 0 1|distortion_phase 0 1|random_phase 0 1|distortion_type 0 12|distortion_amount 0 1"
        "|distortion_spread -0.5 0.5|spectral_morph_type 0 11|spectral_morph_amount 0 1"
        "|spectral_morph_spread -0.5 0.5|destination 0 14|view_2d 0 2")
_MOD = "amount -1 1|power -10 10|bipolar 0 1|stereo 0 1|bypass 0 1"
# (prefix, member ids, template): env_1..6, lfo_1..8, random_1..4, osc_1..3, filter_1, filter_2, filter_fx,
# modulation_1..64 (kNumEnvelopes, kNumLfos, kNumRandomLfos, kNumOscillators, kMaxModulationConnections).
_GROUPS = (("env", range(1, 7), _ENV), ("lfo", range(1, 9), _LFO), ("random", range(1, 5), _RANDOM),
           ("osc", range(1, 4), _OSC), ("filter", (1, 2, "fx"), _FILTER), ("modulation", range(1, 65), _MOD))


def _f32(x: float) -> float:
    """The value Vital stores for ``x`` (it saves 32-bit floats)."""
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _parse_ranges(spec: str, prefix: str = "") -> Iterator[tuple[str, tuple[float, float]]]:
    for item in spec.replace("\n", "|").split("|"):
        if item.strip():
            name, lo, hi = item.split()
            yield prefix + name, (_f32(float(lo)), _f32(float(hi)))


def _build_ranges() -> dict[str, tuple[float, float]]:
    table = dict(_parse_ranges(_GLOBAL + _COMPRESSOR_BANDS))
    for prefix, ids, template in _GROUPS:
        for i in ids:
            table.update(_parse_ranges(template, f"{prefix}_{i}_"))
    return table


RANGES: Mapping[str, tuple[float, float]] = _build_ranges()
# Values Vital's editor reads as an index into a string table with no bound check (setAllValues of
# VoiceSection: kStereoModeNames; LfoSection: kSmoothModeNames; OscillatorSection: kSpectralMorphTypes,
# the distortion names, kDestinationNames; SampleSection: kDestinationNames).
INDEXED = frozenset({"stereo_mode", "sample_destination", *(f"lfo_{i}_smooth_mode" for i in range(1, 9)),
                     *(f"osc_{i}_{k}" for i in range(1, 4)
                       for k in ("spectral_morph_type", "distortion_type", "destination"))})
AS_STORED = OutOfRange("Vital", "Vital plays it as stored (the knob shows the nearest end), but never saves such a "
                                "value itself")
AS_INDEX = OutOfRange("Vital", "Vital's editor reads past the end of its name table when it shows the preset "
                               "(undefined behaviour: garbage text or a crash)", indexed=True)
_EFFECTS = ("chorus", "compressor", "delay", "distortion", "eq", "filter_fx", "flanger", "phaser", "reverb")
_BLOB_KINDS = {"samples": "sample", "samples_stereo": "sample", "wave_data": "wavetable", "audio_file": "wavetable"}
_CONTAINERS = frozenset({dict, list, str})
_MIN_BLOB_CHARS = 256  # shorter strings are names, not embedded data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return value if isinstance(value, str) else None


def _parameters(settings: Mapping[str, Any]) -> Iterator[Parameter]:
    ranges = RANGES
    for key, value in settings.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            bounds = ranges.get(key)
            yield Parameter(key, value, bounds[0] if bounds else None, bounds[1] if bounds else None,
                            pointer="/settings/" + escape_pointer_token(key),
                            out_of_range=AS_INDEX if key in INDEXED else AS_STORED)


def _modulations(settings: Mapping[str, Any]) -> tuple[Modulation, ...]:
    mods = settings.get("modulations")
    if not isinstance(mods, list):
        return ()
    out = []
    for i, m in enumerate(mods):
        if isinstance(m, dict):
            source, dest = m.get("source"), m.get("destination")
            if isinstance(source, str) and isinstance(dest, str) and source and dest:
                # A routing's amount lives in the parameter of its slot, not in the routing.
                out.append(Modulation(source, dest, _num(settings.get(f"modulation_{i + 1}_amount"))))
    return tuple(out)


def _on(settings: Mapping[str, Any], key: str) -> bool:
    value = _num(settings.get(key))
    return value is not None and value >= 0.5


def walk_blobs(settings: Any, limit: int, base: str = "/settings") -> Iterator[tuple[str, str, str]]:
    """(pointer, kind, base64 text) for each embedded wavetable, sample or other long string."""
    stack: list[tuple[str, Any, str]] = [(base, settings, "")]
    while stack:
        where, node, key = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if type(v) in _CONTAINERS:  # most values are floats: one type test each
                    stack.append((f"{where}/{escape_pointer_token(k)}", v, k))
        elif isinstance(node, list):
            if node and isinstance(node[0], (int, float)):
                continue  # LFO points, random values: numbers only
            for i, v in enumerate(node):
                if isinstance(v, (dict, list, str)):
                    stack.append((f"{where}/{i}", v, key))
        elif isinstance(node, str) and len(node) >= _MIN_BLOB_CHARS:
            yield where, _BLOB_KINDS.get(key, "embedded"), node


def _decoder(text: str, limit: int) -> Blob:
    """A lazy base64 decoder, bounded to ``limit`` output bytes."""
    chars = min(len(text), (limit // 3 + 1) * 4)

    def read() -> bytes:
        # Whitespace and other non-alphabet characters are skipped, as Vital's decoder does;
        # bad padding raises binascii.Error, which the scanners report.
        return base64.b64decode(text[:chars])[:limit]

    return Blob(Location(), "", read, len(text) * 3 // 4)


def blobs_of(raw: Mapping[str, Any], limit: int, entry: str = "") -> tuple[Blob, ...]:
    out = []
    for where, kind, text in walk_blobs(raw.get("settings"), limit):
        lazy = _decoder(text, limit)
        out.append(Blob(Location(pointer=where, entry=entry), kind, lazy.read, lazy.size_hint))
    return tuple(out)


def _sound_key(settings: Any) -> bytes:
    return orjson.dumps(settings, option=orjson.OPT_SORT_KEYS)


def build_preset(raw: Mapping[str, Any], stem: str, blobs: tuple[Blob, ...], index: int | None = None) -> Preset:
    settings = raw.get("settings")
    settings = settings if isinstance(settings, dict) else {}
    name = raw.get("preset_name")
    oscs = [i for i in (1, 2, 3) if _on(settings, f"osc_{i}_on")]
    unison = [int(v) for i in oscs if (v := _num(settings.get(f"osc_{i}_unison_voices"))) is not None]
    polyphony = _num(settings.get("polyphony"))
    return Preset(
        format="vital",
        name=name if isinstance(name, str) else stem,  # Vital shows the file name when the key is absent
        author=_text(raw, "author"),
        category=_text(raw, "preset_style"),
        description=_text(raw, "comments"),
        synth="Vital",
        synth_version=_text(raw, "synth_version"),
        voices=int(polyphony) if polyphony is not None else None,
        unison=max(unison) if unison else None,
        oscillators=len(oscs),
        modulations=_modulations(settings),
        effects=tuple(Effect(e, _on(settings, f"{e}_on")) for e in _EFFECTS if f"{e}_on" in settings),
        assets=tuple(AssetRef(b.kind, embedded_bytes=b.size_hint) for b in blobs),
        index=index,
        pointers={"name": "/preset_name" if isinstance(name, str) else "", "author": "/author",
                  "category": "/preset_style", "description": "/comments", "synth_version": "/synth_version",
                  "voices": "/settings/polyphony"},
        parameter_source=lambda: _parameters(settings),
        sound_key=lambda: _sound_key(settings),
    )


class VitalLoader(Loader):
    format_id = "vital"
    extensions = (".vital",)
    description = "Vital preset (JSON)"

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.vital(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        parsed = parse_json(data)
        facts = COMPACT_JSON_FACTS if parsed.compact else JSON_FACTS
        if not parsed.ok:
            return Document(self.format_id, data, problems=parsed.problems, text=True, parsed=False, facts=facts)
        raw = parsed.value
        presets: tuple[Preset, ...] = ()
        if isinstance(raw, dict):
            blobs = blobs_of(raw, ctx.max_decompressed)
            facts = replace(facts, blobs=blobs)
            presets = (build_preset(raw, PurePath(ctx.path).stem, blobs),)
        facts = replace(facts, members=(("", raw),))
        return Document(self.format_id, data, raw=raw, presets=presets, problems=parsed.problems, text=True,
                        facts=facts)


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


def _member_problem(code: str, message: str, entry: str, hint: str = "") -> Violation:
    return Violation(message, Location(entry=entry), code=code, hint=hint)


def _unreadable(entry: archive.ZipEntry, content: archive.Inflated | None, problem: str,
                ctx: LoadContext) -> Violation | None:
    """Why a bank member is not read (None when it is): links, encryption, limits, damage."""
    name = entry.name
    if entry.is_symlink or entry.is_special or entry.encrypted:
        what = "a symbolic link" if entry.is_symlink else "encrypted" if entry.encrypted else "a special file"
        return _member_problem("T011", f"member is {what}; not read", name)
    if content is None:
        return _member_problem("T012", f"member not read: the bank's {problem} ({ctx.max_decompressed} bytes) is "
                               "reached", name) if problem else None
    if problem == "ratio":
        return _member_problem("T012", f"member inflates past {ctx.max_ratio} times its compressed size "
                               f"({entry.compressed} bytes); looks like a decompression bomb", name)
    if problem == "limit":
        return _member_problem("T012", f"member inflates past {ctx.max_entry_size} bytes; not read further", name)
    if problem:
        return _member_problem("T011", f"member cannot be read: {problem}", name)
    inflated = len(content.data)
    if inflated > ctx.max_ratio * max(entry.compressed, 1) + (1 << 20):
        return _member_problem("T012", f"member inflates {inflated} bytes from {entry.compressed} "
                               f"(ratio over {ctx.max_ratio}); looks like a decompression bomb", name)
    return None


def _unsafe_name(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or (len(name) > 1 and name[1] == ":")


class VitalBankLoader(Loader):
    """A ``.vitalbank``: zip members read in memory under the run's limits, never extracted."""

    format_id = "vitalbank"
    extensions = (".vitalbank",)
    description = "Vital bank (zip of presets, wavetables, LFOs and samples)"

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.vital_bank(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        problems: list[Violation] = []
        presets: list[Preset] = []
        members: list[tuple[str, Any]] = []
        blobs: list[Blob] = []
        try:
            for entry, content, problem in archive.iter_zip_members(data, ctx.max_entries, ctx.max_entry_size,
                                                                    ctx.max_decompressed, ctx.max_ratio):
                self._member(entry, content, problem, ctx, problems, presets, members, blobs)
        except ValueError as exc:  # not a zip, or too many entries: nothing was inflated
            over = "over the limit" in str(exc)
            problems.append(Violation(f"bank has {exc}" if over else f"bank cannot be read: {exc}",
                                      Location(offset=0), code="T012" if over else "T010"))
            return Document(self.format_id, data, problems=tuple(problems), parsed=False)
        if not presets and not any(p.code == "T012" for p in problems):
            problems.append(Violation("bank holds no .vital preset", code="T013"))
        return Document(self.format_id, data, raw=None, presets=tuple(presets), problems=tuple(problems),
                        facts=DocumentFacts(members=tuple(members), blobs=tuple(blobs)))

    def _member(self, entry: archive.ZipEntry, content: archive.Inflated | None, problem: str, ctx: LoadContext,
                problems: list[Violation], presets: list[Preset], members: list[tuple[str, Any]],
                blobs: list[Blob]) -> None:
        name = entry.name
        if _unsafe_name(name):
            problems.append(_member_problem("T011", f"member path {name!r} escapes the bank folder", name,
                                            "an extractor would write outside its target folder"))
        refused = _unreadable(entry, content, problem, ctx)
        if refused is not None or content is None:
            problems.extend([refused] if refused is not None else [])
            return
        inflated = len(content.data)
        if not name.lower().endswith(".vital"):
            blobs.append(Blob(Location(entry=name), "archive-member", _constant(content.data), inflated))
            return
        parsed = parse_json(content.data)
        for v in parsed.problems:  # the member's own parse codes, located inside the member
            problems.append(Violation(v.message, Location(pointer=v.location.pointer, offset=v.location.offset,
                                                          entry=name), v.code, v.hint, v.data))
        members.append((name, parsed.value if parsed.ok else None))
        if parsed.ok and isinstance(parsed.value, dict):
            member_blobs = blobs_of(parsed.value, ctx.max_decompressed, entry=name)
            blobs.extend(member_blobs)
            stem = PurePosixPath(name.replace("\\", "/")).stem
            presets.append(build_preset(parsed.value, stem, member_blobs, index=len(presets) + 1))


LOADER = VitalLoader()
BANK_LOADER = VitalBankLoader()
