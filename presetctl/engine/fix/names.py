"""Name edits: trimming to a byte limit while keeping the distinguishing tail, and portable file names."""

from __future__ import annotations

import re

_BAD_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s{2,}")
_TAIL = re.compile(r"\s(\S*\d\S*|[A-Z0-9]{1,3})$")  # "... 02", "... B", "... v2": what tells presets apart


def collapse_spaces(name: str) -> str:
    return _SPACES.sub(" ", name).strip()


def _cut(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits in ``limit`` UTF-8 bytes (never half a character)."""
    raw = text.encode("utf-8")[:limit]
    return raw.decode("utf-8", "ignore")


def trim_name(name: str, limit: int) -> str:
    """Shorten to ``limit`` UTF-8 bytes, keeping a short numbered or lettered tail.

    ``Warm Analog Brass Section Wide 02`` at 28 bytes -> ``Warm Analog Brass Section 02``:
    a plain cut would make ``... Wide 01`` and ``... Wide 02`` the same name.
    """
    if len(name.encode("utf-8")) <= limit:
        return name
    m = _TAIL.search(name)
    tail = m.group(1) if m else ""
    if tail and len(tail.encode("utf-8")) * 2 <= limit:
        head = _cut(name[: m.start()] if m else name, limit - len(tail.encode("utf-8")) - 1).rstrip()
        if head:
            return f"{head} {tail}"
    return _cut(name, limit).rstrip() or _cut(name, limit)


def portable_file_name(name: str) -> str:
    """Replace characters other systems reject with ``_``; no leading space, no trailing space or dot."""
    out = _BAD_CHARS.sub("_", name).lstrip(" ").rstrip(" .")
    return out or "preset"


def numbered(name: str, n: int) -> str:
    """``Bass.json`` -> ``Bass (2).json``: the name to try when ``name`` is taken."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({n})"
    return f"{stem} ({n}).{suffix}"
