"""Yamaha DX7 voice data in ``.syx`` files: 32-voice banks, single voices, headerless dumps.

Formats (Yamaha DX7 owner's manual, MIDI data format; the same layout Dexed reads):

- 32-voice bulk dump: ``F0 43 0n 09 20 00`` + 4096 data bytes (32 packed voices of 128 bytes)
  + checksum + ``F7`` = 4104 bytes. ``n`` is the MIDI channel (0-15). The byte count
  ``20 00`` is 4096 in two 7-bit bytes; many tools write ``10 00`` instead (recognized).
- single-voice dump: ``F0 43 0n 00 01 1B`` + 155 unpacked bytes + checksum + ``F7`` = 163 bytes.
- headerless dump: the 4096 data bytes of a bank alone.

The checksum is ``(-sum(data)) & 0x7F``. Each voice becomes one :class:`Preset` (``index`` =
voice number in the file, counting on across concatenated banks); its name is bytes 118-127
of the packed voice (145-154 unpacked). The loader is tolerant like the best librarians: a
header is found anywhere, on any channel, and nothing it reads makes it raise. A bank (or
voice) whose data holds ``F0``/``F7`` is read at fixed offsets when its checksum or the file's
size vouches for it (:func:`fixed_dumps`), and a MacBinary header in front is skipped. It records
what it found in ``Document.raw`` (a :class:`Dx7File`); the D rules (rules/dx7.py) judge it.
A file without any DX7 voice data is handed to the other-sysex loader (format ``syx``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import PurePath
from typing import Any

from presetctl.engine.formats import sniff, sysex
from presetctl.engine.formats.base import Document, DocumentFacts, LoadContext, Loader
from presetctl.engine.model import Location, Parameter, Preset

HEADER = 6  # F0 43 0n ff c1 c2
BANK_DATA = 4096
VOICE_PACKED = 128
VOICE_UNPACKED = 155
NAME_LEN = 10
NAME_PACKED = 118
NAME_UNPACKED = 145
BANK_FORMAT = 0x09
VOICE_FORMAT = 0x00
BANK_COUNT = b"\x20\x00"  # 4096 = 0x20 << 7
BANK_COUNT_VARIANT = b"\x10\x00"
VOICE_COUNT = b"\x01\x1b"  # 155 = 0x01 << 7 | 0x1B
# Headers of dumps that can be read at fixed offsets: bank (either byte count) and single voice.
_FIXED = ((re.compile(rb"\xf0\x43[\x00-\x0f]\x09(?:\x20\x00|\x10\x00)"), BANK_DATA),
          (re.compile(rb"\xf0\x43[\x00-\x0f]\x00\x01\x1b"), VOICE_UNPACKED))
MAX_FIXED_CHECKS = 1_000  # candidates whose checksum is computed: hostile files repeat headers


@dataclass(frozen=True, slots=True)
class Field:
    """One voice parameter: where it sits in a packed (bank) and an unpacked (single) voice.

    Packed bytes share bits between parameters: the value is ``(byte >> shift) & (2**width - 1)``.
    Every parameter's minimum is 0; ``maximum`` is the DX7's, not the field's capacity.
    """

    name: str
    packed: int
    shift: int
    width: int
    maximum: int
    unpacked: int
    pointer: str  # "/op1/eg_rate1", "/algorithm": where findings about it point


# Operator parameters: name, packed byte, shift, width, maximum, unpacked byte (within the operator).
_OP = (
    *((f"eg_rate{i + 1}", i, 0, 7, 99, i) for i in range(4)),
    *((f"eg_level{i + 1}", 4 + i, 0, 7, 99, 4 + i) for i in range(4)),
    ("kbd_breakpoint", 8, 0, 7, 99, 8), ("kbd_left_depth", 9, 0, 7, 99, 9), ("kbd_right_depth", 10, 0, 7, 99, 10),
    ("kbd_left_curve", 11, 0, 2, 3, 11), ("kbd_right_curve", 11, 2, 2, 3, 12),
    ("kbd_rate_scaling", 12, 0, 3, 7, 13), ("detune", 12, 3, 4, 14, 20),
    ("amp_mod_sens", 13, 0, 2, 3, 14), ("key_vel_sens", 13, 2, 3, 7, 15),
    ("output_level", 14, 0, 7, 99, 16), ("osc_mode", 15, 0, 1, 1, 17), ("freq_coarse", 15, 1, 5, 31, 18),
    ("freq_fine", 16, 0, 7, 99, 19),
)
_GLOBAL = (
    *((f"pitch_eg_rate{i + 1}", 102 + i, 0, 7, 99, 126 + i) for i in range(4)),
    *((f"pitch_eg_level{i + 1}", 106 + i, 0, 7, 99, 130 + i) for i in range(4)),
    ("algorithm", 110, 0, 5, 31, 134), ("feedback", 111, 0, 3, 7, 135), ("osc_key_sync", 111, 3, 1, 1, 136),
    ("lfo_speed", 112, 0, 7, 99, 137), ("lfo_delay", 113, 0, 7, 99, 138), ("lfo_pmd", 114, 0, 7, 99, 139),
    ("lfo_amd", 115, 0, 7, 99, 140), ("lfo_key_sync", 116, 0, 1, 1, 141), ("lfo_wave", 116, 1, 3, 5, 142),
    ("lfo_pitch_mod_sens", 116, 4, 3, 7, 143), ("transpose", 117, 0, 7, 48, 144),
)


def _fields() -> tuple[Field, ...]:
    out: list[Field] = []
    for op in range(1, 7):  # stored operator 6 first
        base_p, base_u = (6 - op) * 17, (6 - op) * 21
        out.extend(Field(f"op{op}_{n}", base_p + p, s, w, m, base_u + u, f"/op{op}/{n}") for n, p, s, w, m, u in _OP)
    out.extend(Field(n, p, s, w, m, u, f"/{n}") for n, p, s, w, m, u in _GLOBAL)
    return tuple(out)


FIELDS: tuple[Field, ...] = _fields()
_PACKED = tuple((f.packed, f.shift, (1 << f.width) - 1) for f in FIELDS)
_UNPACKED = tuple(f.unpacked for f in FIELDS)
# Bits of packed bytes that no parameter uses (voice-relative offset -> mask).
UNUSED_BITS: dict[int, int] = {
    **{(6 - op) * 17 + at: mask for op in range(1, 7) for at, mask in ((11, 0x70), (13, 0x60), (15, 0x40))},
    110: 0x60, 111: 0x70,
}


@dataclass(frozen=True, slots=True)
class Voice:
    number: int  # 1-based in the file
    offset: int  # of the voice's first byte in the file
    data: bytes  # 128 packed or 155 unpacked bytes
    packed: bool
    values: tuple[int, ...]  # every parameter's value in FIELDS order (bit 7 ignored: D005's finding)

    @property
    def name_offset(self) -> int:
        return self.offset + (NAME_PACKED if self.packed else NAME_UNPACKED)

    @property
    def name_bytes(self) -> bytes:
        at = NAME_PACKED if self.packed else NAME_UNPACKED
        return self.data[at : at + NAME_LEN]

    def field_offset(self, f: Field) -> int:
        return self.offset + (f.packed if self.packed else f.unpacked)


@dataclass(frozen=True, slots=True)
class Dump:
    """One block of DX7 voice data: a bank or single-voice message, or a headerless dump."""

    kind: str  # "bank", "voice" or "raw"
    number: int  # 1-based among the file's dumps
    start: int  # offset of F0 (of the data for "raw")
    end: int  # offset after F7 (or after the last byte read)
    terminated: bool
    channel: int | None
    count: bytes  # the two byte-count bytes as stored (b"" for raw)
    data_at: int  # offset of the first data byte
    data_len: int  # bytes between the header and F7 (data + checksum when complete)
    voices: tuple[Voice, ...]
    fixed: bool = False  # read at fixed offsets: the data holds F0 or F7 bytes (status bytes)

    @property
    def expected(self) -> int:
        return VOICE_UNPACKED if self.kind == "voice" else BANK_DATA

    @property
    def checksum_at(self) -> int | None:
        """Offset of the checksum byte, when the message has exactly data + checksum."""
        if self.kind == "raw" or not self.terminated or self.data_len != self.expected + 1:
            return None
        return self.data_at + self.expected

    @property
    def label(self) -> str:
        if self.kind == "voice":
            return f"single-voice dump {self.number}"
        return f"bank {self.number}" if self.kind == "bank" else "headerless bank"


@dataclass(frozen=True)
class Dx7File:
    dumps: tuple[Dump, ...]
    others: tuple[sysex.Message, ...]  # sysex messages that are not DX7 voice data
    parts: sysex.Split


def checksum(payload: bytes) -> int:
    return (-sum(payload)) & 0x7F


def fixed_dumps(data: bytes, lo: int = 0, hi: int | None = None) -> tuple[tuple[int, int], ...]:
    """(start, end) of the dumps in ``data[lo:hi]`` to read at fixed offsets, not as a stream.

    A 4104-byte bank (or 163-byte voice) whose data holds an ``F0`` or ``F7`` byte is cut short
    by a stream reader at that byte, losing every voice after it. It is read whole when the
    dump's last byte is ``F7`` and either its checksum matches the data's low 7 bits (a 1 in
    128 chance for anything else) or the dump is the whole file (or the whole MacBinary data
    fork): a file of exactly a bank's size, starting with its header and ending in F7, is that
    bank. A dump without status bytes inside is left to the stream reader, which reads it the
    same way.
    """
    hi = len(data) if hi is None else hi
    found: list[tuple[int, int]] = []
    checks = 0
    for pattern, length in _FIXED:
        size = HEADER + length + 2
        for m in pattern.finditer(data, lo, hi):
            start, end = m.start(), m.start() + size
            if end > hi or data[end - 1] != sysex.EOX or any(a < end and start < b for a, b in found):
                continue
            inner = data[start + HEADER : end - 1]  # data and checksum
            if sysex.EOX not in inner and sysex.SOX not in inner:
                continue
            checks += 1
            if checks > MAX_FIXED_CHECKS:
                return tuple(sorted(found))
            if (start, end) == (lo, hi) or checksum(inner[:-1]) == inner[-1] & 0x7F:
                found.append((start, end))
    return tuple(sorted(found))


def display_name(raw: bytes) -> str:
    """The name as a DX7 or Dexed shows it: bit 7 ignored, unprintable bytes as '?', padding stripped."""
    chars = (chr(b & 0x7F) for b in raw)
    return "".join(c if " " <= c < "\x7f" else "?" for c in chars).rstrip(" ")


def values_of(voice: bytes, packed: bool) -> tuple[int, ...]:
    if packed:
        return tuple([((voice[at] & 0x7F) >> shift) & mask for at, shift, mask in _PACKED])
    return tuple([voice[at] & 0x7F for at in _UNPACKED])


def _voices(data: bytes, at: int, length: int, packed: bool, first: int) -> tuple[Voice, ...]:
    size = VOICE_PACKED if packed else VOICE_UNPACKED
    out = []
    for i in range(length // size):
        raw = data[at + i * size : at + (i + 1) * size]
        out.append(Voice(first + i, at + i * size, raw, packed, values_of(raw, packed)))
    return tuple(out)


def _dump(data: bytes, msg: sysex.Message, number: int, first_voice: int) -> Dump | None:
    data_end = msg.end - 1 if msg.terminated else msg.end
    head = data[msg.start : min(msg.start + HEADER, data_end)]  # never the next message's bytes
    if len(head) < 4 or head[1] != sysex.YAMAHA or head[2] >> 4 != 0 or head[3] not in (BANK_FORMAT, VOICE_FORMAT):
        return None
    if head[3] == VOICE_FORMAT and head[4:6] != VOICE_COUNT and msg.end - msg.start < 100:
        return None  # format 0 is a single voice only when it looks like one: count or size
    kind = "bank" if head[3] == BANK_FORMAT else "voice"
    data_at = msg.start + HEADER
    length = max(0, data_end - data_at)
    expected = BANK_DATA if kind == "bank" else VOICE_UNPACKED
    voices = _voices(data, data_at, min(length, expected), kind == "bank", first_voice)
    inner = data[data_at:data_end]
    fixed = msg.terminated and (sysex.EOX in inner or sysex.SOX in inner)  # only a fixed-offset read keeps these
    return Dump(kind, number, msg.start, msg.end, msg.terminated, head[2] & 0x0F, bytes(head[4:6]), data_at,
                length, voices, fixed)


def parse(data: bytes) -> Dx7File:
    """Every DX7 dump in ``data``; never raises."""
    wrapper = sysex.macbinary(data)
    lo, hi = (wrapper.start, wrapper.end) if wrapper is not None else (0, len(data))
    parts = sysex.split(data, fixed_dumps(data, lo, hi), wrapper)
    dumps: list[Dump] = []
    others: list[sysex.Message] = []
    voice = 1
    for msg in parts.messages:
        dump = _dump(data, msg, len(dumps) + 1, voice)
        if dump is None:
            others.append(msg)
        else:
            dumps.append(dump)
            voice += len(dump.voices)
    if not dumps and not parts.messages and len(data) == BANK_DATA:
        dumps.append(Dump("raw", 1, 0, BANK_DATA, True, None, b"", 0, BANK_DATA,
                          _voices(data, 0, BANK_DATA, True, 1)))
    return Dx7File(tuple(dumps), tuple(others), parts)


@cache  # bounded: 145 fields x 128 seven-bit values
def _parameter(index: int, value: int) -> Parameter:
    f = FIELDS[index]
    return Parameter(f.name, value, 0, f.maximum, pointer=f.pointer)


def _parameters(voice: Voice) -> Iterator[Parameter]:
    # Parameters are immutable and a (field, 7-bit value) pair recurs across voices: share them.
    return map(_parameter, range(len(FIELDS)), voice.values)


def _sound_key(voice: Voice) -> bytes:
    return bytes(voice.values)  # the same for a voice stored packed or unpacked; name left out


def _preset(voice: Voice) -> Preset:
    return Preset(format="dx7-syx", name=display_name(voice.name_bytes), synth="Yamaha DX7", oscillators=6,
                  index=voice.number, pointers={"name": "/name"},
                  parameter_source=partial(_parameters, voice), sound_key=partial(_sound_key, voice))


def _header(found: Dx7File) -> dict[str, Any]:
    first = found.dumps[0]
    return {"kind": first.kind, "channel": first.channel, "byte_count": first.count.hex(" "),
            "banks": sum(d.kind != "voice" for d in found.dumps), "voices": sum(len(d.voices) for d in found.dumps),
            "other_messages": len(found.others)}


class Dx7Loader(Loader):
    format_id = "dx7-syx"
    extensions = (".syx",)
    description = "Yamaha DX7 voice bank or single voice (sysex)"

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.dx7(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        found = parse(data)
        if not found.dumps:
            return sysex.LOADER.load(data, ctx)  # no DX7 voice in it: other sysex, or not sysex at all
        voices = [v for d in found.dumps for v in d.voices]
        texts = tuple((Location(pointer="/name", offset=v.name_offset, voice=v.number), v.name_bytes.decode("latin-1"))
                      for v in voices)
        raw_only = found.dumps[0].kind == "raw"
        covered = frozenset(d.start for d in found.dumps)  # a cut-short dump is D004's finding
        problems = () if raw_only else tuple(sysex.framing_problems(data, found.parts, covered, dx7=True))
        return Document(self.format_id, data, raw=found, presets=tuple(_preset(v) for v in voices), problems=problems,
                        facts=DocumentFacts(texts=texts, header=_header(found)))


LOADER = Dx7Loader()
