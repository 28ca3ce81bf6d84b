"""Sound design: parameter usage, modulation sources and targets, macros, effects, voices and
unison, and an estimated CPU cost with its outliers.

A parameter "moves" in a preset when its value differs from the parameter's baseline: the
default the loader declares, else the value most presets of the library use (most formats do
not store defaults, and the most common value is what an init patch leaves untouched).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from presetctl.engine.stats.common import bar_chart, count_table, distribution, presets_of, ranked, table, upper_fence
from presetctl.engine.stats.model import Bar, Chart, FileFacts, PresetFacts, Section, StatsContext
from presetctl.engine.stats.params import ParamMatrix, raw_matrix

MACRO = re.compile(r"macro", re.IGNORECASE)
CPU_FENCE_K = 3.0  # Tukey's far-out fence on voices x unison x oscillators


def _mode(column: np.ndarray) -> float:
    values, counts = np.unique(column, return_counts=True)
    return float(values[int(np.argmax(counts))])


def _short(value: float) -> float:
    """Six significant digits: float32 values stored by synths print as 0.55, not 0.550000011920929."""
    return float(f"{float(value):.6g}")


def parameter_usage(presets: Sequence[PresetFacts]) -> dict[str, list[dict[str, Any]]]:
    """Per format, per parameter: presets holding it, mean, range, baseline and share that move it."""
    by_format: dict[str, list[PresetFacts]] = defaultdict(list)
    for p in presets:
        if p.schema is not None and p.values is not None:
            by_format[p.format].append(p)
    out: dict[str, list[dict[str, Any]]] = {}
    for fmt, group in sorted(by_format.items()):
        with np.errstate(all="ignore"):  # hostile values (1e308) overflow sums: they show as inf
            out[fmt] = _usage(raw_matrix(group))
    return out


def _usage(m: ParamMatrix) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for j, name in enumerate(m.names):
        col = m.values[:, j]
        col = col[~np.isnan(col)]
        if not len(col):
            continue
        declared = m.default[j]
        baseline = float(declared) if not np.isnan(declared) else _mode(col)
        moved = int(np.count_nonzero(np.abs(col - baseline) > 1e-9 * max(1.0, abs(baseline))))
        rows.append({"name": name, "presets": int(len(col)), "mean": _short(col.mean()),
                     "min": _short(col.min()), "max": _short(col.max()), "baseline": _short(baseline),
                     "baseline_is_default": not np.isnan(declared), "moved": round(moved / len(col), 4)})
    rows.sort(key=lambda r: (-r["moved"], r["name"]))
    return rows


def _cpu_cost(p: PresetFacts) -> int | None:
    if p.voices is None and p.unison is None:
        return None
    return max(1, p.voices or 1) * max(1, p.unison or 1) * max(1, p.oscillators or 1)


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    presets = presets_of(files)
    usage = parameter_usage(presets)
    sources: Counter[str] = Counter()
    targets: Counter[str] = Counter()
    macros: Counter[str] = Counter()
    effects_present: Counter[str] = Counter()
    effects_on: Counter[str] = Counter()
    with_macro = 0
    for p in presets:
        sources.update(s for s, _ in p.modulations)
        targets.update(t for _, t in p.modulations)
        used = {s for s, _ in p.modulations if MACRO.search(s)}
        macros.update(used)
        with_macro += bool(used)
        for kind, enabled in dict(p.effects).items():
            effects_present[kind] += 1
            effects_on[kind] += enabled
    costs = {p.ref: c for p in presets if (c := _cpu_cost(p)) is not None}
    fence = upper_fence(costs.values(), CPU_FENCE_K) if costs else 0.0
    median = float(np.median(list(costs.values()))) if costs else 0.0
    outliers = sorted(((r, c) for r, c in costs.items() if c > fence and c > median), key=lambda rc: (-rc[1], rc[0]))
    voices = distribution(p.voices for p in presets)
    unison = distribution(p.unison for p in presets)
    data = {
        "parameters": usage,
        "modulations": {"presets_with_modulation": sum(1 for p in presets if p.modulations),
                        "routings": sum(len(p.modulations) for p in presets),
                        "sources": dict(ranked(sources)), "targets": dict(ranked(targets))},
        "macros": {"presets_using_macros": with_macro, "share": round(with_macro / len(presets), 4) if presets else 0.0,
                   "by_macro": dict(sorted(macros.items()))},
        "effects": {k: {"presets": effects_present[k], "enabled": effects_on[k]} for k, _ in ranked(effects_present)},
        "voices": voices,
        "unison": unison,
        "cpu_cost": {"measure": "voices x unison x oscillators", "fence": fence,
                     "histogram": distribution(costs.values()),
                     "outliers": [{"path": r, "cost": c} for r, c in outliers]},
    }
    top = ctx.top
    param_rows = [(fmt, str(r["name"]), int(r["presets"]), float(r["mean"]), float(r["min"]), float(r["max"]),
                   f"{100 * r['moved']:.0f}%") for fmt, rows in usage.items() for r in rows[: top // 2 or 1]]
    tables = (
        table("parameters", "Parameters moved most often from their baseline (per format)",
              ("format", "parameter", "presets", "mean", "min", "max", "moved"), param_rows),
        count_table("mod_sources", "Modulation sources", "source", sources, top, "routings"),
        count_table("mod_targets", "Modulation targets", "target", targets, top, "routings"),
        table("macros", "Macro coverage", ("macro", "presets"),
              [*sorted(macros.items()), ("any macro", with_macro), ("presets", len(presets))]) if macros else None,
        table("effects", "Effects", ("effect", "presets", "enabled"),
              [(k, effects_present[k], effects_on[k]) for k, _ in ranked(effects_present)]),
        table("cpu_outliers", "Estimated CPU cost outliers (voices x unison x oscillators)", ("preset", "cost"),
              outliers, top),
    )
    charts = (
        bar_chart("effects", "Effects enabled", effects_on, unit="presets"),
        Chart("voices", "Polyphony (voices)", tuple(Bar(k, float(n)) for k, n in voices.items()),
              "presets", histogram=True),
        Chart("unison", "Unison voices", tuple(Bar(k, float(n)) for k, n in unison.items()),
              "presets", histogram=True),
        bar_chart("mod_sources", "Modulation sources", sources, unit="routings"),
    )
    notes = (f"CPU outliers: cost above {fence:g} (Q3 + {CPU_FENCE_K:g} x IQR)",) if costs else ()
    return Section("sound", data, tuple(t for t in tables if t is not None and t.rows),
                   tuple(c for c in charts if c.bars), notes)
