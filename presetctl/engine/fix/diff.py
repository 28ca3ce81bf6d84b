"""What ``--diff`` shows: a unified diff for text formats, a summary of changed fields for binary ones."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from presetctl.engine.fix.model import AppliedFix

_NO_EOL = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _decoded(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def render_diff(path: str, new_path: str, before: bytes, after: bytes, applied: Sequence[AppliedFix]) -> str:
    head = ""
    if new_path != path:
        head = f"rename from {path}\nrename to {new_path}\n"
    if before == after:
        return head
    old, new = _decoded(before), _decoded(after)
    if old is None or new is None or "\x00" in old or "\x00" in new:
        return head + _binary(path, new_path, before, after, applied)
    out: list[str] = []
    for line in difflib.unified_diff(_lines(old), _lines(new), f"a/{path}", f"b/{new_path}", n=2):
        out.append(line if line.endswith("\n") else line + "\n" + _NO_EOL)
    if old.startswith("\ufeff") != new.startswith("\ufeff") and len(out) <= 2:
        out.append("@@ byte order mark removed @@\n")
    return head + "".join(out)


def _runs(before: bytes, after: bytes) -> list[tuple[int, int]]:
    """Changed byte ranges [start, end) of two equally long byte strings."""
    out: list[tuple[int, int]] = []
    start = -1
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        if a != b and start < 0:
            start = i
        elif a == b and start >= 0:
            out.append((start, i))
            start = -1
    if start >= 0:
        out.append((start, len(before)))
    return out


def _hex(data: bytes) -> str:
    return data.hex(" ").upper() if len(data) <= 12 else data[:12].hex(" ").upper() + " ..."


def _binary(path: str, new_path: str, before: bytes, after: bytes, applied: Sequence[AppliedFix]) -> str:
    """Fields first (what each fix changed), then the changed bytes, at most 12 ranges."""
    lines = [f"--- a/{path}\n", f"+++ b/{new_path}\n", "@@ binary file @@\n"]
    lines.extend(f"  {a.code} {a.location.render() + ': ' if a.location else ''}{a.description}\n" for a in applied)
    if len(before) == len(after):
        runs = _runs(before, after)
        for start, end in runs[:MAX_RANGES]:
            lines.append(f"  bytes {start}-{end - 1}: {_hex(before[start:end])} -> {_hex(after[start:end])}\n")
        if len(runs) > MAX_RANGES:
            lines.append(f"  ... and {len(runs) - MAX_RANGES} more changed ranges\n")
    else:
        lines.append(f"  size {len(before)} -> {len(after)} bytes\n")
    return "".join(lines)


MAX_RANGES = 12
