"""Codes emitted by discovery, reading and parsing rather than by a rule check.

They are registered like every rule so that they are documented, selectable, and their
severity can be overridden; their ``check`` is None because the engine itself emits them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from presetctl.engine.fix import fields
from presetctl.engine.fix.edits import FixAction, FixContext, Splice
from presetctl.engine.fix.toolkit import target
from presetctl.engine.fix.writers import json_text
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Severity, Violation
from presetctl.engine.rules.base import Fix, FixSafety, Level, Rule, RuleContext, RuleDoc

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


def _recognized(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    yield Violation(f"recognized as {doc.format}; presetctl does not validate this format in depth")


RECOGNIZED_FORMATS = frozenset({"fxp", "syx", "zyn-xiz", "uhe-h2p", "ableton"})


# --- fixes ------------------------------------------------------------------------------------

def fix_bom(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    if not doc.data.startswith(fields.BOM) or not violations:
        return []
    return [FixAction("F009", "removed the UTF-8 byte order mark", violations[0].location,
                      (Splice(0, 3, b""),), targets=tuple(target(v) for v in violations))]


def fix_duplicate_keys(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    body = fields.json_body(doc)
    if body is None or not violations:
        return []
    text, shift = body
    removals = json_text.duplicate_removals(text)
    if not removals:
        return []
    keys = ", ".join(repr(k) for k in dict.fromkeys(k for k, _ in removals))
    return [FixAction("P002", f"removed earlier occurrences of duplicate keys {keys} (the last value stays)",
                      violations[0].location, tuple(fields.shifted(s, shift) for _, s in removals),
                      targets=tuple(target(v) for v in violations))]


RULES = (
    Rule("F001", "empty-file", Level.FILE, E, "File is empty",
         RuleDoc("Reports a preset file with no content (or only white space).",
                 "A synth shows an empty file as a broken preset, or silently skips it; either way the "
                 "pack ships something that is not a sound.",
                 "`Bass 01.json` of 0 bytes", "Delete the file or export the preset again.")),
    Rule("F002", "file-too-large", Level.FILE, E, "File is over the size limit and was not read",
         RuleDoc("Reports a file larger than `limits.max-file-size` (default 64 MiB). The size is "
                 "checked with lstat before the file is opened, so the file is never read.",
                 "No real preset comes near the limit; a huge file in a pack is a mistake or an attack "
                 "(memory exhaustion in the synth or in tools like this one).",
                 "a 2 GB `.vital` file", "Remove the file, or raise `limits.max-file-size` if it is genuine.")),
    Rule("F003", "symlink-outside-root", Level.FILE, E, "Symlink points outside the checked folder",
         RuleDoc("Reports a symbolic link whose target lies outside the folder given to presetctl. "
                 "The link is never followed.",
                 "A pack that links to `/etc/passwd` or `~/.ssh` makes any tool that follows links read "
                 "or overwrite files outside the pack.",
                 "`Lead.json -> /etc/passwd`", "Replace the link with the file it should contain, or remove it."),
         security=None),
    Rule("F004", "symlink-not-followed", Level.FILE, I, "Symlink inside the folder, not followed",
         RuleDoc("Reports a symbolic link that points inside the checked folder. presetctl never follows "
                 "links; the target is checked where it is.",
                 "Links do not survive zip files, Windows copies or many sync tools: a pack that relies "
                 "on them loses presets on the way to its users.",
                 "`Favourites/Bass.json -> ../Bass/Bass.json`", "Copy the file instead of linking it.")),
    Rule("F005", "broken-symlink", Level.FILE, E, "Symlink is broken or loops",
         RuleDoc("Reports a symbolic link whose target is missing or that forms a loop.",
                 "A broken link is a missing preset; a loop hangs naive tools.",
                 "`a -> b`, `b -> a`", "Remove the link.")),
    Rule("F006", "special-file", Level.FILE, E, "FIFO, device or socket in the pack",
         RuleDoc("Reports an entry that is not a regular file (named pipe, character or block device, "
                 "socket). presetctl never opens it.",
                 "Opening a FIFO blocks forever; reading `/dev/zero` never ends. A pack has no reason "
                 "to contain one.",
                 "`mkfifo pack/Pad.json`", "Remove the entry.")),
    Rule("F007", "unreadable-file", Level.FILE, E, "File or folder cannot be read",
         RuleDoc("Reports a file or folder that exists but cannot be opened or listed (permissions, I/O "
                 "errors, or a file replaced by a link while the run was going on).",
                 "What presetctl cannot read it cannot check, and the synth may not read it either.",
                 "`chmod 000 Bass.json`", "Fix the permissions or remove the file.")),
    Rule("F008", "extension-content-mismatch", Level.FILE, W, "Extension says one format, content another",
         RuleDoc("Reports a file whose content is recognized as a different format than its extension "
                 "names.",
                 "Synths pick a loader by extension: the file will not load, or it is disguised on "
                 "purpose (a `.vital` that is a zip or an executable).",
                 "`Pad.vital` that starts with `PK`", "Rename the file to the extension of its content, or "
                 "export it again in the intended format.")),
    Rule("F009", "utf8-bom", Level.FILE, W, "Text file starts with a UTF-8 byte order mark",
         RuleDoc("Reports a JSON file that begins with the bytes EF BB BF.",
                 "RFC 8259 forbids a BOM in JSON; strict parsers, including the ones inside some synths, "
                 "reject the file.",
                 "a preset saved by Windows Notepad", "Remove the three bytes.",
                 "Safe: the BOM carries no information."),
         fix=Fix(FixSafety.SAFE, "remove the byte order mark", fix_bom)),
    Rule("F010", "invalid-utf8", Level.FILE, E, "Text is not valid UTF-8",
         RuleDoc("Reports a JSON file with a byte sequence that is not UTF-8, with its byte offset.",
                 "JSON must be UTF-8; names in Latin-1 or cp1252 show as garbage or stop the load.",
                 "a name containing byte 0xE9 (é in Latin-1)", "Re-save the file as UTF-8.")),
    Rule("F011", "binary-content", Level.FILE, E, "Binary data where text was expected",
         RuleDoc("Reports a file with a text extension (such as `.json`) whose content is binary.",
                 "The file cannot load as a preset; it may be a disguised payload.",
                 "random bytes named `Keys.json`", "Remove the file or restore the real preset.")),
    Rule("F012", "packaging-junk", Level.FILE, W, "Archiver or file manager leftovers in the pack",
         RuleDoc("Reports, once for the whole run, the files macOS and Windows leave in a pack besides the presets: "
                 "everything in a `__MACOSX/` folder, AppleDouble resource forks (`._Bass.fxp`), `.DS_Store`, "
                 "`Thumbs.db` and `desktop.ini`. They are not loaded as presets (so a `._Bank.syx` is not a "
                 "sysex error of its own); their bytes are still scanned for payloads. The finding sits on the "
                 "first of them and lists the others (JSON `related`).",
                 "Many carry a preset's extension: a synth's browser lists `__MACOSX/._Bass.syx` as a bank that "
                 "will not load (Dexed: \"Unable to find DX7 sysex cartridge\"), and buyers see a broken preset "
                 "for every real one.",
                 "`Pads.zip` made with the macOS Archive Utility: `__MACOSX/Pads/._Warm.vital` beside every preset",
                 "Delete them, and zip packs with `zip -X` or an archiver that leaves them out.")),
    Rule("P001", "invalid-json", Level.PARSE, E, "JSON syntax error",
         RuleDoc("Reports JSON that does not parse, with the line and column where the parser stopped.",
                 "The synth cannot load the preset at all.",
                 '`{"metadata": {"name": "Bass"}` (missing brace)', "Fix the syntax at the reported position.")),
    Rule("P002", "duplicate-key", Level.PARSE, W, "JSON object has a duplicate key",
         RuleDoc("Reports an object in which the same key appears more than once.",
                 "JSON parsers disagree about which value wins (first or last), so the synth and the "
                 "tools that check the pack may see different presets: a classic way to smuggle values "
                 "past a validator.",
                 '`{"name": "Pad", "name": "Evil"}`', "Keep one occurrence of each key.",
                 "Unsafe: the fixer keeps the value the target synth uses (the last), which may not be the "
                 "one the author meant."),
         fix=Fix(FixSafety.UNSAFE, "keep the last occurrence of each duplicate key", fix_duplicate_keys,
                 first=True)),
    Rule("P003", "nesting-beyond-parser-limit", Level.PARSE, E, "JSON nested deeper than parsers allow",
         RuleDoc("Reports JSON nested beyond the parser's depth limit (1,024 levels).",
                 "Deep nesting crashes recursive parsers (stack overflow); no preset needs it.",
                 "`[[[[...]]]]` 100,000 levels deep", "Remove the file; it is not a preset.")),
    Rule("P004", "non-finite-number", Level.PARSE, E, "NaN, Infinity, or a number that overflows a double",
         RuleDoc("Reports `NaN`/`Infinity` literals (not JSON) and numbers too large for a double "
                 "(`1e999999`).",
                 "Non-finite values make synth DSP produce silence, noise or crashes; many parsers "
                 "reject the file outright.",
                 '`{"value": NaN}`', "Replace the value with a finite number in range.")),
    Rule("E001", "internal-error", Level.FILE, E, "presetctl failed on this file (a bug)",
         RuleDoc("Reports an unexpected error inside a loader or a rule while checking this file. The "
                 "run goes on with the other files.",
                 "presetctl could not fully check the file, so it must not be reported as clean.",
                 "", "Report the message to the presetctl maintainers with the file if you can share it.")),
    Rule("E002", "worker-crashed", Level.FILE, E, "Checking this file made a worker process die",
         RuleDoc("Reports a file whose check killed the worker process checking it twice in a row (the "
                 "file was retried alone in a fresh worker): a crash in native code, or the system's "
                 "out-of-memory killer. Other files are not affected: a worker that dies is replaced, and "
                 "the files it held are checked again.",
                 "The file was not checked, so it must not be reported as clean; a file that crashes a "
                 "checker may crash other programs that read it too.",
                 "a bank whose check is killed by the out-of-memory killer on a small CI runner",
                 "Report it to the presetctl maintainers with the file if you can share it; check "
                 "the machine's memory limits (`dmesg` names the OOM killer).")),
    Rule("E003", "budget-exceeded", Level.FILE, W, "The run went over a configured time or memory budget",
         RuleDoc("Reports a run whose wall time (discovery to the end of the pack rules) or peak memory "
                 "(presetctl and its worker processes together, sampled every second from two seconds in) went over "
                 "`[tool.presetctl.budgets]` (`wall-time`, `peak-memory`). One finding per budget, on the "
                 "first target. The run is not stopped; a log record (`PE407`) says the same.",
                 "A CI gate that must finish in a minute, or a runner with little memory, learns that the "
                 "pack outgrew it before the job is killed.",
                 "`wall-time = \"60s\"` and a run of 72 s: \"the run took 72.0 s, over the wall-time budget "
                 "of 60.0 s\"",
                 "Split the run (`--shard K/N` in a CI matrix, docs/ci.md), use more `--jobs`, or raise the "
                 "budget.")),
    Rule("R001", "recognized-not-validated", Level.FILE, I, "Format recognized but not validated in depth",
         RuleDoc("Reports a file in a format presetctl recognizes (another synth's fxp or sysex, "
                 "ZynAddSubFX, u-he, Ableton) but does not validate in depth. Security scanning still "
                 "applies.",
                 "So that every file is accounted for: a file is validated, recognized, or unknown.",
                 "an Ableton `.adg` rack", "Nothing to fix; ignore R001 to hide these."),
         check=_recognized, formats=RECOGNIZED_FORMATS),
)
