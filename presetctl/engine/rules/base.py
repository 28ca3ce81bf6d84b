"""The rule interface: code, name, level, default severity, doc, check, optional fix.

A rule's ``check`` receives a loaded :class:`Document` and a :class:`RuleContext` and yields
:class:`Violation` values; the engine turns them into findings. Rules emitted by the engine
itself (discovery, loaders) have ``check=None`` but are registered all the same, so every code
that can appear in a report is documented, selectable and has an overridable severity.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from presetctl.engine.formats.base import Document
from presetctl.engine.model import PresetSummary, SecuritySeverity, Severity, Violation

if TYPE_CHECKING:
    from presetctl.engine.options import Options


class Level(enum.Enum):
    """The validation levels of the original design, in the order a file goes through them."""

    FILE = "file"
    PARSE = "parse"
    SCHEMA = "schema"
    FORMAT = "format"
    METADATA = "metadata"
    NAMING = "naming"
    AUDIO = "audio"
    PARAMETERS = "parameters"
    PERFORMANCE = "performance"
    PACK = "pack"
    SECURITY = "security"


class FixSafety(enum.Enum):
    SAFE = "safe"  # keeps the sound and the meaning: applied by default
    UNSAFE = "unsafe"  # may change the sound or lose information: needs --unsafe-fixes


@dataclass(frozen=True, slots=True)
class RuleDoc:
    """ruff-style documentation, rendered by ``presetctl rule CODE`` and into docs/rules.md."""

    what: str
    why: str
    example: str = ""
    fix: str = ""
    fix_safety: str = ""


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a check may know besides the document: the file's name and the run's options."""

    path: PurePath  # relative to the working directory, as reported
    options: Options


CheckFn = Callable[[Document, RuleContext], Iterator[Violation]]
PackCheckFn = Callable[[Sequence[PresetSummary], "Options"], Iterator[tuple[str, Violation]]]


@dataclass(frozen=True)
class Fix:
    """A fix a rule offers. ``apply`` is looked up by the fix engine (issue: fix command)."""

    safety: FixSafety
    description: str


@dataclass(frozen=True)
class Rule:
    code: str
    name: str  # kebab-case, describes the problem (ruff style)
    level: Level
    severity: Severity
    summary: str  # one line, shown by ``presetctl rules``
    doc: RuleDoc
    check: CheckFn | None = None
    pack_check: PackCheckFn | None = None
    formats: frozenset[str] | None = None  # None: every format whose loader validates
    fix: Fix | None = None
    security: SecuritySeverity | None = None
    needs_unparsed: bool = False  # also run when the document could not be parsed
    also_emits: tuple[str, ...] = ()  # other codes this check reports (each registered on its own)
    # "default": in the default set. Any other name is an opt-in profile (house style, curation,
    # audio rendering): such a rule runs only when its profile is enabled or a selector names it.
    profile: str = "default"

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def applies_to(self, format_id: str) -> bool:
        return self.formats is None or format_id in self.formats
