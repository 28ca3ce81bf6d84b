"""Sizes and ages as people type them: ``500MB``, ``5MiB``, ``30d``, ``2h``."""

from __future__ import annotations

import re

from presetctl.engine.errors import UsageError
from presetctl.obs.reader import parse_age

__all__ = ["format_size", "parse_age", "parse_size"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.I)
_FACTORS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
            "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
            "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from ``500MB`` (decimal), ``5MiB`` (binary) or a plain number of bytes."""
    m = _SIZE.match(text)
    unit = (m.group(2) or "").lower() if m else ""
    if not m or unit not in _FACTORS:
        raise UsageError(f"expected a size like 500MB, 5MiB or 1048576, got {text!r}")
    return int(float(m.group(1)) * _FACTORS[unit])


def format_size(n: int | float) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns
