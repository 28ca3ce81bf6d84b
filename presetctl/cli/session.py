"""One command run as the state and obs layers see it: its id, log, history record and tool errors.

The integration API for commands (docs/state.md, "Integration")::

    with recorded_run(ctx, "validate", targets, options=options, no_history=no_history,
                      quiet=quiet, color=color.value) as run:
        result = engine_call(..., sink=run.sink, worker_setup=run.worker_setup())  # once the engine streams
        run.record(result)            # until then: replay the finished RunResult into the sink
        ...render, raise typer.Exit(code)

On the way out the scope records the exit code (from ``typer.Exit``, or from the error table for
any other exception, which it re-raises untouched), writes ``run.end``, and prints the critical
errors of the run in one block on stderr. Nothing in here may change what the command does or
how it exits: history and log failures become one warning each, never an exception.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from presetctl import __version__
from presetctl.cli.console import use_color
from presetctl.cli.errors import EXIT_ERROR, explain
from presetctl.cli.globals import GlobalOptions
from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import HistoryError, StateError, UsageError, os_error
from presetctl.engine.events import Event, RunSink, RunStarted, Sink, dispatch, replay
from presetctl.engine.incidents import Incident, RecoveryAttempt, incident_of
from presetctl.engine.metrics import Metrics
from presetctl.engine.model import FileOutcome, Finding, RunResult, StageTiming
from presetctl.engine.recovery import Recovery
from presetctl.obs.prometheus import write_metrics
from presetctl.obs.records import LEVELS, LOGGER, emit
from presetctl.obs.session import DeferredWorkerSetup, LogSession, LogSettings, console_level
from presetctl.obs.sink import LogSink
from presetctl.safe_text import visible
from presetctl.state.history import HistoryStore
from presetctl.state.ids import new_run_id
from presetctl.state.outcome_cache import SqliteOutcomeStore
from presetctl.state.paths import Locations
from presetctl.state.recorder import HistoryRecorder, RunHeader

if TYPE_CHECKING:
    from presetctl.engine.fix.model import FixResult, UndoResult

RULE = "-" * 72


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def config_hash(options: object | None) -> str:
    """Identity of the effective settings (config file and flags together)."""
    return hashlib.sha256(repr(options).encode()).hexdigest()[:16] if options is not None else ""


@dataclass
class CommandRun:
    """One command run: its id, log, history store and recorder, check cache, incidents and metrics."""

    run_id: str
    command: str
    locations: Locations
    log: LogSession
    logger: logging.Logger
    store: HistoryStore | None = None
    recorder: HistoryRecorder | None = None
    history_off: str = ""  # why history is not kept for this run ("" when it is)
    outcome_store: SqliteOutcomeStore | None = None
    incidents: list[Incident] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)  # the run's registry: pass it to the engine
    metrics_file: Path | None = None  # where --metrics-file writes it when the command ends
    workers: DeferredWorkerSetup | None = None  # the worker hook handed to the engine (worker_setup())

    @property
    def consumers(self) -> list[RunSink]:
        """The log writer, the history recorder when history is kept, and the critical-error block."""
        sinks: list[RunSink] = [LogSink(self.logger), _Criticals(self.incidents)]
        if self.recorder is not None:
            sinks.append(self.recorder)
        return sinks

    @property
    def sink(self) -> Sink:
        """Hand this to the engine: every event of the run reaches the log and the history as it happens.

        A run that will start workers says so first (``RunStarted.jobs``, before any worker is forked):
        only then is the queue their log records travel on made (see :meth:`worker_setup`)."""
        consumers = dispatch(self.consumers)

        def sink(event: Event) -> None:
            if isinstance(event, RunStarted) and event.jobs > 1 and self.workers is not None:
                self.workers.prepare()
            consumers(event)

        return sink

    # --- events from anywhere in the command ------------------------------------------------
    def incident(self, incident: Incident, *, ends_run: bool = False) -> None:
        """A tool error (from the history store, the recorder or the command): logged, recorded, kept for
        the critical block. The error that ends the command is printed by the error table, not here."""
        if not ends_run:
            self.incidents.append(incident)
        LogSink(self.logger, console=not ends_run).incident(incident)
        if self.recorder is not None:
            self.recorder.incident(incident)

    def attempt(self, incident: Incident, attempt: RecoveryAttempt) -> None:
        """One retry ended (history lock, ...): logged at once; the incident is recorded when it ends."""
        emit(self.logger, logging.INFO, "recovery.attempt",
             f"retry {attempt.number} after {attempt.delay * 1000:.0f} ms: "
             + ("recovered" if attempt.succeeded else f"failed ({attempt.detail})"),
             file=incident.file, code=incident.code.value)

    # --- commands whose engine does not stream ---------------------------------------------------
    def record(self, result: RunResult) -> None:
        """A finished run that was not streamed to :attr:`sink` (the Python API's, a test's)."""
        for consumer in self.consumers:
            replay(result, consumer)

    def record_fix(self, result: FixResult) -> None:
        stage_metrics(self.metrics, result.timings)
        by_status = Counter(f.status.value for f in result.files)
        files = self.metrics.counter("presetctl_files_total", "Files looked at, by status")
        for status, n in by_status.items():
            files.inc(n, status=status)
        if self.recorder is not None:
            self.recorder.count_files(by_status)
        for f in result.failed:
            self.incident(Incident(ErrorCode.WRITE_FAILED, f.error or "the file could not be written", file=f.path,
                                   stage="write", at=time.time()))
        for consumer in self.consumers:
            for t in result.timings:
                consumer.stage_done(t)

    def record_undo(self, result: UndoResult) -> None:
        """An undo: files restored, already original, refused (each refusal is a reported tool error)."""
        if self.recorder is not None:
            self.recorder.count_files({"restored": len(result.restored), "unchanged": len(result.unchanged),
                                       "refused": len(result.refused)})
        for path, why in result.refused:
            self.incident(Incident(ErrorCode.WRITE_FAILED, f"not restored: {why}", file=path, stage="undo",
                                   at=time.time()))

    def record_stats(self, files: int, seconds: float) -> None:
        stage_metrics(self.metrics, [StageTiming("total", seconds)])
        self.metrics.counter("presetctl_files_total", "Files looked at, by status").inc(files, status="read")
        if self.recorder is not None:
            self.recorder.count_files({"read": files})
        for consumer in self.consumers:
            consumer.stage_done(StageTiming("total", seconds))

    # --- history questions ------------------------------------------------------------------
    def failed_targets(self, targets: Sequence[str], command: str = "validate") -> list[str] | None:
        """Files with findings in the last run of ``command`` over the same targets that still exist.

        None means "check everything" (no run over these targets was recorded; a note says so).
        """
        if self.store is None:
            if self.history_off == "--no-history":
                raise UsageError("--failed reads the run history; it cannot be combined with --no-history")
            self._note(f"--failed: no run history ({self.history_off}); checking everything")
            return None
        from presetctl.state.queries import failed_files  # only --failed reads past runs

        try:
            found = failed_files(self.store.conn, [os.path.abspath(t) for t in targets], command)
        except sqlite3.Error as exc:
            self._note(f"--failed: cannot read the run history ({exc}); checking everything")
            return None
        if found.run is None:
            self._note("--failed: no recorded run over these targets; checking everything")
            return None
        present = [p for p in found.paths if os.path.lexists(p)]
        if not present:
            self._note(f"--failed: no file of run {found.run.id} with findings is left; checking everything")
            return None
        return [_as_given(p) for p in present]

    def _note(self, message: str) -> None:
        emit(self.logger, logging.WARNING, "log", message)

    def check_cache(self, off: bool) -> SqliteOutcomeStore | None:
        """The check cache in the cache folder (engine/cache.py), None with ``--no-cache`` or
        PRESETCTL_NO_CACHE; a folder or database that cannot be used only turns it off (logged)."""
        if off or os.environ.get("PRESETCTL_NO_CACHE"):
            return None
        try:
            folder = self.locations.cache_dir()
        except StateError as exc:  # the state folder's problem is said once already (history, log): log only
            emit(self.logger, logging.INFO, "log", f"the check cache is off for this run: {exc}")
            return None
        self.outcome_store = SqliteOutcomeStore.open(folder)
        return self.outcome_store

    def worker_setup(self) -> Any:
        """Initializer hook for the worker pool (obs.session.DeferredWorkerSetup), None without a log
        file. Pass :attr:`sink` to the same run: it prepares the hook when the run starts workers."""
        if self.log.file_handler is None:
            return None
        self.workers = DeferredWorkerSetup(self.log)
        return self.workers


def stage_metrics(metrics: Metrics, timings: Sequence[StageTiming]) -> None:
    """A command's stage timings as the runner records its own (commands that do not use the runner)."""
    stage = metrics.gauge("presetctl_stage_seconds", "Wall seconds of each stage of the run")
    for t in timings:
        stage.set(t.seconds, stage=t.stage)


def metrics_destination(ctx: typer.Context | None, option: Path | None) -> Path | None:
    """``--metrics-file`` of the command, else of ``presetctl --metrics-file``/PRESETCTL_METRICS_FILE;
    its folder must exist (checked before any work starts, as for ``--report``)."""
    chosen = option if option is not None else Path(g) if (g := GlobalOptions.of(ctx).metrics_file) else None
    if chosen is None:
        return None
    folder = chosen.parent if str(chosen.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--metrics-file {chosen}: the folder {str(folder)!r} does not exist")
    if chosen.is_dir():
        raise UsageError(f"--metrics-file {chosen}: is a folder")
    return chosen


def _as_given(path: str) -> str:
    """A recorded (absolute) path as the user would name it: relative when under the working folder."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


class _Criticals:
    """Keeps the run's critical incidents (worker crashes, a full disk) for the block at the end."""

    def __init__(self, into: list[Incident]) -> None:
        self.into = into

    def file_done(self, outcome: FileOutcome) -> None:
        self.into.extend(i for i in outcome.incidents if i.critical)

    def findings(self, batch: Sequence[Finding]) -> None:
        pass

    def incident(self, incident: Incident) -> None:
        if incident.critical:
            self.into.append(incident)

    def stage_done(self, timing: StageTiming) -> None:
        pass


def _setup_problems(run: CommandRun, log_problem: OSError | StateError | None,
                    history_problem: HistoryError | None, log_path: Path | None) -> None:
    """Set-up problems said once: a read-only state folder costs history and the log at once, so one
    warning names both; a critical cause (a full disk) goes to the end-of-run block instead."""
    found: list[tuple[str, Incident]] = []
    if history_problem is not None:
        found.append(("run history", incident_of(history_problem, stage="history")))
    if isinstance(log_problem, OSError):
        inc = incident_of(log_problem, stage="log")
        code = inc.code if inc.code in (ErrorCode.DISK_FULL, ErrorCode.READ_ONLY_FILE_SYSTEM) else ErrorCode.LOG_UNWRITABLE
        found.append(("the log file", Incident(code, f"cannot write the log {log_path}: "
                                               f"{log_problem.strerror or log_problem}", stage="log", at=inc.at)))
    elif log_problem is not None:
        found.append(("the log file", incident_of(log_problem, stage="log")))
    if not found:
        return
    what = " and ".join(name for name, _ in found)
    verb = "are" if len(found) > 1 else "is"
    joined = Incident(found[0][1].code, f"{what} {verb} off for this run: " + "; ".join(i.message for _, i in found),
                      stage="setup", at=found[0][1].at)
    if any(i.critical for _, i in found):
        run.incident(Incident(next(i.code for _, i in found if i.critical), joined.message, stage="setup",
                              at=joined.at))
    else:
        emit(run.logger, logging.WARNING, "error", joined.message, code=joined.code.value)


def critical_block(incidents: Sequence[Incident]) -> str:
    """The run's critical errors, separated from everything else it printed."""
    critical = [i for i in incidents if i.critical]
    if not critical:
        return ""
    lines = [RULE, f"presetctl: {len(critical)} critical error{'s' if len(critical) != 1 else ''} in this run:"]
    for i in critical:
        where = f" [{visible(i.file)}]" if i.file else ""
        tail = f" ({i.outcome.value} after {i.retries} retr{'y' if i.retries == 1 else 'ies'})" if i.attempts else ""
        lines.append(f"  {i.code.value} {i.code.slug}{where}: {visible(i.message)}{tail}")
    lines.append(RULE)
    return "\n".join(lines) + "\n"


@contextmanager
def recorded_run(ctx: typer.Context | None, command: str, targets: Sequence[str], *, options: object | None = None,
                 state_dir: str | None = None, no_history: bool = False, quiet: bool = False,
                 color: str = "auto", metrics_file: Path | None = None) -> Iterator[CommandRun]:
    """The scope of one command run; see the module docstring.

    ``quiet`` is the command's -q (console: errors only); how much else the console shows is the
    global -v/-vv (a command's own -v is about its report, not about logging). ``metrics_file``: the
    command's ``--metrics-file`` (else the global one): the run's metrics are written there at the end.
    """
    g = GlobalOptions.of(ctx)
    destination = metrics_destination(ctx, metrics_file)
    locations = Locations.resolve(state_dir or g.state_dir)
    run_id = new_run_id()
    log_problem: OSError | StateError | None = None
    try:
        folder: Path | None = locations.log_dir()
    except StateError as exc:
        folder, log_problem = None, exc
    env_level = os.environ.get("PRESETCTL_LOG_LEVEL", "").lower()
    settings = LogSettings(folder, run_id, command, file_level=LEVELS.get(env_level, g.log_level),
                           console_level=console_level(quiet or g.quiet, g.verbose),
                           color=use_color(color, sys.stderr), max_bytes=g.log_max_bytes, backups=g.log_backups,
                           safe=visible)
    log = LogSession(settings).start()
    if log.problems and log_problem is None:
        log_problem = log.problems[0]
    reported_log_problems = len(log.problems)
    run = CommandRun(run_id, command, locations, log, logging.getLogger(LOGGER), metrics_file=destination)
    emit(run.logger, logging.INFO, "run.start", f"{command} {' '.join(targets)}")
    started = time.time()
    history_problem = _open_history(run, locations, no_history or g.no_history or
                                    bool(os.environ.get("PRESETCTL_NO_HISTORY")))
    params = {k: _jsonable(v) for k, v in (ctx.params.items() if ctx is not None else ())}
    if run.store is not None:
        header = RunHeader(run_id, command, json.dumps(params, default=str, sort_keys=True),
                           tuple(os.path.abspath(t) for t in targets),
                           os.getcwd(), __version__, config_hash(options), started)

        def history_failed(exc: HistoryError) -> None:
            run.history_off = str(exc)
            run.incident(incident_of(exc, stage="history"))

        run.recorder = HistoryRecorder(run.store, header, on_problem=history_failed)
        pending = list(run.incidents)  # met while opening (a repaired database): record them in the run
        run.recorder.begin()
        for inc in pending:
            run.recorder.incident(inc)
    _setup_problems(run, log_problem, history_problem, log.path)
    exit_code = EXIT_ERROR
    try:
        yield run
        exit_code = 0
    except typer.Exit as stop:
        exit_code = stop.exit_code
        raise
    except BaseException as exc:
        exit_code = explain(exc)[0]
        run.incident(incident_of(exc, stage=command), ends_run=True)
        raise
    finally:
        _finish(run, exit_code, started, reported_log_problems, ctx)


def _open_history(run: CommandRun, locations: Locations, off: bool) -> HistoryError | None:
    """Open the history store for the run; a problem turns history off for it (returned, said once)."""
    if off:
        run.history_off = "--no-history"
        return None
    try:
        run.store = HistoryStore.open(locations.history, recovery=Recovery(on_attempt=run.attempt),
                                      on_incident=run.incident)
    except HistoryError as exc:
        run.history_off = str(exc)
        return exc
    except (OSError, sqlite3.Error) as exc:  # not foreseen by the store: still never the command's failure
        problem = HistoryError(f"cannot use the history database {locations.history}: {exc}",
                               file=str(locations.history))
        run.history_off = str(problem)
        return problem
    return None


WRITTEN = "presetctl.metrics-written"  # ctx.meta key: a recorded run wrote --metrics-file itself


class ProcessMetrics:
    """``presetctl --metrics-file PATH`` for a command that records no run (rules, logs, doctor, report):
    what the process cost, written when the command closes. A recorded run writes its own, fuller file."""

    def __init__(self, ctx: typer.Context, path: Path, command: str) -> None:
        self.ctx, self.path, self.command = ctx, path, command
        self.started = time.time()
        self.cpu0 = time.process_time()

    def __call__(self) -> None:
        if self.ctx.meta.get(WRITTEN):
            return
        import resource

        m = Metrics()
        m.gauge("presetctl_run_info", "The command and presetctl version of the run (always 1)").set(
            1, command=self.command, version=__version__)
        m.gauge("presetctl_run_start_timestamp_seconds", "When the command started (Unix time)").set(self.started)
        m.gauge("presetctl_run_duration_seconds", "Wall seconds of the whole command").set(time.time() - self.started)
        m.counter("presetctl_cpu_seconds_total", "CPU seconds of presetctl").inc(time.process_time() - self.cpu0,
                                                                                mode="all")
        m.gauge("presetctl_peak_rss_bytes", "Largest resident memory of presetctl").set(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024))
        try:
            write_metrics(m, self.path)
        except OSError as exc:
            sys.stderr.write(f"presetctl: warning: cannot write the metrics file {visible(str(self.path))}: "
                             f"{visible(exc.strerror or str(exc))}\n")


def _write_metrics(run: CommandRun, exit_code: int, started: float, ctx: typer.Context | None = None) -> None:
    """The run's metrics into --metrics-file, with what only the end of the command knows."""
    if run.metrics_file is None:
        return
    m = run.metrics
    m.gauge("presetctl_run_info", "The command and presetctl version of the run (always 1)").set(
        1, command=run.command, version=__version__)
    m.gauge("presetctl_exit_code", "Exit code of the command").set(exit_code)
    m.gauge("presetctl_run_start_timestamp_seconds", "When the command started (Unix time)").set(started)
    m.gauge("presetctl_run_duration_seconds", "Wall seconds of the whole command").set(time.time() - started)
    if ctx is not None:
        ctx.find_root().meta[WRITTEN] = True
    try:
        write_metrics(m, run.metrics_file)
    except OSError as exc:  # never the command's failure: said once, like a log that cannot be written
        run.incident(incident_of(os_error(exc, f"cannot write the metrics file {run.metrics_file}",
                                          file=str(run.metrics_file), default=ErrorCode.WRITE_FAILED),
                                 stage="metrics"))
        sys.stderr.write(f"presetctl: warning: cannot write the metrics file {visible(str(run.metrics_file))}: "
                         f"{visible(exc.strerror or str(exc))}\n")


def _finish(run: CommandRun, exit_code: int, started: float, reported_log_problems: int,
            ctx: typer.Context | None = None) -> None:
    _write_metrics(run, exit_code, started, ctx)
    if run.recorder is not None:
        run.recorder.finish(exit_code)
    emit(run.logger, logging.INFO, "run.end", f"exit {exit_code}", dur=round(time.time() - started, 6))
    run.log.stop()  # drains the queue: a write that failed on the listener thread is known after this
    for problem in run.log.problems[reported_log_problems:]:  # too late for history; shown here
        inc = incident_of(problem, stage="log")
        run.incidents.append(inc)
        if not inc.critical:
            sys.stderr.write(f"presetctl: warning: {ErrorCode.LOG_UNWRITABLE.value} the log file "
                             f"{visible(str(run.log.path))} stopped: {visible(problem.strerror or str(problem))}\n")
    if run.store is not None:
        run.store.close()
    if run.outcome_store is not None:
        if run.outcome_store.problem:  # a cache never costs a run: a line in the log, not on the console
            emit(run.logger, logging.INFO, "log", run.outcome_store.problem)
        run.outcome_store.close()
    block = critical_block(run.incidents)
    if block:
        sys.stderr.write(block)
        sys.stderr.flush()


def history_location(ctx: typer.Context | None, no_history: bool = False) -> tuple[Path, str]:
    """Where the run history is, and why it is off ("" when it is on): for commands that only read it.

    Off is what turns recording off (--no-history on the command or before it, PRESETCTL_NO_HISTORY):
    a command that read the history then would show runs older than the ones just made.
    """
    g = GlobalOptions.of(ctx)
    off = ""
    if no_history or g.no_history or os.environ.get("PRESETCTL_NO_HISTORY"):
        off = "--no-history or PRESETCTL_NO_HISTORY"
    return Locations.resolve(g.state_dir).history, off


# Options every recorded command takes (declared once; cli/options.py may adopt them).
NoHistoryOpt = Annotated[bool, typer.Option("--no-history", help="Do not record this run in the run history "
                                            "(also: presetctl --no-history, PRESETCTL_NO_HISTORY=1).")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Check every file again instead of re-using what an "
                                          "earlier run found in an unchanged file (also: PRESETCTL_NO_CACHE=1).")]
MetricsFileOpt = Annotated[Path | None, typer.Option("--metrics-file", metavar="PATH", help="Write the run's "
                           "metrics (stage and rule timings, files, findings, memory, CPU) to PATH in the "
                           "Prometheus text format, atomically (also: presetctl --metrics-file PATH).")]
FailedOpt = Annotated[bool, typer.Option("--failed", help="Re-check only the files that had findings in the last "
                                         "recorded run over the same targets (all files when there is none).")]
