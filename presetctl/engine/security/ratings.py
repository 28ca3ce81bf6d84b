"""Security ratings of the non-security codes that ``scan-security`` includes (see scope.py)."""

from __future__ import annotations

from presetctl.engine.model import SecuritySeverity, Severity
from presetctl.engine.rules.base import Level, Rule

CRITICAL, HIGH, MEDIUM, LOW = (SecuritySeverity.CRITICAL, SecuritySeverity.HIGH, SecuritySeverity.MEDIUM,
                               SecuritySeverity.LOW)

RATINGS: dict[str, SecuritySeverity] = {
    "F002": MEDIUM,  # file over the size limit: a limit hit, not scanned
    "F003": HIGH,  # symlink out of the scanned folder: an out-of-pack reference
    "F004": LOW,  # symlink inside the folder (not followed; links do not belong in packs)
    "F005": MEDIUM,  # broken or looping symlink
    "F006": HIGH,  # FIFO/device/socket: blocks or floods whatever opens it (denial of service)
    "F007": HIGH,  # unreadable: nothing of it was scanned, so the scan fails as validate does
    "F008": HIGH,  # extension says one format, content another: disguised
    "F010": MEDIUM,  # invalid UTF-8: malformed
    "F011": MEDIUM,  # binary where text was expected: malformed
    "F012": LOW,  # packaging junk (__MACOSX, ._*, .DS_Store): scanned as unknown files, reported once
    "P001": MEDIUM,  # parse failure
    "P002": MEDIUM,  # duplicate keys: parsers disagree which one wins
    "P003": HIGH,  # nesting past the parser's limit: stack exhaustion
    "P004": MEDIUM,  # NaN/Infinity/overflowing numbers
    "E001": MEDIUM,  # presetctl failed on the file: not fully scanned
    "E002": HIGH,  # the file crashed a worker process twice: not scanned, and it crashes parsers
}
# A format finding of error severity (a bad checksum, a truncated dump, XML the synth's parser
# stops at) means the file could not be fully understood: it cannot be called clean.
FORMAT_ERROR = MEDIUM


def scan_rating(rule: Rule) -> SecuritySeverity | None:
    """The rating ``scan-security`` gives ``rule``'s findings; None: the rule is not in its scope."""
    if rule.security is not None:
        return rule.security
    if rule.level is Level.SECURITY:
        return LOW  # a security fact without a risk of its own (a Lua script): listed, never alarming
    if rule.code in RATINGS:
        return RATINGS[rule.code]
    if rule.level is Level.FORMAT and rule.severity is Severity.ERROR:
        return FORMAT_ERROR
    return None
