"""The reporter interface and registry: ``format(result) -> str``, pure, one class per format."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from presetctl import __version__
from presetctl.engine.model import RunResult


@dataclass(frozen=True)
class ReportContext:
    color: bool = False
    width: int = 100
    verbose: bool = False
    quiet: bool = False
    show_unknown: bool = False
    tool_version: str = __version__
    fail_threshold: str = "error"
    extra: dict[str, object] = field(default_factory=dict)


class Reporter(abc.ABC):
    name: str = ""
    description: str = ""

    @abc.abstractmethod
    def render(self, result: RunResult, ctx: ReportContext) -> str:
        """The whole report as text (ends with a newline when not empty)."""
