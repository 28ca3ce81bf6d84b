"""The one place that makes untrusted text safe to show (presetctl/safe_text.py), character by character.

Every expectation is written out by hand: the escape a terminal user sees, the JSON text a script
reads (checked to decode back to the same string with the standard library).
"""

from __future__ import annotations

import json

import pytest

from presetctl.safe_text import (
    _escape_char,
    csv_cell,
    encodable,
    encodable_tree,
    excerpt,
    json_dumps,
    json_safe,
    visible,
)


@pytest.mark.parametrize(("text", "shown"), [
    ("Pad 1 (soft)", "Pad 1 (soft)"),  # plain text is returned as is
    ("\x1b[31mred", "\\x1b[31mred"),  # a terminal escape sequence cannot start
    ("a\x00b", "a\\x00b"),
    ("tab\there", "tab\\x09here"),
    ("del\x7f", "del\\x7f"),
    ("c1\x9f", "c1\\x9f"),
    ("soft\xadhyphen", "soft\\xadhyphen"),
    ("evil\u202etxt.exe", "evil\\u202etxt.exe"),  # bidi override
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("filler\u3164", "filler\\u3164"),  # printable to Python, shows as nothing
    ("bom\ufeff", "bom\\ufeff"),
    ("tag\U000e0041", "tag\\U000e0041"),  # astral: eight hex digits
    ("name\udcff", "name\\udcff"),  # an undecodable file-name byte (surrogateescape)
    # Not in the unsafe set but not printable either: the slower per-character pass.
    ("nbsp\xa0x", "nbsp\\xa0x"),
    ("wide\u3000space", "wide\\u3000space"),
    ("noncharacter\uffff", "noncharacter\\uffff"),
    ("private\U000f0000", "private\\U000f0000"),
    ("both\x1b\u3000", "both\\x1b\\u3000"),  # one of each kind in one text
    ("Ünïcödé ok 音色 \U0001f3b9", "Ünïcödé ok 音色 \U0001f3b9"),  # printable non-ASCII stays
])
def test_visible_shows_every_unsafe_character_as_an_escape(text: str, shown: str) -> None:
    assert visible(text) == shown


@pytest.mark.parametrize(("code", "escape"), [
    (0x00, "\\x00"), (0xFF, "\\xff"), (0x100, "\\u0100"), (0xFFFF, "\\uffff"), (0x10000, "\\U00010000"),
])
def test_escape_width_changes_exactly_at_the_byte_and_plane_bounds(code: int, escape: str) -> None:
    assert _escape_char(chr(code)) == escape


def test_excerpt_quotes_and_cuts_at_the_limit() -> None:
    assert excerpt("abc") == "'abc'"
    assert excerpt("x" * 80) == "'" + "x" * 80 + "'"  # at the limit: whole, no ellipsis
    assert excerpt("x" * 81) == "'" + "x" * 77 + "'..."  # over it: cut to leave room for the dots
    assert excerpt("abcdef", limit=5) == "'ab'..."
    assert excerpt("\x1b]52;c;AAAA\x07", limit=80) == "'\\x1b]52;c;AAAA\\x07'"


@pytest.mark.parametrize(("value", "cell"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1", "'+1"),
    ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("Pad=1", "Pad=1"),  # only a leading sign starts a formula
    ("\tTab", "\\x09Tab"),  # made visible first, so no longer a formula start
    (-1, "-1"),  # numbers are numbers
    (2.5, "2.5"),
    (None, "None"),
    ("bell\x07", "bell\\x07"),
])
def test_csv_cell_never_starts_a_formula(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_json_safe_escapes_invisible_characters_and_keeps_the_value() -> None:
    text = json.dumps({"n": "a\x7fb\u202ec\U000e0041"}, ensure_ascii=False)
    safe = json_safe(text)
    assert safe == '{"n": "a\\u007fb\\u202ec\\udb40\\udc41"}'  # astral as a UTF-16 surrogate pair
    assert json.loads(safe) == json.loads(text)
    assert json_safe('{"n": "plain \u00e9"}') == '{"n": "plain \u00e9"}'


def test_encodable_spells_lone_surrogates_out() -> None:
    assert encodable("a\udc80b\udcff") == "a\\udc80b\\udcff"
    assert encodable("fine \u00e9") == "fine \u00e9"
    tree = {"k\udc80": ["v\udc81", ("t\udc82", 1), 3, None, {"x": "\udcff"}]}
    assert encodable_tree(tree) == {"k\\udc80": ["v\\udc81", ["t\\udc82", 1], 3, None, {"x": "\\udcff"}]}
    assert encodable_tree("s\udc80") == "s\\udc80"
    assert encodable_tree(2.5) == 2.5


def test_json_dumps_is_indented_or_compact_and_never_raw() -> None:
    assert json_dumps({"a": 1, "b": ["x"]}) == '{\n  "a": 1,\n  "b": [\n    "x"\n  ]\n}'
    assert json_dumps({"a": 1}, indent=False) == '{"a":1}'
    assert json_dumps({"n": "\u202e\udcff"}, indent=False) == '{"n":"\\u202e\\\\udcff"}'
