"""Overview: files by format and synth version, sizes, embedded audio, unknown and unreadable files."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from presetctl.engine.formats.surge_names import revision_label
from presetctl.engine.model import FileStatus
from presetctl.engine.stats.common import bar_chart, human_bytes, presets_of, table, upper_fence
from presetctl.engine.stats.model import Bar, Chart, FileFacts, PresetFacts, Section, StatsContext

# File-size histogram buckets: upper bounds (exclusive) in bytes, powers of four from 1 KiB.
SIZE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("< 1 KiB", 1 << 10), ("1-4 KiB", 1 << 12), ("4-16 KiB", 1 << 14), ("16-64 KiB", 1 << 16),
    ("64-256 KiB", 1 << 18), ("256 KiB-1 MiB", 1 << 20), ("1-4 MiB", 1 << 22), ("4-16 MiB", 1 << 24),
    (">= 16 MiB", 1 << 62),
)
OUTLIER_K = 3.0  # Tukey's "far out" fence: only sizes far from their format's usual size are listed
MIN_FILES_FOR_OUTLIERS = 8


def size_bucket(size: int) -> str:
    return next(label for label, bound in SIZE_BUCKETS if size < bound)


def version_label(p: PresetFacts) -> str:
    """What a preset was saved with, as the "saved with" column and ``by_version`` show it."""
    if p.format == "surge-fxp":  # its synth_version is the patch format revision, not a Surge release
        return revision_label(p.synth_version)
    synth = p.synth or p.format
    return f"{synth} {p.synth_version}" if p.synth_version else f"{synth} (no version)"


def _outliers(files: Sequence[FileFacts]) -> list[dict[str, object]]:
    by_format: dict[str, list[FileFacts]] = defaultdict(list)
    for f in files:
        if f.format != "unknown":
            by_format[f.format].append(f)
    out: list[dict[str, object]] = []
    for fmt, group in sorted(by_format.items()):
        if len(group) < MIN_FILES_FOR_OUTLIERS:
            continue
        fence = upper_fence([f.size for f in group], OUTLIER_K)
        out.extend({"path": f.path, "format": fmt, "size": f.size, "fence": round(fence)} for f in group if f.size > fence)
    out.sort(key=lambda o: (-int(str(o["size"])), str(o["path"])))
    return out


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    presets = presets_of(files)
    by_format = dict(sorted(Counter(f.format for f in files).items()))
    by_status = {s.value: n for s in FileStatus if (n := sum(1 for f in files if f.status is s))}
    versions: dict[str, Counter[str]] = defaultdict(Counter)
    for p in presets:
        versions[p.format][version_label(p)] += 1
    histogram = {label: 0 for label, _ in SIZE_BUCKETS}
    for f in files:
        histogram[size_bucket(f.size)] += 1
    total = sum(f.size for f in files)
    embedded = sum(p.embedded_bytes for p in presets)
    outliers = _outliers(files)
    unknown = [f.path for f in files if f.status is FileStatus.UNKNOWN]
    unreadable = [{"path": f.path, "status": f.status.value, "problem": f.problem}
                  for f in files if f.status in (FileStatus.SKIPPED, FileStatus.BROKEN)]
    data = {
        "files": len(files),
        "presets": len(presets),
        "by_format": by_format,
        "by_status": by_status,
        "presets_by_format": dict(sorted(Counter(p.format for p in presets).items())),
        "by_version": {fmt: dict(sorted(c.items())) for fmt, c in sorted(versions.items())},
        "total_bytes": total,
        "embedded_audio_bytes": embedded,
        "size_histogram": histogram,
        "size_outliers": outliers,
        "unknown": unknown,
        "unreadable": unreadable,
    }
    fmt_rows = []
    for fmt, n in by_format.items():
        group = [f for f in files if f.format == fmt]
        fmt_rows.append((fmt, n, sum(len(f.presets) for f in group), human_bytes(sum(f.size for f in group))))
    version_rows = [(fmt, v, n) for fmt, c in sorted(versions.items()) for v, n in sorted(c.items())]
    tables = (
        table("formats", "Files by format", ("format", "files", "presets", "size"), fmt_rows),
        table("versions", "Presets by synth version", ("format", "saved with", "presets"), version_rows, ctx.top),
        table("totals", "Totals", ("what", "value"), [
            ("files", len(files)), ("presets", len(presets)), ("total size", human_bytes(total)),
            ("embedded audio", human_bytes(embedded)), ("unknown files", len(unknown)),
            ("unreadable or broken", len(unreadable))]),
        table("size_outliers", "File-size outliers (far above their format's usual size)", ("file", "format", "size"),
              [(str(o["path"]), str(o["format"]), human_bytes(float(str(o["size"])))) for o in outliers], ctx.top),
        table("unreadable", "Unreadable or broken files", ("file", "status", "problem"),
              [(str(u["path"]), str(u["status"]), str(u["problem"])) for u in unreadable], ctx.top),
        table("unknown", "Files in no format presetctl knows", ("file",), [(u,) for u in unknown], ctx.top),
    )
    charts = (
        bar_chart("formats", "Files by format", by_format, top=len(by_format), unit="files", flagged=("unknown",)),
        Chart("sizes", "File sizes", tuple(Bar(k, float(n)) for k, n in histogram.items()), "files", histogram=True),
    )
    return Section("overview", data, tuple(t for t in tables if t.rows), charts)
