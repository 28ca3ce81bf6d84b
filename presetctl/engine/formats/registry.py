"""The loader table and format detection. One line per format module."""

from __future__ import annotations

from pathlib import PurePath

from presetctl.engine.formats import dx7_syx, fxp, helm, presetctl_json, recognized, sysex, vital
from presetctl.engine.formats.base import Loader

LOADERS: tuple[Loader, ...] = (
    presetctl_json.LOADER,
    vital.LOADER, vital.BANK_LOADER, helm.LOADER,
    dx7_syx.LOADER, sysex.LOADER,
    fxp.LOADER, fxp.OTHER_LOADER, recognized.XIZ_LOADER, recognized.H2P_LOADER, recognized.ABLETON_LOADER,
)

def detect(head: bytes, path: PurePath) -> Loader | None:
    """The loader most confident about this file, or None for an unknown format."""
    best: Loader | None = None
    best_score = 0
    for loader in LOADERS:
        score = loader.sniff(head, path)
        if score > best_score:
            best, best_score = loader, score
    return best


def extension_owner(path: PurePath) -> Loader | None:
    """The loader whose extension the file carries (for extension-vs-content checks)."""
    suffix = path.suffix.lower()
    for loader in LOADERS:
        if suffix in loader.extensions:
            return loader
    return None
