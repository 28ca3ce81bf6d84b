"""Counted nouns in messages: ``1 file``, ``2 files``, ``1 fix``, ``3 fixes``."""

from __future__ import annotations

_IRREGULAR = {"fix": "fixes", "info": "info", "match": "matches", "entry": "entries", "this": "these"}


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun`` in the right number (the last word of ``noun`` takes the number)."""
    if count == 1:
        return f"{count} {noun}"
    head, _, last = noun.rpartition(" ")
    last = _IRREGULAR.get(last, last + "s")
    return f"{count} {head + ' ' if head else ''}{last}"
