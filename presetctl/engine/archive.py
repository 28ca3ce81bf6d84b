"""Bounded reading of compressed content: gzip streams and zip archives, in memory only.

Nothing is ever extracted to disk, and nothing is inflated without a bound: output is pulled
in chunks with ``max_length`` and counted, so a bomb or a gzip trailer that lies about its
size costs at most the limit. Problems are returned as values for the caller to report.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Inflated:
    """What one bounded inflate produced, and why it stopped early."""

    data: bytes  # what was inflated, at most the limit
    complete: bool  # the whole stream was inflated within the limits
    problem: str = ""  # why not: "limit", "ratio", "corrupt: ...", "truncated"
    members: int = 1  # gzip members (concatenated streams)


def inflate(data: bytes, max_output: int, max_ratio: int = 0, wbits: int = 16 + zlib.MAX_WBITS) -> Inflated:
    """Inflate a gzip (default) or zlib/raw deflate stream, stopping at ``max_output`` bytes.

    ``max_ratio`` > 0 also stops when output exceeds ``max_ratio`` times the input consumed so far
    plus 1 MiB (small inputs legitimately expand more than large ones).
    """
    out = bytearray()
    members = 0
    rest = data
    while rest:
        members += 1
        d = zlib.decompressobj(wbits)
        buf = rest
        consumed_before = len(data) - len(rest)
        while True:
            room = max_output - len(out)
            if room <= 0:
                return Inflated(bytes(out), False, "limit", members)
            try:
                chunk = d.decompress(buf, min(CHUNK, room + 1))
            except zlib.error as exc:
                return Inflated(bytes(out), False, f"corrupt: {exc}", members)
            out += chunk
            if len(out) > max_output:
                del out[max_output:]  # in place: a slice would copy the whole buffer once more
                return Inflated(bytes(out), False, "limit", members)
            consumed = consumed_before + (len(rest) - len(d.unconsumed_tail))
            if max_ratio and len(out) > max_ratio * max(consumed, 1) + (1 << 20):
                return Inflated(bytes(out), False, "ratio", members)
            if d.eof:
                break
            if not d.unconsumed_tail and not chunk:
                return Inflated(bytes(out), False, "truncated", members)
            buf = d.unconsumed_tail
        rest = d.unused_data
        if wbits < 16 or not rest.startswith(b"\x1f\x8b"):
            break  # trailing garbage after the last gzip member is ignored, as gzip(1) does with a warning
    return Inflated(bytes(out), True, "", members)


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member of a zip's central directory, as declared (nothing inflated)."""

    name: str
    compressed: int
    size: int  # declared uncompressed size (may lie; reads are bounded anyway)
    encrypted: bool
    is_symlink: bool
    is_special: bool  # device, FIFO or socket per the Unix mode in external_attr
    is_dir: bool
    method: int


@dataclass(frozen=True, slots=True)
class ZipListing:
    """A zip's central directory, or why it could not be read."""

    entries: tuple[ZipEntry, ...]
    problem: str = ""  # not a zip, corrupt central directory, too many entries


def list_zip(data: bytes, max_entries: int) -> tuple[ZipListing, zipfile.ZipFile | None]:
    """The central directory, checked for count before anything is inflated."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        return ZipListing((), f"not a readable zip: {exc}"), None
    if len(infos) > max_entries:
        return ZipListing((), f"{len(infos)} entries, over the limit of {max_entries}"), None
    entries = []
    for info in infos:
        mode = (info.external_attr >> 16) & 0xFFFF
        entries.append(ZipEntry(
            name=info.filename, compressed=info.compress_size, size=info.file_size,
            encrypted=bool(info.flag_bits & 0x1), is_symlink=stat.S_ISLNK(mode),
            is_special=bool(mode) and (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode)),
            is_dir=info.is_dir(), method=info.compress_type,
        ))
    return ZipListing(tuple(entries)), zf


def read_zip_member(zf: zipfile.ZipFile, name: str, max_output: int) -> Inflated:
    """Read one member, never more than ``max_output`` bytes whatever its header claims."""
    out = bytearray()
    try:
        with zf.open(name) as fh:
            while True:
                chunk = fh.read(min(CHUNK, max_output + 1 - len(out)))
                if not chunk:
                    break
                out += chunk
                if len(out) > max_output:
                    del out[max_output:]
                    return Inflated(bytes(out), False, "limit")
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError, EOFError, RuntimeError) as exc:
        # RuntimeError: encrypted member; NotImplementedError: unsupported compression method
        return Inflated(bytes(out), False, f"corrupt: {exc}")
    return Inflated(bytes(out), True)


def iter_zip_members(data: bytes, max_entries: int, max_entry: int, max_total: int,
                     max_ratio: int = 0) -> Iterator[tuple[ZipEntry, Inflated | None, str]]:
    """(entry, content or None, problem) for each member; problem "" when fine. Stops at the total limit.

    ``max_ratio`` > 0 bounds each read by its compressed size (times the ratio, plus 1 MiB), so a bomb
    member costs at most that much memory instead of the whole entry limit; problem is then "ratio".
    """
    listing, zf = list_zip(data, max_entries)
    if zf is None:
        raise ValueError(listing.problem)
    total = 0
    with zf:
        for entry in listing.entries:
            if entry.is_dir or entry.is_symlink or entry.is_special or entry.encrypted:
                yield entry, None, ""
                continue
            budget = min(max_entry, max_total - total)
            if budget <= 0:
                yield entry, None, "total limit"
                continue
            by_ratio = max_ratio * max(entry.compressed, 1) + (1 << 20) if max_ratio else budget
            content = read_zip_member(zf, entry.name, min(budget, by_ratio))
            total += len(content.data)
            problem = "ratio" if content.problem == "limit" and by_ratio < budget else content.problem
            yield entry, content, problem
