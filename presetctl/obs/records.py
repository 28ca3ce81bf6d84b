"""The log record: one JSON object per line, the same fields in every record.

    {"ts": "2025-01-31T12:00:00.123Z", "level": "warning", "run": "20250131T120000-ab12cd",
     "cmd": "validate", "event": "error", "file": "pack/a.vital", "rule": "", "code": "PE103",
     "dur": null, "msg": "the file changed while it was read", "pid": 4242}

``ts`` is UTC with milliseconds; ``event`` is a dotted name (``run.start``, ``run.end``,
``file.checked``, ``stage``, ``error``, ``recovery.attempt``, ``log`` for plain messages);
``dur`` is seconds. Every non-ASCII character is escaped (``\\uXXXX``), so a log can be shown
with ``cat`` whatever file names it holds; ``json.loads`` gives back the exact text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

LOGGER = "presetctl"
FIELDS = ("ts", "level", "run", "cmd", "event", "file", "rule", "code", "dur", "msg", "pid")
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR,
          "critical": logging.CRITICAL}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def record_dict(record: logging.LogRecord) -> dict[str, Any]:
    msg = record.getMessage()
    if record.exc_info and record.exc_info[1] is not None:
        exc = record.exc_info[1]
        msg = f"{msg}: {type(exc).__name__}: {exc}"  # the type and message only; tracebacks go to crash reports
    return {
        "ts": iso(record.created),
        "level": record.levelname.lower(),
        "run": getattr(record, "run", "") or "",
        "cmd": getattr(record, "cmd", "") or "",
        "event": getattr(record, "event", "") or "log",
        "file": getattr(record, "file", "") or "",
        "rule": getattr(record, "rule", "") or "",
        "code": getattr(record, "code", "") or "",
        "dur": getattr(record, "dur", None),
        "msg": msg,
        "pid": record.process,
    }


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_dict(record), ensure_ascii=True, separators=(",", ":"))


class RunContext(logging.Filter):
    """Stamps the run id and command on every record that passes (records may set their own)."""

    def __init__(self, run: str, cmd: str) -> None:
        super().__init__()
        self.run = run
        self.cmd = cmd

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "run", ""):
            record.run = self.run
        if not getattr(record, "cmd", ""):
            record.cmd = self.cmd
        return True


def emit(logger: logging.Logger, level: int, event: str, msg: str, *, file: str = "", rule: str = "", code: str = "",
         dur: float | None = None, at: float | None = None, deferred: bool = False) -> None:
    """One structured record. ``at`` back-dates it (a recovery attempt made in a worker); ``deferred``
    keeps it off the console because the command shows it later (the critical-errors block)."""
    if not logger.isEnabledFor(level):
        return
    record = logger.makeRecord(logger.name, level, "(presetctl)", 0, msg, (), None)
    record.event, record.file, record.rule, record.code, record.dur = event, file, rule, code, dur
    record.deferred = deferred
    if at is not None:
        record.created = at
        record.msecs = (at - int(at)) * 1000
    logger.handle(record)


def parse_line(line: str | bytes) -> dict[str, Any] | None:
    """A record from one line of a log; None for a torn or foreign line."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("ts"), str):
        return None
    try:
        rec["_t"] = parse_iso(rec["ts"])
    except ValueError:
        return None
    return rec
