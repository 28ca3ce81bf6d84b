"""What a run tells the outside world while it runs: plain values handed to a sink.

The engine never prints and never knows where its events go. A command passes a sink (a
callable) that streams reports, records history, logs or draws progress; an API caller may
pass none. Events come in order: ``RunStarted``, one ``FileChecked`` per file in report
order, ``PackChecked`` once the cross-file rules ran, ``RunFinished`` with the whole result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from presetctl.engine.model import FileOutcome, Finding, RunResult


@dataclass(frozen=True, slots=True)
class RunStarted:
    command: str
    roots: tuple[str, ...]
    started_at: str
    files: int  # files that will be checked (after discovery)
    jobs: int


@dataclass(frozen=True, slots=True)
class FileChecked:
    outcome: FileOutcome  # its findings already exclude the baseline
    done: int  # files checked so far, this one included
    total: int


@dataclass(frozen=True, slots=True)
class PackChecked:
    findings: tuple[Finding, ...]  # cross-file findings (duplicates), baseline excluded, sorted


@dataclass(frozen=True, slots=True)
class RunFinished:
    result: RunResult


Event = RunStarted | FileChecked | PackChecked | RunFinished
Sink = Callable[[Event], None]


def no_sink(event: Event) -> None:
    """The sink of a run nobody watches."""
