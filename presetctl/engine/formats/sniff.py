"""Format detection: how sure each format is that a file is its own, from its first bytes and name.

Each loader's ``sniff`` is the function here of the same name; they live apart from the loaders so
that detecting a file's format imports none of them, and the registry imports only the loader
that wins (a Helm preset does not import the DX7, Surge or zip readers). Scores run from 0 (not
mine) to 100 (certainly mine); the registry picks the highest.
"""

from __future__ import annotations

import re
from pathlib import PurePath

BOM = b"\xef\xbb\xbf"
# A DX7 voice or bank dump header: F0 43 (Yamaha), channel, format 09 (32 voices) or 00 01 1B (one).
DX7_HEADER = re.compile(rb"\xf0\x43[\x00-\x0f](?:\x09|\x00\x01\x1b)")
SOX, EOX, YAMAHA = 0xF0, 0xF7, 0x43  # sysex start and end, Yamaha's manufacturer id
FXP_BANK_MAGICS = (b"FBCh", b"FxBk")
OTHER_FXP_EXTENSIONS = (".fxp", ".fxb")
_VITAL_KEYS = (b'"preset_style"', b'"macro1"', b'"preset_name"')


def json_head(head: bytes) -> bytes:
    """The first bytes without a byte-order mark and leading white space."""
    return head[3:].lstrip() if head.startswith(BOM) else head.lstrip()


def presetctl_json(head: bytes, path: PurePath) -> int:
    if path.suffix.lower() != ".json":
        return 0
    # Low confidence: any loader that recognizes its own JSON dialect wins over this one.
    return 30 if b'"format_version"' in head else 10


def vital(head: bytes, path: PurePath) -> int:
    body = json_head(head)
    if path.suffix.lower() == ".vital":
        return 90 if not body.startswith(b"PK") else 40  # a zip named .vital is a bank
    if body.startswith(b"{") and b'"settings"' in head and any(k in head for k in _VITAL_KEYS):
        return 60  # Vital JSON under another name (wins over the .json catch-all)
    return 0


def vital_bank(head: bytes, path: PurePath) -> int:
    suffix = path.suffix.lower()
    if head.startswith(b"PK") and suffix in (".vitalbank", ".vital"):
        return 95
    return 80 if suffix == ".vitalbank" else 0


def helm(head: bytes, path: PurePath) -> int:
    if path.suffix.lower() == ".helm":
        return 90
    body = json_head(head)
    if body.startswith(b"{") and b'"settings"' in head and (
            b'"patch_name"' in head or (b'"license"' in head and b'"synth_version"' in head)):
        return 55  # Helm JSON under another name (wins over the .json catch-all)
    return 0


def dx7(head: bytes, path: PurePath) -> int:
    syx = path.suffix.lower() == ".syx"
    found = DX7_HEADER.search(head)
    if found is not None and (syx or found.start() == 0):
        return 95
    # Any other .syx too: the loader looks at the whole file (a header past the first bytes, a
    # headerless dump) and hands what holds no DX7 voice to the other-sysex loader.
    return 50 if syx else 0


def sysex(head: bytes, path: PurePath) -> int:
    # Below the DX7 loader (90+) for DX7 data; .syx files of anything else land here.
    if path.suffix.lower() == ".syx":
        return 45
    return 30 if head.startswith(bytes([SOX, YAMAHA])) and EOX in head else 0


def surge_fxp(head: bytes, path: PurePath) -> int:
    return 95 if len(head) >= 20 and head[16:20] == b"cjs3" and head[:4] == b"CcnK" else 0


def other_fxp(head: bytes, path: PurePath) -> int:
    if head[:4] == b"CcnK" and head[8:12] in (b"FPCh", b"FxCk", *FXP_BANK_MAGICS):
        return 70
    return 40 if path.suffix.lower() in OTHER_FXP_EXTENSIONS else 0


def xiz(head: bytes, path: PurePath) -> int:
    if path.suffix.lower() == ".xiz":
        return 90
    return 70 if b"<ZynAddSubFX-data" in head else 0


def ableton(head: bytes, path: PurePath) -> int:
    if path.suffix.lower() in (".adv", ".adg"):
        return 90
    return 70 if b"<Ableton " in head[:512] else 0


def h2p(head: bytes, path: PurePath) -> int:
    if path.suffix.lower() == ".h2p":
        return 90
    return 70 if head.startswith(b"/*@Meta") or head.startswith(b"#AM=") else 0
