"""The one worker pool: every command that walks a pack (validate, scan-security, stats, fix).

Why not ``ProcessPoolExecutor``: it cannot say which task a dead worker was running, it keeps
running tasks going when the parent is interrupted, and its workers inherit the parent's
stdout/stderr and outlive a parent killed by SIGTERM or SIGKILL. Here each worker is a forked
process with one pipe; it holds at most one task, so the parent always knows what was lost:

- workers die with their parent: ``PR_SET_PDEATHSIG`` on Linux, a parent-alive check
  elsewhere; their stdin/stdout/stderr point at ``/dev/null`` (a reader of the parent's
  pipe sees EOF as soon as the parent is gone); they ignore SIGINT (the parent decides);
- the parent kills and reaps every worker when it stops for any reason (an exception, an
  interrupt, a consumer that stops iterating);
- a task whose worker died is retried file by file, each in a fresh worker; a file that kills
  a worker again is handed to ``on_lost`` (which turns it into a finding), never a crashed run;
- results come back in task order (``ordered``) with a bounded look-ahead, so callers can
  stream output in a stable order while holding at most a few chunks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from presetctl.engine.options import Options

# multiprocessing and ctypes are imported where a pool starts: a run small enough to be checked in
# this process (one file, most of the time) does not pay their start-up (tests/test_startup.py).
if TYPE_CHECKING:
    from multiprocessing.connection import Connection

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
Progress = Callable[[int, int], None]  # (files done, files total)

PARALLEL_MIN_FILES = 96  # below this, worker start-up costs more than it saves
FIRST_CHUNK = 4  # the first chunks are small so that the first results (and output) come at once
MAX_CHUNK = 256
_PR_SET_PDEATHSIG = 1
_STOP_GRACE = 2.0  # seconds a worker gets to exit after SIGTERM before SIGKILL


def effective_jobs(options: Options) -> int:
    if options.jobs is not None and options.jobs > 0:
        return options.jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(options: Options, items: int) -> int:
    """Processes a run over ``items`` files uses: 1 (in-process) for small runs."""
    jobs = min(effective_jobs(options), max(1, items))
    return jobs if items >= PARALLEL_MIN_FILES else 1


def chunks(items: Sequence[T], jobs: int) -> list[Sequence[T]]:
    """Chunks that start small (first output at once), grow to a size that keeps every worker
    busy (several chunks per worker) without starving progress, and shrink again towards the end,
    so that no worker is left with a large last chunk while the others idle."""
    target = max(1, min(MAX_CHUNK, len(items) // (jobs * 8) or 1))
    out: list[Sequence[T]] = []
    size = min(FIRST_CHUNK, target)
    at = 0
    while at < len(items):
        # never more than a quarter of what is left per worker (and never under the first size)
        size = min(size, max(FIRST_CHUNK, (len(items) - at) // (jobs * 4)))
        out.append(items[at : at + size])
        at += size
        size = min(target, size * 2)
    return out


# --- inside a worker -------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Make the kernel kill this process when its parent dies; else watch the parent."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                threading.Event().wait(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _detach_stdio() -> None:
    """Point fds 0-2 at /dev/null: a worker must not keep the parent's pipes open."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def _worker_main(conn: Connection, parent: int, init: Callable[..., Any], initargs: tuple[Any, ...],
                 work: Callable[[Any, Sequence[Any]], list[Any]], close_fds: tuple[int, ...],
                 setup: Callable[[], None] | None) -> None:
    _die_with_parent(parent)
    for fd in close_fds:  # descriptors only the parent may hold (a lock it owns)
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    _detach_stdio()
    if setup is not None:  # what the caller needs in every worker first (its log records reach the parent's log)
        setup()
    state = init(*initargs)  # per-process state (a compiled rule set) lives in this frame, not a global
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        tid, items = task
        try:
            conn.send((tid, True, work(state, items)))
        except Exception as exc:  # noqa: BLE001 - sent back and raised in the parent, which owns errors
            conn.send((tid, False, f"{type(exc).__name__}: {exc}"))


# --- in the parent ---------------------------------------------------------------------------


class WorkerError(RuntimeError):
    """A task raised inside a worker (a bug: per-file problems are values, not exceptions)."""


@dataclass
class _Task(Generic[T]):
    tid: int  # index of the chunk this task belongs to
    part: int  # 0 for a whole chunk; 1.. for the single items of a chunk being retried
    items: Sequence[T]
    retried: bool = False


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process (fork context)
    conn: Connection
    task: _Task[Any] | None = None


@dataclass
class _Pending(Generic[R]):
    parts: dict[int, list[R]] = field(default_factory=dict)
    expected: int = 1  # parts to wait for (1, or the number of items of a retried chunk)


class _Pool(Generic[S, T, R]):
    def __init__(self, jobs: int, init: Callable[..., S], initargs: tuple[Any, ...],
                 work: Callable[[S, Sequence[T]], list[R]], close_fds: tuple[int, ...],
                 setup: Callable[[], None] | None) -> None:
        self.jobs = jobs
        self.init, self.initargs, self.work = init, initargs, work
        self.close_fds = close_fds
        self.setup = setup
        import multiprocessing

        self.ctx = multiprocessing.get_context("fork")
        self.workers: list[_Worker] = []

    def spawn(self) -> _Worker:
        parent_conn, child_conn = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, daemon=True, name="presetctl-worker",
                                args=(child_conn, os.getpid(), self.init, self.initargs, self.work, self.close_fds,
                                      self.setup))
        proc.start()
        child_conn.close()
        worker = _Worker(proc, parent_conn)
        self.workers.append(worker)
        return worker

    def retire(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.conn.close()
        worker.process.join(timeout=_STOP_GRACE)
        if worker.process.is_alive():  # pragma: no cover - a dead worker's sentinel fired already
            worker.process.kill()
            worker.process.join()

    def close(self, graceful: bool) -> None:
        """Stop every worker and reap it; never leaves a process behind."""
        for w in self.workers:
            if graceful:
                with contextlib.suppress(OSError):
                    w.conn.send(None)
            else:
                w.process.terminate()
        for w in self.workers:
            w.process.join(timeout=_STOP_GRACE)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.conn.close()
        self.workers.clear()


def map_chunks(
    items: Sequence[T],
    jobs: int,
    init: Callable[..., S],
    initargs: tuple[Any, ...],
    work: Callable[[S, Sequence[T]], list[R]],
    *,
    on_lost: Callable[[T], R],
    ordered: bool = True,
    window: int = 0,
    close_fds: tuple[int, ...] = (),
    setup: Callable[[], None] | None = None,
    on_death: Callable[[int, bool], None] | None = None,
) -> Iterator[tuple[Sequence[T], list[R]]]:
    """``work(state, chunk)`` over chunks of ``items``; yields (chunk, results).

    ``state = init(*initargs)`` is built once per process. With ``jobs`` <= 1 everything runs
    in this process (small runs: starting workers costs more than it saves); otherwise in
    ``jobs`` worker processes. ``ordered`` yields chunks in their order, keeping at most
    ``window`` (default 4 per worker) chunks ahead of the oldest unfinished one. An item whose
    worker died twice becomes ``on_lost(item)``. A task that raises is a bug: WorkerError here.
    ``close_fds`` are closed in every worker (a lock the parent holds must die with the parent);
    ``setup`` runs first in every worker. ``on_death(items, retrying)`` hears of each worker that
    died holding ``items`` items: retried one by one in fresh workers, or (not retrying) given up.
    """
    parts = chunks(items, max(1, jobs))
    del items  # the chunks hold every item; a chunk is let go once its results are out (see below)
    if jobs <= 1:
        state = init(*initargs)
        for i, part in enumerate(parts):
            yield part, work(state, part)
            parts[i] = ()
        return
    pool: _Pool[S, T, R] = _Pool(jobs, init, initargs, work, close_fds, setup)
    yield from _parallel(pool, parts, on_lost, ordered, window or 4 * jobs, on_death)


def _parallel(pool: _Pool[S, T, R], parts: list[Sequence[T]], on_lost: Callable[[T], R], ordered: bool,
              window: int, on_death: Callable[[int, bool], None] | None) -> Iterator[tuple[Sequence[T], list[R]]]:
    from multiprocessing.connection import wait

    jobs = pool.jobs
    queue: deque[_Task[T]] = deque(_Task(i, 0, c) for i, c in enumerate(parts))
    pending: dict[int, _Pending[R]] = {}
    done: dict[int, list[R]] = {}
    next_out = 0
    graceful = False
    try:
        for _ in range(min(jobs, len(parts))):
            pool.spawn()
        while next_out < len(parts):
            _dispatch(pool, queue, pending, next_out + window if ordered else len(parts))
            busy = [w for w in pool.workers if w.task is not None]
            if not busy:  # pragma: no cover - defensive: nothing runs and nothing can be dispatched
                raise RuntimeError("worker pool stalled")
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for w in busy:
                if w.conn in ready or w.process.sentinel in ready:
                    _collect(pool, w, queue, pending, done, on_lost, on_death)
            while next_out in done if ordered else done:
                key = next_out if ordered else next(iter(done))
                yield parts[key], done.pop(key)
                parts[key] = ()  # its items are checked: a long run does not keep every item to the end
                next_out += 1
        graceful = True
    finally:
        pool.close(graceful)


def _dispatch(pool: _Pool[S, T, R], queue: deque[_Task[T]], pending: dict[int, _Pending[R]], limit: int) -> None:
    for w in pool.workers:
        if w.task is None and queue and queue[0].tid < limit:
            task = queue.popleft()
            pending.setdefault(task.tid, _Pending())
            w.task = task
            w.conn.send((task.tid, task.items))
    while queue and queue[0].tid < limit and len(pool.workers) < pool.jobs:
        pool.spawn()  # replaces a worker that died
        _dispatch(pool, queue, pending, limit)


def _collect(pool: _Pool[S, T, R], w: _Worker, queue: deque[_Task[T]], pending: dict[int, _Pending[R]],
             done: dict[int, list[R]], on_lost: Callable[[T], R],
             on_death: Callable[[int, bool], None] | None) -> None:
    task = w.task
    assert task is not None
    try:
        msg = w.conn.recv() if w.conn.poll() else None
    except (EOFError, OSError):
        msg = None
    if msg is None:  # the worker died with the task: retry its items one by one, then give up on them
        pool.retire(w)
        if on_death is not None:
            on_death(len(task.items), not task.retried)
        if task.retried:
            _finish_part(task, [on_lost(task.items[0])], pending, done)
        elif len(task.items) == 1:
            queue.appendleft(_Task(task.tid, task.part or 1, task.items, retried=True))
        else:
            pending[task.tid].expected = len(task.items)
            queue.extendleft(reversed([_Task(task.tid, i + 1, [item], retried=True)
                                       for i, item in enumerate(task.items)]))
        return
    w.task = None
    _tid, ok, payload = msg
    if not ok:
        raise WorkerError(payload)
    _finish_part(task, payload, pending, done)


def _finish_part(task: _Task[T], results: list[R], pending: dict[int, _Pending[R]], done: dict[int, list[R]]) -> None:
    entry = pending[task.tid]
    entry.parts[task.part] = results
    if len(entry.parts) == entry.expected:
        del pending[task.tid]
        done[task.tid] = [r for part in sorted(entry.parts) for r in entry.parts[part]]
