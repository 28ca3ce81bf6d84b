"""Logging: the record schema, the queue and its listener, the shared rotating file, the console, workers."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.incidents import Incident, Outcome, RecoveryAttempt
from presetctl.engine.model import FileOutcome, FileStatus, StageTiming
from presetctl.obs.handlers import ConsoleHandler, SharedRotatingFileHandler, log_files
from presetctl.obs.records import FIELDS, LOGGER, JsonLineFormatter, emit, parse_line
from presetctl.obs.session import LogSession, LogSettings, console_level
from presetctl.obs.sink import LogSink
from presetctl.safe_text import visible


def read_records(folder: Path) -> list[dict[str, object]]:
    out = []
    for path in log_files(folder):
        out += [json.loads(line) for line in path.read_bytes().splitlines()]
    return out


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = LogSession(LogSettings(tmp_path, run_id="20250101T000000-abcdef", command="validate",
                               file_level=logging.DEBUG, console_level=logging.CRITICAL)).start()
    yield s
    s.stop()


def test_a_record_has_every_documented_field(session: LogSession, tmp_path: Path) -> None:
    logger = logging.getLogger(LOGGER)
    emit(logger, logging.WARNING, "error", "the file changed while it was read", file="pack/é\x1b.vital", rule="X050",
         code="PE103", dur=0.25)
    session.stop()
    (rec,) = read_records(tmp_path)
    assert list(rec) == list(FIELDS)
    assert rec["ts"].endswith("Z") and len(rec["ts"]) == len("2025-01-01T00:00:00.000Z")  # type: ignore[arg-type]
    assert (rec["level"], rec["run"], rec["cmd"], rec["event"], rec["file"], rec["rule"], rec["code"], rec["dur"],
            rec["pid"]) == ("warning", "20250101T000000-abcdef", "validate", "error", "pack/é\x1b.vital", "X050",
                            "PE103", 0.25, os.getpid())
    raw = (tmp_path / "presetctl.log").read_bytes()
    assert raw.isascii() and b"\x1b" not in raw  # safe to cat; json gives the exact text back


def test_plain_messages_and_exceptions(session: LogSession, tmp_path: Path) -> None:
    logger = logging.getLogger(LOGGER)
    logger.info("%d files in %s", 3, "pack")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed")
    session.stop()
    first, second = read_records(tmp_path)
    assert (first["event"], first["msg"]) == ("log", "3 files in pack")
    assert second["msg"] == "it failed: ValueError: boom" and "Traceback" not in str(second)


def test_parse_line_skips_torn_and_foreign_lines() -> None:
    assert parse_line(b'{"ts": "2025-01-01T00:00:00.000Z", "msg": "x"}') is not None
    assert parse_line(b'{"ts": "2025-01-01T00:00') is None
    assert parse_line(b"[1, 2]") is None
    assert parse_line(b'{"ts": "yesterday"}') is None


def test_the_queue_keeps_the_writing_off_the_callers_thread(tmp_path: Path) -> None:
    calls: list[str] = []

    class Recording(SharedRotatingFileHandler):
        def emit(self, record: logging.LogRecord) -> None:
            import threading

            calls.append(threading.current_thread().name)
            super().emit(record)

    s = LogSession(LogSettings(tmp_path, run_id="r", command="c", console_level=logging.CRITICAL)).start()
    assert s.file_handler is not None
    s.file_handler.__class__ = Recording
    logging.getLogger(LOGGER).info("hello")
    s.stop()
    import threading

    assert calls and threading.main_thread().name not in calls


def test_rotation_by_size_keeps_the_configured_count(tmp_path: Path) -> None:
    handler = SharedRotatingFileHandler(tmp_path / "presetctl.log", max_bytes=2000, backups=3)
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger("presetctl.test.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    for i in range(200):
        logger.warning("record %03d %s", i, "x" * 50)
    handler.close()
    logger.removeHandler(handler)
    files = log_files(tmp_path)
    assert [p.name for p in files] == ["presetctl.log.3", "presetctl.log.2", "presetctl.log.1", "presetctl.log"]
    assert all(p.stat().st_size <= 2000 for p in files)
    msgs = [r["msg"] for r in read_records(tmp_path)]
    numbers = [int(str(m).split()[1]) for m in msgs]
    assert numbers == sorted(numbers) and numbers[-1] == 199  # oldest first, newest kept, nothing reordered


def test_processes_rotating_one_log_lose_no_line(tmp_path: Path) -> None:
    """Four processes write 300 records each into a log rotated every few kilobytes."""
    script = (
        "import logging, sys\n"
        "from pathlib import Path\n"
        "from presetctl.obs.handlers import SharedRotatingFileHandler\n"
        "from presetctl.obs.records import JsonLineFormatter\n"
        "h = SharedRotatingFileHandler(Path(sys.argv[1]), max_bytes=6000, backups=200)\n"
        "h.setFormatter(JsonLineFormatter())\n"
        "log = logging.getLogger('w'); log.addHandler(h); log.propagate = False\n"
        "for i in range(300): log.warning('%s %d', sys.argv[2], i)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "presetctl.log"), f"p{n}"])
             for n in range(4)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    msgs = [str(r["msg"]) for r in read_records(tmp_path)]
    assert sorted(msgs) == sorted(f"p{n} {i}" for n in range(4) for i in range(300))
    for n in range(4):  # each writer's records stay in its order across every rotation
        mine = [int(m.split()[1]) for m in msgs if m.startswith(f"p{n} ")]
        assert mine == sorted(mine)


def test_a_failing_write_turns_the_file_off_once(tmp_path: Path) -> None:
    failures: list[OSError] = []
    handler = SharedRotatingFileHandler(tmp_path / "presetctl.log", 1 << 20, 1, on_failure=failures.append)
    handler.setFormatter(JsonLineFormatter())
    os.close(handler._fd)  # the descriptor goes bad, as on a vanished network share
    handler._fd = os.open(os.devnull, os.O_RDONLY)  # a write now fails with EBADF
    for _ in range(3):
        handler.emit(logging.LogRecord("x", logging.INFO, "", 0, "m", (), None))
    assert len(failures) == 1 and handler.failed is not None
    handler.close()


def test_console_levels_and_colour() -> None:
    assert console_level(quiet=True, verbose=2) == logging.ERROR
    assert [console_level(False, v) for v in (0, 1, 2, 3)] == [logging.WARNING, logging.INFO, logging.DEBUG,
                                                              logging.DEBUG]
    out = io.StringIO()
    plain = ConsoleHandler(logging.WARNING, color=False, safe=visible, stream=out)
    colored = ConsoleHandler(logging.WARNING, color=True, safe=visible, stream=out)
    logger = logging.getLogger("presetctl.test.console")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    for handler in (plain, colored):
        logger.addHandler(handler)
        emit(logger, logging.WARNING, "error", "bad \x1b[2J name", code="PE106", file="a\x07.json")
        logger.removeHandler(handler)
    logger.addHandler(plain)
    logger.info("quiet")
    emit(logger, logging.ERROR, "error", "later", deferred=True)
    logger.removeHandler(plain)
    lines = out.getvalue().splitlines()
    assert lines[0] == "presetctl: warning: PE106 a\\x07.json: bad \\x1b[2J name"
    assert lines[1] == "presetctl: \x1b[33mwarning\x1b[0m: PE106 a\\x07.json: bad \\x1b[2J name"
    assert len(lines) == 2  # below the level, and deferred records, stay off the console


def test_the_log_sink_writes_incidents_attempts_and_debug_records(session: LogSession, tmp_path: Path) -> None:
    sink = LogSink(logging.getLogger(LOGGER))
    inc = Incident(ErrorCode.FILE_CHANGED, "the file changed while it was read", file="a.json", stage="read",
                   outcome=Outcome.RECOVERED, attempts=(RecoveryAttempt(1, 0.004, False, "changed", 1000.0),
                                                        RecoveryAttempt(2, 0.012, True, "", 1001.0)), at=999.0)
    sink.file_done(FileOutcome("a.json", "presetctl", FileStatus.VALIDATED, 10, seconds=0.002, incidents=(inc,)))
    sink.stage_done(StageTiming("check", 0.5))
    session.stop()
    recs = read_records(tmp_path)
    assert [(r["event"], r["level"]) for r in recs] == [("file.checked", "debug"), ("recovery.attempt", "info"),
                                                       ("recovery.attempt", "info"), ("error", "info"),
                                                       ("stage", "debug")]
    assert recs[1]["ts"] == "1970-01-01T00:16:40.000Z" and recs[1]["code"] == "PE103"  # back-dated to the attempt
    assert recs[3]["msg"] == "the file changed while it was read (recovered after 2 retries)"


def _log_from_worker(n: int) -> int:
    logging.getLogger(LOGGER).warning("from worker %d", n)
    return os.getpid()


def test_worker_processes_reach_the_same_log(session: LogSession, tmp_path: Path) -> None:
    setup = session.worker_setup()
    assert setup is not None
    import multiprocessing

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"), initializer=setup) as pool:
        pids = set(pool.map(_log_from_worker, range(6)))
    session.stop()
    recs = [r for r in read_records(tmp_path) if str(r["msg"]).startswith("from worker")]
    assert sorted(str(r["msg"]) for r in recs) == [f"from worker {n}" for n in range(6)]
    assert {r["pid"] for r in recs} == pids and os.getpid() not in pids
    assert {r["run"] for r in recs} == {"20250101T000000-abcdef"} and {r["cmd"] for r in recs} == {"validate"}


def test_worker_logging_works_with_spawn_too(session: LogSession, tmp_path: Path) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    setup = session.worker_setup(ctx)
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=setup) as pool:
        list(pool.map(_log_from_worker, [7]))
    session.stop()
    assert [r["msg"] for r in read_records(tmp_path) if r["event"] == "log"] == ["from worker 7"]


def test_no_log_folder_means_no_file_and_no_worker_hook(tmp_path: Path) -> None:
    s = LogSession(LogSettings(None, console_level=logging.CRITICAL)).start()
    logging.getLogger(LOGGER).warning("nowhere")
    assert s.worker_setup() is None and s.file_handler is None
    s.stop()


WORKER_PROBE = """
import json, logging, os, sys
sys.argv = ["presetctl", *json.loads(sys.argv[1])]
import presetctl.engine.runner as runner
from presetctl.obs.records import LOGGER
real = runner.check_file
def check_file(cand, rules, *args, **kwargs):  # runs in the worker processes (inherited by fork)
    logging.getLogger(LOGGER).warning("checked in %d", os.getpid())
    return real(cand, rules, *args, **kwargs)
runner.check_file = check_file
from presetctl.cli.app import main
try:
    main()
except SystemExit:
    pass
print(os.getpid(), "multiprocessing.queues" in sys.modules)
"""


@pytest.mark.parametrize(("files", "jobs"), [(120, 2), (3, 2)])
def test_a_cli_run_with_workers_logs_from_them_and_one_without_makes_no_queue(tmp_path: Path, files: int,
                                                                             jobs: int) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    body = (Path(__file__).resolve().parents[1] / "sample_presets" / "evening-pad.json").read_bytes()
    for i in range(files):
        (pack / f"p{i:03d}.json").write_bytes(body.replace(b"Evening Pad", b"Pad %d" % i))
    state = tmp_path / "state"
    args = ["--state-dir", str(state), "-q", "validate", str(pack), "--jobs", str(jobs), "--no-cache", "-o", "json"]
    proc = subprocess.run([sys.executable, "-c", WORKER_PROBE, json.dumps(args)], capture_output=True, text=True,
                          timeout=300, check=False)
    parent, queue_made = proc.stdout.strip().splitlines()[-1].split()
    pids = {r["pid"] for r in read_records(state / "logs") if str(r["msg"]).startswith("checked in")}
    if files >= 96:  # workers: every file's record reached the one log, none written by the parent
        assert queue_made == "True" and len(pids) == jobs and int(parent) not in pids
        assert sum(1 for r in read_records(state / "logs") if str(r["msg"]).startswith("checked in")) == files
    else:  # checked in-process: no worker queue was made
        assert queue_made == "False" and pids == {int(parent)}
