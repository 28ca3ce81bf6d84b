"""The stages ``presetctl bench`` measures, each on its own, in this process, one item at a time.

Every stage prepares what it needs outside the clock (files read, outcomes computed) and returns a
round function: one pass over its items, one wall-clock sample per item. The per-file stages run
the engine's own functions (``discover``, ``read_bounded``, ``load_document``, ``check_file``,
``plan_file``), so what is measured is what ``validate`` runs, minus process start-up and workers.

The claims are the original design's promises, per preset (per record for logging).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from presetctl import __version__
from presetctl.bench.measure import Round, timed_each
from presetctl.engine.discover import Candidate, discover, read_bounded
from presetctl.engine.events import RunStarted
from presetctl.engine.fix.planner import PlanRules, plan_file
from presetctl.engine.model import FileOutcome
from presetctl.engine.options import Options
from presetctl.engine.pipeline import check_file, load_document
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.security.scope import scan_options
from presetctl.obs.handlers import SharedRotatingFileHandler
from presetctl.obs.records import JsonLineFormatter, RunContext, emit
from presetctl.obs.session import LogSession, LogSettings
from presetctl.report.base import ReportContext
from presetctl.report.registry import REPORTERS
from presetctl.state.history import HistoryStore
from presetctl.state.recorder import HistoryRecorder, RunHeader

BOM = b"\xef\xbb\xbf"
LOG_BATCH = 500  # records per log sample: one record is below the clock's useful resolution
BENCH_LOGGER = "presetctl.bench"  # its own logger: the command's log is never touched


@dataclass(frozen=True)
class Pack:
    """The files a benchmark runs on, found once."""

    root: Path
    options: Options
    candidates: tuple[Candidate, ...]
    scratch: Path  # a temporary folder for the stages that write (logs, history)

    @classmethod
    def find(cls, root: Path, options: Options, scratch: Path) -> Pack:
        cands, _ = discover([str(root)], options)
        return cls(root, options, tuple(sorted(cands, key=lambda c: c.display)), scratch)

    @property
    def files(self) -> int:
        return len(self.candidates)

    def data(self) -> list[tuple[Candidate, bytes]]:
        limit = self.options.limits.max_file_size
        return [(c, read_bounded(c.path, limit)) for c in self.candidates]

    def outcomes(self) -> list[FileOutcome]:
        rules = RuleSet(self.options)
        return [check_file(c, rules) for c in self.candidates]


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    unit: str  # what one sample is per: "preset", "record", "run"
    prepare: Callable[[Pack], Round]
    claim: float | None = None  # the design's promise, seconds per unit
    claim_text: str = ""
    per_sample: Callable[[Pack], int] = lambda pack: 1  # items one sample stands for (CPU per item)


def _discover(pack: Pack) -> Round:
    def one() -> list[float]:
        t0 = time.perf_counter()
        found, _ = discover([str(pack.root)], pack.options)
        return [(time.perf_counter() - t0) / max(1, len(found))]  # per file: one walk has no per-file clock

    return one


def _read(pack: Pack) -> Round:
    limit = pack.options.limits.max_file_size
    paths = [c.path for c in pack.candidates]
    return lambda: timed_each(paths, lambda p: read_bounded(p, limit))


def _parse(pack: Pack) -> Round:
    limits = pack.options.limits
    items = [(PurePosixPath(c.display), data) for c, data in pack.data()]
    return lambda: timed_each(items, lambda item: load_document(item[1], item[0], limits))


def _checking(options: Options) -> Callable[[Pack], Round]:
    def prepare(pack: Pack) -> Round:
        rules = RuleSet(options)
        return lambda: timed_each(pack.candidates, lambda c: check_file(c, rules))

    return prepare


def _quick(pack: Pack) -> Round:
    return _checking(replace(pack.options, select=("F", "P", "S"), extend_select=(), profiles=()))(pack)


def _comprehensive(pack: Pack) -> Round:
    return _checking(pack.options)(pack)


def _security(pack: Pack) -> Round:
    return _checking(scan_options(pack.options))(pack)


def _autofix(pack: Pack) -> Round:
    """Planning every fix of a damaged copy of each file (a UTF-8 byte order mark added to each text
    file, which F009's safe fix removes): validate, propose, apply, validate again. In memory:
    the pack itself is never written."""
    rules = PlanRules.build(pack.options, pack.options, unsafe=False)
    items = [(PurePosixPath(c.display), BOM + data if data[:1] in (b"{", b"<", b"[") else data)
             for c, data in pack.data()]
    return lambda: timed_each(items, lambda item: plan_file(item[1], item[0], rules, pack.options))


def _report(pack: Pack) -> Round:
    """The default report (``full``, no colour) of each file's outcome, as a run streams it."""
    outcomes = pack.outcomes()
    reporter = REPORTERS["full"]

    def one() -> list[float]:
        writer = reporter.writer(ReportContext(width=100, tool_version=__version__))
        writer.begin(RunStarted("validate", (str(pack.root),), "", len(outcomes), 1))
        out = timed_each(outcomes, writer.file)
        writer.pack(())
        return out

    return one


def _log_records(logger: logging.Logger, records: int) -> list[float]:
    out: list[float] = []
    for _ in range(max(1, records // LOG_BATCH)):
        t0 = time.perf_counter()
        for _ in range(LOG_BATCH):
            emit(logger, logging.INFO, "file.checked", "validated presetctl: 0 findings", file="Bass/Deep Sub.json",
                 dur=0.000412)
        out.append((time.perf_counter() - t0) / LOG_BATCH)
    return out


def _log_queued(pack: Pack) -> Round:
    """``emit`` through the queue handler while the listener thread writes the file (what the engine's
    thread pays in a real run)."""
    records = max(10_000, pack.files * 10)

    def one() -> list[float]:
        folder = Path(tempfile.mkdtemp(prefix="log-q-", dir=pack.scratch))
        session = LogSession(LogSettings(folder, "bench", "bench", console_level=logging.CRITICAL + 1,
                                         max_bytes=1 << 40, logger=BENCH_LOGGER)).start()
        try:
            return _log_records(session.logger, records)
        finally:
            session.stop()  # drains: the next round starts with an empty queue

    return one


def _log_direct(pack: Pack) -> Round:
    """The rotating file handler on the calling thread (format and write per record)."""
    records = max(10_000, pack.files * 10)

    def one() -> list[float]:
        folder = Path(tempfile.mkdtemp(prefix="log-d-", dir=pack.scratch))
        logger = logging.getLogger(BENCH_LOGGER + ".direct")
        handler = SharedRotatingFileHandler(folder / "presetctl.log", 1 << 40, 1)
        handler.setFormatter(JsonLineFormatter())
        handler.addFilter(RunContext("bench", "bench"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            return _log_records(logger, records)
        finally:
            logger.removeHandler(handler)
            handler.close()

    return one


def _history(pack: Pack) -> Round:
    """One run recorded as a command records it: the database opened, the run row, every file and
    finding of the pack (in batches, as a real run flushes them), the totals, the database closed
    (with its checkpoint). A fresh database each time; one sample per recorded run."""
    outcomes = pack.outcomes()

    def record(n: int) -> float:
        path = Path(tempfile.mkdtemp(prefix="hist-", dir=pack.scratch)) / "history.sqlite3"
        t0 = time.perf_counter()
        store = HistoryStore.open(path)
        try:
            recorder = HistoryRecorder(store, RunHeader(f"bench-{n}", "validate", "{}", (str(pack.root),), "/",
                                                        __version__))
            recorder.begin()
            for o in outcomes:
                recorder.file_done(o)
                if o.findings:
                    recorder.findings(o.findings)
            recorder.finish(0)
        finally:
            store.close()
        return time.perf_counter() - t0

    return lambda: [record(i) for i in range(5)]


STAGES: tuple[Stage, ...] = (
    Stage("discover", "discovery (walk, lstat, filters)", "preset", _discover,
          per_sample=lambda pack: pack.files),
    Stage("read", "read (bounded, from the page cache)", "preset", _read),
    Stage("parse", "parse (detect, load, preset model)", "preset", _parse),
    Stage("quick", "quick validation (file, parse and schema: --select F,P,S)", "preset", _quick,
          50e-6, "< 50 us"),
    Stage("comprehensive", "comprehensive validation (every default rule)", "preset", _comprehensive,
          500e-6, "< 500 us"),
    Stage("autofix", "auto-fix planning on damaged copies (in memory)", "preset", _autofix, 200e-6, "< 200 us"),
    Stage("security", "security scan (scan-security's rules)", "preset", _security, 100e-6, "< 100 us"),
    Stage("report", "report rendering (full, per file)", "preset", _report),
    Stage("log-queued", "one log record, queued (listener thread writes)", "record", _log_queued, 1e-6, "< 1 us",
          per_sample=lambda pack: LOG_BATCH),
    Stage("log-direct", "one log record, written directly", "record", _log_direct, 10e-6, "< 10 us",
          per_sample=lambda pack: LOG_BATCH),
    Stage("history", "one run recorded in the history (every file and finding)", "run", _history),
)
BY_NAME = {s.name: s for s in STAGES}
