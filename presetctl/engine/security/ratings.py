"""Security ratings of the file and parse codes that ``scan-security`` includes (see scope.py)."""

from __future__ import annotations

from presetctl.engine.model import SecuritySeverity

CRITICAL, HIGH, MEDIUM, LOW = (SecuritySeverity.CRITICAL, SecuritySeverity.HIGH, SecuritySeverity.MEDIUM,
                               SecuritySeverity.LOW)

RATINGS: dict[str, SecuritySeverity] = {
    "F002": MEDIUM,  # file over the size limit: a limit hit, not scanned
    "F003": HIGH,  # symlink out of the scanned folder: an out-of-pack reference
    "F004": LOW,  # symlink inside the folder (not followed; links do not belong in packs)
    "F005": MEDIUM,  # broken or looping symlink
    "F006": HIGH,  # FIFO/device/socket: blocks or floods whatever opens it (denial of service)
    "F007": MEDIUM,  # unreadable: not scanned
    "F008": HIGH,  # extension says one format, content another: disguised
    "F010": MEDIUM,  # invalid UTF-8: malformed
    "F011": MEDIUM,  # binary where text was expected: malformed
    "P001": MEDIUM,  # parse failure
    "P002": MEDIUM,  # duplicate keys: parsers disagree which one wins
    "P003": HIGH,  # nesting past the parser's limit: stack exhaustion
    "P004": MEDIUM,  # NaN/Infinity/overflowing numbers
    "E001": MEDIUM,  # presetctl failed on the file: not fully scanned
    "E002": MEDIUM,  # the file crashed a worker process: not scanned
}
