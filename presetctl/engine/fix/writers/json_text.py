"""Editing JSON text in place: splices that change one value and leave every other byte alone.

Re-serializing a preset would reorder keys, re-indent and reformat numbers; Vital reads
``author`` only at the start of the file and ``preset_style`` only in its first 5,000 bytes,
so a writer that moves keys breaks the preset browser. These helpers find the bytes of one
member with ``textpos.locate_pointer`` and replace exactly those. Offsets are into the JSON
body (after a byte order mark, if any); callers shift them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from presetctl.engine.fix.edits import Splice
from presetctl.engine.pointer import split as split_pointer
from presetctl.engine.textpos import STRING, TOKEN, locate_pointer, skip_value, skip_ws


def render(value: Any) -> bytes:
    """A JSON value as text: UTF-8 kept as is, floats in their shortest round-trip form."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


def value_start(body: bytes, pointer: str) -> int | None:
    """Offset of the value a JSON pointer names, None when absent."""
    if pointer == "":
        return skip_ws(body, 0)
    pos = locate_pointer(body, pointer)
    if pos is None:
        return None
    if body[pos : pos + 1] == b'"':
        m = STRING.match(body, pos)
        if m is not None:
            after = skip_ws(body, m.end())
            if body[after : after + 1] == b":":  # an object member: the value follows the colon
                pos = skip_ws(body, after + 1)
    return pos


def value_span(body: bytes, pointer: str) -> tuple[int, int] | None:
    """(start, end) of the value a JSON pointer names, None when absent."""
    start = value_start(body, pointer)
    return None if start is None else (start, skip_value(body, start))


def replace_value(body: bytes, pointer: str, value: Any) -> Splice | None:
    span = value_span(body, pointer)
    if span is None:
        return None
    return Splice(span[0], span[1], render(value))


def insert_member(body: bytes, object_pointer: str, key: str, value: Any) -> Splice | None:
    """Add ``key: value`` as the first member of an object, in the style of its first member.

    First, not last: synths that scan for a key near the start of the file (Vital's ``author``)
    find it, and the rest of the file does not move relative to itself.
    """
    start = value_start(body, object_pointer)
    if start is None or body[start : start + 1] != b"{":
        return None
    open_at = start + 1
    first = skip_ws(body, open_at)
    if body[first : first + 1] == b"}":
        return Splice(open_at, open_at, render(key) + b": " + render(value))
    m = STRING.match(body, first)
    if m is None:
        return None
    colon = skip_ws(body, m.end())
    value_at = skip_ws(body, colon + 1)
    separator = body[m.end() : value_at]  # '": "' style of this file, e.g. b": " or b":"
    indent = body[open_at:first]
    if b"\n" not in indent:  # one-line object: space after commas as the file does
        end = skip_value(body, value_at)
        after = skip_ws(body, end)
        gap = body[after + 1 : skip_ws(body, after + 1)] if body[after : after + 1] == b"," else b""
        indent = gap if gap else (b" " if b", " in body[:4096] else b"")
    return Splice(first, first, render(key) + separator + render(value) + b"," + indent)


def _objects(body: bytes) -> Iterator[list[tuple[str, int]]]:
    """Members (key, offset of the key) of every object in the text, innermost first."""
    stack: list[tuple[list[tuple[str, int]], bool] | None] = []  # (members, expecting a key) or None: array
    for m in TOKEN.finditer(body):
        t = m.group()
        c = t[:1]
        if c == b"{":
            stack.append(([], True))
        elif c == b"[":
            stack.append(None)
        elif c in (b"}", b"]"):
            if stack:
                top = stack.pop()
                if top is not None:
                    yield top[0]
        elif c == b",":
            if stack and stack[-1] is not None:
                stack[-1] = (stack[-1][0], True)
        elif c == b'"' and stack and (top := stack[-1]) is not None and top[1]:
            try:
                key = json.loads(t)
            except ValueError:
                key = t.decode("utf-8", "replace")
            top[0].append((str(key), m.start()))
            stack[-1] = (top[0], False)


def duplicate_removals(body: bytes) -> list[tuple[str, Splice]]:
    """Splices removing every member whose key repeats later in the same object.

    The last occurrence stays, as in the parsers synths use (and in orjson and Python). A
    removed member is never the last of its object, so it is cut from its key to the next
    member's key and the commas stay right. Removals nested in a removed member are dropped.
    """
    out: list[tuple[str, Splice]] = []
    for members in _objects(body):
        last = {key: i for i, (key, _) in enumerate(members)}
        if len(last) == len(members):
            continue
        for i, (key, start) in enumerate(members):
            if last[key] != i:
                out.append((key, Splice(start, members[i + 1][1], b"")))
    out.sort(key=lambda kv: (kv[1].start, -kv[1].end))
    kept: list[tuple[str, Splice]] = []
    for key, s in out:
        if kept and s.start < kept[-1][1].end:
            continue  # inside a member that is removed anyway
        kept.append((key, s))
    return kept


def resolve(raw: Any, pointer: str) -> Any:
    """The parsed value at a JSON pointer, or None."""
    node = raw
    if not pointer:
        return node
    for token in split_pointer(pointer):
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node
