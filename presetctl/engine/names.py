"""Placeholder preset names: what a synth or librarian writes into an empty slot.

A bank of 32 DX7 voices often holds a few unused slots named ``INIT VOICE`` (the DX7's and
Dexed's voice-initialise name), ten spaces, ten NUL bytes (shown as spaces by Dexed, as ``?``
by presetctl), or a row of dashes or question marks. Such a name says "nothing here", so:

- it is never a name collision: two empty slots called ``INIT VOICE`` are not two presets
  fighting for one name (duplicate-name findings skip them);
- it is never replaced by the file name: the file names the bank, not the empty slot, and
  nine blank voices renamed after their bank would create nine identical names.

One predicate for every rule and fix that needs the distinction: :func:`is_placeholder`.
"""

from __future__ import annotations

import re

# Characters that carry no name: blanks, padding and the fillers librarians use for empty slots.
_FILLER = frozenset(" -?_.*=~#/\\|+")
# Words of an initialised or unnamed slot, optionally numbered (``INIT VOICE 2``, ``Init 03``).
_INIT = re.compile(r"(?:init(?:ial(?:i[sz]ed)?)?|default|untitled|no ?name|empty|blank)"
                   r"(?: ?(?:voice|vce|patch|preset|sound|program|prog))?(?: #?\d{1,3})?")


def _visible(name: str) -> str:
    """The name as a synth shows it: bit 7 of DX7 bytes dropped, control characters as spaces,
    runs of spaces collapsed, ends trimmed, case folded."""
    chars = (chr(ord(c) & 0x7F) if "\x80" <= c <= "\xff" else c for c in name)
    text = "".join(" " if c < " " or c == "\x7f" else c for c in chars)
    return " ".join(text.split()).casefold()


def is_placeholder(name: str | None) -> bool:
    """True for a missing, blank or filler name, or an init name such as ``INIT VOICE``.

    >>> [is_placeholder(n) for n in ("INIT VOICE", "----------", "??????????", "\\x00" * 10, "Init 2")]
    [True, True, True, True, True]
    >>> [is_placeholder(n) for n in ("BRASS   1", "Initiation", "E.PIANO 1", "-Bass-")]
    [False, False, False, False]
    """
    if name is None:
        return True
    text = _visible(name)
    return all(c in _FILLER for c in text) or _INIT.fullmatch(text) is not None
