"""DX7 32-voice bank sysex: voice names, checksum and byte-count repairs as byte splices.

Layout (Yamaha DX7 bulk dump, format 9): ``F0 43 0n 09 20 00`` + 4096 data bytes (32 voices
of 128 bytes; the name is bytes 118-127 of a voice, 10 ASCII characters padded with spaces)
+ checksum + ``F7``. The checksum is ``(-sum(data)) & 0x7F``. Some tools write the byte count
as ``10 00``; the DX7 wants ``20 00`` (4096 = 0x20 << 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from presetctl.engine.fix.model import Splice

HEADER = 6
DATA = 4096
VOICE = 128
NAME_AT = 118
NAME_LEN = 10
SIZE = HEADER + DATA + 2


def is_bank(data: bytes) -> bool:
    return (len(data) >= SIZE and data[0] == 0xF0 and data[1] == 0x43 and data[3] == 0x09
            and data[HEADER + DATA + 1] == 0xF7)


def checksum(payload: bytes) -> int:
    return (-sum(payload)) & 0x7F


def _name_bytes(name: str) -> bytes:
    text = "".join(c if 32 <= ord(c) < 127 else "_" for c in name)[:NAME_LEN]
    return text.ljust(NAME_LEN).encode("ascii")


def set_voice_name(data: bytes, voice: int, name: str) -> Splice | None:
    """Set voice ``voice`` (1-based) to ``name``; the checksum repair follows as its own splice."""
    if not is_bank(data) or not 1 <= voice <= 32:
        return None
    at = HEADER + (voice - 1) * VOICE + NAME_AT
    return Splice(at, at + NAME_LEN, _name_bytes(name))


def repair(data: bytes) -> list[tuple[str, Splice]]:
    """Splices fixing the byte count and the checksum of a bank, with what each does."""
    if not is_bank(data):
        return []
    out: list[tuple[str, Splice]] = []
    if data[4:6] != b"\x20\x00":
        out.append((f"byte count {data[4]:02X} {data[5]:02X} -> 20 00", Splice(4, 6, b"\x20\x00")))
    payload = bytes(b & 0x7F for b in data[HEADER : HEADER + DATA])
    if payload != data[HEADER : HEADER + DATA]:
        out.append(("cleared bit 7 of data bytes (MIDI data is 7-bit)", Splice(HEADER, HEADER + DATA, payload)))
    want = checksum(payload)
    if data[HEADER + DATA] != want:
        out.append((f"checksum {data[HEADER + DATA]:02X} -> {want:02X}",
                    Splice(HEADER + DATA, HEADER + DATA + 1, bytes([want]))))
    return out


def after_name_change(data: bytes) -> bytes:
    """Recompute the checksum after a voice-name splice was applied."""
    if not is_bank(data):
        return data
    want = checksum(data[HEADER : HEADER + DATA])
    return data[: HEADER + DATA] + bytes([want]) + data[HEADER + DATA + 1 :]


def _int(facts: Mapping[str, Any], key: str) -> int | None:
    value = facts.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _is_dump(data: bytes, at: int) -> bool:
    """A DX7 bank or single-voice header at ``at`` (any channel)."""
    return data[at : at + 2] == b"\xf0\x43" and len(data) > at + 3 and data[at + 2] < 0x10 and data[at + 3] in (0, 9)


def repair_one(data: bytes, facts: Mapping[str, Any]) -> tuple[str, Splice] | None:
    """The splice one DX7 finding asks for, from the facts the rule put in ``Violation.data``.

    ``facts["repair"]`` is ``checksum`` (rewrite the checksum byte at ``checksum_at`` from the
    data after the header at ``dump_at``), ``byte-count`` (write ``want``, hex, after the format
    byte) or ``seven-bit`` (clear bit 7 of ``data[start:end]``). Each one touches only its own
    bytes, so a fix applies exactly what its finding's rule (and the user's selection) allows.
    None when the bytes no longer look like what the finding described.
    """
    repair = _REPAIRS.get(str(facts.get("repair")))
    return repair(data, facts) if repair is not None else None


def _repair_checksum(data: bytes, facts: Mapping[str, Any]) -> tuple[str, Splice] | None:
    dump_at, at = _int(facts, "dump_at"), _int(facts, "checksum_at")
    if dump_at is None or at is None or at >= len(data) or not _is_dump(data, dump_at) or at < dump_at + HEADER:
        return None
    want = checksum(data[dump_at + HEADER : at])
    if data[at] == want:
        return None
    return f"checksum {data[at]:02X} -> {want:02X}", Splice(at, at + 1, bytes([want]))


def _repair_byte_count(data: bytes, facts: Mapping[str, Any]) -> tuple[str, Splice] | None:
    dump_at, want_hex = _int(facts, "dump_at"), facts.get("want")
    if dump_at is None or not _is_dump(data, dump_at) or not isinstance(want_hex, str):
        return None
    try:
        want_count = bytes.fromhex(want_hex)
    except ValueError:
        return None
    old = data[dump_at + 4 : dump_at + 6]
    if len(want_count) != 2 or len(old) != 2 or old == want_count:
        return None
    return (f"byte count {old.hex(' ').upper()} -> {want_count.hex(' ').upper()}",
            Splice(dump_at + 4, dump_at + 6, want_count))


def _repair_seven_bit(data: bytes, facts: Mapping[str, Any]) -> tuple[str, Splice] | None:
    start, end = _int(facts, "start"), _int(facts, "end")
    if start is None or end is None or not start < end <= len(data):
        return None
    old = data[start:end]
    new = bytes(b & 0x7F for b in old)
    if new == old:
        return None
    count = sum(b > 0x7F for b in old)
    return f"cleared bit 7 of {count} data bytes (MIDI data is 7-bit)", Splice(start, end, new)


_REPAIRS = {"checksum": _repair_checksum, "byte-count": _repair_byte_count, "seven-bit": _repair_seven_bit}
