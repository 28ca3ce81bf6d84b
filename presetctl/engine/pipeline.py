"""Checking one file: read (bounded), detect, load, run the rules, resolve findings.

This is the one per-file path: ``validate`` and ``scan-security`` (``check_file``), the fix
planner before and after each fix (``check_document`` on bytes not yet on disk) and ``stats``
(``load_document`` and ``run_rules``) all go through it. It never raises for a problem in the
file: an unexpected exception inside a loader or rule becomes an ``E001`` finding (with the
rule or loader named), so one bad rule cannot hide a whole pack.
"""

from __future__ import annotations

import errno
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from presetctl.engine.discover import Candidate
from presetctl.engine.formats.base import Document, DocumentFacts, LoadContext
from presetctl.engine.formats.registry import detect, extension_format
from presetctl.engine.junk import is_packaging_junk
from presetctl.engine.model import FileOutcome, FileStatus, Finding, Location, PresetSummary, Violation
from presetctl.engine.options import Limits
from presetctl.engine.recovery import ReadFailed, read_consistent
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.textpos import line_col, locate_pointer

HEAD_BYTES = 4096
UNKNOWN_TEXT_LIMIT = 1 << 20  # unknown files up to this size are scanned as text when they decode


def resolve(rules: RuleSet, path: str, violations: Iterable[Violation], doc: Document | None = None,
            key: str = "") -> tuple[Finding, ...]:
    """Turn violations into findings, in report order: selection, per-file ignores (matched
    against ``key``, the path from the working directory, else ``path``), severity, line/column."""
    out: list[Finding] = []
    for v in violations:
        if not rules.reports(key or path, v.code):
            continue
        rule = rules.rule(v.code)
        line = col = None
        if doc is not None and doc.text:
            line, col = _position(doc, v.location)
        out.append(Finding(
            path=path, code=v.code, severity=rules.severity(v.code), message=v.message,
            location=v.location, line=line, column=col, hint=v.hint or rule.doc.fix.split("\n", 1)[0],
            fixable=rule.fixable, security=rules.security(v.code), rule_name=rule.name, related=v.related,
        ))
    out.sort(key=Finding.sort_key)
    return tuple(out)


def _position(doc: Document, loc: Location) -> tuple[int | None, int | None]:
    if loc.offset is not None:
        return line_col(doc.data, loc.offset)
    if loc.pointer.startswith("/") and doc.facts.locator == "json":
        body = doc.data[3:] if doc.data.startswith(b"\xef\xbb\xbf") else doc.data
        pos = locate_pointer(body, loc.pointer)
        if pos is not None:
            return line_col(body, pos)
    return None, None


def load_document(data: bytes, path: PurePosixPath, limits: Limits) -> tuple[Document, list[Violation]] | None:
    """The file's document and the loader's findings, or None when no loader claims the file.

    The findings are the loader's problems, an ``E001`` when the loader itself crashed (the
    document then counts as unparsed) and ``F008`` when the extension names another format.
    """
    loader = detect(data[:HEAD_BYTES], path)
    if loader is None:
        return None
    found: list[Violation] = []
    try:
        doc = loader.load(data, LoadContext.from_limits(path, limits))
    except Exception as exc:  # noqa: BLE001 - a loader bug must not unwind the run; it becomes a finding
        found.append(Violation(f"internal error in the {loader.format_id} loader: {type(exc).__name__}: {exc}",
                               code="E001"))
        doc = Document(format=loader.format_id, data=data, parsed=False)
    found.extend(doc.problems)
    owner = extension_format(path)
    if owner is not None and owner != doc.format and not _compatible(owner, doc.format):
        found.append(Violation(f"extension {path.suffix!r} says {owner} but the content is {doc.format}",
                               Location(offset=0), code="F008"))
    return doc, found


def unknown_document(data: bytes) -> Document:
    """A file no loader claims is not a preset, but it sits in the pack: the rules that read raw
    content (executables, scripts, spoofed file names) still look at it. A text file (a README,
    a script) is scanned as text; a binary one only for embedded payloads."""
    text = _as_text(data)
    facts = DocumentFacts(texts=((Location(), text),)) if text else DocumentFacts()
    return Document(format="unknown", data=data, parsed=text is not None, validated=False, facts=facts)


def run_rules(doc: Document, ctx: RuleContext, rules: RuleSet, parsed: bool | None = None) -> list[Violation]:
    """Every selected check that applies to ``doc``; a crashing rule becomes an ``E001``."""
    found: list[Violation] = []
    checks = rules.checks_for(doc.format, doc.parsed if parsed is None else parsed, doc.validated)
    clock = rules.clock  # metrics: per-rule time when the run measures it (engine/metrics.py), sampled
    timed = clock is not None and clock.timing(checks)
    for rule in checks:
        assert rule.check is not None
        t0 = time.perf_counter() if timed else 0.0
        try:
            # A pre-filter that proves the check silent spares the generator and the scan of the
            # document; the rule still counts as called (its time is the pre-filter's).
            if rule.quick is None or rule.quick(doc, ctx):
                for v in rule.check(doc, ctx):
                    found.append(v if v.code else Violation(v.message, v.location, rule.code, v.hint, v.data))
        except Exception as exc:  # noqa: BLE001 - a rule bug is reported, the run goes on
            found.append(Violation(f"internal error in rule {rule.code}: {type(exc).__name__}: {exc}", code="E001"))
        if timed and clock is not None:
            clock.add(rule.code, time.perf_counter() - t0)
    return found


@dataclass(frozen=True)
class Checked:
    """One file's document and everything found in it (before selection and per-file ignores)."""

    doc: Document
    violations: tuple[Violation, ...]
    known: bool  # a loader claimed the file

    def keys(self) -> set[tuple[str, str]]:
        return {(v.code, v.location.render()) for v in self.violations}


def check_document(data: bytes, path: PurePosixPath, rules: RuleSet, *, unknown: bool = True) -> Checked:
    """Load ``data`` as the file at ``path`` and run the rules on it. A file no loader claims is
    scanned by the rules that read raw content, unless ``unknown`` is False (nothing to fix)."""
    # Packaging junk (__MACOSX/._Bank.syx) is no preset: scanned like a file in no format, reported once (F012).
    loaded = None if is_packaging_junk(str(path)) else load_document(data, path, rules.options.limits)
    if loaded is None:
        doc = unknown_document(data)
        # Selected as unparsed: only the raw-content (security) rules look at a file in no format.
        found = run_rules(doc, rules.context(path), rules, parsed=False) if unknown else []
        return Checked(doc, tuple(found), known=False)
    doc, found = loaded
    found.extend(run_rules(doc, rules.context(path), rules))
    return Checked(doc, tuple(found), known=True)


def summarize(doc: Document, path: str, sound: bool = True) -> tuple[PresetSummary, ...]:
    """What the pack rules need of ``doc``'s presets, as the file at ``path``. ``sound`` False leaves
    the sound hash empty (no rule of the run compares sounds: see ``Rule.reads_sound``)."""
    return tuple(PresetSummary(path, doc.format, p.name, p.author, p.category, p.sound_hash() if sound else "",
                               p.index, p.tags)
                 for p in doc.presets)


def _status(checked: Checked) -> FileStatus:
    if not checked.known:
        return FileStatus.UNKNOWN
    if not checked.doc.parsed:
        return FileStatus.BROKEN
    return FileStatus.VALIDATED if checked.doc.validated else FileStatus.RECOGNIZED


def check_file(cand: Candidate, rules: RuleSet, want_summaries: bool | None = None, digest: bool = False) -> FileOutcome:
    """``want_summaries`` (default: when a pack rule of the run reads them) adds the presets'
    summaries; computing a sound hash costs more than most rules, so a run without pack rules skips
    them, and one whose pack rules do not compare sounds leaves the hash out (the default set).
    ``digest``: the outcome carries the SHA-256 of the bytes checked (what a cache entry is verified by)."""
    t0 = time.perf_counter()
    if want_summaries is None:
        want_summaries = rules.wants_summaries
    path = cand.display
    try:  # one version of the file: one that changes while it is read is read again (retries are recorded)
        data, incident = read_consistent(cand.path, rules.options.limits.max_file_size, display=path)
    except OverflowError as exc:
        v = Violation(f"file grew to {exc.args[0]} bytes, over the size limit; not read", code="F002")
        return FileOutcome(path, "unknown", FileStatus.SKIPPED, cand.size, findings=resolve(rules, path, [v], key=cand.rel))
    except OSError as exc:
        code = "F003" if exc.errno == errno.ELOOP else "F007"  # ELOOP: the file was swapped for a link
        v = Violation(f"file cannot be read: {exc.strerror or exc}", code=code)
        failed = (exc.incident,) if isinstance(exc, ReadFailed) else ()
        return FileOutcome(path, "unknown", FileStatus.SKIPPED, cand.size, findings=resolve(rules, path, [v], key=cand.rel),
                           incidents=failed)
    checked = check_document(data, PurePosixPath(path), rules)
    doc = checked.doc
    summaries = summarize(doc, path, rules.wants_sound) if want_summaries else ()
    # Line/column come from the loaded text; an unknown file's findings point at offsets or nowhere.
    located = doc if checked.known and checked.violations else None
    findings = resolve(rules, path, checked.violations, located, key=cand.rel)
    return FileOutcome(path, doc.format, _status(checked), len(data), len(doc.presets), findings, summaries,
                       time.perf_counter() - t0, incidents=(incident,) if incident is not None else (),
                       digest=hashlib.sha256(data).hexdigest() if digest else "")


def _as_text(data: bytes) -> str | None:
    if len(data) > UNKNOWN_TEXT_LIMIT or b"\0" in data[:HEAD_BYTES]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _compatible(ext_format: str, content_format: str) -> bool:
    """Formats that legitimately share an extension (.fxp of Surge vs another synth, .syx)."""
    families = ({"surge-fxp", "fxp"}, {"dx7-syx", "syx"}, {"vital", "vitalbank"})
    return any(ext_format in f and content_format in f for f in families)
