"""The rule interface: code, name, level, default severity, doc, check, optional fix.

A rule's ``check`` receives a loaded :class:`Document` and a :class:`RuleContext` and yields
:class:`Violation` values; the engine turns them into findings. Rules emitted by the engine
itself (discovery, loaders) have ``check=None`` but are registered all the same, so every code
that can appear in a report is documented, selectable and has an overridable severity.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

from presetctl.engine.formats.base import Document
from presetctl.engine.model import PresetSummary, SecuritySeverity, Severity, Violation

if TYPE_CHECKING:
    from presetctl.engine.fix.edits import Fixer
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


DEFAULT = "default"
MARKETPLACE = "marketplace"
AUDIO = "audio"
# The rule sets a run can switch on (docs/rules-policy.md says which rule is where, and why).
PROFILES: dict[str, str] = {
    DEFAULT: "defects: what stops the synth loading a preset, changes its sound, loses data or endangers the user",
    MARKETPLACE: "curation and house style: metadata, taxonomy, names, duplicates, CPU budgets, tidy headers",
    AUDIO: "rendered audio: every DX7 voice is played and measured (slow; cached)",
}


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

    def sections(self, fix: Fix | None = None) -> list[tuple[str, str]]:
        """The titled sections that have text, in ruff's order: what every rule page shows
        (``presetctl rule``, docs/rules.md, SARIF help). A fixable rule always says how safe
        its fix is (``fix``: the rule's fix, whose safety stands in when no text was written)."""
        out = [("What it does", self.what), ("Why is this bad?", self.why), ("Example", self.example),
               ("How to fix", self.fix)]
        if fix is not None:
            out.append(("Fix safety", self.fix_safety or f"{fix.safety.value.capitalize()}."))
        return [(title, body) for title, body in out if body]


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What a check may know besides the document, built once per file.

    ``enabled`` is the run's selection (a check that reports another rule's code asks it);
    ``memo`` holds what the checks of one file share (the security scan of its content), so
    nothing per-file lives in a module global.
    """

    path: PurePath  # as reported
    options: Options
    enabled: Container[str] = frozenset()  # asked with ``in``: a code's family is imported to answer
    memo: dict[str, object] = field(default_factory=dict)


CheckFn = Callable[[Document, RuleContext], Iterator[Violation]]
# False only when the check certainly reports nothing on the document: a C-speed look (a byte
# test, a regex over the few texts that are not identifiers) that spares a clean file the check.
QuickFn = Callable[[Document, RuleContext], bool]
PackCheckFn = Callable[[Sequence[PresetSummary], "Options"], Iterator[tuple[str, Violation]]]


@dataclass(frozen=True)
class Fix:
    """A fix a rule offers, carried by the rule (as ruff attaches a fix to its rule).

    ``apply`` proposes the edits for the rule's findings in one document; the fix engine
    applies them, re-validates and rolls back what does not work. ``first``: the fix moves text
    that JSON pointers resolve in, so it runs alone in its own pass before the others.
    ``uses_file_name``: it copies the file name into the preset, so it waits for a rename.
    """

    safety: FixSafety
    description: str
    apply: Fixer
    first: bool = False
    uses_file_name: bool = False


@dataclass(frozen=True)
class Rule:
    """One registered code: its documentation, severity, selection and, when the engine does not emit it, its check."""

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
    # "default": in the default set. Any other name (a key of PROFILES) is an opt-in profile: such
    # a rule runs only when its profile is enabled or a selector other than ALL names it.
    profile: str = DEFAULT
    # A pack check that reads nothing of a summary but its path: a run whose pack rules are all such
    # computes no summaries (no sound hash per preset); the runner hands it one per file with presets.
    paths_only: bool = False
    # The check's pre-filter (see QuickFn): None runs the check on every document it applies to.
    # tests/test_quick_rules.py holds every pre-filter against its check (corpus and hypothesis).
    quick: QuickFn | None = None
    # A pack rule that compares the presets' sound hashes: a file's summaries carry one only when a
    # rule of the run reads it (hashing the sound costs more than most rules; tests/test_clean_path.py
    # holds every pack rule that does not declare this to ignoring the hash).
    reads_sound: bool = False

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def applies_to(self, format_id: str) -> bool:
        return self.formats is None or format_id in self.formats
