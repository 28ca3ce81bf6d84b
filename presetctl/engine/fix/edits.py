"""What a rule's fix proposes: splices of the file's bytes, and the fix actions built of them.

Apart from the fix engine's run results (model.py), because every run imports these: the rules
carry their fixes, so ``validate`` loads the rule modules and with them these types, never the
results of a fix run (start-up, tests/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from presetctl.engine.model import NOWHERE, Location, Violation

if TYPE_CHECKING:
    from presetctl.engine.formats.base import Document
    from presetctl.engine.options import Options


@dataclass(frozen=True, slots=True)
class Splice:
    """Replace ``data[start:end]`` with ``text`` (offsets into the file's current bytes)."""

    start: int
    end: int
    text: bytes


@dataclass(frozen=True)
class FixAction:
    """One fix for one finding (or one group of findings, like all tags of a preset).

    ``targets`` are the (code, location) pairs the fix must make disappear; if any is still
    reported after the fix, the fix is rolled back.
    """

    code: str
    description: str
    location: Location = NOWHERE
    splices: tuple[Splice, ...] = ()
    rename: str | None = None  # new file name (same folder)
    targets: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.code, self.location.render(), self.description)


@dataclass(frozen=True)
class FixContext:
    """What a fixer may know besides the document: the file's current path and the options."""

    path: PurePosixPath  # the file's current (possibly already renamed) path, as reported
    options: Options

    @property
    def stem(self) -> str:
        name = self.path.name
        suffix = self.path.suffix
        return name[: -len(suffix)] if suffix else name


# A fixer proposes fixes for the findings of one rule in one document (see rules/base.Fix).
Fixer = Callable[["Document", Sequence[Violation], FixContext], list[FixAction]]
