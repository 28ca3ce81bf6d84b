"""Values for tool errors met during a run and the recovery attempts made for them.

An :class:`Incident` is one occurrence of an error code (engine/error_codes.py) with its context
and outcome; its :class:`RecoveryAttempt` values say how each retry went. Both are frozen and
picklable: worker processes return them inside ``FileOutcome.incidents``, and the event sink
(engine/events.py) hands them to whatever logs or records them.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import code_of


class Outcome(enum.Enum):
    REPORTED = "reported"  # no recovery policy: the error stands (as a finding, a warning or an exit)
    RECOVERED = "recovered"  # a retry succeeded
    FAILED = "failed"  # every retry the policy allows failed


@dataclass(frozen=True, slots=True)
class RecoveryAttempt:
    """One retry of an operation that failed: when, after how long, and how it went."""

    number: int  # 1 for the first retry
    delay: float  # seconds waited before it (full jitter)
    succeeded: bool
    detail: str = ""  # what went wrong when it failed
    at: float = 0.0  # time.time() when it ended


@dataclass(frozen=True, slots=True)
class Incident:
    """A tool error (not a finding in a preset): its code, where, and what became of it."""

    code: ErrorCode
    message: str
    file: str = ""
    stage: str = ""
    rule: str = ""
    outcome: Outcome = Outcome.REPORTED
    attempts: tuple[RecoveryAttempt, ...] = ()
    at: float = 0.0  # time.time() when it was first met

    @property
    def critical(self) -> bool:
        return self.code.spec.critical

    @property
    def retries(self) -> int:
        return len(self.attempts)


def incident_of(exc: BaseException, *, stage: str = "", file: str = "", rule: str = "") -> Incident:
    """An incident for an exception that is reported as it stands (no recovery)."""
    return Incident(code_of(exc), str(exc) or type(exc).__name__, file=file or getattr(exc, "file", "") or "",
                    stage=stage or getattr(exc, "stage", "") or "", rule=rule or getattr(exc, "rule", "") or "",
                    at=time.time())
