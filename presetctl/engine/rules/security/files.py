"""Whole-file facts: content disguised by its extension, scan limits, what the loader could not read.

A file that could not be fully scanned is never reported clean: ``X071`` is emitted by every
security rule that hits a limit (see ``content.Scan.hit``), and ``X072`` carries into
``scan-security`` the problems a loader found (parse failures, bad checksums, sizes that do not
add up) whose own codes are outside the run's selection. Symlinks, special files and oversized
files are found by discovery before any rule runs; ``scope.py`` rates those codes.
"""

from __future__ import annotations

from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Violation
from presetctl.engine.rules.base import Level, Rule, RuleContext, RuleDoc
from presetctl.engine.rules.security.base import HIGH, MEDIUM, security_rule
from presetctl.engine.rules.security.payloads import executable_at
from presetctl.engine.security.content import LIMIT_CODE, Scan
from presetctl.safe_text import visible

# What a preset extension may legitimately hold, by content kind.
_EXPECTED: dict[str, frozenset[str]] = {
    ".vital": frozenset({"text"}), ".vitaltable": frozenset({"text"}), ".vitallfo": frozenset({"text"}),
    ".helm": frozenset({"text"}), ".json": frozenset({"text"}), ".h2p": frozenset({"text"}),
    ".vitalbank": frozenset({"zip"}), ".fxp": frozenset({"binary"}), ".fxb": frozenset({"binary"}),
    ".syx": frozenset({"binary"}), ".xiz": frozenset({"gzip", "text"}), ".xmz": frozenset({"gzip", "text"}),
    ".adg": frozenset({"gzip", "text"}), ".adv": frozenset({"gzip", "text"}),
}
_JSON_STARTS = (b"{", b"[")
_DISGUISES = (
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"\x1f\x8b", "gzip"), (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"), (b"%PDF-", "pdf"), (b"#!", "script"), (b"\x1bLua", "lua-bytecode"),
    (b"\x1bLJ", "lua-bytecode"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"MSCF", "cab"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
)


def content_kind(data: bytes) -> str:
    """What the first bytes say the file is: an executable or container kind, else text/binary."""
    kind = executable_at(data)  # the head only: a search of the whole file is X010's job
    if kind:
        return kind
    for magic, kind in _DISGUISES:
        if data.startswith(magic):
            return kind
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<script", b"<svg")):
        return "html"
    return "text" if b"\x00" not in data[:4096] else "binary"


def _disguise(doc: Document, ctx: RuleContext) -> str:
    """What the content is when its preset extension does not allow it, else ""."""
    data = doc.data
    # JSON text starts with a bracket, which begins no magic, executable header or HTML head:
    # content_kind says "text" or "binary", both allowed here (the common case, one byte looked at).
    if data[:1] in _JSON_STARTS:
        return ""
    expected = _EXPECTED.get(ctx.path.suffix.lower())
    if expected is None or not data:
        return ""
    kind = content_kind(data)
    return "" if kind in ("text", "binary") or kind in expected else kind


def _may_disguise(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(_disguise(doc, ctx))


def check_disguised(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    kind = _disguise(doc, ctx)
    if kind:
        yield Violation(f"a {ctx.path.suffix.lower()} file whose content is {kind}: the extension disguises it",
                        Location(offset=0))


def _may_carry_problems(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return ctx.options.levels is not None and (bool(doc.problems) or not doc.parsed)


def check_loader_problems(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    if ctx.options.levels is None:
        return  # an unrestricted run (validate) reports the loader's codes themselves
    for p in doc.problems:
        if p.code and p.code not in ctx.enabled:  # codes in the selection are reported as themselves
            yield Violation(f"the {doc.format} loader reported {p.code}: {visible(p.message)}", p.location)
    if not doc.parsed and not doc.problems and doc.format != "unknown":  # unknown: not a preset, nothing to parse
        yield Violation(f"the {doc.format} loader could not parse the file", Location())


RULES = (
    security_rule("X070", "disguised-file", HIGH, "File content does not match its preset extension",
                  RuleDoc("Reports a file with a preset extension whose content is an executable, a script, an archive "
                          "(zip, gzip, rar, 7z ...), a PDF, an OLE document, HTML or Lua bytecode where the format does "
                          "not hold one (a `.vital` that starts with `PK` or `MZ`; a `.vitalbank` is expected to be a "
                          "zip).",
                          "The extension decides which program opens a file; a disguised file is either broken or "
                          "built to be opened by the wrong program.",
                          "`Pad.vital` starting with `MZ`", "Delete the file."),
                  check_disguised, quick=_may_disguise),
    Rule(LIMIT_CODE, "scan-limit-hit", Level.SECURITY, MEDIUM.severity,
         "A scan limit was hit: the file was not fully scanned",
         RuleDoc("Reported when scanning a file stopped at a limit: the per-file time budget (`limits.file-seconds`), "
                 "the total decoded size (`limits.max-decompressed`), a member's size (`limits.max-entry-size`), "
                 "archive nesting (`limits.max-recursion`), member count (`limits.max-entries`), or the number of "
                 "values walked. Emitted by the other security rules.",
                 "A file that could not be fully scanned must never be reported clean: whatever lies past the limit "
                 "was not looked at.",
                 "a 60 MB bank whose samples decode past 100 MB",
                 "Inspect the file by hand, or raise the limit in `[tool.presetctl.limits]` if the file is trusted."),
         security=MEDIUM),
    security_rule("X072", "loader-problem", MEDIUM, "The loader could not fully understand the file",
                  RuleDoc("Carries into `scan-security` each problem the file's loader found (a parse failure, a bad "
                          "checksum, a size that does not add up) whose own code is not part of the run's selection. "
                          "Silent under `validate`, which reports those codes themselves.",
                          "A file that cannot be fully understood cannot be called clean: parsers disagree most "
                          "where the input is malformed, which is where exploits live.",
                          "a DX7 bank whose checksum does not match its data",
                          "Export or download the file again; see the loader's own code for details."),
                  check_loader_problems, quick=_may_carry_problems),
)
