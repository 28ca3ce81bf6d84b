"""The clean path's compiled passes (``presetctl/_speedups.c``), or None.

The extension is built with the package when a C compiler is there (hatch_build.py) and is
optional: every compiled function has a pure-Python twin next to its caller, which gives the same
answer where it matters (tests/test_speedups.py holds each pair against the other and against the
slow path). ``PRESETCTL_PURE_PYTHON=1`` makes presetctl use the Python passes, to measure or test
them on the same installation.
"""

from __future__ import annotations

import os
from typing import Any, Protocol


class Compiled(Protocol):
    """What ``_speedups`` provides (its stub: presetctl/_speedups.pyi)."""

    def dull_text(self, text: bytes, /) -> bool: ...
    def json_depth(self, text: bytes, limit: int, /) -> int | None: ...
    def plainly_fine(self, params: list[Any], /) -> bool: ...
    def param_columns(self, params: list[Any], /) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...],
                                                           tuple[Any, ...], tuple[Any, ...]] | None: ...


def _load() -> Compiled | None:
    if os.environ.get("PRESETCTL_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from presetctl import _speedups
    except ImportError:  # built without a C compiler
        return None
    return _speedups


compiled = _load()
