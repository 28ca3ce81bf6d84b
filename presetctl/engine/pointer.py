"""JSON pointers (RFC 6901): the one place that escapes and unescapes their tokens."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def escape(token: object) -> str:
    """A key or index as a pointer token: ``~`` as ``~0``, ``/`` as ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join(tokens: Iterable[object]) -> str:
    """``/a/0/b~1c`` from ``("a", 0, "b/c")``; the empty pointer from no tokens."""
    return "".join("/" + escape(t) for t in tokens)


def split(pointer: str) -> list[str]:
    """The unescaped tokens of ``pointer`` (``[]`` for the whole document)."""
    return [unescape(t) for t in pointer.split("/")[1:]] if pointer else []


Link = tuple[Any, Any] | None  # (parent link, key or index): a pointer not yet spelled out


def from_link(link: Link) -> str:
    """Spell out a chain of (parent, key) links, built cheaply while walking a document."""
    keys: list[object] = []
    while link is not None:
        link, key = link
        keys.append(key)
    return join(reversed(keys))
