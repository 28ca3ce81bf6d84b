"""Small helpers the section modules share: ranked counts, tables, histograms, outlier fences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from presetctl.engine.stats.model import Bar, Cell, Chart, FileFacts, PresetFacts, Table


def presets_of(files: Sequence[FileFacts]) -> list[PresetFacts]:
    return [p for f in files for p in f.presets]


def ranked(counter: Mapping[str, int]) -> list[tuple[str, int]]:
    """Most common first; ties in name order so outputs are stable."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def count_table(key: str, title: str, label: str, counter: Mapping[str, int], top: int,
                unit: str = "presets") -> Table:
    rows = ranked(counter)
    return Table(key, title, (label, unit), tuple((k, n) for k, n in rows[:top]), max(0, len(rows) - top))


def table(key: str, title: str, columns: Sequence[str], rows: Sequence[Sequence[Cell]], top: int | None = None) -> Table:
    kept = rows if top is None else rows[:top]
    return Table(key, title, tuple(columns), tuple(tuple(r) for r in kept), len(rows) - len(kept))


def bar_chart(key: str, title: str, counter: Mapping[str, int] | Iterable[tuple[str, int]], top: int = 12,
              unit: str = "", flagged: Iterable[str] = ()) -> Chart:
    items = ranked(counter) if isinstance(counter, Mapping) else list(counter)
    marks = set(flagged)
    return Chart(key, title, tuple(Bar(k, float(n), k in marks) for k, n in items[:top]), unit)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of an already sorted list (the numpy default)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def upper_fence(values: Iterable[float], k: float) -> float:
    """Tukey's fence Q3 + k * IQR: values above it are outliers."""
    ordered = sorted(values)
    q1, q3 = quantile(ordered, 0.25), quantile(ordered, 0.75)
    return q3 + k * (q3 - q1)


def distribution(values: Iterable[int | None], missing: str = "unknown") -> dict[str, int]:
    """Counts of each value in numeric order, with absent values last."""
    counter = Counter(values)
    known = sorted(v for v in counter if v is not None)
    out = {str(v): counter[v] for v in known}
    if None in counter:
        out[missing] = counter[None]
    return out


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - loop always returns
