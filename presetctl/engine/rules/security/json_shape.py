"""The shape of parsed documents: nesting depth, absurd numbers, oversized values.

Syntax-level problems are found by the JSON parser itself and reported with their own codes
(``P002`` duplicate keys, ``P003`` nesting past the parser's limit, ``P004`` NaN/Infinity
literals); ``scan-security`` rates those (see ``scope.py``). These rules look at what did parse:
a document can be valid JSON and still be hostile to a synth's parser.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Violation
from presetctl.engine.pointer import Link, from_link
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import HIGH, MEDIUM, security_rule
from presetctl.engine.security.content import MAX_NODES, Scan, is_xml_element
from presetctl.engine.speedups import compiled

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

FLOAT32_MAX = 3.4028234663852886e38  # synths keep parameters in 32-bit floats
EXACT_INT = 2**53  # larger integers are not exact in a double
MAX_ITEMS = 1_000_000  # members of one array or object


_pointer = from_link  # pointers are built only for findings, from (parent, key) links


def _xml_depth(root: Element, scan: Scan) -> tuple[int, str]:
    stack: list[tuple[Element, str, int]] = [(root, "/" + str(root.tag), 1)]
    deepest, where = 0, ""
    nodes = 0
    while stack:
        elem, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            break
        if depth > deepest:
            deepest, where = depth, path
        stack.extend((c, f"{path}/{c.tag}" if depth < 8 else path, depth + 1) for c in elem)
    return deepest, where


# Byte map for the quick pass over JSON text: numbers reduced to their shape, brackets and quotes
# kept, everything else a space. Signs are deleted, so that one search finds a two-digit exponent
# with or without its sign; so are the letters other than e (half of a preset's bytes), which only
# ever joins digits into longer runs (a false alarm, never a miss) and halves what is searched.
_STRUCTURE = b'{}[]"'
_NUMBER_SHAPE = bytes(ord("0") if chr(b).isdigit() else ord("e") if b in b"eE" else b if b in _STRUCTURE else ord(" ")
                      for b in range(256))
_DELETED = b"+-" + bytes(b for b in range(256) if chr(b).isascii() and chr(b).isalpha() and b not in b"eE")


def quick_depth(data: bytes, limit: int) -> int | None:
    """Nesting depth of JSON text when that is plainly all the walk would find, else None: one
    compiled pass when the extension is built (it looks at numbers only, strings being skipped
    whole), else :func:`quick_depth_python`."""
    if len(data) > min(MAX_ITEMS, 1 << 22):
        return None
    if compiled is not None:
        return compiled.json_depth(data, limit)
    return quick_depth_python(data, limit)


def quick_depth_python(data: bytes, limit: int) -> int | None:
    """Nesting depth of JSON text when that is plainly all the walk would find, else None.

    ``data`` is JSON text orjson parsed (every document with ``locator == "json"``): orjson
    rejects the NaN and Infinity literals, so only a number's digits can make it absurd. The
    walk below visits every value in Python (about 0.5 ms for a 20 KB preset). This pass answers
    from the bytes in C-speed steps and is conservative: any number that might be huge (16 digits,
    a two-digit exponent), any escape in a string, or text big enough to hold an oversized value
    sends the document to the walk, which alone reports findings.
    """
    if len(data) > min(MAX_ITEMS, 1 << 22) or b"\\" in data:
        return None
    shape = data.translate(_NUMBER_SHAPE, _DELETED)
    if b"0" * 16 in shape or b"e00" in shape:
        return None
    # Only brackets and quotes are left, and a string without brackets is `""`. Every quote sits in
    # such a pair exactly when no string holds a bracket: a string's opening quote followed by a
    # bracket could only pair with the quote before it, which leaves the first string's opening
    # quote without a partner. Two counts decide it (a replace would copy the text).
    structure = shape.translate(None, b" 0e")
    if structure.count(b'""') * 2 != structure.count(b'"'):
        return None  # a bracket inside a string
    brackets = structure.translate(None, b'"')
    depth = 0
    while brackets and depth <= limit:
        # one nesting level per pass: innermost pairs become a marker first, so a pair they
        # enclose is not removed in the same pass
        brackets = brackets.replace(b"{}", b"\0").replace(b"[]", b"\0").replace(b"\0", b"")
        depth += 1
    return None if brackets else depth


@dataclass
class _Shape:
    """The deepest nesting of a document and its numbers out of bounds, measured once for the rules."""

    deepest: int = 0
    where: str = ""
    numbers: list[Violation] = field(default_factory=list)
    oversized: list[Violation] = field(default_factory=list)


def _shape(doc: Document, scan: Scan) -> _Shape:
    """One walk for the three rules, kept in the scan memo."""
    cached = scan.memo.get("json_shape")
    if isinstance(cached, _Shape):
        return cached
    shape = _Shape()
    scan.memo["json_shape"] = shape
    if is_xml_element(doc.raw):
        shape.deepest, shape.where = _xml_depth(doc.raw, scan)
        return shape
    if not isinstance(doc.raw, (dict, list)):
        return shape
    max_string = scan.limits.max_string
    if doc.facts.locator == "json" and len(doc.data) <= max_string:
        depth = quick_depth(doc.data, scan.limits.max_nesting)
        if depth is not None:
            shape.deepest = depth
            return shape
    stack: list[tuple[Any, int, Link]] = [(doc.raw, 0, None)]
    nodes = 0
    while stack:
        node, depth, link = stack.pop()
        nodes += len(node) + 1
        if nodes > MAX_NODES:
            scan.hit("shape-nodes", f"document shape checked for the first {MAX_NODES} values only",
                     Location(pointer=_pointer(link)))
            break
        if scan.expired():
            break
        if depth + 1 > shape.deepest:
            shape.deepest, shape.where = depth + 1, _pointer(link)
        if len(node) > MAX_ITEMS:
            container = "object" if type(node) is dict else "array"
            shape.oversized.append(Violation(f"{container} of {len(node)} members, over {MAX_ITEMS}",
                                             Location(pointer=_pointer(link))))
        for k, v in node.items() if type(node) is dict else enumerate(node):
            kind = type(v)
            if kind is float:
                if not -FLOAT32_MAX <= v <= FLOAT32_MAX:  # also true for NaN
                    what = (f"non-finite number {v!r}" if not math.isfinite(v)
                            else f"number {v!r} overflows the 32-bit floats synths use (becomes infinity)")
                    shape.numbers.append(Violation(what, Location(pointer=_pointer((link, k)))))
            elif kind is int:
                if not -EXACT_INT <= v <= EXACT_INT:
                    shape.numbers.append(Violation(f"integer {v} is beyond 2^53: parsers disagree about its value",
                                                   Location(pointer=_pointer((link, k)))))
            elif kind is str:
                if len(v) > max_string:
                    shape.oversized.append(Violation(f"string of {len(v)} characters, over limits.max-string "
                                                     f"({max_string})", Location(pointer=_pointer((link, k)))))
            elif kind is dict or kind is list:
                stack.append((v, depth + 1, (link, k)))
    return shape


def _too_deep(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return _shape(doc, scan).deepest > scan.limits.max_nesting


def _has_numbers(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(_shape(doc, scan).numbers)


def _has_oversized(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(_shape(doc, scan).oversized)


def check_nesting(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    shape = _shape(doc, scan)
    limit = scan.limits.max_nesting
    if shape.deepest > limit:
        kind = "XML nested" if is_xml_element(doc.raw) else "JSON nested"
        unit = "elements" if is_xml_element(doc.raw) else "levels"
        yield Violation(f"{kind} {shape.deepest} {unit} deep, over limits.max-nesting ({limit})",
                        Location(pointer=shape.where[:200]))


def check_numbers(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    yield from _shape(doc, scan).numbers


def check_oversized(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    yield from _shape(doc, scan).oversized


RULES = (
    security_rule("X050", "nesting-too-deep", HIGH, "Document nested deeper than a sane depth",
                  RuleDoc("Reports JSON or XML nested deeper than `limits.max-nesting` (default 64). The deepest real "
                          "preset nests about 6 levels.",
                          "Recursive parsers, which most synths use, overflow their stack on deep nesting and crash "
                          "(CVE class of many JSON and XML libraries); no preset needs it.",
                          "`[[[[...]]]]` 10,000 levels deep", "Delete the file; it is not a preset."),
                  check_nesting, quick=_too_deep),
    security_rule("X051", "absurd-number", MEDIUM, "Number is non-finite, overflows float32, or is inexact",
                  RuleDoc("Reports NaN and infinities that a lenient parser accepted, numbers beyond the 32-bit float "
                          "range, and integers beyond 2^53.",
                          "A synth stores parameters as 32-bit floats: these become infinity or NaN, which silences "
                          "or blows up the DSP (and the speakers); parsers also disagree about big integers, so "
                          "validators and synths can see different values.",
                          '`{"osc_1_level": 1e300}`', "Replace the value with one in the parameter's range."),
                  check_numbers, quick=_has_numbers),
    security_rule("X052", "oversized-value", MEDIUM, "A single value is absurdly large",
                  RuleDoc("Reports strings longer than `limits.max-string` (default 16 MiB) and arrays or objects with "
                          f"more than {MAX_ITEMS:,} members.",
                          "Such values exhaust memory in synths that copy them around (and in preset browsers that "
                          "index them); real embedded samples stay well below.",
                          '`"comments": "AAAA..."` of 200 MB', "Remove the value or shrink the embedded data."),
                  check_oversized, quick=_has_oversized),
)
