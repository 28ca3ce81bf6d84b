"""The loader table and format detection. One line per format.

Detection runs every format's sniffer (formats/sniff.py, no loader imported) and imports the
loader module of the winner only: checking a Helm preset does not import the DX7, Surge, zip or
XML readers (start-up, tests/test_startup.py). ``loaders()`` imports them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from presetctl.engine.formats import sniff
from presetctl.engine.formats.base import Loader

_PACKAGE = "presetctl.engine.formats."


@dataclass(frozen=True)
class Format:
    """One loader as detection sees it; ``loader()`` imports its module (tests/test_formats_registry.py
    holds every line to its loader: the same id, extensions and sniffer)."""

    format_id: str
    extensions: tuple[str, ...]
    module: str
    attribute: str
    sniff: Callable[[bytes, PurePath], int]

    def loader(self) -> Loader:
        found: Loader = getattr(importlib.import_module(_PACKAGE + self.module), self.attribute)
        return found


# In order of precedence: on equal scores the first wins.
FORMATS: tuple[Format, ...] = (
    Format("presetctl", (".json",), "presetctl_json", "LOADER", sniff.presetctl_json),
    Format("vital", (".vital",), "vital", "LOADER", sniff.vital),
    Format("vitalbank", (".vitalbank",), "vital", "BANK_LOADER", sniff.vital_bank),
    Format("helm", (".helm",), "helm", "LOADER", sniff.helm),
    Format("dx7-syx", (".syx",), "dx7_syx", "LOADER", sniff.dx7),
    Format("syx", (".syx",), "sysex", "LOADER", sniff.sysex),
    Format("surge-fxp", (".fxp",), "fxp", "LOADER", sniff.surge_fxp),
    Format("fxp", sniff.OTHER_FXP_EXTENSIONS, "fxp", "OTHER_LOADER", sniff.other_fxp),
    Format("zyn-xiz", (".xiz",), "recognized", "XIZ_LOADER", sniff.xiz),
    Format("uhe-h2p", (".h2p",), "recognized", "H2P_LOADER", sniff.h2p),
    Format("ableton", (".adv", ".adg"), "recognized", "ABLETON_LOADER", sniff.ableton),
)


def loaders() -> tuple[Loader, ...]:
    """Every loader, in the table's order (imports every format module)."""
    return tuple(f.loader() for f in FORMATS)


def detect(head: bytes, path: PurePath) -> Loader | None:
    """The loader most confident about this file, or None for an unknown format."""
    best: Format | None = None
    best_score = 0
    for fmt in FORMATS:
        score = fmt.sniff(head, path)
        if score > best_score:
            best, best_score = fmt, score
    return best.loader() if best is not None else None


def extension_format(path: PurePath) -> str | None:
    """The format whose extension the file carries (for extension-vs-content checks)."""
    suffix = path.suffix.lower()
    for fmt in FORMATS:
        if suffix in fmt.extensions:
            return fmt.format_id
    return None
