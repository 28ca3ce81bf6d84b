"""What the security rules look at, extracted once per file: texts, decoded payloads, a time budget.

Every security rule gets the same :class:`Document`; walking a 4 MB Vital preset or decoding
its base64 once per rule would multiply the cost by the number of rules, so :func:`scan_of`
keeps one :class:`Scan` for the document being checked (the pipeline checks one file at a
time per process) and builds each view lazily. Walks are iterative and bounded; a bound or
the per-file time budget being hit is recorded and reported once as ``X071`` by whichever
rule drains it first, so a file that could not be fully scanned is never reported clean.
"""

from __future__ import annotations

import re
import sys
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from presetctl.engine.formats.base import Document
from presetctl.engine.model import NOWHERE, Location, Preset, Violation
from presetctl.engine.options import Limits
from presetctl.engine.pointer import Link, from_link
from presetctl.engine.rules.base import RuleContext
from presetctl.engine.security.unpack import Decoded, Unpacker, text_of
from presetctl.engine.speedups import compiled

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

LIMIT_CODE = "X071"
MAX_NODES = 2_000_000  # JSON values or XML elements walked per file
CHECK_EVERY = 4096  # nodes between two looks at the clock
# Key or attribute names whose string values are file references (compared lowercased, as substrings).
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")  # such values hold nothing to find
_NUMERIC_START = frozenset("0123456789-+.")
_PATH_WORDS = ("path", "file", "dir", "folder", "url", "uri", "href", "src", "location")


@dataclass(frozen=True, slots=True)
class Text:
    """One piece of text from the file.

    ``role``: ``key`` (a JSON key), ``value`` (a string value or XML attribute/text), ``path`` (a
    value in a field that names a file), ``filename`` (the file's own name), ``entry`` (an archive
    member's name), ``decoded`` (text found inside base64 or compressed data).
    """

    location: Location
    text: str
    role: str


_Link = Link
_pointer = from_link


SKIP_CHECK_MIN = 16  # members a container needs before all_dull() is worth its fixed cost
# With the compiled pass that cost is a small serialization: containers from 4 members are checked,
# objects too (an effect's settings, a preset's audio block), and none below a check that failed, so
# no byte is serialized twice; the Python pass checks lists from 16 members, as it always has.
_WALK_CHECK_MIN = 4 if compiled is not None else SKIP_CHECK_MIN
_WALK_CHECK_DICTS = compiled is not None
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_MARK = bytes.maketrans(_LETTERS + b"0123456789", b"a" * len(_LETTERS) + b"0" * 10)  # letters: a, digits: 0
_ZERO_AS_A = bytes.maketrans(b"0", b"a")
_LONG_IDENT = b'"' + b"a" * 24


def all_dull(node: dict[Any, Any] | list[Any]) -> bool:
    """True only when every string and key inside ``node`` is :func:`dull`, decided in C.

    In orjson's compact output a short ASCII identifier is written byte for byte between quotes,
    and a closing quote is followed by ``:``, ``,``, ``]`` or ``}``. So with letters marked ``a``
    and digits ``0``: every string starts with a letter when half the quotes are followed by
    ``a``; with identifier characters deleted, a string of nothing else is left as ``""``, while
    any other character, escape or non-ASCII byte leaves a quote with no quote beside it; and no
    string runs to 24 identifier characters when ``"`` and 24 of them never occur in a row.
    False means "walk it", never "something is there" (an unserializable value gives False too).
    """
    try:
        text = orjson.dumps(node)
    except TypeError:  # non-string keys, integers past 64 bits, nesting past 255: walk it instead
        return False
    return dull_text(text)


def dull_text(text: bytes) -> bool:
    """:func:`all_dull` of the container whose orjson serialization is ``text``: one compiled pass
    when the extension is built (exact: every string a :func:`dull` one), else :func:`dull_text_python`."""
    if compiled is not None:
        return compiled.dull_text(text)
    return dull_text_python(text)


def dull_text_python(text: bytes) -> bool:
    """:func:`dull_text` in C-speed steps of the standard library (conservative: True only when every
    string is dull, False sometimes when they all are)."""
    marked = text.translate(_MARK)
    rest = marked.translate(None, b"a0")  # a few KB: the quotes are counted here, not in ``marked``
    quotes = rest.count(b'"')
    if rest.count(b'""') * 2 != quotes or 2 * marked.count(b'"a') != quotes:
        return False
    return _LONG_IDENT not in marked.translate(_ZERO_AS_A)


def compact_slices(root: dict[Any, Any], body: bytes) -> dict[int, bytes]:
    """The serialization of the longest large list directly in ``root`` (by ``id``), cut out of
    ``body``, the file's text when that is orjson's compact form of ``root`` (``DocumentFacts.compact``).

    orjson writes a dict as ``{`` + ``"key":value`` items joined by ``,`` + ``}``. So the members
    before the list, written as a dict of their own, are as long as the text up to the list's key
    (their ``}`` stands for the ``,`` after them), and those after it as long as the text after the
    list (their ``{`` stands for the ``,`` before them): two small serializations place the cut, and
    :func:`all_dull` need not serialize the parameter list the parser just read. Empty when there
    is no such list or the cut does not look like one (then nothing changes).
    """
    large = [(len(v), k) for k, v in root.items() if type(v) is list and len(v) >= SKIP_CHECK_MIN]
    if not large:
        return {}
    target = max(large)[1]
    items = list(root.items())
    at = next(i for i, (k, _) in enumerate(items) if k == target)
    try:
        before = orjson.dumps(dict(items[:at])) if at else b"{"
        after = orjson.dumps(dict(items[at + 1 :])) if at + 1 < len(items) else b"}"
        key = orjson.dumps(target)
    except TypeError:
        return {}
    start = len(before) + len(key) + 1  # and the colon
    end = body.rindex(b"}") + 1 - len(after)  # the compact form ends at the last "}" (whitespace may follow)
    text = body[start:end]
    if text[:1] != b"[" or text[-1:] != b"]" or body[end : end + 1] not in (b",", b"}"):
        return {}
    return {id(root[target]): text}


def dull(text: str) -> bool:
    """A short ASCII identifier (``osc_1_level``, ``Bass``): nothing any security rule looks for can be
    in it, and skipping it keeps Vital's 800 keys per preset cheap. Long ones may be base64."""
    return len(text) < 24 and text.isascii() and text.isidentifier()


@lru_cache(maxsize=8192)
def is_path_field(name: object) -> bool:
    if not isinstance(name, str):
        return False
    low = name.lower()
    return any(w in low for w in _PATH_WORDS)


class Joined:
    """Texts joined by blank lines: one C-level regex pass over all of them instead of one call per
    text (a Surge patch has thousands of attributes); matches are mapped back to their text."""

    SEP = "\n\n"

    def __init__(self, items: list[Text]) -> None:
        self.items = items
        self.starts: list[int] = []
        pos = 0
        for t in items:
            self.starts.append(pos)
            pos += len(t.text) + len(self.SEP)
        self.text = self.SEP.join(t.text for t in items)

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    def mentions(self, *needles: str) -> bool:
        """Whether any (lowercase) needle occurs: a memchr-speed filter before a slower regex pass."""
        low = self.lower
        return any(n in low for n in needles)

    def owner(self, pos: int) -> Text:
        return self.items[bisect_right(self.starts, pos) - 1]

    def hits(self, pattern: re.Pattern[str]) -> Iterator[tuple[Text, re.Match[str]]]:
        for m in pattern.finditer(self.text):
            yield self.owner(m.start()), m

    def owners_of(self, pattern: re.Pattern[str]) -> Iterator[Text]:
        """Each text with at least one match, once, in order."""
        last = -1
        for m in pattern.finditer(self.text):
            i = bisect_right(self.starts, m.start()) - 1
            if i != last:
                last = i
                yield self.items[i]


class Scan:
    """Per-document state shared by the security rules: budget, limit hits, cached views."""

    def __init__(self, doc: Document, ctx: RuleContext) -> None:
        self.limits: Limits = ctx.options.limits
        self.deadline = time.monotonic() + self.limits.file_seconds
        self._doc = doc
        self._ctx = ctx
        self._hits: list[Violation] = []
        self._hit_keys: set[str] = set()
        self._texts: list[Text] | None = None
        self._unpacker: Unpacker | None = None
        self._decoded_texts: list[Text] | None = None
        self._base64: set[int] = set()  # ids of the text strings that were base64
        self.memo: dict[str, Any] = {}  # other per-file results a rule module computes once for several rules

    @property
    def document(self) -> Document:
        return self._doc

    # -- budget and limits -------------------------------------------------------------------
    def expired(self) -> bool:
        if time.monotonic() <= self.deadline:
            return False
        self.hit("time", f"the {self.limits.file_seconds:g} s scan time budget for one file ran out; "
                 "the rest of the file was not scanned")
        return True

    def hit(self, key: str, message: str, location: Location = NOWHERE) -> None:
        """Record a limit hit (once per key); it is reported by the next :meth:`drain`."""
        if key not in self._hit_keys:
            self._hit_keys.add(key)
            self._hits.append(Violation(message, location, code=LIMIT_CODE))

    def pending(self) -> bool:
        """Whether a limit hit waits to be reported."""
        return bool(self._hits)

    def drain(self) -> Iterator[Violation]:
        """Limit hits not reported yet (each rule ends with this; the first one reports them)."""
        hits, self._hits = self._hits, []
        yield from hits


    # -- views -----------------------------------------------------------------------------------
    def texts(self) -> list[Text]:
        """Every text of the file: its name, JSON strings and keys, XML attributes and text,
        loader-declared texts, preset fields of binary formats, archive member names."""
        if self._texts is None:
            self._texts = list(self._extract())
        return self._texts

    def unpacked(self) -> Unpacker:
        """Base64 strings, blobs and compressed content decoded (bounded), with archive facts."""
        if self._unpacker is None:
            up = Unpacker(self.limits, self)
            up.add_file(self._doc.data)
            decoded_at: set[tuple[str, str]] = set()  # blob locations the loader decoded already
            for blob in self._doc.facts.blobs:
                if self.expired():
                    break
                if up.add_blob(blob):
                    decoded_at.add((blob.location.pointer, blob.location.entry))
            for t in self.texts():
                if t.role in ("value", "path") and len(t.text) >= 24:
                    if self.expired():
                        break
                    where = (t.location.pointer, t.location.entry)
                    if where in decoded_at or up.add_base64(t.location, t.text):
                        self._base64.add(id(t.text))
            up.finish()
            self._unpacker = up
        return self._unpacker

    def joined(self, decoded: bool = True) -> Joined:
        """All texts except base64 ones (with or without decoded text) as one string, for one regex pass.

        A string counts as base64 only when it actually decoded: text that merely looks like base64
        but hides something else in the middle is scanned as text."""
        key = "joined True" if decoded or not self.decoded_texts() else "joined False"  # nothing decoded: one view
        cached = self.memo.get(key)
        if not isinstance(cached, Joined):
            texts = (*self.texts(), *self.decoded_texts()) if decoded else self.texts()
            self.unpacked()  # base64 texts are scanned decoded, never as text (their bytes are noise)
            cached = Joined([t for t in texts if id(t.text) not in self._base64])
            self.memo[key] = cached
        return cached

    def decoded(self) -> list[Decoded]:
        return self.unpacked().decoded

    def decoded_texts(self) -> list[Text]:
        """Decoded payloads that are text (a tuning file in base64, a JSON preset in a zip)."""
        if self._decoded_texts is None:
            out = []
            for d in self.decoded():
                text = text_of(d.data)
                if text is not None:
                    out.append(Text(d.location, text, "decoded"))
            self._decoded_texts = out
        return self._decoded_texts

    # -- extraction --------------------------------------------------------------------------------
    def _extract(self) -> Iterator[Text]:
        doc = self._doc
        yield Text(NOWHERE, self._ctx.path.name, "filename")
        raw = doc.raw
        if isinstance(raw, (dict, list)):
            yield from self._walk_json(raw)
        elif is_xml_element(raw):
            yield from self._walk_xml(raw)
        else:
            for preset in doc.presets:
                yield from _preset_texts(preset)
        for name, member in doc.facts.members:
            # Bank loaders (vitalbank) keep each member's parsed JSON here; a single file repeats its raw.
            if isinstance(member, (dict, list)) and member is not raw:
                yield from self._walk_json(member, name)
        for loc, value in doc.facts.texts:
            yield Text(loc, value, "path" if is_path_field(loc.pointer.rsplit("/", 1)[-1]) else "value")
        if doc.data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            from presetctl.engine.archive import list_zip  # a zip's only (see unpack.py)

            listing, zf = list_zip(doc.data, self.limits.max_entries)
            if zf is not None:
                zf.close()
            for entry in listing.entries:
                yield Text(Location(entry=entry.name), entry.name, "entry")

    def _walk_json(self, raw: Any, entry: str = "") -> Iterator[Text]:
        """Strings and keys of a JSON value; only containers go on the stack (most values are numbers).

        Pointers are built only for the texts yielded (a link chain stands in for them meanwhile),
        and a large container below the root whose re-serialization holds no text worth yielding
        (:func:`all_dull`, C speed) is skipped whole: in a clean preset that is the parameter list.
        """
        if isinstance(raw, str):
            yield Text(Location(entry=entry), raw, "value")
            return
        if self.expired():
            return
        # (container, link to it, may it be skipped after a check); the root is never checked (it holds
        # the preset's name), and with the compiled pass a failed check is not repeated below it.
        stack: list[tuple[Any, _Link, bool]] = [(raw, None, True)]
        check_min, check_dicts = _WALK_CHECK_MIN, _WALK_CHECK_DICTS
        doc = self._doc
        sliced = (compact_slices(raw, doc.data[3:] if doc.data.startswith(b"\xef\xbb\xbf") else doc.data)
                  if doc.facts.compact and raw is doc.raw and type(raw) is dict else {})
        nodes = 0
        next_look = CHECK_EVERY
        while stack:
            node, link, may_skip = stack.pop()
            size = len(node)
            if may_skip and size >= check_min and link is not None and (check_dicts or type(node) is list):
                text = sliced.get(id(node))
                if dull_text(text) if text is not None else all_dull(node):
                    continue
                may_skip = not check_dicts
            nodes += size + 1
            if nodes > MAX_NODES:
                self.hit("nodes", f"more than {MAX_NODES} JSON values; the rest were not scanned",
                         Location(pointer=_pointer(link)))
                return
            if nodes >= next_look:
                next_look = nodes + CHECK_EVERY
                if self.expired():
                    return
            if type(node) is dict:
                for k, v in node.items():
                    kind = type(v)
                    if kind is str:
                        if not (len(v) < 24 and v.isascii() and v.isidentifier()):  # dull(v), inlined: hot loop
                            yield Text(Location(pointer=_pointer((link, k)), entry=entry), v,
                                       "path" if is_path_field(k) else "value")
                    elif kind is dict or kind is list:
                        stack.append((v, (link, k), may_skip))
                    if type(k) is str and not (len(k) < 24 and k.isascii() and k.isidentifier()):
                        yield Text(Location(pointer=_pointer((link, k)), entry=entry), k, "key")
            else:
                for i, v in enumerate(node):
                    kind = type(v)
                    if kind is str:
                        if not (len(v) < 24 and v.isascii() and v.isidentifier()):
                            yield Text(Location(pointer=_pointer((link, i)), entry=entry), v, "value")
                    elif kind is dict or kind is list:
                        stack.append((v, (link, i), may_skip))

    def _walk_xml(self, root: Element) -> Iterator[Text]:
        stack: list[tuple[Element, str]] = [(root, "/" + _tag(root))]
        nodes = 0
        while stack:
            elem, path = stack.pop()
            nodes += 1
            if nodes % CHECK_EVERY == 0 and self.expired():
                return
            if nodes > MAX_NODES:
                self.hit("nodes", f"more than {MAX_NODES} XML elements; the rest were not scanned", Location(pointer=path))
                return
            tag = _tag(elem)
            for name, value in elem.attrib.items():
                if not value or dull(value) or (value[0] in _NUMERIC_START and _NUMBER.fullmatch(value)):
                    continue
                role = "path" if is_path_field(name) or is_path_field(tag) else "value"
                yield Text(Location(pointer=f"{path}/@{name}"), value, role)
            if elem.text and not elem.text.isspace():
                yield Text(Location(pointer=path), elem.text, "path" if is_path_field(tag) else "value")
            for child in reversed(elem):
                stack.append((child, f"{path}/{child.tag if isinstance(child.tag, str) else '#node'}"))
                if child.tail and not child.tail.isspace():
                    yield Text(Location(pointer=path), child.tail, "value")


def is_xml_element(raw: object) -> bool:
    """An XML loader's root element. Only the XML loaders import the XML library, so a run that met
    no XML file has no element to find, and does not import the library here (start-up)."""
    etree = sys.modules.get("xml.etree.ElementTree")
    return etree is not None and isinstance(raw, etree.Element)


def _tag(elem: Element) -> str:
    return elem.tag if isinstance(elem.tag, str) else "#node"


def _preset_texts(p: Preset) -> Iterator[Text]:
    for field_name in ("name", "author", "category", "description", "license", "synth", "synth_version"):
        value = getattr(p, field_name)
        if isinstance(value, str) and value:
            yield Text(p.location(field_name), value, "value")
    for tag in p.tags:
        yield Text(p.location("tags"), tag, "value")
    for asset in p.assets:
        if asset.path:
            yield Text(Location(voice=p.index), asset.path, "path")


def scan_of(doc: Document, ctx: RuleContext) -> Scan:
    """The scan state of ``doc``: created by the first security rule that sees the document and
    kept in the file's rule context, which every check of that file shares."""
    scan = ctx.memo.get("security-scan")
    if not isinstance(scan, Scan) or scan.document is not doc:
        scan = Scan(doc, ctx)
        ctx.memo["security-scan"] = scan
    return scan


def dedupe(violations: Iterator[Violation]) -> Iterator[Violation]:
    """The same finding twice (a text seen through two routes) is reported once."""
    seen: set[tuple[str, str, str]] = set()
    for v in violations:
        key = (v.code, v.location.render(), v.message)
        if key not in seen:
            seen.add(key)
            yield v
