"""Naming and metadata: findings per rule, name lengths against the synth's limit, metadata
completeness per field, and saved-with versions against the pack's configured minimum."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from presetctl.engine.rules.naming import NAME_LIMITS
from presetctl.engine.rules.registry import BY_CODE
from presetctl.engine.stats.common import presets_of, table
from presetctl.engine.stats.model import METADATA_FIELDS, Bar, Chart, FileFacts, Section, StatsContext
from presetctl.engine.versions import compare_versions

LENGTH_BUCKET = 4  # name-length histogram step, in bytes


def _length_bucket(n: int) -> str:
    lo = (n // LENGTH_BUCKET) * LENGTH_BUCKET
    return f"{lo}-{lo + LENGTH_BUCKET - 1}"


def _name_lengths(files: Sequence[FileFacts]) -> dict[str, dict[str, Any]]:
    """Per format: histogram of preset-name lengths in UTF-8 bytes (what the synths store)."""
    lengths: dict[str, list[int]] = defaultdict(list)
    for p in presets_of(files):
        if p.name:
            lengths[p.format].append(len(p.name.encode("utf-8")))
    out: dict[str, dict[str, Any]] = {}
    for fmt, values in sorted(lengths.items()):
        limit = NAME_LIMITS.get(fmt)
        top = max(values)
        histogram = {_length_bucket(b): 0 for b in range(0, top + 1, LENGTH_BUCKET)}
        for v in values:
            histogram[_length_bucket(v)] += 1
        out[fmt] = {"limit": limit, "histogram": histogram, "longest": top,
                    "over_limit": sum(1 for v in values if limit is not None and v > limit)}
    return out


def _versions(files: Sequence[FileFacts], ctx: StatsContext) -> dict[str, dict[str, Any]]:
    minimums = ctx.options.pack.min_versions
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for p in presets_of(files):
        seen[p.format][p.synth_version or "unknown"] += 1
    out: dict[str, dict[str, Any]] = {}
    for fmt, counts in sorted(seen.items()):
        minimum = minimums.get(fmt)
        below = sum(n for v, n in counts.items() if minimum is not None and v != "unknown" and compare_versions(v, minimum) < 0)
        out[fmt] = {"versions": dict(sorted(counts.items())), "minimum": minimum, "below_minimum": below}
    return out


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    presets = presets_of(files)
    rule_counts: Counter[str] = Counter()
    for f in files:
        for code, n in f.rule_counts:
            rule_counts[code] += n
    missing = {name: sum(1 for p in presets if name not in p.filled) for name in METADATA_FIELDS}
    by_format: dict[str, dict[str, int]] = {}
    for fmt in sorted({p.format for p in presets}):
        group = [p for p in presets if p.format == fmt]
        by_format[fmt] = {name: sum(1 for p in group if name not in p.filled) for name in METADATA_FIELDS}
    lengths = _name_lengths(files)
    versions = _versions(files, ctx)
    data = {
        "rules": {code: {"name": BY_CODE[code].name if code in BY_CODE else "", "findings": n}
                  for code, n in sorted(rule_counts.items())},
        "presets": len(presets),
        "missing": missing,
        "missing_by_format": by_format,
        "name_length": lengths,
        "versions": versions,
    }
    total = len(presets) or 1
    tables = (
        table("rules", "Naming and metadata findings per rule", ("code", "rule", "findings"),
              [(c, BY_CODE[c].name if c in BY_CODE else "", n) for c, n in sorted(rule_counts.items())]),
        table("completeness", "Metadata completeness", ("field", "present", "missing", "complete"),
              [(name, len(presets) - m, m, f"{100 * (len(presets) - m) / total:.1f}%") for name, m in missing.items()]),
        table("name_length", "Preset-name length (UTF-8 bytes) against the synth's limit",
              ("format", "limit", "longest", "over limit"),
              [(fmt, v["limit"] if v["limit"] is not None else "none", str(v["longest"]), str(v["over_limit"]))
               for fmt, v in lengths.items()]),
        table("versions", "Saved-with versions", ("format", "version", "presets", "below minimum"),
              [(fmt, ver, n, "yes" if v["minimum"] is not None and ver != "unknown"
                and compare_versions(ver, str(v["minimum"])) < 0 else "")
               for fmt, v in versions.items() for ver, n in v["versions"].items()], ctx.top),
    )
    charts = [Chart("completeness", "Presets missing each field",
                    tuple(Bar(name, float(m), m > 0) for name, m in missing.items()), "presets")]
    for fmt, v in lengths.items():
        limit = v["limit"]
        hist = v["histogram"]
        assert isinstance(hist, dict)
        charts.append(Chart(f"name_length_{fmt}", f"Name length, {fmt}" + (f" (limit {limit} bytes)" if limit else ""),
                            tuple(Bar(k, float(n), isinstance(limit, int) and int(k.split("-")[1]) > limit)
                                  for k, n in hist.items()), "presets", histogram=True))
    notes = tuple(f"{fmt}: {v['below_minimum']} presets saved with a version older than {v['minimum']}"
                  for fmt, v in versions.items() if v["minimum"] is not None)
    return Section("naming", data, tuple(t for t in tables if t.rows), tuple(charts), notes)
