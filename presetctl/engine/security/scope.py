"""What ``scan-security`` reports, and the security rating of the non-security codes it includes.

``scan-security`` runs the security rules (level ``security``, codes ``X...``) plus the file and
parse codes that are security facts in their own right: discovery's symlinks, special files and
oversized files (found before any rule runs, so no rule could re-report them), unreadable
files, disguised content, parse failures, duplicate keys, nesting, and presetctl's own internal
errors (a file a rule crashed on was not fully scanned). Those codes keep their code, name and
severity; :func:`rate` gives their findings the security rating below, so ``--fail-on`` and
SARIF's ``security-severity`` treat them like any security finding.
"""

from __future__ import annotations

from dataclasses import replace

from presetctl.engine.errors import UsageError
from presetctl.engine.model import Finding, RunResult, SecuritySeverity
from presetctl.engine.options import Options
from presetctl.engine.rules.base import Level
from presetctl.engine.rules.registry import RULES

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
}
LEVELS = frozenset({Level.SECURITY.value, Level.FILE.value, Level.PARSE.value})


def scan_codes() -> tuple[str, ...]:
    """Every code ``scan-security`` can report, sorted."""
    known = {r.code for r in RULES}
    security = {r.code for r in RULES if r.level is Level.SECURITY}
    return tuple(sorted(security | (set(RATINGS) & known)))


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def scan_options(options: Options) -> Options:
    """``options`` restricted to the scan-security codes (the user's select/ignore still apply)."""
    wanted = options.select + options.extend_select
    chosen = tuple(c for c in scan_codes() if _matches(c, wanted))
    if not chosen:
        raise UsageError(f"--select {','.join(wanted)} selects no security rule (see `presetctl rules`; "
                         "security codes start with X)")
    return replace(options, select=chosen, extend_select=(), levels=LEVELS)


def _rated(f: Finding) -> Finding:
    rating = RATINGS.get(f.code)
    return replace(f, security=rating) if f.security is None and rating is not None else f


def rate(result: RunResult) -> RunResult:
    """``result`` with the included file/parse codes carrying their security rating."""
    files = tuple(replace(o, findings=tuple(_rated(f) for f in o.findings)) if o.findings else o
                  for o in result.files)
    return replace(result, files=files, findings=tuple(_rated(f) for f in result.findings))
