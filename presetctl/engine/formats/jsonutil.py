"""Parsing JSON text the way every JSON-based loader needs it: fast on the clean path,
precise about what is wrong on the broken one.

orjson does the parsing. What it rejects is classified into stable codes (empty, BOM,
invalid UTF-8, binary content, NaN/Infinity, overflowing numbers, nesting, syntax), with
line and column. Duplicate keys, which orjson accepts silently (the last wins), are detected
by comparing the count of keys in the text with the count after a re-serialization, and only
on a mismatch confirmed with the standard library's exact pair hook.

Counting keys: without a backslash in the text, orjson writes every string back byte for byte
(it escapes only quotes, backslashes and control characters, none of which such a text holds
raw), and colons occur only inside strings and as key separators; so the text and its
re-serialization hold the same number of colons exactly when no key was dropped. With a
backslash, escapes may be spelled differently (``\u003a`` vs ``:``), so keys are counted with
an exact string tokenizer instead. When the text is the re-serialization itself (a file written
by orjson or any compact writer with the same number format: the generated packs, many tools'
exports) one comparison settles it, and the parse says so (``JsonParse.compact``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from presetctl.engine.formats import sniff
from presetctl.engine.model import Location, Violation
from presetctl.engine.pointer import join as join_pointer

BOM = sniff.BOM
_STRING_TOKEN_RE = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"(\s*:)?')  # group 1: the string is a key
_NONFINITE_RE = re.compile(rb"(?<![\"\w])-?(NaN|Infinity)(?![\"\w])")
_BINARY_RE = re.compile(rb"[\x00-\x08\x0e-\x1f]")


@dataclass(frozen=True, slots=True)
class JsonParse:
    value: Any
    ok: bool
    problems: tuple[Violation, ...]
    body: bytes  # the text parsed (BOM removed), for locating pointers
    # ``body`` is orjson's own compact serialization of ``value`` (trailing whitespace aside): the
    # serialization of any part of the value is then a slice of the file (see security/content.py).
    compact: bool = False


def parse_json(data: bytes, max_nesting: int = 1024) -> JsonParse:
    problems: list[Violation] = []
    body = data
    if not data or data.isspace():  # same as `not data.strip()`, without copying the file
        return JsonParse(None, False, (Violation("file is empty", code="F001"),), body)
    if data.startswith(BOM):
        problems.append(Violation("file starts with a UTF-8 byte order mark", Location(offset=0), code="F009",
                                  hint="remove the 3-byte BOM; JSON parsers may reject it"))
        body = data[3:]
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        problems.append(_classify_error(body, exc, len(data) - len(body)))
        return JsonParse(None, False, tuple(problems), body)
    dumped = _serialized(value)
    compact = dumped is not None and _is_compact(body, dumped)
    if not compact:  # the compact form holds every key of the text: no key was dropped
        problems.extend(_duplicate_keys(body, value, dumped))
    return JsonParse(value, True, tuple(problems), body, compact)


def _classify_error(body: bytes, exc: orjson.JSONDecodeError, shift: int) -> Violation:
    msg = exc.msg
    pos = exc.pos
    if _BINARY_RE.search(body[:4096]) and body.lstrip()[:1] not in (b"{", b"["):
        return Violation("file holds binary data, not JSON text", Location(offset=0), code="F011")
    if "UTF-8" in msg or "utf-8" in msg or "surrogates" in msg:
        bad = _first_bad_utf8(body)
        return Violation(f"invalid UTF-8 at byte {bad + shift}", Location(offset=bad + shift), code="F010")
    if "infinity" in msg.lower():
        return Violation(("number too large for a double (parses as infinity)"),
                         Location(offset=pos + shift), code="P004")
    m = _NONFINITE_RE.search(body)
    if m is not None and m.start() <= pos + 1:
        return Violation((f"non-standard number literal {m.group(1).decode()}"),
                         Location(offset=m.start() + shift), code="P004")
    if "depth" in msg or "recursion" in msg:
        return Violation(("nesting deeper than the parser allows"),
                         Location(offset=pos + shift), code="P003")
    if _BINARY_RE.search(body[:4096]):
        return Violation("file holds binary data, not JSON text", Location(offset=0), code="F011")
    return Violation((f"invalid JSON: {msg}"), Location(offset=pos + shift), code="P001")


def _first_bad_utf8(body: bytes) -> int:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    return 0


def _count_keys_exact(text: bytes) -> int:
    """Keys in valid JSON text: string tokens followed by a colon (the tokenizer skips escapes)."""
    groups = _STRING_TOKEN_RE.findall(text)
    return len(groups) - groups.count(b"")


def _count_keys_value(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _serialized(value: Any) -> bytes | None:
    """orjson's compact form of a parsed container, None for a scalar or what orjson cannot write."""
    if not isinstance(value, (dict, list)):
        return None
    try:
        return orjson.dumps(value)
    except TypeError:  # nesting past orjson's serializer limit (255), which its parser accepts
        return None


def _is_compact(body: bytes, dumped: bytes) -> bool:
    """``body`` is ``dumped`` byte for byte, but for whitespace after it (a final newline)."""
    return body.startswith(dumped) and (len(body) == len(dumped) or body[len(dumped):].isspace())


def _same_key_count(body: bytes, value: Any, dumped: bytes | None) -> bool:
    if dumped is None:  # nesting past orjson's serializer limit (255), which its parser accepts
        return _count_keys_exact(body) == _count_keys_value(value)
    if b"\\" in body:
        return _count_keys_exact(body) == _count_keys_exact(dumped)
    return body.count(b":") == dumped.count(b":")


def _duplicate_keys(body: bytes, value: Any, dumped: bytes | None) -> Iterator[Violation]:
    if not isinstance(value, (dict, list)):
        return
    if _same_key_count(body, value, dumped):
        return
    # Counts differ: the standard library's pair hook names the duplicated keys.
    dupes: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen and len(dupes) < 50:
                dupes.append(k)
            seen.add(k)
        return dict(pairs)

    try:
        json.loads(body, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return
    for key in dict.fromkeys(dupes):
        yield Violation(f"duplicate key {key!r}: parsers disagree on which value wins (this one keeps the last)",
                        Location(pointer=""), code="P002", data={"key": key})


def pointer(*tokens: str | int) -> str:
    return join_pointer(tokens)
