"""Worker processes shared by every command that walks a pack (validate, scan-security, stats).

Files go to workers in chunks (several per worker keep both cores busy to the end, a cap keeps
progress lively); each worker builds its state once in ``init``; results come back in the order
chunks finish. Small runs should stay in-process: see ``PARALLEL_MIN_FILES``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from presetctl.engine.discover import Candidate
from presetctl.engine.options import Options

T = TypeVar("T")
Progress = Callable[[int, int], None]  # (files done, files total)

PARALLEL_MIN_FILES = 96  # below this, worker start-up costs more than it saves


def effective_jobs(options: Options) -> int:
    if options.jobs is not None and options.jobs > 0:
        return options.jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def chunks(items: Sequence[Candidate], jobs: int) -> list[Sequence[Candidate]]:
    size = max(1, min(256, len(items) // (jobs * 8) or 1))
    return [items[i : i + size] for i in range(0, len(items), size)]


def map_chunks(
    cands: Sequence[Candidate],
    jobs: int,
    init: Callable[..., None],
    initargs: tuple[Any, ...],
    work: Callable[[Sequence[Candidate]], list[T]],
    progress: Progress | None = None,
) -> Iterator[T]:
    """``work`` over chunks of ``cands`` in ``jobs`` processes; pending chunks are cancelled on error or Ctrl-C."""
    done = 0
    with ProcessPoolExecutor(max_workers=jobs, initializer=init, initargs=initargs) as pool:
        pending: set[Future[list[T]]] = {pool.submit(work, c) for c in chunks(cands, jobs)}
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    batch = fut.result()
                    done += len(batch)
                    yield from batch
                if progress is not None:
                    progress(done, len(cands))
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
