"""The loader interface: one implementation per preset format, registered in ``registry.py``.

A loader turns bytes into a :class:`Document` and never raises on bad input: what it cannot
parse becomes a :class:`Violation` with a stable code in ``Document.problems``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from presetctl.engine.model import Location, Preset, Violation
from presetctl.engine.options import Limits


@dataclass(frozen=True, slots=True)
class Blob:
    """Embedded binary content (a base64 wavetable, a sample, an archive member), decoded lazily.

    Loaders list blobs in ``DocumentFacts.blobs``; security scanners call ``read()`` (which
    must itself respect the decompression limits) and look inside the decoded bytes.
    """

    location: Location
    kind: str  # "wavetable", "sample", "tuning", "archive-member", ...
    read: Callable[[], bytes]
    size_hint: int = 0


@dataclass(frozen=True, slots=True)
class Script:
    """Source code a preset carries (Surge Lua formula modulators, wavetable scripts)."""

    location: Location
    language: str  # "lua" or "lua-bytecode"
    source: bytes


@dataclass(frozen=True)
class DocumentFacts:
    """What a loader found besides the presets, for the format, security and fix rules."""

    locator: str = ""  # "json": JSON pointers in findings can be turned into line/column
    members: tuple[tuple[str, Any], ...] = ()  # (archive entry or "", parsed JSON) per preset
    blobs: tuple[Blob, ...] = ()  # embedded binary content, decoded on demand
    scripts: tuple[Script, ...] | None = None  # source code; None: the loader does not extract scripts
    texts: tuple[tuple[Location, str], ...] = ()  # text fields of non-JSON formats: names, comments, paths
    header: Mapping[str, Any] = field(default_factory=dict)  # binary header fields (fxp, sysex, u-he)
    kinds: tuple[str, ...] = ()  # what each sysex message is
    leading_space: int = 0  # bytes of whitespace before an XML declaration
    # JSON text that is orjson's compact serialization of ``raw`` (jsonutil.JsonParse.compact): the
    # serialization of any part of ``raw`` is a slice of the file, and need not be computed again.
    compact: bool = False


NO_FACTS = DocumentFacts()
JSON_FACTS = DocumentFacts(locator="json")
COMPACT_JSON_FACTS = DocumentFacts(locator="json", compact=True)


@dataclass(frozen=True)
class Document:
    """A loaded file: the normalized presets plus the raw parsed form the rules may inspect.

    ``raw`` is the parsed JSON value, the XML root element, or a format-specific structure;
    ``data`` the file's bytes (security scanners and fixers need them); ``text`` is True when
    locations can be turned into line/column (JSON and XML text); ``validated`` is False for
    formats that are only recognized. ``facts`` carries what format-specific and security rules
    read besides the presets (see :class:`DocumentFacts`).
    """

    format: str
    data: bytes
    raw: Any = None
    presets: tuple[Preset, ...] = ()
    problems: tuple[Violation, ...] = ()
    text: bool = False
    validated: bool = True
    parsed: bool = True  # False when the content could not be parsed at all
    facts: DocumentFacts = NO_FACTS


@dataclass(frozen=True, slots=True)
class LoadContext:
    """What a loader may know about the file besides its bytes."""

    path: PurePath  # path relative to the run's root, for messages
    max_nesting: int = 256
    max_decompressed: int = 100 * 1024 * 1024  # total inflated from one file
    max_entries: int = 10_000
    max_ratio: int = 200
    max_entry_size: int = 25 * 1024 * 1024  # inflated from one archive member

    @classmethod
    def from_limits(cls, path: PurePath, limits: Limits) -> LoadContext:
        return cls(path, limits.max_nesting, limits.max_decompressed, limits.max_entries, limits.max_ratio,
                   limits.max_entry_size)


class Loader(abc.ABC):
    """One preset format.

    ``sniff`` returns a confidence from 0 (not mine) to 100 (certainly mine) given the file's
    first bytes and its name; the registry picks the highest. Loaders that only recognize a
    format set ``validates = False``.
    """

    format_id: str = ""
    extensions: tuple[str, ...] = ()
    description: str = ""
    validates: bool = True

    @abc.abstractmethod
    def sniff(self, head: bytes, path: PurePath) -> int:
        """Confidence (0-100) that a file with this head and name is in this format."""

    @abc.abstractmethod
    def load(self, data: bytes, ctx: LoadContext) -> Document:
        """Parse ``data``; bad input becomes problems in the document, never an exception."""
