"""What a run tells the world while it runs: plain values handed to a sink.

The engine never prints and never knows where its events go. A command passes a sink (a
callable) that streams reports, records history, writes the log or draws progress; an API
caller may pass none. Events come in order: ``RunStarted``, one ``FileChecked`` per file in
report order (a file's tool errors travel in ``FileOutcome.incidents``), ``IncidentMet`` for a
tool error not tied to one file's outcome (a worker that died), ``PackChecked`` once the
cross-file rules ran, ``RunFinished`` with the whole result.

Consumers that prefer one method per kind of event (the log writer in presetctl/obs, the
history recorder in presetctl/state) implement :class:`RunSink` and are plugged in with
:func:`dispatch`; :func:`replay` feeds them a finished result (commands that do not stream).
Sinks must be cheap and must not raise: they run on the engine's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from presetctl.engine.incidents import Incident
from presetctl.engine.model import FileOutcome, Finding, RunResult, StageTiming

FINDINGS_BATCH = 1000


@dataclass(frozen=True, slots=True)
class RunStarted:
    """Discovery is done: what the run will check, and in how many processes."""

    command: str
    roots: tuple[str, ...]
    started_at: str
    files: int  # files that will be checked (after discovery)
    jobs: int


@dataclass(frozen=True, slots=True)
class FileChecked:
    """One file's outcome, in report order."""

    outcome: FileOutcome  # its findings already exclude the baseline
    done: int  # files checked so far, this one included
    total: int


@dataclass(frozen=True, slots=True)
class IncidentMet:
    """A tool error met during the run (a retried read, a worker that died)."""

    incident: Incident


@dataclass(frozen=True, slots=True)
class PackChecked:
    """The cross-file findings, once every file is in."""

    findings: tuple[Finding, ...]  # cross-file findings (duplicates), baseline excluded, sorted


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The whole result, last."""

    result: RunResult


Event = RunStarted | FileChecked | IncidentMet | PackChecked | RunFinished
Sink = Callable[[Event], None]


def no_sink(event: Event) -> None:
    """The sink of a run nobody watches."""


class RunSink(Protocol):
    """A consumer with one method per kind of event (see :func:`dispatch`)."""

    def file_done(self, outcome: FileOutcome) -> None: ...

    def findings(self, batch: Sequence[Finding]) -> None: ...

    def incident(self, incident: Incident) -> None: ...

    def stage_done(self, timing: StageTiming) -> None: ...


def dispatch(consumers: Iterable[RunSink]) -> Sink:
    """One event sink that hands each event to every consumer's method for it: per file its
    outcome, then its findings (after the baseline); tool errors; the cross-file findings; the
    stage timings when the run ends."""
    chosen = tuple(consumers)

    def sink(event: Event) -> None:
        for c in chosen:
            if isinstance(event, FileChecked):
                c.file_done(event.outcome)
                if event.outcome.findings:
                    c.findings(event.outcome.findings)
            elif isinstance(event, IncidentMet):
                c.incident(event.incident)
            elif isinstance(event, PackChecked):
                if event.findings:
                    c.findings(event.findings)
            elif isinstance(event, RunFinished):
                for timing in event.result.timings:
                    c.stage_done(timing)

    return sink


def replay(result: RunResult, consumer: RunSink, batch: int = FINDINGS_BATCH) -> None:
    """Feed a finished run to a consumer in the order a streaming run would have (for commands
    whose engine does not stream); findings go out in slices of the result's own tuple."""
    for outcome in result.files:
        consumer.file_done(outcome)
    for start in range(0, len(result.findings), batch):
        consumer.findings(result.findings[start : start + batch])
    for timing in result.timings:
        consumer.stage_done(timing)
