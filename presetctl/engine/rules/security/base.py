"""What every security rule module shares: the rule constructor and the cap on repeated findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import SecuritySeverity, Severity, Violation
from presetctl.engine.rules.base import Level, Rule, RuleContext, RuleDoc
from presetctl.engine.security.content import LIMIT_CODE, Scan, dedupe, scan_of
from presetctl.engine.security.docs import is_documentation

CRITICAL, HIGH, MEDIUM, LOW = (SecuritySeverity.CRITICAL, SecuritySeverity.HIGH, SecuritySeverity.MEDIUM,
                               SecuritySeverity.LOW)
MAX_PER_RULE = 50  # a hostile file with a million URLs must not make a million-line report

ScanCheck = Callable[[Document, RuleContext, Scan], Iterator[Violation]]
# False only when the check certainly reports nothing (see rules.base.QuickFn), given the scan.
ScanQuick = Callable[[Document, RuleContext, Scan], bool]


def _wrap(check: ScanCheck, on_docs: bool = True) -> Callable[[Document, RuleContext], Iterator[Violation]]:
    """Run ``check`` with the file's shared scan state; dedupe, cap, then report limit hits.
    ``on_docs`` False: the check does not look at plain documentation (a README, a LICENSE)."""

    def run(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
        if not on_docs and is_documentation(ctx.path, doc):
            return
        scan = scan_of(doc, ctx)
        counts: dict[str, int] = {}
        for v in dedupe(check(doc, ctx, scan)):
            n = counts.get(v.code, 0) + 1
            counts[v.code] = n
            if n <= MAX_PER_RULE:
                yield v
        for code, n in counts.items():
            if n > MAX_PER_RULE:
                yield Violation(f"{n - MAX_PER_RULE} more like this in the file (only the first {MAX_PER_RULE} "
                                "are listed)", code=code)
        yield from scan.drain()

    run.__name__ = getattr(check, "__name__", "check")
    return run


def _wrap_quick(quick: ScanQuick, on_docs: bool) -> Callable[[Document, RuleContext], bool]:
    """The rule's pre-filter with the file's shared scan; a limit hit not yet reported (X071) always
    lets the check run, since whichever check runs first reports it."""

    def may_report(doc: Document, ctx: RuleContext) -> bool:
        if not on_docs and is_documentation(ctx.path, doc):
            return False
        scan = scan_of(doc, ctx)
        return quick(doc, ctx, scan) or scan.pending()

    may_report.__name__ = getattr(quick, "__name__", "quick")
    return may_report


def security_rule(code: str, name: str, rating: SecuritySeverity | None, summary: str, doc: RuleDoc,
                  check: ScanCheck, *, severity: Severity | None = None, formats: frozenset[str] | None = None,
                  also_emits: tuple[str, ...] = (), on_docs: bool = True, quick: ScanQuick | None = None) -> Rule:
    """A SECURITY-level rule that also runs on files that did not parse (hostile input often doesn't).
    ``on_docs`` False: not on plain documentation (privacy and markup rules; see security/docs.py).
    ``quick``: the check's pre-filter, False only when the check would report nothing."""
    sev = severity if severity is not None else (rating.severity if rating is not None else Severity.INFO)
    return Rule(code, name, Level.SECURITY, sev, summary, doc, _wrap(check, on_docs), formats=formats,
                security=rating, needs_unparsed=True, also_emits=(*also_emits, LIMIT_CODE),
                quick=_wrap_quick(quick, on_docs) if quick is not None else None)
