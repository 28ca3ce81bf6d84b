"""Turning locations into line and column, only for files that have findings.

``locate_pointer`` walks JSON text token by token to the member a JSON pointer names, without
building the document again, so the clean path never pays for it.
"""

from __future__ import annotations

import json
import re

from presetctl.engine.pointer import split as split_pointer

_WS = re.compile(rb"[ \t\r\n]*")
STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(rb"[^,\]\}\s]*")
TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+|\s+', re.DOTALL)


def line_col(data: bytes, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte offset ``pos``."""
    pos = max(0, min(pos, len(data)))
    line = data.count(b"\n", 0, pos) + 1
    start = data.rfind(b"\n", 0, pos) + 1
    return line, len(data[start:pos].decode("utf-8", "replace")) + 1


def skip_ws(data: bytes, i: int) -> int:
    m = _WS.match(data, i)
    return m.end() if m else i


def skip_value(data: bytes, i: int) -> int:
    """Offset just past the JSON value starting at ``i`` (strings and brackets balanced)."""
    i = skip_ws(data, i)
    c = data[i : i + 1]
    if c == b'"':
        m = STRING.match(data, i)
        return m.end() if m else len(data)
    if c not in (b"{", b"["):
        m = _SCALAR.match(data, i)
        return m.end() if m else i + 1
    depth = 0
    for m in TOKEN.finditer(data, i):  # one regex step per token, not per byte
        t = m.group()
        if t in (b"{", b"["):
            depth += 1
        elif t in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return m.end()
    return len(data)


def locate_pointer(data: bytes, pointer: str) -> int | None:
    """Byte offset of the member (its key) or item a JSON pointer names, None if absent."""
    tokens = split_pointer(pointer)
    i = skip_ws(data, 0)
    member_start = i
    for token in tokens:
        i = skip_ws(data, i)
        c = data[i : i + 1]
        if c == b"{":
            i += 1
            found = False
            while True:
                i = skip_ws(data, i)
                if data[i : i + 1] != b'"':
                    return None
                m = STRING.match(data, i)
                if m is None:
                    return None
                try:
                    key = json.loads(m.group())
                except ValueError:
                    return None
                key_start = i
                i = skip_ws(data, m.end())
                if data[i : i + 1] != b":":
                    return None
                i += 1
                if key == token:
                    member_start = key_start
                    found = True
                    break
                i = skip_ws(data, skip_value(data, i))
                if data[i : i + 1] != b",":
                    return None
                i += 1
            if not found:
                return None
        elif c == b"[":
            if not token.isdigit():
                return None
            index = int(token)
            i += 1
            for _ in range(index):
                i = skip_ws(data, skip_value(data, i))
                if data[i : i + 1] != b",":
                    return None
                i += 1
            i = skip_ws(data, i)
            if data[i : i + 1] == b"]":
                return None
            member_start = i
        else:
            return None
    return member_start
