"""DX7 voice values: decoded from the bank bytes, edited by name, packed back.

The bytes are decoded by the sysex loader's own field table (:data:`dx7_syx.FIELDS`, the
packed 128-byte bank layout and the unpacked 155-byte single-voice layout); this module packs
values back into the 128-byte bank layout (tests generate banks with it) and knows the DX7's
INIT VOICE. :mod:`.voicebatch` turns the values of many voices into numpy arrays. No numpy here:
the rules import this module when every command starts.

A voice's *sound bytes* are its 145 values in field order: the same for a packed or an unpacked
copy, and without the name, so a renamed copy renders (and caches) as the same sound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from presetctl.engine.formats.dx7_syx import FIELDS, NAME_LEN, NAME_PACKED, VOICE_PACKED, values_of

INDEX: Mapping[str, int] = {f.name: i for i, f in enumerate(FIELDS)}
PARAMETERS = len(FIELDS)  # 145


def sound_bytes(values: Sequence[int]) -> bytes:
    """The cache key material of a voice: its 145 parameter values, name left out."""
    return bytes(v & 0x7F for v in values)


def voice_values(data: bytes) -> tuple[int, ...]:
    """The 145 values of one voice: 128 packed (bank) or 155 unpacked (single voice) bytes."""
    if len(data) not in (VOICE_PACKED, 155):
        raise ValueError(f"a DX7 voice is 128 (packed) or 155 (unpacked) bytes, not {len(data)}")
    return values_of(data, packed=len(data) == VOICE_PACKED)


def pack_voice(values: Sequence[int], name: bytes = b"") -> bytes:
    """The 128-byte bank layout of ``values`` (each masked to its field's width)."""
    if len(values) != PARAMETERS:
        raise ValueError(f"a DX7 voice has {PARAMETERS} parameters, not {len(values)}")
    out = bytearray(VOICE_PACKED)
    for f, value in zip(FIELDS, values, strict=True):
        out[f.packed] |= (value & ((1 << f.width) - 1)) << f.shift
    out[NAME_PACKED : NAME_PACKED + NAME_LEN] = name[:NAME_LEN].ljust(NAME_LEN, b" ")
    return bytes(out)


def with_values(values: Sequence[int], changes: Mapping[str, int]) -> tuple[int, ...]:
    """``values`` with some parameters set by name (``{"op1_output_level": 0}``)."""
    out = list(values)
    for name, value in changes.items():
        out[INDEX[name]] = value
    return tuple(out)


def init_voice() -> tuple[int, ...]:
    """The DX7's INIT VOICE: algorithm 1, operator 1 alone at output level 99, a plain sine."""
    values = [0] * PARAMETERS
    for op in range(1, 7):
        for i in range(1, 5):
            values[INDEX[f"op{op}_eg_rate{i}"]] = 99
        for i in range(1, 4):
            values[INDEX[f"op{op}_eg_level{i}"]] = 99
        values[INDEX[f"op{op}_kbd_breakpoint"]] = 39  # C3
        values[INDEX[f"op{op}_freq_coarse"]] = 1
        values[INDEX[f"op{op}_detune"]] = 7  # centre
    values[INDEX["op1_output_level"]] = 99
    for i in range(1, 5):
        values[INDEX[f"pitch_eg_rate{i}"]] = 99
        values[INDEX[f"pitch_eg_level{i}"]] = 50  # 50: no pitch change
    values[INDEX["osc_key_sync"]] = 1
    values[INDEX["lfo_speed"]] = 35
    values[INDEX["lfo_key_sync"]] = 1
    values[INDEX["lfo_pitch_mod_sens"]] = 3
    values[INDEX["transpose"]] = 24  # C3: no transposition
    return tuple(values)
