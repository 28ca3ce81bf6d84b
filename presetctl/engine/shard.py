"""Shards: one of N stable parts of a pack, so N machines (a CI matrix) can check it together.

A file belongs to shard ``hash(key) mod N + 1``, where the key is its path relative to the target
it was found under (``Bass/Deep.json`` for ``presetctl validate presets``), so the same file lands
in the same shard on every machine, whatever folder the checkout is in and whether the target was
written ``presets``, ``./presets/`` or as an absolute path. A file named directly as a target is
keyed by its name. The hash is SHA-256 (the same on every platform and Python version), not
Python's ``hash()``, which is salted per process.

The shards' JSON reports carry what the cross-file rules need, and ``presetctl merge-reports``
runs those rules over all of them (docs/ci.md).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from presetctl.engine.errors import UsageError
from presetctl.engine.model import Severity
from presetctl.engine.options import Options

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` (1 <= K <= N) as (K, N); UsageError otherwise."""
    m = _SPEC.match(text)
    if m is None:
        raise UsageError(f"--shard takes K/N (for example 2/4), got {text!r}")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise UsageError(f"--shard {text}: K must be between 1 and N")
    return k, n


def _root_display(root: str) -> str:
    """A target as discovery shows the paths under it (engine/discover.py ``_Namer.shown``)."""
    return os.path.normpath(root).replace(os.sep, "/")


def shard_key(display: str, roots: Sequence[str]) -> str:
    """``display`` (a path as reported) relative to the deepest target it lies under."""
    best = ""
    best_len = -1
    for root in roots:
        prefix = _root_display(root)
        if display == prefix:
            inside = display.rsplit("/", 1)[-1]  # a file named as a target: keyed by its name
        elif prefix == ".":
            inside = display  # paths under "." are shown without a "./"
        elif display.startswith(prefix.rstrip("/") + "/"):
            inside = display[len(prefix.rstrip("/")) + 1:]
        else:
            continue
        if len(prefix) > best_len:
            best, best_len = inside, len(prefix)
    return best if best_len >= 0 else display


def shard_of(key: str, count: int) -> int:
    """The shard (1..count) a file with this key belongs to."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(display: str, roots: Sequence[str], shard: tuple[int, int]) -> bool:
    k, n = shard
    return n == 1 or shard_of(shard_key(display, roots), n) == k


# -- what a shard's JSON report carries for the merge (docs/output-formats.md, the "shard" key) -----------

EXPORT_VERSION = 1


@dataclass(frozen=True)
class ShardInfo:
    """A sharded run as its JSON report describes it: which shard, and the settings the cross-file
    rules are resolved with (so the merge reports them exactly as one run would have)."""

    index: int
    count: int
    settings: Mapping[str, Any]


def pack_settings(options: Options) -> dict[str, Any]:
    """What decides which cross-file findings are reported and how they look: rule selection,
    profiles, per-file ignores, severity overrides, levels and security ratings."""
    return {
        "select": list(options.select),
        "extend_select": list(options.extend_select),
        "ignore": list(options.ignore),
        "profiles": list(options.profiles),
        "per_file_ignores": [[glob, list(codes)] for glob, codes in options.per_file_ignores],
        "severity_overrides": {code: s.label for code, s in sorted(options.severity_overrides.items())},
        "levels": sorted(options.levels) if options.levels is not None else None,
        "rate_security": options.rate_security,
    }


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"settings.{key} must be a list of strings")
    return tuple(value)


def options_from_settings(settings: Mapping[str, Any]) -> Options:
    """Inverse of :func:`pack_settings`; ValueError on a bad shape."""
    pfi = settings.get("per_file_ignores", [])
    if not isinstance(pfi, list) or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                            for p in pfi):
        raise ValueError("settings.per_file_ignores must be a list of [glob, [codes]]")
    overrides = settings.get("severity_overrides", {})
    if not isinstance(overrides, dict):
        raise ValueError("settings.severity_overrides must be an object")
    levels = settings.get("levels")
    return Options(
        select=_strings(settings.get("select", ["ALL"]), "select"),
        extend_select=_strings(settings.get("extend_select", []), "extend_select"),
        ignore=_strings(settings.get("ignore", []), "ignore"),
        profiles=_strings(settings.get("profiles", []), "profiles"),
        per_file_ignores=tuple((g, _strings(c, "per_file_ignores")) for g, c in pfi),
        severity_overrides={str(c): Severity.parse(str(s)) for c, s in overrides.items()},
        levels=frozenset(_strings(levels, "levels")) if levels is not None else None,
        rate_security=settings.get("rate_security") is True,
    )
