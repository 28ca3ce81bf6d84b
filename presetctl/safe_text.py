"""Making text from preset files safe to show: the one place, for every layer.

A preset name can hold terminal escape sequences (cursor moves, OSC 8 links, OSC 52 clipboard
writes), bidirectional overrides or zero-width characters. Everything presetctl shows from a
file passes through :func:`visible` (engine messages through it or :func:`excerpt`, every
text reporter again), which shows such characters as escapes; rich output additionally uses
``Text`` objects so ``[bold]`` or ``:smile:`` in a name stays literal.

The JSON reporters keep the exact text instead (a script may need it) but never write such a
character raw: :func:`json_dumps` spells them as ``\\uXXXX`` escapes, which decode to the same
string, and shows undecodable file-name bytes (lone surrogates) as visible escapes.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, zero-width and other invisible
# format characters, line/paragraph separators; lone surrogates (undecodable bytes of a file
# name, via surrogateescape), which no UTF-8 output can carry.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape(m: re.Match[str]) -> str:
    return _escape_char(m.group())


def visible(text: str) -> str:
    """``text`` with every control, invisible, blank or otherwise unprintable character as a
    visible escape (``_UNSAFE`` also holds characters Python calls printable that show as
    nothing: Hangul fillers, variation selectors). Plain text is decided by two C-speed checks."""
    if text.isprintable() and not _UNSAFE.search(text):
        return text
    text = _UNSAFE.sub(_escape, text)
    return text if text.isprintable() else "".join(ch if ch.isprintable() else _escape_char(ch) for ch in text)


def excerpt(text: str, limit: int = 80) -> str:
    """A short quoted excerpt of file text for a message, made :func:`visible`."""
    cut = text if len(text) <= limit else text[: limit - 3]
    return f"'{visible(cut)}'" + ("..." if len(text) > limit else "")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection advice)."""
    text = visible(str(value)) if not isinstance(value, (int, float)) else str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


# -- JSON output ------------------------------------------------------------------------------------
# Characters orjson leaves raw that a terminal or editor would act on or hide: DEL, C1 controls,
# soft hyphen, bidi marks/embeddings/overrides/isolates, zero-width and other invisible format
# characters, line/paragraph separators, BOM, interlinear annotations, tag characters.
# (C0 controls, quotes and backslashes are already escaped by orjson.)
_INVISIBLE = re.compile(
    "[\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    if code > 0xFFFF:  # JSON spells astral characters as a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_safe(json_text: str) -> str:
    """``json_text`` with invisible characters as ``\\uXXXX`` escapes: the same JSON value.

    Such characters can only occur inside JSON strings (all JSON syntax is ASCII), so the
    substitution never changes the structure.
    """
    return _INVISIBLE.sub(_json_escape, json_text)


def encodable(text: str) -> str:
    """Lone surrogates (undecodable bytes of a file name, via surrogateescape) as visible escapes.

    JSON and UTF-8 cannot carry them, and orjson refuses them, so one odd file name would
    otherwise abort the whole report.
    """
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def encodable_tree(value: Any) -> Any:
    """``value`` with every string (keys too) made :func:`encodable`."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return {encodable(k): encodable_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable_tree(v) for v in value]
    return value


def json_dumps(value: Any, indent: bool = True) -> str:
    """JSON text of ``value``, safe to print or open in an editor (no trailing newline)."""
    option = orjson.OPT_INDENT_2 if indent else 0
    return json_safe(orjson.dumps(encodable_tree(value), option=option).decode())
