"""Timing a stage: warm-up rounds, measured rounds, per-item samples, CPU, peak memory, stability.

A stage's round function does one pass over its items and returns one wall-clock sample per item
(seconds per preset, or per log record). Rounds are repeated; the first ``warmup`` are thrown
away (caches, imports, the page cache). The summary has the percentiles of every measured sample,
the CPU time of the whole measured part divided by the items (steadier than wall time on a
shared machine), the peak resident memory during it, and pyperf's stability check: when the
round medians spread by more than 10 % of their mean, or one is 50 % off, the numbers come
with a warning.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from presetctl.engine.metrics import percentile

UNSTABLE_STDEV = 0.10  # pyperf: "the standard deviation is X% of the mean"
UNSTABLE_OUTLIER = 0.50  # pyperf: "the maximum is X% greater than the mean"

Round = Callable[[], list[float]]  # one pass: seconds per item, one sample per item (see ``per_sample``)
T = TypeVar("T")


@dataclass(frozen=True)
class StageStats:
    """One stage's numbers; times in seconds per item."""

    samples: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float
    cpu: float  # CPU seconds per item (process time of every thread over the measured rounds)
    peak_rss: int | None  # bytes: the process's peak during the stage (None where it cannot be told)
    rounds: tuple[float, ...]  # the median of each measured round
    warning: str = ""  # pyperf-style stability warning, "" when stable

    @property
    def throughput(self) -> float:
        """Items per second of one process (1 / mean)."""
        return 1.0 / self.mean if self.mean > 0 else 0.0

    @property
    def spread(self) -> float:
        """Standard deviation of the round medians as a share of their mean."""
        if len(self.rounds) < 2:
            return 0.0
        mean = statistics.fmean(self.rounds)
        return statistics.stdev(self.rounds) / mean if mean > 0 else 0.0


def stability_warning(rounds: tuple[float, ...]) -> str:
    if len(rounds) < 2:
        return "one measured round: stability unknown (use --rounds 3 or more)"
    mean = statistics.fmean(rounds)
    if mean <= 0:
        return ""
    stdev = statistics.stdev(rounds)
    if stdev / mean > UNSTABLE_STDEV:
        return (f"unstable: the round medians' standard deviation is {stdev / mean:.0%} of their mean; "
                "rerun on a quieter machine or with more --rounds")
    worst = max(abs(r - mean) for r in rounds)
    if worst / mean > UNSTABLE_OUTLIER:
        return f"unstable: one round is {worst / mean:.0%} off the mean; rerun on a quieter machine"
    return ""


class PeakMemory:
    """The process's peak resident memory during a block. Linux lets a process reset its own
    high-water mark (``/proc/self/clear_refs``, "5"), so the peak is the block's own; elsewhere it is the
    process's peak so far (still an upper bound)."""

    STATUS = "/proc/self/status"
    CLEAR = "/proc/self/clear_refs"

    def __init__(self) -> None:
        self.peak: int | None = None
        self.reset_ok = False

    def __enter__(self) -> PeakMemory:
        try:
            with open(self.CLEAR, "w", encoding="ascii") as fh:
                fh.write("5")
            self.reset_ok = True
        except OSError:
            self.reset_ok = False
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = read_hwm(self.STATUS)
        if self.peak is None:
            import resource

            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def read_hwm(status: str) -> int | None:
    """VmHWM (peak resident set) of /proc/PID/status, in bytes."""
    try:
        with open(status, encoding="ascii") as fh:
            m = re.search(r"^VmHWM:\s+(\d+)\s+kB", fh.read(), re.MULTILINE)
    except OSError:
        return None
    return int(m.group(1)) * 1024 if m else None


def measure(round_fn: Round, rounds: int, warmup: int, per_sample: int = 1) -> StageStats:
    """Run ``round_fn`` ``warmup`` + ``rounds`` times and summarize the measured rounds. ``per_sample``:
    items one sample stands for (a batch of log records is timed as one sample), for the CPU per item."""
    for _ in range(warmup):
        round_fn()
    samples: list[float] = []
    medians: list[float] = []
    with PeakMemory() as memory:
        cpu0 = time.process_time()
        for _ in range(max(1, rounds)):
            got = round_fn()
            if got:
                medians.append(statistics.median(got))
                samples.extend(got)
        cpu = time.process_time() - cpu0
    ordered = sorted(samples)
    n = len(ordered)
    medians_t = tuple(medians)
    return StageStats(
        samples=n,
        p50=percentile(ordered, 0.50), p95=percentile(ordered, 0.95), p99=percentile(ordered, 0.99),
        max=ordered[-1] if ordered else 0.0, mean=statistics.fmean(ordered) if ordered else 0.0,
        cpu=cpu / (n * per_sample) if n else 0.0, peak_rss=memory.peak, rounds=medians_t,
        warning=stability_warning(medians_t),
    )


def timed_each(items: Sequence[T], fn: Callable[[T], object]) -> list[float]:
    """Seconds per call of ``fn`` on each item (the loop the per-item stages share)."""
    out: list[float] = []
    clock = time.perf_counter
    for item in items:
        t0 = clock()
        fn(item)
        out.append(clock() - t0)
    return out


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:  # pragma: no cover - not on this platform
        return None
