"""Embedded audio: the wavetables and samples presets carry, decoded lazily and checked with numpy.

Only the loaders' blobs (``Document.facts.blobs``) are decoded, each once, when this runs.
What each synth stores and accepts:

- Vital: a wavetable keyframe's ``wave_data`` is 2048 little-endian float32 samples in base64
  (Vital copies exactly 8192 bytes: fewer makes it read past the data). ``sample.samples`` (and
  ``samples_stereo``) is 16-bit PCM in base64, ``length`` samples long at ``sample_rate``; Vital
  copies ``length`` samples whatever the data holds and keeps at most 1,764,000. A wavetable's
  ``remove_all_dc`` and ``full_normalize`` (off before versions 0.3.8 and 0.4.7) decide whether
  Vital removes a DC offset and normalizes the level itself. From version 0.3.7 to 0.3.8
  ``wave_data`` was 16-bit PCM.
- Surge XT: each wavetable block is a 12-byte header (samples per table, tables, flags) and
  the tables, float32 or 16-bit (flag 4; full scale 16384, or 32768 with flag 8). Surge indexes
  tables with power-of-two masks, so other sizes play the wrong stretch of samples.
- presetctl JSON defines no embedded audio (samples and wavetables are asset references);
  ZynAddSubFX instruments hold parameters, not samples; u-he presets keep their binary data in
  an undocumented encoding after ``$$$$``: none of them has anything to decode here.

Checks, each finding at the blob's pointer (and byte offset) naming the frame and sample:
W001 NaN or infinity, W002 float samples beyond twice full scale that the synth plays as they
are, W003 a DC offset the synth keeps, W004 an all-zero table or sample in an oscillator or
sampler that is on, W005 a length or sample rate the synth does not accept.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from presetctl.engine.formats.base import Blob, Document
from presetctl.engine.model import Location, Violation

F32 = npt.NDArray[np.float32]
FAR_BEYOND = 2.0  # float samples past this (+6 dBFS) are far beyond full scale
DC_LIMIT = 0.1  # a frame whose mean is past this (-20 dBFS) carries a DC offset
VITAL_FRAME = 2048
VITAL_MAX_SAMPLES = 1_764_000
SURGE_HEADER = 12
FORMATS = frozenset({"vital", "vitalbank", "surge-fxp"})


@dataclass(frozen=True, slots=True)
class Signal:
    """Decoded audio as frames x samples (a sample is one frame)."""

    location: Location
    what: str  # how messages name it: "wavetable 1 keyframe 2 (position 64)"
    frames: F32
    frame_word: str  # "keyframe", "table", "" (a single sample)
    floating: bool  # float data: NaN and beyond-full-scale values are possible
    dc_removed: bool = False  # the synth removes a DC offset itself
    normalized: bool = False  # the synth normalizes the level itself
    used: bool = True  # its oscillator or sampler is on
    group: str = ""  # signals of one wavetable: all-zero is judged over the group


def _v(code: str, message: str, where: Location) -> Violation:
    return Violation(message, where, code=code)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _db(x: float) -> str:
    return f"{20 * np.log10(x):+.1f} dBFS" if x > 0 else "-inf dBFS"


def _position(sig: Signal, flat: int) -> str:
    frame, sample = divmod(flat, sig.frames.shape[1])
    if sig.frames.shape[0] > 1:
        return f"sample {sample} of {sig.frame_word} {frame}"
    return f"sample {sample}"


def check_signal(sig: Signal) -> Iterator[Violation]:
    """W001-W003 for one signal (W004 is judged per group: :func:`check_silent`)."""
    x = sig.frames
    if not x.size:
        return
    if sig.floating:
        bad = ~np.isfinite(x)
        if bad.any():
            first = int(np.argmax(bad))
            nans = int(np.isnan(x).sum())
            infinite = int(bad.sum()) - nans
            what = " and ".join(p for p in (_n(nans, "NaN") if nans else "",
                                            _n(infinite, "infinite value") if infinite else "") if p)
            yield _v("W001", f"{sig.what}: {what}, first at {_position(sig, first)}: the synth's output turns "
                             f"to NaN (silence, or a burst of noise in whatever follows)", sig.location)
            x = np.where(bad, 0.0, x).astype(np.float32)
        peak_at = int(np.argmax(np.abs(x)))
        peak = float(abs(x.flat[peak_at]))
        if peak > FAR_BEYOND and not sig.normalized:
            yield _v("W002", f"{sig.what}: peaks at {peak:.3g} x full scale ({_db(peak)}) at {_position(sig, peak_at)}; "
                             f"the synth plays it at that level (it does not normalize it): distortion or a "
                             f"level jump", sig.location)
    if not sig.dc_removed:
        means = x.mean(axis=1, dtype=np.float64)
        off = np.abs(means) > DC_LIMIT
        if off.any():
            first = int(np.argmax(off))
            where = f" in {sig.frame_word} {first}" if x.shape[0] > 1 else ""
            more = f" (and {_n(int(off.sum()) - 1, sig.frame_word)} more)" if off.sum() > 1 else ""
            yield _v("W003", f"{sig.what}: DC offset {means[first]:+.3f} ({_db(abs(float(means[first])))}){where}{more}: "
                             f"it thumps when notes start and stop and eats headroom; the synth does not remove it",
                     sig.location)


def check_silent(signals: list[Signal]) -> Iterator[Violation]:
    """W004: a group (a wavetable's keyframes, a sample) that is all zeros while it plays."""
    groups: dict[str, list[Signal]] = {}
    for s in signals:
        groups.setdefault(s.group or s.location.render(), []).append(s)
    for members in groups.values():
        if not all(m.used for m in members):
            continue
        if not any(np.any(m.frames) for m in members):  # NaN counts as not zero (W001 reports it)
            first = min(members, key=lambda m: [int(t) if t.isdigit() else -1 for t in m.location.pointer.split("/")])
            what = first.what.split(" keyframe ")[0] if len(members) > 1 else first.what
            yield _v("W004", f"{what}: every sample is zero: the oscillator (or sampler) that plays it is silent",
                     first.location)


# --- Vital ----------------------------------------------------------------------------------------

def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _resolve(node: Any, tokens: list[str]) -> Any:
    for t in tokens:
        if isinstance(node, dict):
            node = node.get(t)
        elif isinstance(node, list) and t.isdigit() and int(t) < len(node):
            node = node[int(t)]
        else:
            return None
    return node


def _version(text: Any) -> tuple[int, ...]:
    parts = []
    for p in str(text).split("."):
        digits = "".join(c for c in p if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _on(settings: Mapping[str, Any], key: str, default: bool) -> bool:
    value = settings.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value >= 0.5
    return default


def _read(blob: Blob) -> bytes | Violation:
    try:
        return blob.read()
    except (ValueError, binascii.Error) as exc:  # binascii.Error is a ValueError; named for the reader
        return _v("W005", f"embedded {blob.kind} cannot be decoded ({type(exc).__name__}: {exc}): the synth "
                          "reads garbage or nothing", blob.location)


def _settings(root: Mapping[str, Any]) -> Mapping[str, Any]:
    settings = root.get("settings")
    return settings if isinstance(settings, dict) else {}


def _vital_keyframe(blob: Blob, data: bytes, root: Mapping[str, Any], tokens: list[str]) -> Signal | Violation:
    settings = _settings(root)
    table = _resolve(root, tokens[:3])
    table = table if isinstance(table, dict) else {}
    keyframe = _resolve(root, tokens[:-1])
    position = keyframe.get("position") if isinstance(keyframe, dict) else None
    index = int(tokens[2]) if tokens[2].isdigit() else 0
    what = f"wavetable {index + 1} keyframe {tokens[-2]}" + (f" (position {position})" if position is not None else "")
    version = _version(table.get("version", "0"))
    pcm = (0, 3, 7) <= version < (0, 3, 9)
    width = 2 if pcm else 4
    if len(data) < VITAL_FRAME * width:
        return _v("W005", f"{what}: {len(data)} bytes of wave data where Vital reads {VITAL_FRAME * width} "
                          f"({VITAL_FRAME} {'16-bit' if pcm else 'float32'} samples): it reads past the data",
                  blob.location)
    if pcm:
        frames = (np.frombuffer(data, "<i2", VITAL_FRAME) / 32768.0).astype(np.float32)
    else:
        frames = np.frombuffer(data, "<f4", VITAL_FRAME).copy()
    remove_dc = bool(table.get("remove_all_dc", True)) and version >= (0, 3, 8)
    normalize = bool(table.get("full_normalize", True)) and version >= (0, 4, 7)
    return Signal(blob.location, what, frames.reshape(1, -1), "keyframe", not pcm, remove_dc, normalize,
                  _on(settings, f"osc_{index + 1}_on", True), group=f"{blob.location.entry}/wavetable/{index}")


def _vital_sample(blob: Blob, data: bytes, root: Mapping[str, Any], tokens: list[str]) -> Iterator[Signal | Violation]:
    settings = _settings(root)
    sample = _resolve(root, tokens[:-1])
    sample = sample if isinstance(sample, dict) else {}
    name = sample.get("name")
    what = f"sample {name!r}" if isinstance(name, str) else "sample"
    if tokens[-1] == "samples_stereo":
        what += " (right channel)"
    length, rate = sample.get("length"), sample.get("sample_rate")
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        yield _v("W005", f"{what}: length {length!r} is not a sample count: Vital cannot load it", blob.location)
        return
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        yield _v("W005", f"{what}: sample rate {rate!r} is not a positive whole number of Hz", blob.location)
    if length > VITAL_MAX_SAMPLES:
        yield _v("W005", f"{what}: {length} samples, over Vital's limit of {VITAL_MAX_SAMPLES}: the rest is cut",
                 blob.location)
    if len(data) < 2 * length:
        yield _v("W005", f"{what}: length says {length} samples ({2 * length} bytes) but the data holds "
                         f"{len(data)} bytes: Vital copies {length} samples and reads past the data",
                 blob.location)
        return
    pcm = np.frombuffer(data, "<i2", length).astype(np.float32) / 32768.0
    yield Signal(blob.location, what, pcm.reshape(1, -1), "", False, used=_on(settings, "sample_on", False))


def _vital(doc: Document) -> Iterator[Signal | Violation]:
    members = dict(doc.facts.members)
    for blob in doc.facts.blobs:
        tokens = _tokens(blob.location.pointer)
        if not tokens or tokens[-1] not in ("wave_data", "samples", "samples_stereo"):
            continue
        root = members.get(blob.location.entry)
        if not isinstance(root, dict):
            continue
        data = _read(blob)
        if isinstance(data, Violation):
            yield data
        elif tokens[-1] == "wave_data" and len(tokens) >= 4:
            yield _vital_keyframe(blob, data, root, tokens)
        elif tokens[-1] != "wave_data":
            yield from _vital_sample(blob, data, root, tokens)


# --- Surge XT -------------------------------------------------------------------------------------

def _surge(doc: Document) -> Iterator[Signal | Violation]:
    for blob in doc.facts.blobs:
        if blob.kind != "wavetable":
            continue
        data = _read(blob)
        if isinstance(data, Violation):
            yield data
            continue
        if len(data) < SURGE_HEADER:
            continue  # the loader's U005 says why
        samples, tables, flags = struct.unpack_from("<IHH", data, 4)
        tokens = _tokens(blob.location.pointer)
        where = (f"wavetable of scene {'AB'[int(tokens[1]) % 2]} oscillator {int(tokens[2]) + 1}"
                 if len(tokens) == 3 and tokens[1].isdigit() and tokens[2].isdigit() else "wavetable")
        if tables == 0:
            yield _v("W004", f"{where}: the block declares no table: the oscillator is silent", blob.location)
            continue
        pcm = bool(flags & 0x4)
        need = samples * tables * (2 if pcm else 4)
        if samples == 0 or len(data) - SURGE_HEADER < need:
            continue  # U005 (the loader's) covers a block that does not hold its tables
        if samples & (samples - 1):
            played = 1 << (samples.bit_length() - 1)
            yield _v("W005", f"{where}: {samples} samples per table is not a power of two: Surge reads tables "
                             f"of {played}, so every table plays the wrong stretch of samples", blob.location)
        if pcm:
            scale = 32768.0 if flags & 0x8 else 16384.0
            frames = (np.frombuffer(data, "<i2", samples * tables, SURGE_HEADER) / scale).astype(np.float32)
        else:
            frames = np.frombuffer(data, "<f4", samples * tables, SURGE_HEADER).copy()
        # A DC offset is not judged: whether one reaches the output depends on the patch's filters
        # (Surge's factory tables carry some), so Surge decides, not this check.
        yield Signal(blob.location, where, frames.reshape(tables, samples), "table", not pcm, dc_removed=True)


# --- entry point ----------------------------------------------------------------------------------

def violations(doc: Document) -> Iterator[Violation]:
    """Every embedded-audio finding of ``doc`` (W001-W005)."""
    if doc.format not in FORMATS:
        return
    source = _surge(doc) if doc.format == "surge-fxp" else _vital(doc)
    signals: list[Signal] = []
    for item in source:
        if isinstance(item, Violation):
            yield item
            continue
        yield from check_signal(item)
        signals.append(item)
    yield from check_silent(signals)

