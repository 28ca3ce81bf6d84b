"""What ``scan-security`` reports, and the security rating of the non-security codes it includes.

``scan-security`` runs the security rules (level ``security``, codes ``X...``) plus the file and
parse codes that are security facts in their own right: discovery's symlinks, special files and
oversized files (found before any rule runs, so no rule could re-report them), unreadable
files, disguised content, parse failures, duplicate keys, nesting, packaging junk, and
presetctl's own internal errors (a file a rule crashed on was not fully scanned). It also runs
every format rule of error severity (a DX7 bank with a bad checksum, bytes above 7F or a
truncated dump; XML a synth's parser stops at): a file that cannot be fully understood cannot be
called clean. Those codes keep their code, name and severity; ``Options.rate_security`` gives
their findings the rating of ``ratings.scan_rating`` (medium for a format error), so
``--fail-on`` and SARIF's ``security-severity`` treat them like any security finding.
"""

from __future__ import annotations

from dataclasses import replace

from presetctl.engine.errors import UsageError
from presetctl.engine.options import Options
from presetctl.engine.rules import registry
from presetctl.engine.rules.base import Level
from presetctl.engine.security.ratings import scan_rating

LEVELS = frozenset({Level.SECURITY.value, Level.FILE.value, Level.PARSE.value, Level.FORMAT.value})


def scan_codes() -> tuple[str, ...]:
    """Every code ``scan-security`` can report, sorted."""
    return tuple(sorted(r.code for r in registry.all_rules() if scan_rating(r) is not None))


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def scan_options(options: Options) -> Options:
    """``options`` restricted to the scan-security codes (the user's select/ignore still apply)."""
    wanted = options.select + options.extend_select
    chosen = tuple(c for c in scan_codes() if _matches(c, wanted))
    if not chosen:
        raise UsageError(f"--select {','.join(wanted)} selects no security rule (see `presetctl rules`; "
                         "security codes start with X)")
    return replace(options, select=chosen, extend_select=(), levels=LEVELS, rate_security=True)
