"""The event sink: how a run tells the world what happens, without knowing who listens.

The engine calls a :class:`RunSink` with plain values from engine/model.py and
engine/incidents.py, as they become final; the CLI plugs in consumers (the log writer in
presetctl/obs, the history recorder in presetctl/state). The engine never imports those.

Call order for one run: ``file_done`` once per file (any order), ``findings`` with the
findings that will be reported, in batches as they become final (after the baseline filter;
pack findings last), ``incident`` for tool errors not tied to one file's outcome (a file's own
incidents travel inside ``FileOutcome.incidents``), ``stage_done`` as each stage ends. Sinks
must be cheap and must not raise: they run on the engine's thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from presetctl.engine.incidents import Incident
from presetctl.engine.model import FileOutcome, Finding, RunResult, StageTiming

FINDINGS_BATCH = 1000


class RunSink(Protocol):
    def file_done(self, outcome: FileOutcome) -> None: ...

    def findings(self, batch: Sequence[Finding]) -> None: ...

    def incident(self, incident: Incident) -> None: ...

    def stage_done(self, timing: StageTiming) -> None: ...


class NullSink:
    """Hears nothing: the default when nobody listens (the Python API)."""

    def file_done(self, outcome: FileOutcome) -> None:
        pass

    def findings(self, batch: Sequence[Finding]) -> None:
        pass

    def incident(self, incident: Incident) -> None:
        pass

    def stage_done(self, timing: StageTiming) -> None:
        pass


class Tee:
    """One sink that forwards every event to several."""

    def __init__(self, sinks: Iterable[RunSink]) -> None:
        self.sinks = tuple(sinks)

    def file_done(self, outcome: FileOutcome) -> None:
        for s in self.sinks:
            s.file_done(outcome)

    def findings(self, batch: Sequence[Finding]) -> None:
        for s in self.sinks:
            s.findings(batch)

    def incident(self, incident: Incident) -> None:
        for s in self.sinks:
            s.incident(incident)

    def stage_done(self, timing: StageTiming) -> None:
        for s in self.sinks:
            s.stage_done(timing)


def replay(result: RunResult, sink: RunSink, batch: int = FINDINGS_BATCH) -> None:
    """Feed a finished run to a sink in the order a streaming engine would have.

    Until the runner streams, commands call this after the run; the findings go out in slices of
    the result's own tuple, so nothing is copied whole.
    """
    for outcome in result.files:
        sink.file_done(outcome)
    for start in range(0, len(result.findings), batch):
        sink.findings(result.findings[start : start + batch])
    for timing in result.timings:
        sink.stage_done(timing)
