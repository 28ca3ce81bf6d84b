"""Logging for one command: records queue up on the caller's thread, a listener thread writes them.

``logging.handlers.QueueHandler`` -> ``QueueListener`` -> the shared rotating file, so the engine's
thread pays for building a record and one queue put, never for formatting JSON or waiting on the
disk (benchmarks/log_bench.py measures both). The console handler is synchronous, because a
warning must appear in order with the command's other output; it sees only what -q/-v/-vv let
through. Worker processes send their records over a multiprocessing queue to a second listener
that writes into the same file (see :meth:`LogSession.worker_setup`), made only for a run that
starts workers (:class:`DeferredWorkerSetup`): one checked in-process never imports multiprocessing.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from presetctl.obs.defaults import DEFAULT_BACKUPS as DEFAULT_BACKUPS
from presetctl.obs.defaults import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES
from presetctl.obs.defaults import MIB as MIB
from presetctl.obs.handlers import LOG_NAME, ConsoleHandler, SharedRotatingFileHandler
from presetctl.obs.records import LOGGER, JsonLineFormatter, RunContext

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext


def console_level(quiet: bool, verbose: int) -> int:
    """-q: errors only; default: warnings; -v: info; -vv: debug."""
    if quiet:
        return logging.ERROR
    return {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)


@dataclass(frozen=True)
class LogSettings:
    """Where and how much one command logs: the file, its rotation, the levels of file and console."""

    folder: Path | None  # None: no log file (the folder could not be made)
    run_id: str = ""
    command: str = ""
    file_level: int = logging.INFO
    console_level: int = logging.WARNING
    color: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    backups: int = DEFAULT_BACKUPS
    safe: Callable[[str], str] = field(default=str, compare=False)
    logger: str = LOGGER  # another name keeps a session apart from the command's own (presetctl bench)


class _LightQueueHandler(logging.handlers.QueueHandler):
    """QueueHandler without the copy: the record stays in this process, so only the message is merged.

    The stock ``prepare`` formats and copies every record to make it picklable, which costs the
    caller's thread more than the put itself; a thread queue does not pickle.
    """

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        return record


@dataclass(frozen=True)
class WorkerLogSetup:
    """Picklable: called first thing in each worker process (the pool's initializer).

    Replaces whatever logging the worker inherited by fork with one handler that puts records on
    the parent's multiprocessing queue; the parent's listener writes them into the same log file.
    """

    queue: Any  # multiprocessing.Queue: typed loosely, its class is private to multiprocessing
    level: int
    run_id: str
    command: str

    def __call__(self) -> None:
        logger = logging.getLogger(LOGGER)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)  # inherited by fork: the parent's thread queue has no reader here
        handler = logging.handlers.QueueHandler(self.queue)  # stock prepare(): records are pickled
        handler.addFilter(RunContext(self.run_id, self.command))
        logger.addHandler(handler)
        logger.setLevel(self.level)
        logger.propagate = False


class DeferredWorkerSetup:
    """The worker hook of a run that may never start a worker: the queue workers write to, and its
    listener thread, are made by :meth:`prepare`, in this process, once the run says it will start
    workers (before the first one is forked, which inherits them); called in a worker, it connects
    that worker as :class:`WorkerLogSetup` does."""

    def __init__(self, session: LogSession) -> None:
        self._session = session
        self._setup: WorkerLogSetup | None = None

    def prepare(self) -> None:
        if self._setup is None:
            self._setup = self._session.worker_setup()

    def __call__(self) -> None:
        if self._setup is not None:
            self._setup()


class LogSession:
    """Start with :meth:`start`, always :meth:`stop` (it drains the queues and closes the file)."""

    def __init__(self, settings: LogSettings) -> None:
        self.settings = settings
        self.logger = logging.getLogger(settings.logger)
        self.problems: list[OSError] = []  # file logging failures (opening, or a write on the listener thread)
        self.file_handler: SharedRotatingFileHandler | None = None
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._listener: logging.handlers.QueueListener | None = None
        self._worker_listener: logging.handlers.QueueListener | None = None
        self._handlers: list[logging.Handler] = []
        self._saved: tuple[int, bool] = (logging.NOTSET, True)

    @property
    def path(self) -> Path | None:
        return self.settings.folder / LOG_NAME if self.settings.folder is not None else None

    def start(self) -> LogSession:
        s = self.settings
        context = RunContext(s.run_id, s.command)
        levels = [s.console_level]
        if self.path is not None:
            try:
                fh = SharedRotatingFileHandler(self.path, s.max_bytes, s.backups, on_failure=self.problems.append)
            except OSError as exc:
                self.problems.append(exc)
            else:
                fh.setFormatter(JsonLineFormatter())
                fh.setLevel(s.file_level)
                self.file_handler = fh
                qh = _LightQueueHandler(self._queue)
                qh.setLevel(s.file_level)
                qh.addFilter(context)
                self._handlers.append(qh)
                self._listener = logging.handlers.QueueListener(self._queue, fh, respect_handler_level=True)
                self._listener.start()
                levels.append(s.file_level)
        console = ConsoleHandler(s.console_level, s.color, s.safe)
        console.addFilter(context)
        self._handlers.append(console)
        self._saved = (self.logger.level, self.logger.propagate)
        for h in self._handlers:
            self.logger.addHandler(h)
        self.logger.setLevel(min(levels))
        self.logger.propagate = False  # the root logger (and pytest's capture) must not print ours twice
        return self

    def worker_setup(self, context: BaseContext | None = None) -> WorkerLogSetup | None:
        """The initializer hook for a worker pool, or None when there is no log file to reach.

        Create the pool with the same multiprocessing ``context`` as passed here (default: the
        default context). The queue and its listener live until :meth:`stop`.
        """
        if self.file_handler is None:
            return None
        if self._worker_listener is None:
            import multiprocessing

            mpq: Any = (context or multiprocessing.get_context()).Queue()
            self._worker_listener = logging.handlers.QueueListener(mpq, self.file_handler, respect_handler_level=True)
            self._worker_listener.start()
        return WorkerLogSetup(self._worker_listener.queue, self.settings.file_level, self.settings.run_id,
                              self.settings.command)

    def stop(self) -> None:
        for h in self._handlers:
            self.logger.removeHandler(h)
        self._handlers.clear()
        for listener in (self._listener, self._worker_listener):
            if listener is not None:
                listener.stop()  # enqueues a sentinel and joins: every record queued so far is written
        if self._worker_listener is not None:
            mpq = self._worker_listener.queue
            mpq.close()  # type: ignore[attr-defined]
            mpq.join_thread()  # type: ignore[attr-defined]
        self._listener = self._worker_listener = None
        if self.file_handler is not None:
            self.file_handler.close()
        self.logger.setLevel(self._saved[0])
        self.logger.propagate = self._saved[1]
