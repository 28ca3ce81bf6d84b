"""Plain documentation in a pack: a README, a LICENSE, release notes.

A pack's README names its author, links the shop and the licence deed, gives a support e-mail,
and may show HTML; none of that is a leak or an injection the way it would be inside a preset
that a synth or a web preset browser displays. The privacy and markup rules (X005-X007, X064,
X065) therefore skip such files; everything else (executables, scripts, bidi and terminal
escapes, disguises) is still looked for in them.
"""

from __future__ import annotations

from pathlib import PurePath

from presetctl.engine.formats.base import Document

DOC_STEMS = frozenset({"readme", "license", "licence", "copying", "copyright", "changelog", "changes", "history",
                       "news", "authors", "contributors", "credits", "thanks", "notice", "install", "manual"})
DOC_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".rst", ".adoc"})


def is_documentation(path: PurePath, doc: Document) -> bool:
    """A text file in no preset format named like documentation (``README``, ``LICENSE-MIT``,
    ``CHANGELOG.md``) or with a documentation extension (``.md``, ``.txt`` ...)."""
    if doc.format != "unknown" or not doc.facts.texts:
        return False
    stem = path.name.split(".", 1)[0].split("-", 1)[0].split("_", 1)[0].lower()
    return stem in DOC_STEMS or path.suffix.lower() in DOC_SUFFIXES
