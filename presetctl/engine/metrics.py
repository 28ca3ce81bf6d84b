"""The engine's metrics: counters, gauges and histograms in one registry that is passed along.

Whoever wants numbers about a run (the CLI for ``-v`` and ``--metrics-file``, ``presetctl bench``,
an API caller) creates a :class:`Metrics` and hands it to the runner; nothing lives in a module
global. Instruments are made on first use by name and hold one value per label set::

    metrics = Metrics()
    metrics.counter("presetctl_files_total", "Files checked, by status").inc(status="validated")
    with metrics.histogram("presetctl_stage_seconds", "...").time(stage="pack"):
        ...
    metrics.histogram("presetctl_file_check_seconds", "...").percentile(0.99)

Near-zero cost when nobody reads them: a run without a registry measures nothing beyond its stage
timings, and the per-rule clock (:class:`RuleClock`, the one instrument on the per-file hot path)
times the rules of one file in eight once a process has checked 64 (benchmarks/metrics_bench.py). Worker processes time rules into their own
clock and send a :class:`RuleTimes` with each chunk's results; the runner adds them up here.
Exposition formats live elsewhere (presetctl/obs/prometheus.py): this module holds values only.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

Labels = tuple[tuple[str, str], ...]
Kind = Literal["counter", "gauge", "histogram"]

# Seconds, for per-file and per-stage timings: 10 us to 60 s.
TIME_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MAX_SAMPLES = 100_000  # kept per histogram for percentiles; beyond that a uniform reservoir of this size


def _labels(values: Mapping[str, object]) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in values.items()))


class Counter:
    """A value that only goes up (files checked, seconds spent in a rule)."""

    kind: Kind = "counter"

    def __init__(self, name: str, help: str) -> None:
        self.name, self.help = name, help
        self.values: dict[Labels, float] = {}

    def inc(self, amount: float = 1.0, **labels: object) -> None:
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot go down ({amount})")
        key = _labels(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def value(self, **labels: object) -> float:
        return self.values.get(_labels(labels), 0.0)


class Gauge:
    """A value that goes up and down (RSS now), or is set once (a stage's seconds)."""

    kind: Kind = "gauge"

    def __init__(self, name: str, help: str) -> None:
        self.name, self.help = name, help
        self.values: dict[Labels, float] = {}

    def set(self, value: float, **labels: object) -> None:
        self.values[_labels(labels)] = float(value)

    def inc(self, amount: float = 1.0, **labels: object) -> None:
        key = _labels(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def max(self, value: float, **labels: object) -> None:
        """Keep the largest value seen (a peak)."""
        key = _labels(labels)
        if value > self.values.get(key, -math.inf):
            self.values[key] = float(value)

    def value(self, **labels: object) -> float | None:
        return self.values.get(_labels(labels))

    @contextmanager
    def time(self, **labels: object) -> Iterator[None]:
        """Set the gauge to the seconds the block took."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.set(time.perf_counter() - t0, **labels)


class Series:
    """One label set of a histogram: cumulative bucket counts, sum, count, extremes and samples."""

    __slots__ = ("buckets", "counts", "sum", "count", "min", "max", "samples", "_rng")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)  # observations <= each bound (not cumulative; summed on export)
        self.sum = 0.0
        self.count = 0
        self.min = math.inf
        self.max = -math.inf
        self.samples: list[float] = []
        self._rng = random.Random(0)  # deterministic reservoir: the same observations, the same percentiles

    def observe(self, value: float) -> None:
        i = bisect.bisect_left(self.buckets, value)
        if i < len(self.counts):
            self.counts[i] += 1
        self.sum += value
        self.count += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(value)
        else:  # Vitter's algorithm R: every observation stays with probability MAX_SAMPLES / count
            j = self._rng.randrange(self.count)
            if j < MAX_SAMPLES:
                self.samples[j] = value

    def cumulative(self) -> list[int]:
        out, total = [], 0
        for c in self.counts:
            total += c
            out.append(total)
        return out

    def percentile(self, q: float) -> float:
        """The ``q`` quantile (0-1) of the kept samples, linearly interpolated; NaN when empty."""
        return percentile(sorted(self.samples), q)


def percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of sorted values, interpolated between ranks (numpy's default)."""
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * min(max(q, 0.0), 1.0)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class Histogram:
    """Observations in buckets (for Prometheus) with exact sum, count, min and max, and percentiles
    from the samples kept (all of them up to MAX_SAMPLES)."""

    kind: Kind = "histogram"

    def __init__(self, name: str, help: str, buckets: tuple[float, ...] = TIME_BUCKETS) -> None:
        if list(buckets) != sorted(set(buckets)):
            raise ValueError(f"{name}: buckets must be increasing")
        self.name, self.help, self.buckets = name, help, tuple(buckets)
        self.series: dict[Labels, Series] = {}

    def labels(self, **labels: object) -> Series:
        key = _labels(labels)
        found = self.series.get(key)
        if found is None:
            found = self.series[key] = Series(self.buckets)
        return found

    def observe(self, value: float, **labels: object) -> None:
        self.labels(**labels).observe(value)

    def percentile(self, q: float, **labels: object) -> float:
        found = self.series.get(_labels(labels))
        return found.percentile(q) if found is not None else math.nan

    @contextmanager
    def time(self, **labels: object) -> Iterator[None]:
        """Observe the seconds the block took."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.observe(time.perf_counter() - t0, **labels)


Instrument = Counter | Gauge | Histogram


class Metrics:
    """The registry of one run (or one benchmark). Not thread-safe by design: the engine's thread owns
    it, and the resource sampler's thread only calls :meth:`Gauge.set`/``max`` on gauges of its own."""

    def __init__(self) -> None:
        self.instruments: dict[str, Instrument] = {}

    def _get(self, name: str, cls: type[Instrument], help: str, **kw: tuple[float, ...]) -> Instrument:
        found = self.instruments.get(name)
        if found is None:
            found = self.instruments[name] = cls(name, help, **kw)
        elif not isinstance(found, cls):
            raise TypeError(f"metric {name} is a {found.kind}, not a {cls.kind}")
        return found

    def counter(self, name: str, help: str = "") -> Counter:
        got = self._get(name, Counter, help)
        assert isinstance(got, Counter)
        return got

    def gauge(self, name: str, help: str = "") -> Gauge:
        got = self._get(name, Gauge, help)
        assert isinstance(got, Gauge)
        return got

    def histogram(self, name: str, help: str = "", buckets: tuple[float, ...] = TIME_BUCKETS) -> Histogram:
        got = self._get(name, Histogram, help, buckets=buckets)
        assert isinstance(got, Histogram)
        return got

    def timer(self, name: str, help: str = "", **labels: object) -> AbstractContextManager[None]:
        """``with metrics.timer(NAME, HELP, stage="x"):`` observes the block's seconds in a histogram."""
        return self.histogram(name, help).time(**labels)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(sorted(self.instruments.values(), key=lambda i: i.name))

    def add_rule_times(self, times: RuleTimes) -> None:
        seconds = self.counter(RULE_SECONDS, "Seconds spent in each rule's check, all processes together")
        calls = self.counter(RULE_CALLS, "Times each rule's check ran (once per file it applies to)")
        for code, n, s in times.entries:
            seconds.inc(s, code=code)
            calls.inc(n, code=code)

    def rule_costs(self) -> list[tuple[str, float, int]]:
        """(code, seconds, calls) of every timed rule, costliest first."""
        seconds = self.instruments.get(RULE_SECONDS)
        calls = self.instruments.get(RULE_CALLS)
        if not isinstance(seconds, Counter) or not isinstance(calls, Counter):
            return []
        out = [(dict(k)["code"], v, int(calls.values.get(k, 0))) for k, v in seconds.values.items()]
        return sorted(out, key=lambda r: (-r[1], r[0]))


RULE_SECONDS = "presetctl_rule_seconds_total"
RULE_CALLS = "presetctl_rule_calls_total"


@dataclass(frozen=True, slots=True)
class RuleTimes:
    """What one process measured per rule since its clock was last drained: (code, calls, seconds)."""

    entries: tuple[tuple[str, int, float], ...] = ()


class RuleClock:
    """The per-process accumulator of rule time (held by the process's RuleSet, never a global).

    On the per-file hot path, so it samples: the rules of the first ``warm`` files a process checks
    are all timed, after that those of every ``every``-th file, and each rule's time is scaled up by
    its calls over its timed calls when drained. Calls are always counted exactly (an untimed file
    costs one dict update for all its rules). Timing every file costs about 0.2 us per rule call
    (two ``perf_counter`` calls and the sums), 1 % of a clean file; sampling cuts that eightfold."""

    __slots__ = ("seconds", "timed", "files", "every", "warm", "_untimed")

    def __init__(self, every: int = 8, warm: int = 64) -> None:
        self.seconds: dict[str, float] = {}
        self.timed: dict[str, int] = {}
        self.files = 0
        self.every, self.warm = max(1, every), warm
        self._untimed: dict[int, tuple[Sequence[HasCode], list[int]]] = {}  # id(rules) -> (rules, [files])

    def timing(self, rules: Sequence[HasCode]) -> bool:
        """Whether to time the rules of the next file (``rules``: those that will run on it, a tuple
        the caller keeps alive); when not, their calls are counted here."""
        self.files += 1
        if self.files <= self.warm or self.files % self.every == 0:
            return True
        entry = self._untimed.get(id(rules))
        if entry is None:
            self._untimed[id(rules)] = (rules, [1])
        else:
            entry[1][0] += 1
        return False

    def add(self, code: str, seconds: float) -> None:
        self.seconds[code] = self.seconds.get(code, 0.0) + seconds
        self.timed[code] = self.timed.get(code, 0) + 1

    def drain(self) -> RuleTimes | None:
        """What was measured since the last drain (None when nothing), and start again from zero."""
        calls = dict(self.timed)
        for rules, (files,) in self._untimed.values():
            for rule in rules:
                calls[rule.code] = calls.get(rule.code, 0) + files
        if not calls:
            return None
        out = RuleTimes(tuple((c, n, self.seconds.get(c, 0.0) * n / self.timed[c] if self.timed.get(c) else 0.0)
                              for c, n in calls.items()))
        self.seconds, self.timed, self._untimed = {}, {}, {}
        return out


class HasCode(Protocol):
    @property
    def code(self) -> str: ...
