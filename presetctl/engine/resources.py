"""Resource samples during a run: CPU, memory and open files of presetctl and its worker processes.

A :class:`ResourceSampler` is a background thread that, from ``delay`` seconds after the run starts
(a long run), samples the process tree with psutil every ``interval`` seconds: resident memory (the parent plus every live worker:
what the machine must hold at that instant), CPU time, and open file descriptors. It records
into the run's :class:`~presetctl.engine.metrics.Metrics`. A run shorter than the delay never
samples and never imports psutil (20 ms of CPU, 3 % of a 600 ms run); its peak memory then comes
from ``getrusage`` at the end. Samples never change what a run finds, and an error in sampling (a worker
that exited between listing and reading it) only skips that worker.
"""

from __future__ import annotations

import os
import resource
import sys
import threading
from types import TracebackType
from typing import Any

from presetctl.engine.metrics import Metrics

DEFAULT_DELAY = 2.0  # seconds into a run before the first sample
DEFAULT_INTERVAL = 1.0  # seconds between samples

PEAK_RSS = "presetctl_peak_rss_bytes"


def _maxrss_bytes(who: int) -> int:
    """``ru_maxrss`` in bytes (kilobytes on Linux, bytes on macOS)."""
    value = resource.getrusage(who).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


class ResourceSampler:
    """Use as a context manager around a run; :attr:`peak_rss` is known after it exits."""

    def __init__(self, metrics: Metrics, interval: float = DEFAULT_INTERVAL, delay: float = DEFAULT_DELAY) -> None:
        self.metrics = metrics
        self.interval = interval
        self.delay = delay
        self.samples = 0
        self.peak_rss = 0  # bytes: the largest sum over the process tree at one sample, or getrusage's peak
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._times0 = os.times()

    def __enter__(self) -> ResourceSampler:
        self._thread = threading.Thread(target=self._loop, name="presetctl-resources", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._finish()

    def current_peak(self) -> int:
        """The peak so far: the largest sampled sum, or this process's own peak when that is larger."""
        return max(self.peak_rss, _maxrss_bytes(resource.RUSAGE_SELF))

    def _loop(self) -> None:
        if self._stop.wait(self.delay):
            return  # a short run: nothing sampled, psutil never imported
        try:
            import psutil  # here: it costs start-up time that short runs never pay
        except ImportError:  # pragma: no cover - a dependency; getrusage still gives the peak
            return
        me = psutil.Process()
        while True:
            self._sample(psutil, me)
            if self._stop.wait(self.interval):
                return

    def _sample(self, psutil: Any, me: Any) -> None:
        rss = files = 0
        procs = [me]
        try:
            procs.extend(me.children(recursive=True))
        except psutil.Error:
            pass
        for p in procs:
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    files += p.num_fds() if hasattr(p, "num_fds") else len(p.open_files())
            except psutil.Error:  # a worker that exited meanwhile
                continue
        m = self.metrics
        self.samples += 1
        self.peak_rss = max(self.peak_rss, rss)
        m.gauge("presetctl_rss_bytes", "Resident memory of presetctl and its workers at the last sample").set(rss)
        m.gauge(PEAK_RSS, "Largest resident memory of presetctl and its workers together").max(rss)
        m.gauge("presetctl_open_fds", "Open file descriptors of presetctl and its workers at the last sample").set(files)
        m.gauge("presetctl_open_fds_max", "Most open file descriptors seen at one sample").max(files)
        m.gauge("presetctl_processes_max", "Most presetctl processes (itself and workers) seen at one sample"
                ).max(len(procs))
        m.counter("presetctl_resource_samples_total", "Resource samples taken during the run").inc()

    def _finish(self) -> None:
        """The run's CPU time and peak memory, also when it was too short to be sampled."""
        t = os.times()
        m = self.metrics
        cpu = m.counter("presetctl_cpu_seconds_total", "CPU seconds of presetctl and its (finished) workers")
        cpu.inc(max(0.0, (t.user - self._times0.user) + (t.children_user - self._times0.children_user)), mode="user")
        cpu.inc(max(0.0, (t.system - self._times0.system) + (t.children_system - self._times0.children_system)),
                mode="system")
        # getrusage: the peak of this process over its life and of the largest reaped worker. Never less than
        # what was sampled; for a run too short to sample, the best that is known.
        self.peak_rss = self.current_peak()
        m.gauge(PEAK_RSS, "Largest resident memory of presetctl and its workers together").max(self.peak_rss)
        m.gauge("presetctl_worker_peak_rss_bytes", "Largest peak resident memory of one finished worker").max(
            _maxrss_bytes(resource.RUSAGE_CHILDREN))
