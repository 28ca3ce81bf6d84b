"""Packaging junk: what archivers and file managers leave in a pack besides the presets.

macOS's Archive Utility puts AppleDouble resource forks (``._Bass.fxp``) into a ``__MACOSX/``
folder of every zip it makes, Finder writes ``.DS_Store`` into every folder it shows, and
Windows Explorer ``Thumbs.db`` and ``desktop.ini``. None of them is a preset, but many carry a
preset's extension: a synth's browser lists ``__MACOSX/._Bass.syx`` as a bank that will not load
(Dexed: "Unable to find DX7 sysex cartridge"). Such files are not loaded as presets (no per-file
format error for each), their bytes are still scanned for payloads, and the run reports them once
for the whole pack (F012).
"""

from __future__ import annotations

from collections.abc import Sequence

from presetctl.engine.model import Related, Violation

JUNK_FOLDERS = frozenset({"__MACOSX"})
JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
APPLE_DOUBLE = "._"
_JUNK_ENDINGS = tuple(JUNK_NAMES)
SHOWN = 3  # junk files named in the message; all of them are in the finding's ``related``


def is_packaging_junk(path: str) -> bool:
    """``path`` (``/``-separated) is in a ``__MACOSX`` folder, an AppleDouble ``._*`` file or a
    file manager's folder data."""
    # What each case needs in the text, tested in C first: a run asks this of every file twice.
    if "__MACOSX" not in path and "._" not in path and not path.endswith(_JUNK_ENDINGS):
        return False
    parts = path.split("/")
    name = parts[-1]
    return name in JUNK_NAMES or name.startswith(APPLE_DOUBLE) or any(p in JUNK_FOLDERS for p in parts[:-1])


def junk_violation(paths: Sequence[str]) -> tuple[str, Violation] | None:
    """The one pack-level finding for the junk files among ``paths`` (on the first), or None."""
    junk = [p for p in paths if is_packaging_junk(p)]
    if not junk:
        return None
    shown = ", ".join(junk[:SHOWN]) + (f" and {len(junk) - SHOWN} more" if len(junk) > SHOWN else "")
    n = f"{len(junk)} file" if len(junk) == 1 else f"{len(junk)} files"
    return junk[0], Violation(f"{n} of packaging junk (macOS __MACOSX/ and ._* resource forks, .DS_Store, "
                              f"Thumbs.db): {shown}; not presets, so not loaded as presets",
                              code="F012", related=tuple(Related(p) for p in junk[1:]))
