"""The context of a finding: the lines around it in a text file, the bytes around it in a binary one.

Files are read lazily, one at a time, when a finding is looked at, and read as carefully as the
run read them: only inside the run's targets (a path whose real location lies outside them is
refused, so a link swapped in since the run cannot make the viewer read elsewhere), never
through a final symlink, never a FIFO or device, and never more than a bounded number of bytes
(:func:`presetctl.engine.discover.read_bounded`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass

from presetctl.engine.discover import read_bounded
from presetctl.engine.model import Finding
from presetctl.engine.options import Limits
from presetctl.engine.textpos import line_col, locate_pointer
from presetctl.report.browse.source import RunHeader

RADIUS = 4  # lines shown before and after the finding's line
HEX_WIDTH = 16
HEX_ROWS = 4  # rows shown before and after the row holding the offset
MAX_LINE_CHARS = 240  # a minified JSON file is one huge line: show a window of it


@dataclass(frozen=True)
class TextContext:
    lines: tuple[tuple[int, str], ...]  # (1-based line number, text) - raw text, views make it safe
    line: int  # the finding's line
    column: int | None = None
    first_column: int = 1  # column of the first character shown (long lines are windowed)


@dataclass(frozen=True)
class HexContext:
    rows: tuple[tuple[int, bytes], ...]  # (offset of the row, its bytes)
    start: int  # first marked byte
    end: int  # one past the last marked byte
    size: int  # size of the file


@dataclass(frozen=True)
class NoContext:
    reason: str


Context = TextContext | HexContext | NoContext


def looks_textual(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def text_context(data: bytes, line: int, column: int | None = None, radius: int = RADIUS) -> TextContext:
    text = data.decode("utf-8", "replace")
    lines = text.splitlines() or [""]
    line = max(1, min(line, len(lines)))
    first = 1
    if column is not None and len(lines[line - 1]) > MAX_LINE_CHARS:
        first = max(1, column - MAX_LINE_CHARS // 3)
    shown = []
    for n in range(max(1, line - radius), min(len(lines), line + radius) + 1):
        piece = lines[n - 1][first - 1 : first - 1 + MAX_LINE_CHARS]
        shown.append((n, piece))
    return TextContext(tuple(shown), line, column, first)


def hex_context(data: bytes, offset: int, length: int = 1, rows: int = HEX_ROWS) -> HexContext:
    offset = max(0, min(offset, max(len(data) - 1, 0)))
    row0 = offset - offset % HEX_WIDTH
    start = max(0, row0 - rows * HEX_WIDTH)
    stop = min(len(data), row0 + (rows + 1) * HEX_WIDTH)
    out = tuple((at, data[at : at + HEX_WIDTH]) for at in range(start, stop, HEX_WIDTH))
    return HexContext(out, offset, min(offset + max(length, 1), len(data)), len(data))


def context_for(finding: Finding, data: bytes) -> Context:
    """Where ``finding`` is in ``data`` (the content of its file as it is now)."""
    loc = finding.location
    if loc.entry:
        return NoContext(f"inside archive member {loc.entry!r}: open the archive to see it")
    if looks_textual(data):
        if finding.line is not None:
            return text_context(data, finding.line, finding.column)
        if loc.pointer:
            pos = locate_pointer(data, loc.pointer)
            if pos is not None:
                line, col = line_col(data, pos)
                return text_context(data, line, col)
        if loc.offset is not None:
            line, col = line_col(data, loc.offset)
            return text_context(data, line, col)
        return NoContext("the finding is about the whole file")
    if loc.offset is not None:
        return hex_context(data, loc.offset)
    if loc.voice is not None:
        return NoContext(f"voice {loc.voice} of a bank; the finding names no byte")
    return NoContext("binary file; the finding names no byte offset")


class ContextReader:
    """Reads the files of one run for the detail pane; keeps the last few in memory."""

    def __init__(self, header: RunHeader, limit: int = Limits().max_file_size, keep: int = 8,
                 fallback_cwd: str | None = None) -> None:
        cwd = header.cwd if header.cwd and os.path.isdir(header.cwd) else (fallback_cwd or os.getcwd())
        self.base = os.path.abspath(cwd)
        roots = header.roots or (".",)
        self.roots = tuple(os.path.realpath(os.path.join(self.base, r)) for r in roots)
        self.limit = limit
        self.keep = keep
        self._cache: OrderedDict[str, bytes | str] = OrderedDict()  # path -> data, or why not

    def _inside_targets(self, full: str) -> bool:
        real = os.path.realpath(full)
        for root in self.roots:
            if real == root:
                return True
            try:
                if os.path.commonpath([real, root]) == root:
                    return True
            except ValueError:  # different drives (Windows)
                continue
        return False

    def read(self, path: str) -> bytes | str:
        """The file's bytes, or a sentence saying why it was not read."""
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        full = os.path.normpath(os.path.join(self.base, path))
        value: bytes | str
        if not self._inside_targets(full):
            value = "not read: the file is outside the run's targets now (moved, or a link)"
        else:
            try:
                value = read_bounded(full, self.limit)
            except OverflowError:
                value = f"not read: larger than {self.limit} bytes"
            except OSError as exc:
                value = f"not read: {exc.strerror or exc}"
        self._cache[path] = value
        while len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return value

    def context(self, finding: Finding) -> Context:
        data = self.read(finding.path)
        if isinstance(data, str):
            return NoContext(data)
        return context_for(finding, data)
