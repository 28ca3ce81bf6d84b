"""Audio test data, generated at test time: DX7 banks, Vital presets with wavetables and samples."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import orjson

from presetctl.engine.audio.voice import init_voice, pack_voice, with_values
from presetctl.engine.formats.base import Document, LoadContext
from presetctl.engine.formats.registry import detect

ROM1A = "dx7-syx/mmontag__dx7-synth-js/roms/ROM1A.SYX"


def syx_bank(voices: Sequence[Sequence[int]], names: Sequence[bytes] | None = None) -> bytes:
    """A 32-voice bank sysex; missing voices are INIT VOICE."""
    voices = list(voices) + [init_voice()] * (32 - len(voices))
    names = list(names or []) + [b"INIT VOICE"] * (32 - len(names or []))
    data = b"".join(pack_voice(v, n) for v, n in zip(voices[:32], names[:32], strict=True))
    return bytes([0xF0, 0x43, 0x00, 0x09, 0x20, 0x00]) + data + bytes([(-sum(data)) & 0x7F, 0xF7])


def sine_voice(**changes: int) -> tuple[int, ...]:
    """INIT VOICE on algorithm 32 (every operator a carrier): operator 1 alone, a sine."""
    return with_values(init_voice(), {"algorithm": 31, **{k: v for k, v in changes.items()}})


def load(data: bytes, name: str) -> Document:
    path = PurePosixPath(name)
    loader = detect(data[:4096], path)
    assert loader is not None
    return loader.load(data, LoadContext(path))


def b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def sine_frame(size: int = 2048, amplitude: float = 1.0, offset: float = 0.0) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * np.arange(size) / size) + offset).astype("<f4")


def vital_preset(keyframes: Sequence[np.ndarray] | None = None, sample: np.ndarray | None = None, *,
                 sample_length: int | None = None, sample_rate: Any = 44100, remove_dc: bool = True,
                 normalize: bool = True, version: str = "1.5.3", osc_on: float = 1.0,
                 sample_on: float = 1.0) -> dict[str, Any]:
    """A Vital preset with one wavetable (Wave Source keyframes) and a 16-bit sample."""
    frames = list(keyframes) if keyframes is not None else [sine_frame()]
    table = {"name": "Test table", "author": "tests", "version": version, "remove_all_dc": remove_dc,
             "full_normalize": normalize,
             "groups": [{"components": [{"type": "Wave Source", "interpolation": 1, "interpolation_style": 1,
                                         "keyframes": [{"position": 64 * i, "wave_data": b64(f)}
                                                       for i, f in enumerate(frames)]}]}]}
    pcm = sample if sample is not None else (np.sin(np.arange(4000) / 7.0) * 12000).astype("<i2")
    settings: dict[str, Any] = {
        "osc_1_on": osc_on, "osc_1_level": 0.7, "sample_on": sample_on, "wavetables": [table],
        "sample": {"name": "Test sample", "length": len(pcm) if sample_length is None else sample_length,
                   "sample_rate": sample_rate, "samples": b64(pcm)},
    }
    return {"preset_name": "Audio test", "author": "tests", "preset_style": "Lead", "comments": "",
            "macro1": "MACRO 1", "macro2": "MACRO 2", "macro3": "MACRO 3", "macro4": "MACRO 4",
            "synth_version": version, "settings": settings}


def write_json(path: Path, value: Any) -> Path:
    path.write_bytes(orjson.dumps(value))
    return path
