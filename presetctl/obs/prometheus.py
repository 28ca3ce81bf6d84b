"""A run's metrics in the Prometheus text exposition format (version 0.0.4), written atomically.

The file is what node_exporter's textfile collector reads (``--collector.textfile.directory``):
``# HELP`` and ``# TYPE`` lines, then the samples; a histogram as cumulative ``_bucket{le=...}``
samples ending with ``+Inf``, then ``_sum`` and ``_count``. Written to a temporary file beside the
destination and renamed over it, so the collector never reads half a file.
Format: https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

import math
from pathlib import Path

from presetctl.engine.metrics import Counter, Gauge, Histogram, Labels, Metrics
from presetctl.fsutil import atomic_write


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = (*labels, *extra)
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in pairs) + "}"


def render(metrics: Metrics) -> str:
    """The whole registry as exposition text (families sorted by name, samples by labels)."""
    lines: list[str] = []
    for inst in metrics:
        if isinstance(inst, Histogram) and not inst.series or not isinstance(inst, Histogram) and not inst.values:
            continue  # a family with no sample says nothing
        lines.append(f"# HELP {inst.name} {_escape_help(inst.help or inst.name)}")
        lines.append(f"# TYPE {inst.name} {inst.kind}")
        if isinstance(inst, Counter | Gauge):
            for labels, value in sorted(inst.values.items()):
                lines.append(f"{inst.name}{_labels(labels)} {_number(value)}")
            continue
        for labels, series in sorted(inst.series.items()):
            for bound, count in zip(inst.buckets, series.cumulative(), strict=True):
                lines.append(f"{inst.name}_bucket{_labels(labels, (('le', _number(bound)),))} {count}")
            lines.append(f"{inst.name}_bucket{_labels(labels, (('le', '+Inf'),))} {series.count}")
            lines.append(f"{inst.name}_sum{_labels(labels)} {_number(series.sum)}")
            lines.append(f"{inst.name}_count{_labels(labels)} {series.count}")
    return "\n".join(lines) + "\n" if lines else ""


def write_metrics(metrics: Metrics, path: Path) -> None:
    """Write the exposition text to ``path`` atomically (temporary file, fsync, rename)."""
    atomic_write(path, render(metrics).encode("utf-8"))
