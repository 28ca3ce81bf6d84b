"""Executables and script payloads hidden in a preset: in the file, in base64, in blobs, in archives.

Executable signatures are checked structurally, not by a two-byte match: ``MZ`` counts only
with a ``PE\\0\\0`` header where its ``e_lfanew`` field points, ELF and Mach-O only with a valid
class/CPU field, ``CAFEBABE`` is told apart as a Java class or a fat Mach-O by the field after
it. Random wavetable bytes contain ``MZ`` every 64 KiB; they never pass these checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Violation
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import CRITICAL, security_rule
from presetctl.engine.security.content import Scan
from presetctl.safe_text import excerpt

# Searched prefixes: Mach-O's four magics share "\xfe\xed\xfa" (big-endian) and "\xfa\xed\xfe" (little-endian,
# one byte in), so five scans cover the seven signatures.
_MAGICS = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xfa\xed\xfe")
MAX_CANDIDATES = 20_000  # signature candidates examined per buffer (MZ is common in noise)
_MACHO_CPUS = {7, 12, 18, 0x01000007, 0x0100000C, 0x01000012}

_SCRIPT = re.compile(
    r"(?P<shebang>^#!\s*/\S+)"
    r"|(?P<powershell>\b(?:powershell|pwsh)(?:\.exe)?\b[^\n]{0,200}?\s[-/]e(?:nc(?:odedcommand)?|c)?\s+[A-Za-z0-9+/=]{8,})"
    r"|(?P<ps_download>\b(?:iex|invoke-expression)\b[^\n]{0,200}\b(?:downloadstring|invoke-webrequest|iwr)\b"
    r"|\bnew-object\s+net\.webclient\b)"
    r"|(?P<cmd>\bcmd(?:\.exe)?\s+/[ck]\s+\S)"
    r"|(?P<wscript>\bwscript\.(?:shell|createobject)\b|\bcreateobject\s*\(\s*[\"']wscript|\b(?:wscript|cscript|mshta|"
    r"rundll32|regsvr32)(?:\.exe)?\s+\S)"
    r"|(?P<unix>\b(?:curl|wget)\b[^\n|]{1,300}\|\s*(?:ba|z|da)?sh\b|\b(?:ba|z|da)?sh\s+-c\s+[\"']|\bnc\s+-e\s+/bin/)",
    re.I | re.M,
)
_SCRIPT_WORDS = ("#!", "powershell", "pwsh", "iex", "invoke-expression", "new-object", "cmd.exe", "cmd /", "wscript",
                 "cscript", "mshta", "rundll32", "regsvr32", "curl", "wget", "sh -c", "nc -e")
_KIND = {"shebang": "a shebang script", "powershell": "a PowerShell encoded command",
         "ps_download": "a PowerShell download-and-run", "cmd": "a cmd.exe command", "wscript": "Windows Script Host",
         "unix": "a shell download-and-run"}


def find_executables(data: bytes) -> Iterator[tuple[int, str]]:
    """(offset, kind) of each executable signature in ``data`` that passes its structural check."""
    found: list[tuple[int, str]] = []
    for magic in _MAGICS:  # bytes.find is memchr-fast; a regex alternation is ten times slower here
        pos = data.find(magic)
        tries = 0
        while pos >= 0 and tries < MAX_CANDIDATES:
            start = pos - 1 if magic == b"\xfa\xed\xfe" else pos
            if start >= 0:
                kind = _identify(data, start, data[start : start + 4])
                if kind:
                    found.append((start, kind))
            tries += 1
            pos = data.find(magic, pos + 1)
    yield from sorted(found)


def executable_at(data: bytes, off: int = 0) -> str:
    """The kind of executable whose header starts at ``off``, or ""."""
    return _identify(data, off, data[off : off + 4])


def _identify(data: bytes, off: int, magic: bytes) -> str:
    if magic[:2] == b"MZ":
        lfanew = int.from_bytes(data[off + 0x3C : off + 0x40], "little")
        if 0x40 <= lfanew <= 0x10000 and data[off + lfanew : off + lfanew + 4] == b"PE\0\0":
            return "Windows PE executable (MZ/PE)"
        return ""
    if magic == b"\x7fELF":
        cls, order, version = data[off + 4 : off + 5], data[off + 5 : off + 6], data[off + 6 : off + 7]
        return "ELF executable" if cls in (b"\x01", b"\x02") and order in (b"\x01", b"\x02") and version == b"\x01" else ""
    if magic == b"\xca\xfe\xba\xbe":
        word = int.from_bytes(data[off + 4 : off + 8], "big")
        minor, major = word >> 16, word & 0xFFFF
        if 45 <= major <= 80 and minor in (0, 0xFFFF):
            return "Java class file"
        if 1 <= word <= 8 and int.from_bytes(data[off + 8 : off + 12], "big") in _MACHO_CPUS:
            return "Mach-O universal binary"
        return ""
    if magic not in (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"):
        return ""
    big = magic[:3] == b"\xfe\xed\xfa"
    cpu = int.from_bytes(data[off + 4 : off + 8], "big" if big else "little")
    ftype = int.from_bytes(data[off + 12 : off + 16], "big" if big else "little")
    return "Mach-O executable" if cpu in _MACHO_CPUS and 1 <= ftype <= 12 else ""


# Bytes without which no signature above can pass its structural check: MZ needs the NULs of its
# "PE\0\0" header, the others start with these bytes. JSON text that parsed holds none of them
# (control characters are escaped, and valid UTF-8 never uses 0xFA or 0xFE), so five memchr
# passes clear it where five searches for the signatures would cost twenty times as much.
_SIGNATURE_BYTES = (b"\0", b"\x7f", b"\xca", b"\xfe", b"\xfa")


def may_hold_executable(data: bytes) -> bool:
    """False only when :func:`find_executables` certainly finds nothing in ``data``."""
    return any(b in data for b in _SIGNATURE_BYTES)


def _may_executable(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return may_hold_executable(doc.data) or bool(scan.decoded())


def _may_script(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return scan.joined().mentions(*_SCRIPT_WORDS)


def check_executable(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for off, kind in find_executables(doc.data):
        yield Violation(f"{kind} inside the file at byte {off}", Location(offset=off))
        if scan.expired():
            return
    for d in scan.decoded():
        for off, kind in find_executables(d.data):
            yield Violation(f"{kind} inside {d.source} data (at byte {off} of the decoded content)", d.location)
        if scan.expired():
            return


def check_script(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    joined = scan.joined()
    if not joined.mentions(*_SCRIPT_WORDS):
        return
    for t, m in joined.hits(_SCRIPT):
        kind = _KIND[m.lastgroup or "cmd"]
        yield Violation(f"{kind} in {'decoded data' if t.role == 'decoded' else 'the text'}: {excerpt(m.group())}",
                        t.location)


RULES = (
    security_rule("X010", "embedded-executable", CRITICAL, "An executable program is embedded in the file",
                  RuleDoc("Reports Windows PE (`MZ` with a `PE\\0\\0` header), ELF, Mach-O and Java class files found "
                          "in the file's bytes or in its decoded content: base64 strings, loader blobs (wavetables, "
                          "samples), gzip streams and archive members.",
                          "A preset has no use for machine code. An executable smuggled inside a preset is waiting for "
                          "a second-stage loader or a parser bug to run it, and antivirus engines rarely look inside "
                          "base64 in a JSON preset.",
                          '`"wave_data": "TVqQAAMAAAAEAAAA..."` (base64 of a PE file)',
                          "Delete the file and get the pack from a trusted source."),
                  check_executable, quick=_may_executable),
    security_rule("X011", "script-payload", CRITICAL, "A shell, PowerShell, cmd or Windows Script payload",
                  RuleDoc("Reports script payloads in any text or decoded content: shebang scripts, PowerShell "
                          "`-enc`/`-EncodedCommand` and download-and-run one-liners, `cmd /c`, Windows Script Host "
                          "(`WScript.Shell`, `mshta`, `rundll32`), `curl ... | sh`.",
                          "No preset field needs a command line. A command in a preset is an attack waiting for a tool "
                          "that evaluates text, or social engineering (\"paste this to install\").",
                          '`"comments": "powershell -enc SQBFAFgA..."`',
                          "Delete the file and get the pack from a trusted source."),
                  check_script, quick=_may_script),
)
