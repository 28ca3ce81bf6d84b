"""DX7 32-voice bank sysex: voice names, checksum and byte-count repairs as byte splices.

Layout (Yamaha DX7 bulk dump, format 9): ``F0 43 0n 09 20 00`` + 4096 data bytes (32 voices
of 128 bytes; the name is bytes 118-127 of a voice, 10 ASCII characters padded with spaces)
+ checksum + ``F7``. The checksum is ``(-sum(data)) & 0x7F``. Some tools write the byte count
as ``10 00``; the DX7 wants ``20 00`` (4096 = 0x20 << 7).
"""

from __future__ import annotations

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
