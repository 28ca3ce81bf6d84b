"""Many DX7 voices as numpy arrays: what the renderer computes on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from presetctl.engine.audio.voice import INDEX, PARAMETERS
from presetctl.engine.formats.dx7_syx import FIELDS

I16 = npt.NDArray[np.int16]
_MAXIMA = np.array([f.maximum for f in FIELDS], dtype=np.int16)
OP_FIELDS = ("output_level", "key_vel_sens", "kbd_rate_scaling", "kbd_breakpoint", "kbd_left_depth",
             "kbd_right_depth", "kbd_left_curve", "kbd_right_curve", "osc_mode", "freq_coarse", "freq_fine",
             "detune", "amp_mod_sens")


def _op_columns(name: str) -> list[int]:
    return [INDEX[f"op{op}_{name}"] for op in range(1, 7)]


@dataclass(frozen=True)
class VoiceBatch:
    """N voices as arrays. Operator arrays are [voice, operator index 0-5 = operator 1-6]."""

    eg_rates: I16  # [N, 6, 4]
    eg_levels: I16  # [N, 6, 4]
    op: Mapping[str, I16]  # each [N, 6]: the OP_FIELDS
    algorithm: I16  # [N] 0-31
    feedback: I16  # [N] 0-7
    transpose: I16  # [N] 0-48, 24 = none
    pitch_rates: I16  # [N, 4]
    pitch_levels: I16  # [N, 4]

    @property
    def size(self) -> int:
        return int(self.algorithm.shape[0])

    @classmethod
    def from_values(cls, voices: Sequence[Sequence[int]] | npt.NDArray[np.integer]) -> VoiceBatch:
        """Values above a parameter's DX7 maximum are clamped to it, as a DX7 limits them."""
        raw = np.asarray(voices, dtype=np.int16).reshape(-1, PARAMETERS) & 0x7F
        p = np.minimum(raw, _MAXIMA)
        rates = np.stack([p[:, _op_columns(f"eg_rate{i}")] for i in range(1, 5)], axis=2)
        levels = np.stack([p[:, _op_columns(f"eg_level{i}")] for i in range(1, 5)], axis=2)
        ops = {name: p[:, _op_columns(name)] for name in OP_FIELDS}
        pr = p[:, [INDEX[f"pitch_eg_rate{i}"] for i in range(1, 5)]]
        pl = p[:, [INDEX[f"pitch_eg_level{i}"] for i in range(1, 5)]]
        return cls(rates, levels, ops, p[:, INDEX["algorithm"]], p[:, INDEX["feedback"]], p[:, INDEX["transpose"]],
                   pr, pl)
