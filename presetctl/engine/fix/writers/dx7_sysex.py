"""DX7 sysex: voice names, repairs and the checksum that every edit keeps, as byte splices.

Layout (Yamaha DX7 bulk dump, format 9): ``F0 43 0n 09 20 00`` + 4096 data bytes (32 voices
of 128 bytes; the name is bytes 118-127 of a voice, 10 ASCII characters padded with spaces)
+ checksum + ``F7``; a single voice (format 0) holds 155 unpacked bytes, name at 145. The
checksum is ``(-sum(data)) & 0x7F``. Some tools write the byte count as ``10 00``; the DX7
wants ``20 00`` (4096 = 0x20 << 7).

The checksum belongs to the data: :func:`keep_checksums` runs on every edit of a DX7 file
(the planner applies it through ``writers.registry``), so a rename, a masked byte or a
repaired count never leaves the checksum behind. It keeps the checksum's relation to the
data: a checksum that was right stays right; one that was wrong stays wrong by the same
amount, because recomputing it is D001's fix (unsafe: it makes a synth accept data that may
be damaged), which no other fix may apply on the side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from presetctl.engine.fix.model import Splice
from presetctl.engine.formats.base import Document
from presetctl.engine.formats.dx7_syx import Dump, Dx7File

HEADER = 6
NAME_LEN = 10


def checksum(payload: bytes) -> int:
    return (-sum(payload)) & 0x7F


def _name_bytes(name: str) -> bytes:
    text = "".join(c if 32 <= ord(c) < 127 else "_" for c in name)[:NAME_LEN]
    return text.ljust(NAME_LEN).encode("ascii")


def set_voice_name(found: Dx7File, voice: int, name: str) -> Splice | None:
    """Set voice ``voice`` (numbered on across the file's dumps) to ``name``, in any dump layout."""
    for dump in found.dumps:
        for v in dump.voices:
            if v.number == voice:
                return Splice(v.name_offset, v.name_offset + NAME_LEN, _name_bytes(name))
    return None


def keep_checksums(doc: Document, splices: Sequence[Splice]) -> list[Splice]:
    """``splices`` plus what keeps each dump's checksum where it was relative to its data.

    Splices are in the coordinates of ``doc.data`` (the bytes before the edit). A splice that
    writes the checksum byte itself (D001's and D002's repairs) was computed from those bytes
    too; the data's change is added on top, so any set of edits in one pass composes.
    """
    found = doc.raw if isinstance(doc.raw, Dx7File) else None
    if found is None:
        return list(splices)
    out = list(splices)
    for dump in found.dumps:
        adjusted = _checksum_splice(doc.data, dump, out)
        if adjusted is not None:
            out = [s for s in out if not s.start <= adjusted.start < s.end] + [adjusted]
    return out


def _checksum_splice(data: bytes, dump: Dump, splices: Sequence[Splice]) -> Splice | None:
    at = dump.checksum_at
    if at is None:
        return None  # no checksum to keep (a size finding says why)
    lo = dump.data_at
    edits = [s for s in splices if s.start < at and lo < s.end or s.start == s.end and lo <= s.start < at]
    if not edits or any(s.start < lo or s.end > at or len(s.text) != s.end - s.start for s in edits):
        return None  # nothing changed in the data, or a splice the checksum cannot follow (size changes)
    writes = [s for s in splices if s.start <= at < s.end]
    if len(writes) > 1 or writes and (writes[0].start, writes[0].end) != (at, at + 1):
        return None
    base = writes[0].text[0] if writes else data[at]
    delta = sum(sum(s.text) - sum(data[s.start : s.end]) for s in edits)
    new = ((base & 0x7F) - delta) & 0x7F | (base & 0x80)  # bit 7 is D002's finding, kept as it was
    if not writes and new == data[at]:
        return None
    return Splice(at, at + 1, bytes([new]))


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
