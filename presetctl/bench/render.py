"""``presetctl bench`` as text: one row per stage with the claim beside it, then peer, scaling, comparison."""

from __future__ import annotations

from presetctl.bench.run import SCALING_CLAIM, BenchResult, StageResult, peer_ratio


def duration(seconds: float) -> str:
    """Seconds in the unit that reads best: ns, us, ms or s (3 significant digits)."""
    for unit, factor in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3)):
        if abs(seconds) < factor * 1000:
            return f"{seconds / factor:.3g} {unit}"
    return f"{seconds:.3g} s"


def size(n: int | float | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def verdict(s: StageResult) -> str:
    """Met / not met, and by how much (the median against the claim)."""
    if s.met is None or s.ratio is None:
        return ""
    if s.met:
        return f"met ({1 / s.ratio:.1f}x under)" if s.ratio > 0 else "met"
    return f"NOT met: {s.ratio:.1f}x the claim"


def _peer(result: BenchResult, s: StageResult) -> str:
    """check-jsonschema's CPU per file, and how many times ours that is (CPU: steady on a busy machine)."""
    ratio = peer_ratio(result, s.name, cpu=True) if s.name in ("quick", "comprehensive") else None
    if result.peer is None or ratio is None:
        return ""
    return f"{duration(result.peer.cpu)} CPU ({ratio:.1f}x ours)"


def render_text(result: BenchResult) -> str:
    pk, m = result.pack, result.machine
    what = (f"{pk['files']} files from {pk['source']}" if pk["source"] != "generated" else
            f"{pk['files']} generated presets, {pk['params']} parameters")
    load = (f", load average {m['load_before']:.2f} -> {m['load_after']:.2f}"
            if m.get("load_before") is not None and m.get("load_after") is not None else "")
    lines = [f"presetctl bench: {what}, {size(pk['mean_bytes'])} each; {result.settings.rounds} rounds after "
             f"{result.settings.warmup} warm-up; {m['cpus']} CPUs{load}", ""]
    header = ("stage", "per", "p50", "p95", "p99", "max", "per s", "CPU/item", "peak RSS", "claim", "verdict",
              "check-jsonschema")
    rows = [header]
    for s in result.stages:
        st = s.stats
        rows.append((s.name, s.unit, duration(st.p50), duration(st.p95), duration(st.p99), duration(st.max),
                     f"{st.throughput:,.0f}", duration(st.cpu), size(st.peak_rss), s.claim_text or "-", verdict(s),
                     _peer(result, s)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    right = {2, 3, 4, 5, 6, 7, 8}
    for r in rows:
        cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
    for s in result.stages:
        if s.stats.warning:
            lines.append(f"warning: {s.name}: {s.stats.warning}")
    lines.append("")
    lines.extend(_tail(result))
    return "\n".join(lines).rstrip() + "\n"


def _tail(result: BenchResult) -> list[str]:
    out: list[str] = []
    if result.peer is not None:
        p = result.peer
        out.append(f"check-jsonschema: {duration(p.wall)} per file by wall clock, {duration(p.cpu)} of CPU "
                   f"(start-up of {duration(p.startup)} excluded; {p.files} files){'; ' + p.error if p.error else ''}")
    elif result.peer_note:
        out.append(f"check-jsonschema: {result.peer_note}")
    if result.scaling is not None:
        sc = result.scaling
        load = f"; load average {sc.load[0]:.2f} -> {sc.load[1]:.2f}" if sc.load else ""
        out.append(f"scaling: validate of {sc.files} files: {duration(sc.one)} with 1 process, {duration(sc.many)} "
                   f"with {sc.jobs} workers: {sc.speedup:.2f}x (claim >= {SCALING_CLAIM * sc.jobs:.2f}x on a free "
                   f"machine: {'met' if sc.met else 'NOT met'}){load}")
    elif result.scaling_note:
        out.append(f"scaling: {result.scaling_note}")
    if result.compared:
        out.append(f"compared with {result.compared!r} (median per item):")
        for c in result.changes:
            mark = "REGRESSION" if c.regression else "ok"
            out.append(f"  {c.stage:<14} {duration(c.before):>9} -> {duration(c.after):>9}  {c.ratio - 1:+.1%}  {mark}")
        if result.regressions:
            out.append(f"{len(result.regressions)} regression(s) beyond {result.changes[0].threshold:.0%}")
    return out
