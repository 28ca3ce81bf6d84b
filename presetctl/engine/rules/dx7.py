"""Format level for Yamaha DX7 sysex (``D0xx``): checksum, sizes, 7-bit data, names, ranges.

Checks read the :class:`~presetctl.engine.formats.dx7_syx.Dx7File` the loader left in
``Document.raw``. Every finding carries a byte offset; a finding about one voice also carries
the voice number (voices count on across the banks of a file). ``D012`` and ``D013`` are emitted
by the loaders (framing, not sysex) and registered here so they are documented and selectable.
Names longer than 10 bytes are the naming rule N004 (NAME_LIMITS["dx7-syx"] = 10).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from presetctl.engine.fix.edits import FixAction, FixContext, Splice
from presetctl.engine.fix.toolkit import each, target
from presetctl.engine.fix.writers import dx7_sysex
from presetctl.engine.formats import dx7_syx, sysex
from presetctl.engine.formats.base import Document
from presetctl.engine.formats.dx7_syx import BANK_COUNT, BANK_COUNT_VARIANT, VOICE_COUNT, Dump, Dx7File
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import Fix, FixSafety, Level, Rule, RuleContext, RuleDoc

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
DX7 = frozenset({"dx7-syx"})


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _file(doc: Document) -> Dx7File | None:
    return doc.raw if isinstance(doc.raw, Dx7File) else None


def _dumps(doc: Document) -> Iterator[Dump]:
    found = _file(doc)
    if found is not None:
        yield from found.dumps


def _payload(doc: Document, dump: Dump) -> bytes:
    return doc.data[dump.data_at : dump.data_at + min(dump.data_len, dump.expected)]


def check_checksum(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        at = dump.checksum_at
        if at is None:
            continue  # no checksum byte to compare (size findings say why)
        stored, want = doc.data[at], dx7_syx.checksum(_payload(doc, dump))
        data = {"repair": "checksum", "dump_at": dump.start, "checksum_at": at}
        if stored == want:
            continue
        if stored & 0x7F == want:
            yield Violation(f"{dump.label}: checksum byte {stored:02X} has bit 7 set (its low 7 bits {want:02X} "
                            f"match): Dexed compares all 8 bits and refuses the bank, a synth receiving it sees a "
                            f"status byte",
                            Location(offset=at), code="D002", data=data)
        else:
            yield Violation(f"{dump.label}: checksum {stored:02X} does not match the data (expected {want:02X}): "
                            f"Dexed refuses the {'bank' if dump.kind == 'bank' else 'dump'} unless told to load it "
                            f"anyway", Location(offset=at), code="D001", data=data)


def check_byte_count(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        if dump.kind == "raw" or len(dump.count) < 2:
            continue  # a header cut before its byte count is a size finding
        want = VOICE_COUNT if dump.kind == "voice" else BANK_COUNT
        if dump.count == want:
            continue
        shown = dump.count.hex(" ").upper()
        why = (" (a common variant written by some librarians)" if dump.kind == "bank" and
               dump.count == BANK_COUNT_VARIANT else "")
        yield Violation(f"{dump.label}: byte count {shown}{why}; the DX7 format says {want.hex(' ').upper()} "
                        f"({dump.expected} bytes); Dexed does not read the count", Location(offset=dump.start + 4),
                        data={"repair": "byte-count", "dump_at": dump.start, "want": want.hex()})


def check_size(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        if dump.kind == "raw":
            continue
        n, want = dump.data_len, dump.expected
        where = Location(offset=dump.start)
        if not dump.terminated:
            yield Violation(f"{dump.label} is cut short: {n} of {want} data bytes and no checksum or F7; "
                            f"{len(dump.voices)} complete voices read", where)
        elif n == want:
            yield Violation(f"{dump.label}: the checksum byte is missing ({n} data bytes, then F7)", where)
        elif n != want + 1:
            yield Violation(f"{dump.label} holds {n} bytes between header and F7, not {want} data bytes + "
                            f"checksum: {len(dump.voices)} voices read, checksum not checked", where)


# Bytes of each packed operator (0-10: EG rates and levels, break point, depths) that the newest
# Dexed copies raw into the voice, bit 7 included (Cartridge::unpackProgram); it masks the others.
_RAW_IN_DEXED = frozenset(op * 17 + i for op in range(6) for i in range(11))


def _status_bytes(dump: Dump, voice: dx7_syx.Voice | None, high: Sequence[tuple[int, int]]) -> str:
    """What readers do with a voice's bytes above 7F (``high``: (file offset, byte) pairs)."""
    said = "MIDI data is 7-bit: a synth receiving the dump drops it"
    if dump.kind != "bank":
        return said  # Dexed's cartridge loader reads banks only
    ends = [at for at, b in high if b == sysex.EOX]
    if ends:  # Dexed's Cartridge::load stops at the first F7 (an F0 inside it never looks at)
        return f"{said}; the F7 at byte {ends[0]} ends the bank early for Dexed, which refuses it or loads it misaligned"
    if voice is not None and voice.packed and any(at - voice.offset in _RAW_IN_DEXED for at, _ in high):
        return f"{said}; Dexed plays operator EG and scaling bytes with bit 7 (values above 127)"
    return f"{said}; Dexed ignores bit 7 of these bytes"


def check_seven_bit(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    """One finding per voice with bytes above 7F (and one for the bytes after the last complete voice)."""
    for dump in _dumps(doc):
        end = dump.data_at + min(dump.data_len, dump.expected)
        if doc.data[dump.data_at : end].isascii():
            continue  # every byte below 80: the common case, checked at C speed
        ranges: list[tuple[dx7_syx.Voice | None, int, int]] = [(v, v.offset, v.offset + len(v.data)) for v in dump.voices]
        ranges.append((None, ranges[-1][2] if ranges else dump.data_at, end))
        for voice, start, stop in ranges:
            high = [(at, doc.data[at]) for at in range(start, stop) if doc.data[at] > 0x7F]
            if not high:
                continue
            at, byte = high[0]
            who = (f"voice {voice.number} {dx7_syx.display_name(voice.name_bytes)!r}" if voice is not None
                   else f"{dump.label}, after the last complete voice")
            yield Violation(f"{who}: {_n(len(high), 'data byte')} above 7F (first: {byte:02X} at byte {at}); "
                            f"{_status_bytes(dump, voice, high)}",
                            Location(offset=at, voice=voice.number if voice is not None else None),
                            data={"repair": "seven-bit", "dump_at": dump.start, "start": start, "end": stop})


def check_concatenated(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    banks = [d for d in _dumps(doc) if d.kind == "bank"]
    if len(banks) > 1:
        yield Violation(f"{len(banks)} voice banks in one file: a DX7 keeps only the last one it receives and "
                        f"most librarians read only the first", Location(offset=banks[1].start),
                        data={"banks": len(banks)})


def check_headerless(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        if dump.kind == "raw":
            yield Violation("4096 bytes of voice data without the sysex header, checksum and F7: a DX7 cannot "
                            "receive it", Location(offset=0))


def check_names(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        for voice in dump.voices:
            raw = voice.name_bytes
            bad = [i for i, b in enumerate(raw) if (b & 0x7F) < 0x20]
            if bad:
                codes = " ".join(f"{raw[i]:02X}" for i in bad)
                yield Violation(f"voice name {dx7_syx.display_name(raw)!r} holds bytes outside the DX7 character set "
                                f"({codes})", Location(pointer="/name", offset=voice.name_offset + bad[0],
                                                       voice=voice.number))


def dexed_reading(field: str, value: int) -> str:
    """What Dexed (Cartridge::unpackProgram and the msfa engine) does with an out-of-range value.

    Nobody has documented what a DX7 does with them (Dexed issue #215 asks); Dexed is the
    reference emulator, and each of these plays differently from any value a DX7 can store.
    """
    name = field.split("_", 1)[1] if field.startswith("op") and field[2:3].isdigit() else field
    if name.startswith("pitch_eg_"):
        return f"Dexed rescales it to {int(value / 255 * 99)} (value x 99 / 255): the pitch envelope changes"
    return _DEXED.get(name.rstrip("1234"), "Dexed uses it as stored, beyond any DX7 setting").format(
        value=value, shift=value - 24)


_DEXED = {
    "eg_rate": "Dexed plays it like 99 (its rate table ends there)",
    "eg_level": "Dexed plays it louder than level 99 (its level scale runs on past 99)",
    "output_level": "Dexed plays it at least as loud as 99, louder where keyboard scaling lowers the level",
    "kbd_breakpoint": "Dexed puts the break point above the highest key a DX7 offers",
    "kbd_left_depth": "Dexed scales the level more steeply than depth 99",
    "kbd_right_depth": "Dexed scales the level more steeply than depth 99",
    "detune": "Dexed detunes one step beyond +7",
    "freq_fine": "Dexed uses it as stored: a frequency ratio beyond fine 99",
    "lfo_speed": "Dexed runs the LFO faster than speed 99",
    "lfo_delay": "Dexed computes the delay from 99 - value, which goes negative: undefined in its engine",
    "lfo_pmd": "Dexed modulates the pitch deeper than depth 99",
    "lfo_amd": "Dexed modulates the amplitude deeper than depth 99",
    "lfo_wave": "Dexed has no such wave and plays no LFO at all",
    "transpose": "Dexed shifts every note by {shift} semitones (a DX7 stops at +24)",
}


def check_ranges(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        for voice in dump.voices:
            for f, value in zip(dx7_syx.FIELDS, voice.values, strict=True):
                if value > f.maximum:
                    yield Violation(f"{f.name} = {value} is outside the DX7 range 0-{f.maximum}: "
                                    f"{dexed_reading(f.name, value)}",
                                    Location(pointer=f.pointer, offset=voice.field_offset(f), voice=voice.number),
                                    data={"min": 0, "max": f.maximum, "name": f.name})


def check_unused_bits(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for dump in _dumps(doc):
        for voice in dump.voices:
            if not voice.packed:
                continue
            used = [at for at, mask in dx7_syx.UNUSED_BITS.items() if voice.data[at] & mask]
            if used:
                at = min(used)
                yield Violation(f"{_n(len(used), 'packed byte')} with bits set that no DX7 parameter uses (first: "
                                f"{voice.data[at]:02X} at byte {voice.offset + at}): the voice may come from "
                                f"another synth or be damaged", Location(offset=voice.offset + at, voice=voice.number))


def check_other_sysex(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    found = _file(doc)
    if found is None or not found.others:
        return
    kinds = sorted({sysex.describe(doc.data, m) for m in found.others})
    yield Violation(f"{_n(len(found.others), 'other sysex message')} ({', '.join(kinds)}) besides the DX7 voice data; "
                    f"not validated", Location(offset=found.others[0].start), data={"count": len(found.others)})


_FRAMING = ("Yamaha DX7 MIDI data format (owner's manual): `F0 43 0n 09 20 00` + 4096 bytes + checksum + `F7` "
            "for 32 voices, `F0 43 0n 00 01 1B` + 155 bytes + checksum + `F7` for one voice.")


# --- fixes ------------------------------------------------------------------------------------

def fix_sysex_bank(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    """DX7 checksum, byte count and 8-bit data bytes: each finding gets only its own repair (so an
    unsafe checksum rewrite never rides along with a safe byte-count fix), for any dump in the file."""
    def make(v: Violation) -> FixAction | None:
        found = dx7_sysex.repair_one(doc.data, v.data or {})
        if found is None:
            return None
        return FixAction(v.code, found[0], v.location, (found[1],), targets=(target(v),))
    return each(violations, make)


def fix_framing(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    """Write the bare sysex: every message kept byte for byte, the stray bytes around them removed
    (a MacBinary header and resource fork, padding, a few bytes of junk; see sysex.strippable)."""
    parts = doc.raw.parts if isinstance(doc.raw, Dx7File) else doc.raw if isinstance(doc.raw, sysex.Split) else None
    ranges = sysex.strippable(doc.data, parts) if parts is not None else None
    if ranges is None:
        return []
    removed = sum(end - start for start, end in ranges)
    what = " (MacBinary header)" if parts is not None and parts.wrapper is not None else ""
    return [FixAction(v.code, f"removed {removed} bytes outside the sysex messages{what}", v.location,
                      tuple(Splice(start, end, b"") for start, end in ranges), targets=(target(v),))
            for v in violations if (v.data or {}).get("repair") == "strip"]


RULES = (
    Rule("D001", "dx7-checksum-mismatch", Level.FORMAT, E, "DX7 dump checksum does not match its data",
         RuleDoc("Reports a bank or single-voice dump whose checksum byte is not `(-sum(data)) & 0x7F`. "
                 + _FRAMING,
                 "Dexed refuses the bank with 'This sysex file is not for the DX7 or it is corrupted' and loads "
                 "it only if the user insists; its OSC interface and strict librarians refuse it outright. The "
                 "mismatch may also mean the voice data itself was damaged.",
                 "`... 5F 1C ... 00 F7` where the data sums to a checksum of 5A",
                 "Recompute the checksum, after checking that the voices sound right.",
                 "Unsafe: the fixer writes the checksum of the data as it is, which makes a synth accept data "
                 "that may be damaged."),
         check=check_checksum, formats=DX7, also_emits=("D002",),
         fix=Fix(FixSafety.UNSAFE, "recompute the checksum from the data", fix_sysex_bank)),
    Rule("D002", "dx7-checksum-high-bit", Level.FORMAT, E, "DX7 checksum byte has bit 7 set",
         RuleDoc("Reports a checksum byte whose low 7 bits are right but whose bit 7 is set (`9B` instead of "
                 "`1B`). The stored byte is compared whole, as a synth receives it.",
                 "Sysex data bytes are 7-bit: a byte with bit 7 set is a status byte, which ends the message "
                 "before its `F7`. Common in banks written by old librarians.",
                 "`... 9B F7` where the checksum is 1B", "Clear bit 7 of the checksum byte.",
                 "Safe: the data is confirmed by the low 7 bits; only the invalid bit is cleared."),
         fix=Fix(FixSafety.SAFE, "clear bit 7 of the checksum byte", fix_sysex_bank)),
    Rule("D003", "dx7-byte-count", Level.FORMAT, I, "DX7 dump byte count is not the format's",
         RuleDoc("Reports a byte count (the two bytes after the format number) other than `20 00` for a bank or "
                 "`01 1B` for a single voice. `10 00`, written by some librarians, is recognized as such.",
                 "Dexed never reads the count (it checks only the F0 at the start and the F7 at byte 4103) and "
                 "loads the bank; strict librarians check it and reject the dump. What a DX7 does with it is not "
                 "documented, hence an info.",
                 "`F0 43 00 09 10 00 ...`", "Write `20 00` (`01 1B` for a single voice).",
                 "Safe: the count is fixed by the format; no data changes."),
         check=check_byte_count, formats=DX7, fix=Fix(FixSafety.SAFE, "write the format's byte count", fix_sysex_bank)),
    Rule("D004", "dx7-dump-size", Level.FORMAT, E, "DX7 dump has the wrong size",
         RuleDoc("Reports a bank or single-voice message with more or fewer bytes than the format (4096 or 155 "
                 "data bytes, then checksum and `F7`): cut short, missing its checksum, or with extra bytes. "
                 "Complete voices are still read; the checksum is not checked.",
                 "A DX7 rejects the dump; librarians read shifted or partial voices.",
                 "a 520-byte file starting `F0 43 00 09 20 00`",
                 "Find a complete copy of the bank; presetctl does not guess missing bytes."),
         check=check_size, formats=DX7),
    Rule("D005", "dx7-data-not-7-bit", Level.FORMAT, E, "DX7 voice data holds bytes above 7F",
         RuleDoc("Reports voice data bytes with bit 7 set: one finding per voice, at its first such byte. A "
                 "4104-byte bank (163-byte voice) whose data holds `F0` or `F7` is read at fixed offsets, all of "
                 "its voices, when its checksum matches or it is the whole file; the finding then names the "
                 "status bytes.",
                 "MIDI sysex data is 7-bit: such a byte is a status byte to a synth, which drops the dump. An `F7` "
                 "inside the data ends the dump for every stream reader: Dexed then refuses the bank or loads it "
                 "misaligned. Other high bytes the newest Dexed masks, except in the operator EG and scaling "
                 "bytes, which it plays with bit 7 (values above 127); older Dexed versions read them raw.",
                 "a name byte `C3` where `43` (C) was meant; an `F7` at byte 900 of a 4104-byte bank",
                 "Clear bit 7 of each data byte (as a 7-bit receiver reads them). The checksum stays valid: "
                 "masking changes the data's sum by multiples of 128.",
                 "Unsafe: values change wherever a reader used bit 7 (Dexed's operator EG and scaling bytes); "
                 "elsewhere the result is what the newest Dexed already plays. Listen to the voices."),
         check=check_seven_bit, formats=DX7, fix=Fix(FixSafety.UNSAFE, "clear bit 7 of the voice's data bytes", fix_sysex_bank)),
    Rule("D006", "dx7-concatenated-banks", Level.FORMAT, W, "Several DX7 banks in one file",
         RuleDoc("Reports a file holding more than one 32-voice bank message. presetctl reads them all (voices "
                 "are numbered on: bank 2 starts at voice 33).",
                 "A DX7 keeps only the last bank it receives; most librarians and Dexed read only the first: the "
                 "other voices are unreachable.",
                 "an 8208-byte file with two banks", "Split the file into one file per bank."),
         check=check_concatenated, formats=DX7),
    Rule("D007", "dx7-headerless-dump", Level.FORMAT, W, "DX7 voice data without sysex framing",
         RuleDoc("Reports a 4096-byte file of packed voice data without the `F0 43 0n 09 20 00` header, "
                 "checksum and `F7` (a raw cartridge dump).",
                 "It cannot be sent to a synth; only tolerant librarians read it.",
                 "a 4096-byte `.syx` whose first byte is a voice parameter",
                 "Add the header, checksum and F7 (a librarian's 'save as sysex')."),
         check=check_headerless, formats=DX7),
    Rule("D008", "dx7-name-charset", Level.FORMAT, W, "DX7 voice name holds unprintable bytes",
         RuleDoc("Reports a voice name (10 bytes) with bytes below 20 (control characters, NUL padding). The DX7 "
                 "shows 20-7F (with its own glyphs for 5C, 7E, 7F); bit 7 is D005's.",
                 "The DX7 shows garbage, librarians show blanks or boxes, and a control byte can drive a terminal "
                 "that prints the name.",
                 "`50 49 41 4E 4F 00 00 00 00 00`", "Rename the voice with printable characters, padded with spaces."),
         check=check_names, formats=DX7),
    Rule("D009", "dx7-parameter-out-of-range", Level.PARAMETERS, W, "DX7 voice parameter outside the DX7 range",
         RuleDoc("Reports a voice parameter above its range in the DX7 voice format (EG rates and levels, "
                 "levels, fine frequency, LFO 0-99, detune 0-14, LFO wave 0-5, transpose 0-48, algorithm 0-31, "
                 "...), read from the packed bank (or unpacked single-voice) layout. One finding per value, "
                 "with its byte offset.",
                 "The voice sounds different from anything a DX7 can store. Dexed (the reference emulator; "
                 "what a DX7 itself does is not documented) plays operator EG rates above 99 like 99, EG and "
                 "output levels louder, rescales pitch-EG values to value x 99 / 255 (100 plays as 38), plays "
                 "no LFO for waves 6-7, transposes beyond +24 and uses the rest as stored; the message says "
                 "which. Common in banks edited by hand or made for another synth, hence a warning.",
                 "`op1 output_level = 127` (range 0-99)", "Bring the value into range in an editor."),
         check=check_ranges, formats=DX7),
    Rule("D010", "dx7-unused-bits", Level.FORMAT, I, "Packed DX7 voice has unused bits set",
         RuleDoc("Reports packed voices where bits that no parameter uses are set (bits 4-6 of the curve byte, "
                 "5-6 of the sensitivity byte, 6 of the frequency byte, 5-6 of the algorithm byte, 4-6 of the "
                 "feedback byte).",
                 "A DX7 ignores them, but they show that the voice was written by another synth or tool, or "
                 "damaged: check it by ear.",
                 "curve byte `7F` where only bits 0-3 count", "Save the voice again from an editor."),
         check=check_unused_bits, formats=DX7, profile="marketplace"),
    Rule("D011", "dx7-other-sysex", Level.FORMAT, I, "Other sysex messages besides the DX7 voice data",
         RuleDoc("Reports sysex messages in a DX7 file that are not voice data (DX7II supplements, parameter "
                 "changes, performances, other manufacturers). They are recognized, not validated.",
                 "A librarian loading the file as a bank may ignore or misread them.",
                 "a DX7II AMEM supplement (`F0 43 00 06 08 60`) after the bank",
                 "Nothing to fix if they are meant to be there; ignore D011 to hide these."),
         check=check_other_sysex, formats=DX7),
    Rule("D012", "sysex-framing", Level.FORMAT, W, "Sysex file has stray bytes or a message without F7",
         RuleDoc("Reports bytes outside any `F0 ... F7` message, and messages cut short by the next `F0` or the "
                 "end of the file. Emitted by the sysex loaders (formats dx7-syx and syx).",
                 "A synth receiving the file sees noise or an aborted dump. Dexed wants `F0` as the file's first "
                 "byte: a bank behind a MacBinary header (a 4232-byte file) or leading junk is refused, or "
                 "loaded misaligned if the user insists; bytes after the bank's `F7` it ignores.",
                 "a text line saved before the first `F0`; a 128-byte MacBinary header before the bank",
                 "Remove the stray bytes (the fix writes the bare sysex); for a message without F7, find a "
                 "complete copy.",
                 "Safe: every sysex message stays byte for byte; only bytes outside them go, and the fix removes "
                 "only what carries no sound: a MacBinary header (the Mac file name, type and dates) and what "
                 "follows its data fork (resource fork, padding), padding bytes (00, FF, white space, ^Z), or "
                 "blocks shorter than one voice (128 bytes). Larger blocks of other bytes could be voice data "
                 "and are left alone. The original is in the fix backup (`presetctl fix --undo`)."),
         fix=Fix(FixSafety.SAFE, "write the bare sysex (remove the bytes around the messages)", fix_framing)),
    Rule("D013", "sysex-no-message", Level.FORMAT, E, "File named as sysex holds no sysex message",
         RuleDoc("Reports a `.syx` file without any `F0 ... F7` message that is not a 4096-byte headerless DX7 "
                 "dump either (text, HTML, another format saved under the extension).",
                 "Librarians and synths cannot load it.",
                 "an HTML error page saved as `bank.syx`", "Remove the file or replace it with the real dump.")),
)
