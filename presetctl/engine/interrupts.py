"""Stopping on Ctrl-C, SIGTERM and SIGHUP, but never in the middle of a multi-step write.

The CLI installs one :class:`StopSignals` handler for the three signals: it raises
:class:`Interrupted` in the main thread, as Python does for Ctrl-C, so a command unwinds the same
way whatever stopped it. Code that must finish a few steps together (a fix's backup, journal,
replace and rename) runs them under :func:`stops_deferred`: a signal that arrives meanwhile is
kept and raised when the block ends. Python runs signal handlers in the main thread whichever
thread the kernel picked, so a signal mask alone cannot defer them once other threads exist (the
log listener): the handler itself must know. The state lives in the installed handler object,
not in a module global.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import Interrupted

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """The handler of the stop signals (install with :meth:`install`)."""

    def __init__(self) -> None:
        self.depth = 0  # nesting of deferring blocks
        self.pending: int | None = None  # a signal that arrived inside one
        self.stopping = False  # one stop is enough: later signals must not cut the clean-up short

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return
        if self.depth:
            self.pending = self.pending or signum
            return
        self.stopping = True
        raise _interrupted(signum)

    def install(self) -> StopSignals:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self)
        return self

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None and not self.stopping:
            signum, self.pending = self.pending, None
            self.stopping = True
            raise _interrupted(signum)


def _interrupted(signum: int) -> Interrupted:
    return Interrupted(signum, code=ErrorCode.INTERRUPTED if signum == signal.SIGINT else ErrorCode.TERMINATED)


@contextmanager
def stops_deferred() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends (the interrupt lands after it).

    With the CLI's handler installed the handler defers; otherwise (the Python API) the main
    thread's signal mask holds them, which is all that can be done without a handler.
    """
    handler = signal.getsignal(signal.SIGTERM)
    if isinstance(handler, StopSignals):
        with handler.deferred():
            yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
