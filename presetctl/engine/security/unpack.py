"""Decoding before looking: base64 strings, loader blobs, gzip streams and zip members, bounded.

A naive byte regex over a file finds "paths" in wavetable noise and misses a user path stored
as base64; so content is decoded first and the rules look at the decoded bytes. Everything is
in memory and bounded: each member by ``max_entry_size``, the file's total by
``max_decompressed``, archive nesting by ``max_recursion``, inflation by ``max_ratio`` (via
``presetctl.engine.archive``, which pulls output in chunks with ``max_length``). Declared sizes
are checked before anything is inflated, as OWASP ASVS asks. What was cut short is recorded as
a limit hit and in :attr:`Unpacker.stops`, never dropped silently.
"""

from __future__ import annotations

import base64
import binascii
import re
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from presetctl.engine.formats.base import Blob
from presetctl.engine.model import NOWHERE, Location
from presetctl.engine.options import Limits
from presetctl.safe_text import visible

# The archive readers are imported when a file holds gzip or zip data (engine/archive.py): the scan of
# every other file (most) does not load them (start-up, tests/test_startup.py).
if TYPE_CHECKING:
    from presetctl.engine.archive import ZipEntry

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_PRINTABLE = bytes(range(32, 127)) + b"\t\n\r"
MIN_BASE64 = 24  # shorter strings are words, not payloads
BOMB_FLOOR = 1 << 20  # a member must inflate past 1 MiB before its ratio can make it a bomb
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"


class Budget(Protocol):
    def expired(self) -> bool: ...

    def hit(self, key: str, message: str, location: Location = NOWHERE) -> None: ...


@dataclass(frozen=True, slots=True)
class Decoded:
    """Bytes found inside the file once decoded: ``source`` says how (``base64``, ``gzip``...)."""

    location: Location
    source: str
    data: bytes
    depth: int  # archive layers around it
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Archive:
    """Facts about one zip or gzip container met while unpacking (the file itself or nested)."""

    location: Location
    kind: str  # "zip" or "gzip"
    depth: int  # archive layers around it: 0 for the file itself or a payload in it
    compressed: int
    entries: tuple[ZipEntry, ...] = ()
    problem: str = ""  # why it could not be listed or inflated at all
    overlapping: bool = False  # zip members share bytes (the non-recursive zip bomb)
    declared: int = 0  # declared uncompressed total (central directory sizes, gzip ISIZE)
    inflated: int = 0  # bytes actually inflated


def entry_location(outer: Location, name: str) -> Location:
    """A member's location: nested members are joined with ``!/`` (as in jar: URLs)."""
    return Location(pointer=outer.pointer, voice=outer.voice, entry=f"{outer.entry}!/{name}" if outer.entry else name)


def text_of(data: bytes) -> str | None:
    """``data`` as text when it is text (UTF-8, mostly printable), else None."""
    head = data[:4096]
    if not head or b"\x00" in head:
        return None
    if len(head.translate(None, _PRINTABLE)) * 10 > len(head):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a cut multibyte character at the end is fine
                return None
    return data.decode("utf-8", "replace")


class Unpacker:
    """Collects decoded payloads and archive facts for one file, within the limits."""

    def __init__(self, limits: Limits, budget: Budget) -> None:
        self.limits = limits
        self.budget = budget
        self.total = 0
        self.decoded: list[Decoded] = []
        self.archives: list[Archive] = []
        self.stops: list[tuple[Location, str]] = []  # (where, why inflation stopped)
        self._seen: set[tuple[int, int]] = set()

    def add_file(self, data: bytes) -> None:
        self._expand(NOWHERE, data, 0)

    def add_blob(self, blob: Blob) -> bool:
        try:
            data = blob.read()
        except Exception as exc:  # noqa: BLE001 - a loader's decoder failing is a finding, not a crash
            self.budget.hit(f"blob {blob.location.render()}",
                            f"embedded {blob.kind} data could not be decoded ({type(exc).__name__}); not scanned",
                            blob.location)
            return False
        if not isinstance(data, (bytes, bytearray)):
            return False
        self._push(blob.location, f"embedded {blob.kind}", self._clip(bytes(data), blob.location), 0)
        return True

    def add_base64(self, location: Location, text: str) -> bool:
        """Decode ``text`` if it is base64 (strict alphabet and padding); True when it was."""
        if "\n" in text or "\r" in text:
            text = "".join(text.split())
        if len(text) < MIN_BASE64 or len(text) % 4 or not text.isascii():
            return False
        try:  # validate=True checks the alphabet in C: cheaper than a regex over megabytes
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return False
        self._push(location, "base64", self._clip(data, location), 0)
        return True

    def finish(self) -> None:
        """Nothing pending: kept so callers do not depend on when expansion happens."""

    # -- internals -----------------------------------------------------------------------------
    def _room(self) -> int:
        return self.limits.max_decompressed - self.total

    def _clip(self, data: bytes, location: Location) -> bytes:
        room = self._room()
        if len(data) > room:
            self._stop(location, "decoded")
            data = data[: max(room, 0)]
        self.total += len(data)
        return data

    def _stop(self, location: Location, why: str) -> None:
        self.stops.append((location, why))
        where = visible(location.render()) or "the file"  # an entry name is file text
        text = {
            "total": f"more than {self.limits.max_decompressed} bytes inflated from one file (limits.max-decompressed)",
            "decoded": f"more than {self.limits.max_decompressed} bytes decoded from one file (limits.max-decompressed)",
            "limit": f"a member inflates past {self.limits.max_entry_size} bytes (limits.max-entry-size)",
            "ratio": f"inflation ratio over {self.limits.max_ratio}:1 (limits.max-ratio)",
            "declared": "declared sizes over the limits; not inflated",
            "recursion": f"archives nested deeper than {self.limits.max_recursion} (limits.max-recursion)",
            "entries": f"more than {self.limits.max_entries} archive members (limits.max-entries)",
        }.get(why, f"content could not be decoded ({why})")
        self.budget.hit(f"stop {where} {why}", f"scan stopped at {where}: {text}; the rest was not scanned", location)

    def _push(self, location: Location, source: str, data: bytes, depth: int, complete: bool = True) -> None:
        key = (len(data), zlib.crc32(data))
        if not data or key in self._seen:
            return
        self._seen.add(key)
        self.decoded.append(Decoded(location, source, data, depth, complete))
        self._expand(location, data, depth)

    def _expand(self, location: Location, data: bytes, depth: int) -> None:
        is_gzip = data[:2] == GZIP_MAGIC
        is_zip = data[:4] in ZIP_MAGIC
        if not (is_gzip or is_zip):
            return
        if depth >= self.limits.max_recursion:
            self.archives.append(Archive(location, "gzip" if is_gzip else "zip", depth, len(data), problem="recursion"))
            self._stop(location, "recursion")
            return
        if self.budget.expired():
            return
        if is_gzip:
            self._gzip(location, data, depth)
        else:
            self._zip(location, data, depth)

    def _gzip(self, location: Location, data: bytes, depth: int) -> None:
        room = min(self.limits.max_entry_size, self._room())
        declared = int.from_bytes(data[-4:], "little") if len(data) >= 18 else 0
        from presetctl.engine.archive import inflate

        result = inflate(data, max(room, 0), self.limits.max_ratio)
        self.total += len(result.data)
        problem = "" if result.complete or result.problem in ("limit", "ratio") else result.problem
        self.archives.append(Archive(location, "gzip", depth, len(data), problem=problem, declared=declared,
                                     inflated=len(result.data)))
        if not result.complete:
            self._stop(location, "total" if result.problem == "limit" and room < self.limits.max_entry_size else result.problem)
        self._push(location, "gzip", result.data, depth + 1, result.complete)

    def _zip(self, location: Location, data: bytes, depth: int) -> None:
        from presetctl.engine.archive import list_zip, read_zip_member

        listing, zf = list_zip(data, self.limits.max_entries)
        if zf is None:
            why = "entries" if "over the limit" in listing.problem else listing.problem
            self.archives.append(Archive(location, "zip", depth, len(data), problem=why))
            self._stop(location, why)
            return
        with zf:
            overlapping = _overlapping(zf.infolist())
            declared = sum(e.size for e in listing.entries)
            self.archives.append(Archive(location, "zip", depth, len(data), listing.entries, overlapping=overlapping,
                                         declared=declared))
            inflated = 0
            for entry in listing.entries:
                if entry.is_dir or entry.is_symlink or entry.is_special or entry.encrypted:
                    continue
                where = entry_location(location, entry.name)
                if self.budget.expired():
                    return
                if entry.size > self.limits.max_entry_size or is_bomb_ratio(entry.size, entry.compressed, self.limits):
                    self._stop(where, "declared")
                    continue
                room = min(self.limits.max_entry_size, self._room())
                if room <= 0:
                    self._stop(where, "total")
                    return
                result = read_zip_member(zf, entry.name, room)
                self.total += len(result.data)
                inflated += len(result.data)
                if not result.complete:
                    self._stop(where, "total" if result.problem == "limit" and room < self.limits.max_entry_size
                               else result.problem or "limit")
                self._push(where, "zip member", result.data, depth + 1, result.complete)


def is_bomb_ratio(size: int, compressed: int, limits: Limits) -> bool:
    """Whether ``size`` inflated from ``compressed`` bytes is beyond the ratio a real file reaches."""
    return size > BOMB_FLOOR and size > limits.max_ratio * max(compressed, 1)


def _overlapping(infos: list[zipfile.ZipInfo]) -> bool:
    """Members whose data overlaps another's: the trick behind non-recursive zip bombs."""
    spans = sorted((i.header_offset, i.header_offset + 30 + len(i.filename.encode("utf-8", "replace")) + i.compress_size)
                   for i in infos)
    return any(start < prev_end for (_, prev_end), (start, _) in zip(spans, spans[1:], strict=False))
