"""MIDI system exclusive files (``.syx``): splitting into messages, and the loader for other sysex.

A ``.syx`` file is a sequence of messages ``F0 <manufacturer> ... F7``. Real files are messy:
messages cut short (a new ``F0`` before the ``F7``, or the end of the file), bytes between
messages, text saved under the extension. :func:`split` never raises; it returns the messages
and the stray byte ranges so that both loaders can report them with byte offsets.

DX7 voice data is read by :mod:`presetctl.engine.formats.dx7_syx`; every other sysex (other
Yamaha formats, other manufacturers) is recognized here, header-checked only (format ``syx``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from presetctl.engine.formats.base import Document, DocumentFacts, LoadContext, Loader
from presetctl.engine.model import Location, Violation

SOX = 0xF0  # start of exclusive
EOX = 0xF7  # end of exclusive
YAMAHA = 0x43
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

    @property
    def stray_bytes(self) -> int:
        return sum(end - start for start, end in self.stray)


def split(data: bytes) -> Split:
    """Messages and stray ranges of ``data``. A message ends at ``F7``, at the next ``F0``
    (unterminated) or at the end of the data (unterminated)."""
    messages: list[Message] = []
    stray: list[tuple[int, int]] = []
    at = 0
    size = len(data)
    stop = -2  # cached next F7: searching again for every F0 would be quadratic on F0 F0 F0 ...
    while at < size:
        if len(messages) >= MAX_MESSAGES:
            return Split(tuple(messages), tuple(stray), at)
        start = data.find(SOX, at)
        if start < 0:
            stray.append((at, size))
            break
        if start > at:
            stray.append((at, start))
        if stop != -1 and stop <= start:
            stop = data.find(EOX, start + 1)
        restart = data.find(SOX, start + 1)
        if stop >= 0 and (restart < 0 or stop < restart):
            messages.append(Message(start, stop + 1, True))
            at = stop + 1
        else:
            end = restart if restart >= 0 else size
            messages.append(Message(start, end, False))
            at = end
    return Split(tuple(messages), tuple(stray))


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


def framing_problems(data: bytes, parts: Split, covered: frozenset[int] = frozenset()) -> Iterator[Violation]:
    """Stray bytes and unterminated messages (code D012): one finding for each kind, at the first.

    ``covered``: starts of messages whose own size finding already says they are cut short.
    """
    if parts.stray:
        first, end = parts.stray[0]
        more = f" in {len(parts.stray)} places" if len(parts.stray) > 1 else ""
        yield Violation(f"{parts.stray_bytes} bytes outside any sysex message (F0 ... F7){more}: a MIDI device "
                        f"sees them as noise", Location(offset=first), code="D012", data={"end": end})
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


class SysexLoader(Loader):
    """Sysex that is not DX7 voice data: recognized, and its framing checked."""

    format_id = "syx"
    extensions = (".syx",)
    description = "MIDI sysex (other than DX7 voice data), recognized only"
    validates = False

    def sniff(self, head: bytes, path: PurePath) -> int:
        # Below the DX7 loader (90+) for DX7 data; .syx files of anything else land here.
        if path.suffix.lower() == ".syx":
            return 45
        return 30 if head.startswith(bytes([SOX, YAMAHA])) and EOX in head else 0

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        parts = split(data)
        if not parts.messages:
            problem = Violation("no sysex message (F0 ... F7) in the file: it is not MIDI sysex",
                                Location(offset=0), code="D013")
            return Document(self.format_id, data, raw=parts, problems=(problem,), validated=False, parsed=False)
        kinds = tuple(describe(data, m) for m in parts.messages)
        header = {"messages": len(parts.messages), "first": kinds[0]}
        return Document(self.format_id, data, raw=parts, problems=tuple(framing_problems(data, parts)),
                        validated=False, facts=DocumentFacts(header=header, kinds=kinds))


LOADER = SysexLoader()
