"""Small pictures of a rendered voice's level over its test note: Unicode for terminals, SVG for pages.

The data is an :class:`~presetctl.engine.stats.model.Envelope`: RMS levels in dBFS, evenly
spaced over the note (the renderer's analysis keeps 40 of them, 50 ms each over the 2 s test
note). Every picture maps the same range, ``FLOOR_DB`` (what counts as silent) to 0 dBFS, so two
voices' pictures compare at a glance; a level under the floor draws nothing.

Pure functions of numbers; the SVG drawing itself is :func:`presetctl.report.html.envelope_svg`,
where every string of a page is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from presetctl.engine.audio.levels import SILENT_DB
from presetctl.engine.stats.model import Envelope

FLOOR_DB = SILENT_DB  # -80 dBFS: the bottom of every picture
TOP_DB = 0.0  # full scale
BLOCKS = " \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"  # 0-8 eighths of a cell


def level(db: float, steps: int) -> int:
    """``db`` as 0..steps between FLOOR_DB and TOP_DB (0 also for NaN and anything under the floor)."""
    if not math.isfinite(db) or db <= FLOOR_DB:
        return 0
    return max(0, min(steps, round((min(db, TOP_DB) - FLOOR_DB) / (TOP_DB - FLOOR_DB) * steps)))


def sparkline(points: Sequence[float]) -> str:
    """One character per point, ``▁`` to ``█``; a space where the voice is silent."""
    return "".join(BLOCKS[level(p, 8)] for p in points)


def block_chart(points: Sequence[float], rows: int = 4) -> list[str]:
    """``rows`` lines of block characters (top line first): eight levels per line, ``rows * 8`` in all."""
    heights = [level(p, rows * 8) for p in points]
    out = []
    for row in range(rows - 1, -1, -1):
        base = row * 8
        out.append("".join(BLOCKS[max(0, min(8, h - base))] for h in heights).rstrip())
    return out


def axis(env: Envelope, width: int) -> str:
    """A time axis under a chart of ``width`` columns: start, key-up (``^``) and end."""
    line = [" "] * width
    if env.key_up is not None and env.seconds > 0 and width > 1:
        at = min(width - 1, max(0, round(env.key_up / env.seconds * width)))
        line[at] = "^"
    return f"0 s {''.join(line)} {env.seconds:g} s"


def caption(env: Envelope, marked: bool = False) -> str:
    """What a picture shows; ``marked``: under an :func:`axis` that marks key-up with ``^``."""
    key = f", key up at {env.key_up:g} s" + (" (^)" if marked else "") if env.key_up is not None else ""
    return f"RMS level {FLOOR_DB:g} to {TOP_DB:g} dBFS over {env.seconds:g} s{key}"


def outline(env: Envelope, width: float, height: float) -> list[tuple[float, float]]:
    """The envelope as (x, y) points in a ``width`` x ``height`` box (y down, as SVG draws), one per
    point at the middle of its time slot; :func:`presetctl.report.html.envelope_svg` draws it."""
    step = width / max(len(env.points), 1)
    return [((i + 0.5) * step, height - level(p, 1000) / 1000 * (height - 2)) for i, p in enumerate(env.points)]
