"""Making text from preset files safe to show.

A preset name can hold terminal escape sequences (cursor moves, OSC 8 links, OSC 52 clipboard
writes), bidirectional overrides or zero-width characters. Everything a reporter prints from a
file passes through :func:`visible`, which shows such characters as escapes; rich output
additionally uses ``Text`` objects so ``[bold]`` or ``:smile:`` in a name stays literal.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, zero-width and other invisible
# format characters, line/paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every control or invisible character replaced by a visible escape."""
    return _UNSAFE.sub(_escape, text)


def has_unsafe(text: str) -> bool:
    return _UNSAFE.search(text) is not None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection advice)."""
    text = visible(str(value)) if not isinstance(value, (int, float)) else str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text
