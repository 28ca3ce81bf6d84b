"""The log writer: an engine-event sink (engine/events.py) that turns a run's events into log records.

At the default level (info) a clean run writes two records (``run.start``, ``run.end``, written
by the CLI) plus one per tool error and recovery attempt; ``file.checked`` and ``stage`` records
are debug (``PRESETCTL_LOG_LEVEL=debug`` or ``-vv``), so a 100,000-file run does not write
100,000 lines unless asked to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from presetctl.engine.incidents import Incident, Outcome
from presetctl.engine.model import FileOutcome, Finding, StageTiming
from presetctl.obs.records import emit


def incident_level(incident: Incident) -> int:
    if incident.outcome is Outcome.RECOVERED:
        return logging.INFO
    return logging.ERROR if incident.critical else logging.WARNING


class LogSink:
    """Implements RunSink. Critical incidents are kept off the console (the CLI lists them in one block
    at the end) but still written to the log file; ``console=False`` keeps every incident off it (the
    error that ends a command, which the error table prints)."""

    def __init__(self, logger: logging.Logger, *, console: bool = True) -> None:
        self.logger = logger
        self.console = console

    def file_done(self, outcome: FileOutcome) -> None:
        if self.logger.isEnabledFor(logging.DEBUG):
            emit(self.logger, logging.DEBUG, "file.checked",
                 f"{outcome.status.value} {outcome.format}: {len(outcome.findings)} findings",
                 file=outcome.path, dur=round(outcome.seconds, 6))
        for inc in outcome.incidents:
            self.incident(inc)

    def findings(self, batch: Sequence[Finding]) -> None:
        pass  # findings belong to reports and history, not to the log

    def incident(self, incident: Incident) -> None:
        for a in incident.attempts:
            emit(self.logger, logging.INFO, "recovery.attempt",
                 f"retry {a.number} after {a.delay * 1000:.0f} ms: " + ("recovered" if a.succeeded else
                                                                         f"failed ({a.detail})"),
                 file=incident.file, rule=incident.rule, code=incident.code.value, at=a.at or None)
        outcome = "" if incident.outcome is Outcome.REPORTED else f" ({incident.outcome.value} after " \
            f"{incident.retries} {'retry' if incident.retries == 1 else 'retries'})"
        emit(self.logger, incident_level(incident), "error", incident.message + outcome, file=incident.file,
             rule=incident.rule, code=incident.code.value, deferred=not self.console or incident.critical)

    def stage_done(self, timing: StageTiming) -> None:
        emit(self.logger, logging.DEBUG, "stage", f"{timing.stage} took {timing.seconds:.3f} s",
             dur=round(timing.seconds, 6))
