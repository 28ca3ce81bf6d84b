"""Recovery policies: bounded retries with exponential backoff and full jitter, registered per code.

Only transient codes have a policy (a meta-test holds ``transient`` and this registry together).
The delay before retry *n* is uniform in ``[0, min(cap, base * 2**(n-1))]`` ("full jitter"):
sixteen processes that met the same locked database at the same moment spread out instead of
retrying in lockstep. Each attempt is reported through ``on_attempt`` as it ends (for logging)
and the whole story comes back as an :class:`Incident` (for history and the end-of-run block).

The worker-death policy is here too; the worker pool applies it (see docs/state.md,
"Integration"): a chunk whose worker died is resubmitted to a fresh pool ``max_retries`` times,
then each of its files gets an ``E001`` finding.
"""

from __future__ import annotations

import errno
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from presetctl.engine.discover import read_bounded
from presetctl.engine.error_codes import ErrorCode, from_errno
from presetctl.engine.errors import FileSystemError, PresetctlError
from presetctl.engine.incidents import Incident, Outcome, RecoveryAttempt

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry an operation that failed (exponential backoff, full jitter)."""

    max_retries: int  # retries after the first failure (0: none)
    base: float  # seconds: the cap of the first delay
    cap: float  # seconds: no delay is longer

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): full jitter."""
        ceiling = min(self.cap, self.base * (2 ** (retry - 1)))
        return rng.uniform(0.0, ceiling) if ceiling > 0 else 0.0


POLICIES: Mapping[ErrorCode, RetryPolicy] = MappingProxyType({
    # Other presetctl processes hold the history database; busy_timeout already waited 2 s.
    ErrorCode.HISTORY_LOCKED: RetryPolicy(6, 0.05, 2.0),
    ErrorCode.FILE_CHANGED: RetryPolicy(3, 0.01, 0.2),
    ErrorCode.TRY_AGAIN: RetryPolicy(4, 0.01, 0.5),
    ErrorCode.INTERRUPTED_CALL: RetryPolicy(3, 0.001, 0.01),
    ErrorCode.TOO_MANY_OPEN_FILES: RetryPolicy(3, 0.05, 1.0),
    ErrorCode.STALE_FILE_HANDLE: RetryPolicy(3, 0.1, 1.0),
    ErrorCode.TIMED_OUT: RetryPolicy(2, 0.5, 2.0),
    ErrorCode.FILE_BUSY: RetryPolicy(3, 0.05, 0.5),
    # A dead worker's files get one more chance in a fresh worker, at once.
    ErrorCode.WORKER_DIED: RetryPolicy(1, 0.0, 0.0),
})


def policy_for(code: ErrorCode) -> RetryPolicy | None:
    return POLICIES.get(code)


class RetriesExhausted(PresetctlError):
    """Every retry the policy allows failed; ``incident`` tells the story, ``__cause__`` is the last error."""

    def __init__(self, incident: Incident) -> None:
        super().__init__(incident.message, code=incident.code, file=incident.file, stage=incident.stage,
                         rule=incident.rule)
        self.incident = incident

    def __reduce__(self) -> tuple[object, ...]:
        return (RetriesExhausted, (self.incident,))


Classify = Callable[[BaseException], ErrorCode | None]
OnAttempt = Callable[[Incident, RecoveryAttempt], None]


def classify_os(exc: BaseException) -> ErrorCode | None:
    """Codes of PresetctlErrors and OSErrors; None for anything else (not ours to retry)."""
    if isinstance(exc, PresetctlError):
        return exc.code
    if isinstance(exc, OSError):
        return from_errno(exc.errno)
    return None


@dataclass(frozen=True)
class Recovery:
    """How to retry: the policy table, how to wait, where randomness comes from, who hears each attempt.

    Tests pass a seeded ``rng`` and a recording ``sleep``; production uses the defaults.
    """

    policies: Mapping[ErrorCode, RetryPolicy] = field(default_factory=lambda: POLICIES)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None
    on_attempt: OnAttempt | None = None

    def call(self, fn: Callable[[], T], *, stage: str = "", file: str = "", rule: str = "",
             classify: Classify = classify_os) -> tuple[T, Incident | None]:
        """``fn()``; transient failures are retried per policy. Returns the value and the incident, if any.

        Raises the original exception when its code has no policy, and :class:`RetriesExhausted`
        (caused by the last failure) when every retry failed.
        """
        try:
            return fn(), None
        except Exception as first:
            code = classify(first)
            policy = self.policies.get(code) if code is not None else None
            if code is None or policy is None or policy.max_retries <= 0:
                raise
            error: Exception = first
        rng = self.rng or random.Random()
        base = Incident(code, _describe(error), file=file, stage=stage, rule=rule, at=time.time())
        attempts: list[RecoveryAttempt] = []
        for number in range(1, policy.max_retries + 1):
            delay = policy.delay(number, rng)
            if delay > 0:
                self.sleep(delay)
            try:
                value = fn()
            except Exception as exc:
                again = classify(exc)
                if again is None:
                    raise
                attempt = RecoveryAttempt(number, delay, False, _describe(exc), time.time())
                attempts.append(attempt)
                self._tell(_with(base, attempts, Outcome.FAILED), attempt)
                error = exc
                if again != code and self.policies.get(again) is None:
                    break  # it turned into something retries cannot help with
                continue
            attempt = RecoveryAttempt(number, delay, True, "", time.time())
            attempts.append(attempt)
            incident = _with(base, attempts, Outcome.RECOVERED)
            self._tell(incident, attempt)
            return value, incident
        raise RetriesExhausted(_with(base, attempts, Outcome.FAILED)) from error

    def _tell(self, incident: Incident, attempt: RecoveryAttempt) -> None:
        if self.on_attempt is not None:
            self.on_attempt(incident, attempt)


def _with(base: Incident, attempts: list[RecoveryAttempt], outcome: Outcome) -> Incident:
    return Incident(base.code, base.message, base.file, base.stage, base.rule, outcome, tuple(attempts), base.at)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class ReadFailed(OSError):
    """Retries of a read ran out. An OSError, so a caller's usual handling reports the file (F007);
    ``incident`` has the attempts for the record."""

    def __init__(self, incident: Incident, errno_number: int) -> None:
        super().__init__(errno_number, incident.message)
        self.incident = incident


def read_consistent(path: str, limit: int, recovery: Recovery | None = None,
                    display: str = "") -> tuple[bytes, Incident | None]:
    """``read_bounded`` that sees one version of a file: a file whose size, mtime or inode changed
    during the read is read again (FILE_CHANGED policy); EAGAIN, EINTR, ESTALE, EMFILE are retried
    too. OverflowError (over the size limit) and OSErrors without a policy pass through unchanged;
    when retries run out, :class:`ReadFailed` (an OSError) carries the incident.

    For the pipeline: ``data, incident = read_consistent(cand.path, limit, display=cand.display)``
    and put ``incident`` into ``FileOutcome.incidents``.
    """
    shown = display or path

    def once() -> bytes:
        before = os.stat(path, follow_symlinks=False)
        data = read_bounded(path, limit)
        after = os.stat(path, follow_symlinks=False)
        if ((before.st_ino, before.st_size, before.st_mtime_ns) != (after.st_ino, after.st_size, after.st_mtime_ns)
                or len(data) != after.st_size):
            raise FileSystemError("the file changed while it was read", code=ErrorCode.FILE_CHANGED,
                                  file=shown, stage="read")
        return data

    try:
        return (recovery or Recovery()).call(once, stage="read", file=shown)
    except RetriesExhausted as exc:
        cause = exc.__cause__
        number = cause.errno if isinstance(cause, OSError) and cause.errno else errno.EAGAIN
        raise ReadFailed(exc.incident, number) from None
