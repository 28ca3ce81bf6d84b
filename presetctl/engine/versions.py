"""Comparing synth version strings such as ``1.0.7``, ``1.5.5`` or ``XT 1.3.1``."""

from __future__ import annotations

import re

_NUM = re.compile(r"\d+")


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in _NUM.findall(text)[:4])


def compare_versions(a: str, b: str) -> int:
    ta, tb = version_tuple(a), version_tuple(b)
    width = max(len(ta), len(tb))
    ta += (0,) * (width - len(ta))
    tb += (0,) * (width - len(tb))
    return (ta > tb) - (ta < tb)
