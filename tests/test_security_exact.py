"""The path, privacy and archive rules word for word: each message, where it points and what it
names, for every role a text can have (a value, a file field, a key, the file name, an archive
member's name, data decoded from base64). Documents are built by hand, as in test_security_rules.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import PurePosixPath
from typing import Any

import pytest

from presetctl.engine.formats.base import Blob, Document, DocumentFacts
from presetctl.engine.model import Location
from presetctl.engine.options import Options
from presetctl.engine.rules.base import Level, RuleContext
from presetctl.engine.rules.registry import RULES

SECURITY = tuple(r for r in RULES if r.level is Level.SECURITY and r.check is not None)
OPTIONS = Options(levels=frozenset({"security", "file", "parse"}))
Found = tuple[str, str, str, object]


def scan(doc: Document, path: str = "pack/Preset.json") -> list[Found]:
    ctx = RuleContext(PurePosixPath(path), OPTIONS)
    return [(r.code, v.message, v.location.render(), v.data) for r in SECURITY for v in r.check(doc, ctx)]  # type: ignore[misc]


def jdoc(raw: Any, **facts: Any) -> Document:
    return Document("presetctl", json.dumps(raw).encode(), raw=raw, text=True, facts=DocumentFacts(locator="json", **facts))


@pytest.mark.parametrize(("raw", "expected"), [
    ({"sample": {"path": "../x.wav"}}, [("X001", "path '../x.wav' climbs out of its folder with '..'", "/sample/path", None)]),
    ({"sample": {"path": "a\\..\\x.wav"}},
     [("X001", "path 'a\\..\\x.wav' climbs out of its folder with '..'", "/sample/path", None)]),
    ({"sample": {"path": "C:\\Samples\\k.wav"}},
     [("X002", "absolute Windows path 'C:\\Samples\\k.wav' points outside the pack", "/sample/path", None)]),
    ({"sample": {"path": "/Users/a/k.wav"}},
     [("X002", "absolute path '/Users/a/k.wav' points outside the pack", "/sample/path", None),
      ("X006", "user folder path '/Users/a' in the text reveals the user name 'a'", "/sample/path", {"user": "a"})]),
    ({"comments": "/etc/passwd"}, [("X002", "absolute path '/etc/passwd' points outside the pack", "/comments", None)]),
    ({"comments": "/not/a-path"}, []),  # not path-shaped outside a file field
    ({"sample": {"path": "\\\\host\\share\\k.wav"}},
     [("X003", "network path '\\\\host\\share\\k.wav': loading it contacts another machine (and may send the "
               "user's Windows credentials)", "/sample/path", None)]),
    ({"sample": {"path": "https://example.com/t.wav"}},
     [("X004", "https: URI 'https://example.com/t.wav' in a file field points outside the pack", "/sample/path", None)]),
    ({"sample": {"path": "C:/t.wav"}},  # a drive letter is no URI scheme
     [("X002", "absolute Windows path 'C:/t.wav' points outside the pack", "/sample/path", None)]),
    ({"comments": "see file:///etc/passwd now"},
     [("X004", "file: URI 'file:///etc/passwd' in the text points outside the pack", "/comments", None)]),
    ({"comments": "visit http://example.com/x today"}, [("X005", "URL 'http://example.com/x' in the text", "/comments", None)]),
    ({"comments": "https://creativecommons.org/licenses/by/4.0/"}, []),  # a licence deed
    ({"$schema": "https://example.com/schema.json"}, []),  # the format a JSON file follows
    ({"comments": "C:\\Users\\green\\Music\\x.scl"},
     [("X002", "absolute Windows path 'C:\\Users\\green\\Music\\x.scl' points outside the pack", "/comments", None),
      ("X006", "user folder path 'C:\\Users\\green' in the text reveals the user name 'green'", "/comments",
       {"user": "green"})]),
    ({"comments": "tuned in C:\\Users\\Public\\x.scl"}, []),  # not a user's name
    ({"comments": "mail alice@example.com or bob@example.org"},
     [("X007", "e-mail address 'alice@example.com' in the text", "/comments", None),
      ("X007", "e-mail address 'bob@example.org' in the text", "/comments", None)]),
    ({"comments": "a@b and @ alone"}, []),
    ({"metadata": {"alice@example.com": 1}},
     [("X007", "e-mail address 'alice@example.com' in a key", "/metadata/alice@example.com", None)]),
])
def test_messages_and_locations(raw: Any, expected: list[Found]) -> None:
    assert scan(jdoc(raw)) == expected


def test_the_file_name_is_a_text_too() -> None:
    assert scan(jdoc({"a": 1}), "pack/by alice@example.com.json") == [
        ("X007", "e-mail address 'alice@example.com.json' in the file name", "", None)]


def test_data_decoded_from_base64_is_scanned_and_named() -> None:
    blob = Blob(Location(pointer="/b"), "tuning", lambda: b"! C:\\Users\\green\\x.scl\nmail carol@example.com\n", 10)
    assert scan(jdoc({"b": "x"}, blobs=(blob,))) == [
        ("X006", "user folder path 'C:\\Users\\green' in decoded embedded data reveals the user name 'green'", "/b",
         {"user": "green"}),
        ("X007", "e-mail address 'carol@example.com' in decoded embedded data", "/b", None)]


def test_archive_member_names() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ("bob@example.com.txt", "../up.txt", "C:/x.txt", "a\\..\\b.txt", "//host/x.txt", "ok/..name.txt",
                     "ok/name..txt"):
            zf.writestr(name, b"x")
    doc = Document("vital-bank", buf.getvalue(), raw=None, text=False, facts=DocumentFacts())
    assert scan(doc, "pack/B.vitalbank") == [
        ("X007", "e-mail address 'bob@example.com.txt' in an archive member name", "entry bob@example.com.txt", None),
        ("X030", "archive member '../up.txt' extracts outside the target folder (zip slip)", "entry ../up.txt", None),
        ("X030", "archive member 'C:/x.txt' extracts outside the target folder (zip slip)", "entry C:/x.txt", None),
        ("X030", "archive member 'a\\..\\b.txt' extracts outside the target folder (zip slip)", "entry a\\..\\b.txt", None),
        ("X030", "archive member '//host/x.txt' extracts outside the target folder (zip slip)", "entry //host/x.txt",
         None),
    ]
