"""MIDI system exclusive files (``.syx``): splitting into messages, and the loader for other sysex.

A ``.syx`` file is a sequence of messages ``F0 <manufacturer> ... F7``. Real files are messy:
messages cut short (a new ``F0`` before the ``F7``, or the end of the file), bytes between
messages, text saved under the extension. :func:`split` never raises; it returns the messages
and the stray byte ranges so that both loaders can report them with byte offsets. A Mac file
transfer may have left a MacBinary header in front (:func:`macbinary`); a dump known to have a
fixed size may hold status bytes at which a stream reading would cut it (the ``fixed`` ranges of
:func:`split`). :func:`strippable` says which stray bytes a fix may drop.

DX7 voice data is read by :mod:`presetctl.engine.formats.dx7_syx`; every other sysex (other
Yamaha formats, other manufacturers) is recognized here, header-checked only (format ``syx``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from presetctl.engine.formats import sniff
from presetctl.engine.formats.base import Document, DocumentFacts, LoadContext, Loader
from presetctl.engine.model import Location, Violation

SOX, EOX, YAMAHA = sniff.SOX, sniff.EOX, sniff.YAMAHA  # start and end of exclusive, Yamaha's id
MAX_MESSAGES = 10_000  # real files hold a few hundred at most; F0 F0 F0 ... must not build millions

# Manufacturer ids seen in synth sysex files (single-byte ids; 00 starts a three-byte id).
MANUFACTURERS = {0x41: "Roland", 0x42: "Korg", 0x43: "Yamaha", 0x44: "Casio", 0x47: "Akai", 0x40: "Kawai",
                 0x01: "Sequential", 0x04: "Moog", 0x10: "Oberheim", 0x18: "E-mu", 0x7E: "universal non-realtime",
                 0x7F: "universal realtime"}
# Yamaha bulk dump format numbers (the byte after the sub-status/channel byte).
YAMAHA_FORMATS = {0x00: "DX7 single voice", 0x01: "TX7/DX7 performance", 0x02: "TX7 performance bank",
                  0x03: "4-op voice (VCED)", 0x04: "4-op voice bank (VMEM)", 0x05: "DX7II additional voice (ACED)",
                  0x06: "DX7II additional voice bank (AMEM)", 0x09: "DX7 32-voice bank",
                  0x7E: "Yamaha universal bulk dump"}


@dataclass(frozen=True, slots=True)
class Message:
    """One sysex message: ``data[start:end]``; ``terminated`` when it ends with ``F7``."""

    start: int
    end: int
    terminated: bool

    def body(self, data: bytes) -> bytes:
        """The bytes after ``F0`` up to (not including) the ``F7``."""
        return data[self.start + 1 : self.end - 1 if self.terminated else self.end]


@dataclass(frozen=True, slots=True)
class Split:
    messages: tuple[Message, ...]
    stray: tuple[tuple[int, int], ...]  # (start, end) byte ranges outside any message
    unsplit: int | None = None  # offset where splitting stopped at MAX_MESSAGES (hostile input)
    wrapper: Wrapper | None = None  # a MacBinary header around the sysex (its bytes are stray)

    @property
    def stray_bytes(self) -> int:
        return sum(end - start for start, end in self.stray)


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A MacBinary header: 128 bytes before the data fork (the sysex), a resource fork after it."""

    name: str  # the Mac file name the header records
    start: int  # of the data fork
    end: int  # after the data fork


MACBINARY = 128


def _crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def macbinary(data: bytes) -> Wrapper | None:
    """The MacBinary header a Mac file transfer put before a sysex file, if ``data`` starts with one.

    MacBinary I/II/III: byte 0 and the fill bytes 74 and 82 are 0, byte 1 is the length of the
    name that follows (1-63), bytes 83-86 the data fork's length (big-endian), and MacBinary II
    and later put a CRC-16 of bytes 0-123 at 124. Only a data fork that starts with ``F0`` counts:
    this is about sysex wrapped for the Mac, not about guessing at any binary file.
    """
    if len(data) <= MACBINARY or data[0] != 0 or data[74] != 0 or data[82] != 0 or not 1 <= data[1] <= 63:
        return None
    name = data[2 : 2 + data[1]]
    if any(b < 0x20 or b == 0x7F for b in name) or data[MACBINARY] != SOX:
        return None
    fork = int.from_bytes(data[83:87], "big")
    if fork < 2 or MACBINARY + fork > len(data):
        return None
    crc = int.from_bytes(data[124:126], "big")
    if crc != _crc16_xmodem(data[:124]) and any(data[99:126]):  # MacBinary I: no CRC, those bytes are 0
        return None
    return Wrapper(name.decode("mac_roman"), MACBINARY, MACBINARY + fork)


def split(data: bytes, fixed: Sequence[tuple[int, int]] = (), wrapper: Wrapper | None = None) -> Split:
    """Messages and stray ranges of ``data``. A message ends at ``F7``, at the next ``F0``
    (unterminated) or at the end of the data (unterminated).

    ``fixed``: (start, end) ranges known to be whole messages whatever bytes they hold (a DX7
    bank read at fixed offsets). ``wrapper``: only its data fork is split; the MacBinary header
    and whatever follows the fork are stray bytes.
    """
    lo, hi = (wrapper.start, wrapper.end) if wrapper is not None else (0, len(data))
    messages: list[Message] = []
    stray: list[tuple[int, int]] = [(0, lo)] if lo else []
    at = lo
    for start, end in [*sorted(r for r in fixed if lo <= r[0] < r[1] <= hi), (hi, hi)]:
        if start < at:
            continue  # overlapping ranges: the first one wins
        unsplit = _scan(data, at, start, messages, stray)
        if unsplit is not None:
            return Split(tuple(messages), tuple(stray), unsplit, wrapper)
        if start < hi:
            messages.append(Message(start, end, True))
        at = end
    if hi < len(data):
        stray.append((hi, len(data)))
    return Split(tuple(messages), tuple(stray), None, wrapper)


def _scan(data: bytes, at: int, size: int, messages: list[Message], stray: list[tuple[int, int]]) -> int | None:
    """Split ``data[at:size]`` onto ``messages`` and ``stray``; the offset where it stopped at
    MAX_MESSAGES, or None."""
    stop = -2  # cached next F7: searching again for every F0 would be quadratic on F0 F0 F0 ...
    while at < size:
        if len(messages) >= MAX_MESSAGES:
            return at
        start = data.find(SOX, at, size)
        if start < 0:
            stray.append((at, size))
            break
        if start > at:
            stray.append((at, start))
        if stop != -1 and stop <= start:
            stop = data.find(EOX, start + 1, size)
        restart = data.find(SOX, start + 1, size)
        if stop >= 0 and (restart < 0 or stop < restart):
            messages.append(Message(start, stop + 1, True))
            at = stop + 1
        else:
            end = restart if restart >= 0 else size
            messages.append(Message(start, end, False))
            at = end
    return None


def describe(data: bytes, msg: Message) -> str:
    """What a message is, from its header: manufacturer, and for Yamaha the bulk format."""
    body = msg.body(data)
    if not body:
        return "empty sysex message"
    maker = MANUFACTURERS.get(body[0], f"manufacturer id {body[0]:02X}")
    if body[0] == YAMAHA and len(body) >= 3:
        kind = body[1] >> 4
        if kind == 0:
            return YAMAHA_FORMATS.get(body[2], f"Yamaha bulk dump format {body[2]:02X}")
        if kind == 1:
            return "Yamaha parameter change"
        if kind == 2:
            return "Yamaha dump request"
    return f"{maker} sysex"


def _stray_problem(data: bytes, parts: Split, dx7: bool) -> Violation:
    first, end = parts.stray[0]
    total = parts.stray_bytes
    data_ = {"repair": "strip", "end": end}
    # What a reader does with it: Dexed's cartridge loader wants F0 as the file's first byte
    # (otherwise it offers to load the file as "random data", misaligned); bytes after the
    # bank's F7 it never looks at.
    leading = bool(parts.messages) and first < parts.messages[0].start
    refuses = (": Dexed looks for F0 at the first byte, so it refuses the bank (or loads it misaligned)"
               if dx7 and leading else "")
    if parts.wrapper is not None:
        w = parts.wrapper
        after = len(data) - w.end
        tail = f" and {after} bytes after it (resource fork or padding)" if after else ""
        return Violation(f"the sysex is wrapped in a MacBinary header (Mac file {w.name!r}): {w.start} bytes "
                         f"before the F0{tail}{refuses or ': a MIDI device sees them as noise'}",
                         Location(offset=0), code="D012", data=data_)
    if not leading and parts.messages and first >= parts.messages[-1].end and len(parts.stray) == 1:
        return Violation(f"{total} bytes after the last sysex message's F7: a MIDI device sees them as noise"
                         + ("; Dexed ignores them" if dx7 else ""), Location(offset=first), code="D012", data=data_)
    more = f" in {len(parts.stray)} places" if len(parts.stray) > 1 else ""
    return Violation(f"{total} bytes outside any sysex message (F0 ... F7){more}"
                     f"{refuses or ': a MIDI device sees them as noise'}", Location(offset=first), code="D012",
                     data=data_)


def framing_problems(data: bytes, parts: Split, covered: frozenset[int] = frozenset(),
                     dx7: bool = False) -> Iterator[Violation]:
    """Stray bytes and unterminated messages (code D012): one finding for each kind, at the first.

    ``covered``: starts of messages whose own size finding already says they are cut short.
    ``dx7``: the file holds DX7 voice data (the messages then say what Dexed does).
    """
    if parts.stray:
        yield _stray_problem(data, parts, dx7)
    cut = [m for m in parts.messages if not m.terminated and m.start not in covered]
    if cut:
        msg = cut[0]
        by = "the next F0" if msg.end < len(data) else "the end of the file"
        more = f" ({len(cut)} messages without F7)" if len(cut) > 1 else ""
        yield Violation(f"sysex message ({describe(data, msg)}) has no F7: cut short by {by} after "
                        f"{msg.end - msg.start} bytes{more}", Location(offset=msg.start), code="D012",
                        data={"end": msg.end})
    if parts.unsplit is not None:
        yield Violation(f"more than {MAX_MESSAGES} sysex messages: the rest of the file was not read",
                        Location(offset=parts.unsplit), code="D012", data={"end": len(data)})


def strippable(data: bytes, parts: Split) -> tuple[tuple[int, int], ...] | None:
    """The stray byte ranges a fix may remove, leaving the bare sysex; None when it must not.

    Every message stays byte for byte. What goes carries no sound: a MacBinary header and what
    follows its data fork (resource fork, padding), padding, or fewer bytes than a DX7 voice (128).
    Larger stray blocks that are neither might be voice data (a headerless dump beside a bank):
    those are left for a person to look at. Nothing is removed from a file whose messages are
    cut short or that was not split to its end.
    """
    if not parts.stray or not parts.messages or parts.unsplit is not None:
        return None
    if any(not m.terminated for m in parts.messages):
        return None
    w = parts.wrapper
    for start, end in parts.stray:
        wrapped = w is not None and (end <= w.start or start >= w.end)
        if not wrapped and end - start >= 128 and data[start:end].strip(_PADDING):
            return None
    return parts.stray


_PADDING = b"\x00\xff \t\r\n\x1a"  # NUL, FF, white space and ^Z (CP/M end of file) fill


class SysexLoader(Loader):
    """Sysex that is not DX7 voice data: recognized, and its framing checked."""

    format_id = "syx"
    extensions = (".syx",)
    description = "MIDI sysex (other than DX7 voice data), recognized only"
    validates = False

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.sysex(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        parts = split(data, wrapper=macbinary(data))
        if not parts.messages:
            problem = Violation("no sysex message (F0 ... F7) in the file: it is not MIDI sysex",
                                Location(offset=0), code="D013")
            return Document(self.format_id, data, raw=parts, problems=(problem,), validated=False, parsed=False)
        kinds = tuple(describe(data, m) for m in parts.messages)
        header = {"messages": len(parts.messages), "first": kinds[0]}
        return Document(self.format_id, data, raw=parts, problems=tuple(framing_problems(data, parts)),
                        validated=False, facts=DocumentFacts(header=header, kinds=kinds))


LOADER = SysexLoader()
