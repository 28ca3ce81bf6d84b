"""Preset names that name nothing: empty voice slots and init patches.

A DX7 bank is 32 slots whatever its author filled: unused ones keep the init voice's name
(`INIT VOICE`, Dexed's ``resetToInitVoice`` and the DX7's voice initialise), ten spaces, ten NUL
bytes (Dexed shows them as spaces) or a row of dashes or question marks. Such a name is not a
name collision when it repeats, and must never be replaced by the file name: it says "empty
slot", not "this sound is called X".
"""

from __future__ import annotations

import re

# Characters a placeholder may consist of entirely; controls below 0x20 and DEL are what Dexed
# shows as spaces (bytes with bit 7 set are masked first, as the newest Dexed does).
_FILLER = re.compile(r"[\s\x00-\x1f\x7f\-?_.*=~#]*")
# Names synths and librarians give an initialised patch (compared case-insensitively, spaces collapsed).
INIT_NAMES = frozenset({"init voice", "init", "init patch", "init preset", "init sound", "initial", "initialized",
                        "default", "untitled", "no name", "noname", "empty", "blank"})


def _masked(name: str) -> str:
    return "".join(chr(ord(c) & 0x7F) if 0x80 <= ord(c) <= 0xFF else c for c in name)


def is_placeholder(name: str | None) -> bool:
    """True for a missing name, one made only of spaces, NULs, control bytes, dashes, question marks
    (and the like), or an init name such as ``INIT VOICE``."""
    if name is None:
        return True
    text = _masked(name)
    if _FILLER.fullmatch(text):
        return True
    return " ".join(text.split()).casefold() in INIT_NAMES
