"""The path, privacy and archive rules word for word: each message, where it points and what it
names, for every role a text can have (a value, a file field, a key, the file name, an archive
member's name, data decoded from base64). Documents are built by hand, as in test_security_rules.py.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hostile import gzip_lying_bytes, nested_zip_bytes, zip_encrypted_bytes, zip_raw, zip_symlink_bytes

from presetctl.engine.formats.base import Blob, Document, DocumentFacts
from presetctl.engine.model import Location
from presetctl.engine.options import Limits, Options
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


# -- the archive rules (X030-X035) word for word, each limit at and past its bound --------------------------
ARCHIVE_RULES = {"X030", "X031", "X032", "X033", "X034", "X035"}
MIB = 1 << 20


def archive_scan(data: bytes, **limits: int) -> list[tuple[str, str, str]]:
    """(code, message, location) of what the archive rules say about ``data`` as a bank file."""
    options = Options(levels=OPTIONS.levels, limits=Limits(**limits))
    doc = Document("vital-bank", data, raw=None, text=False, facts=DocumentFacts())
    ctx = RuleContext(PurePosixPath("pack/B.vitalbank"), options)
    return [(v.code or r.code, v.message, v.location.render())
            for r in SECURITY if r.code in ARCHIVE_RULES for v in r.check(doc, ctx)]  # type: ignore[misc]


def zipped(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # stored: compressed size == size
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def with_trailer(data: bytes, claimed: int) -> bytes:
    """A gzip stream whose trailer claims ``claimed`` bytes (ISIZE, the last four bytes)."""
    return data[:-4] + claimed.to_bytes(4, "little")


def _noise(n: int) -> bytes:
    return random.Random(n).randbytes(n)  # does not compress: ratio near 1


def overlapping() -> bytes:
    """A zip whose central directory lists one member twice: two members, the same bytes."""
    member = _noise(100)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    one = zip_raw([("a.vital", deflate.compress(member) + deflate.flush(), zlib.crc32(member), len(member), 0)])
    cd_start, eocd = one.index(b"PK\x01\x02"), one.index(b"PK\x05\x06")
    cd = one[cd_start:eocd] * 2
    return (one[:cd_start] + cd + b"PK\x05\x06" + bytes(4) + (2).to_bytes(2, "little") * 2
            + len(cd).to_bytes(4, "little") + cd_start.to_bytes(4, "little") + b"\x00\x00")


def deflated(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


STOP = "X071"  # the scan budget's own finding when inflation stops (not an archive rule; shown for order)
LINK_TAIL = ": extracting it lets later members write through it, or blocks the extractor"


@pytest.mark.parametrize(("data", "limits", "expected"), [
    pytest.param(zip_symlink_bytes(), {}, [
        ("X031", "archive member 'presets' is a symbolic link" + LINK_TAIL, "entry presets"),
        ("X031", "archive member 'pipe' is a device, FIFO or socket" + LINK_TAIL, "entry pipe")], id="link-and-fifo"),
    pytest.param(zip_encrypted_bytes(), {}, [
        ("X033", "archive member 'Secret.vital' is encrypted: it cannot be scanned", "entry Secret.vital")],
        id="encrypted"),
    pytest.param(zipped(*((f"p{i}.vital", b"{}") for i in range(11))), {"max_entries": 10}, [
        (STOP, "scan stopped at the file: more than 10 archive members (limits.max-entries); the rest was not scanned",
         ""),
        ("X032", "more than 10 members (limits.max-entries); not inflated", "")], id="entries"),
    pytest.param(zipped(*((f"p{i}.vital", b"{}") for i in range(10))), {"max_entries": 10}, [], id="entries-at-limit"),
    pytest.param(nested_zip_bytes(4), {"max_recursion": 2}, [
        (STOP, "scan stopped at entry layer3.zip!/layer2.zip: archives nested deeper than 2 (limits.max-recursion); "
               "the rest was not scanned", "entry layer3.zip!/layer2.zip"),
        ("X032", "archives nested more than 2 deep (limits.max-recursion)", "entry layer3.zip!/layer2.zip"),
        ("X034", "zip archive inside another archive, 3 levels in all", "entry layer3.zip")], id="recursion"),
    pytest.param(nested_zip_bytes(2), {}, [("X034", "zip archive inside another archive", "entry layer1.zip")],
                 id="nested-once"),
    pytest.param(zip_raw([("lie.vital", b"", 0, 10 * MIB, 0)]), {}, [
        (STOP, "scan stopped at entry lie.vital: declared sizes over the limits; not inflated; the rest was not "
               "scanned", "entry lie.vital"),
        ("X032", "member declares 10485760 bytes from 0 compressed bytes (ratio 10485760:1); not inflated",
         "entry lie.vital")], id="ratio-from-nothing"),
    pytest.param(zipped(("a.bin", _noise(1000))), {"max_entry_size": 1000}, [], id="member-at-limit"),
    pytest.param(zipped(("a.bin", _noise(1001))), {"max_entry_size": 1000}, [
        (STOP, "scan stopped at entry a.bin: declared sizes over the limits; not inflated; the rest was not scanned",
         "entry a.bin"),
        ("X032", "member declares 1001 bytes from 1001 compressed bytes (ratio 1:1); not inflated", "entry a.bin")],
        id="member-past-limit"),
    pytest.param(zipped(("a.bin", bytes(600)), ("b.bin", bytes(600))), {"max_decompressed": 1200}, [],
                 id="total-at-limit"),
    pytest.param(zipped(("a.bin", bytes(600)), ("b.bin", bytes(601))), {"max_decompressed": 1200}, [
        (STOP, "scan stopped at entry b.bin: more than 1200 bytes inflated from one file (limits.max-decompressed); "
               "the rest was not scanned", "entry b.bin"),
        ("X032", "members declare 1201 bytes in total from 1395 compressed bytes, over limits.max-decompressed (1200)",
         ""),
        ("X032", "compressed data inflates past limits.max-decompressed (1200 bytes); inflation stopped",
         "entry b.bin")], id="total-past-limit"),
    pytest.param(gzip_lying_bytes(2, 1234), {}, [
        (STOP, "scan stopped at the file: inflation ratio over 100:1 (limits.max-ratio); the rest was not scanned", ""),
        ("X032", "compressed data inflates more than 100:1; inflation stopped; its trailer claims 1234 bytes", "")],
        id="gzip-ratio-and-lying-trailer"),
    pytest.param(gzip.compress(_noise(3000), mtime=0), {"max_entry_size": 1000}, [
        (STOP, "scan stopped at the file: a member inflates past 1000 bytes (limits.max-entry-size); the rest was not "
               "scanned", ""),
        ("X032", "compressed data inflates past limits.max-entry-size (1000 bytes); inflation stopped", "")],
        id="gzip-entry-size"),
    pytest.param(with_trailer(gzip.compress(_noise(3000), mtime=0), 1000), {"max_decompressed": 1000}, [
        (STOP, "scan stopped at the file: more than 1000 bytes inflated from one file (limits.max-decompressed); the "
               "rest was not scanned", ""),
        ("X032", "compressed data inflates past limits.max-decompressed (1000 bytes); inflation stopped", "")],
        id="gzip-total-trailer-true-so-far"),  # claims what was inflated: no lie to report
    pytest.param(gzip.compress(bytes(1100), mtime=0), {"max_decompressed": 1000}, [
        (STOP, "scan stopped at the file: more than 1000 bytes inflated from one file (limits.max-decompressed); the "
               "rest was not scanned", ""),
        ("X032", "compressed data inflates past limits.max-decompressed (1000 bytes); inflation stopped", "")],
        id="gzip-total-no-declared-total-finding"),  # a gzip's trailer is no zip central directory
    # inside another archive: each finding points at the inner archive, not at the file
    pytest.param(zipped(("inner.zip", overlapping())), {}, [
        ("X032", "zip members overlap each other (a non-recursive zip bomb)", "entry inner.zip"),
        ("X034", "zip archive inside another archive", "entry inner.zip")], id="nested-overlap"),
    pytest.param(zipped(("inner.zip", zipped(*((f"p{i}.vital", b"{}") for i in range(11))))), {"max_entries": 10}, [
        (STOP, "scan stopped at entry inner.zip: more than 10 archive members (limits.max-entries); the rest was not "
               "scanned", "entry inner.zip"),
        ("X032", "more than 10 members (limits.max-entries); not inflated", "entry inner.zip"),
        ("X034", "zip archive inside another archive", "entry inner.zip")], id="nested-entries"),
    pytest.param(zipped(("inner.zip", deflated(("a.bin", bytes(600)), ("b.bin", bytes(601))))),
                 {"max_decompressed": 1000}, [
        (STOP, "scan stopped at entry inner.zip!/b.bin: more than 1000 bytes inflated from one file "
               "(limits.max-decompressed); the rest was not scanned", "entry inner.zip!/b.bin"),
        ("X032", "members declare 1201 bytes in total from 212 compressed bytes, over limits.max-decompressed (1000)",
         "entry inner.zip"),
        ("X032", "compressed data inflates past limits.max-decompressed (1000 bytes); inflation stopped",
         "entry inner.zip!/b.bin"),
        ("X034", "zip archive inside another archive", "entry inner.zip")], id="nested-declared-total"),
    pytest.param(gzip.compress(_noise(3000), mtime=0)[:-100], {}, [
        (STOP, "scan stopped at the file: content could not be decoded (truncated); the rest was not scanned", ""),
        ("X035", "gzip data cannot be read: truncated", ""),
        ("X035", "compressed data is damaged (truncated); the rest was not scanned", "")], id="gzip-truncated"),
    pytest.param(b"PK\x03\x04" + bytes(40), {}, [
        (STOP, "scan stopped at the file: content could not be decoded (not a readable zip: File is not a zip file); "
               "the rest was not scanned", ""),
        ("X035", "zip data cannot be read: not a readable zip: File is not a zip file", "")], id="zip-unreadable"),
])
def test_archive_rules_word_for_word(data: bytes, limits: dict[str, int], expected: list[tuple[str, str, str]]) -> None:
    assert archive_scan(data, **limits) == expected


def test_archive_rules_run_through_the_engine_for_a_bank_without_any_stop(tmp_path: Path) -> None:
    """The pre-filters (quick checks) let the archive rules run when a bank has archives but nothing stopped."""
    from presetctl.engine.runner import run
    from presetctl.engine.security.scope import scan_options

    (tmp_path / "Links.vitalbank").write_bytes(zip_symlink_bytes())
    (tmp_path / "Overlap.vitalbank").write_bytes(overlapping())  # a bomb finding with no inflation stopped
    result = run(["."], scan_options(Options()), command="scan-security", cwd=str(tmp_path))
    found = sorted((f.path, f.code, f.message) for f in result.findings if f.code in ARCHIVE_RULES)
    assert found == [
        ("Links.vitalbank", "X031", "archive member 'pipe' is a device, FIFO or socket" + LINK_TAIL),
        ("Links.vitalbank", "X031", "archive member 'presets' is a symbolic link" + LINK_TAIL),
        ("Overlap.vitalbank", "X032", "zip members overlap each other (a non-recursive zip bomb)")]


# -- what counts as a path, at its edges ----------------------------------------------------------------
ROOTED = "/etc/" + "a" * 4091  # 4096 characters: the longest value still taken for a path


@pytest.mark.parametrize(("raw", "expected"), [
    ({"comments": "../x.wav"}, [("X001", "path '../x.wav' climbs out of its folder with '..'", "/comments", None)]),
    ({"comments": "..\\x.wav"}, [("X001", "path '..\\x.wav' climbs out of its folder with '..'", "/comments", None)]),
    ({"comments": "/etc/passwd\nroot"}, []),  # more than one line: text, not a path
    ({"comments": ROOTED}, [("X002", f"absolute path '{ROOTED[:77]}'... points outside the pack", "/comments", None)]),
    ({"comments": ROOTED + "a"}, []),  # one character longer: not taken for a path
    ({"sample": {"path": "/not-a-root"}},  # in a file field any absolute path counts
     [("X002", "absolute path '/not-a-root' points outside the pack", "/sample/path", None)]),
    ({"sample": {"path": "//host"}}, []),  # neither a POSIX absolute path nor a whole UNC path
    ({"sample": {"path": "s3://bucket/k.wav"}},  # a two-letter scheme is a URI, not a drive
     [("X004", "s3: URI 's3://bucket/k.wav' in a file field points outside the pack", "/sample/path", None)]),
    # a UNC path is left to X003, and the path met after it is still checked (in either order of the keys)
    ({"a": {"path": "\\\\host\\share\\x.wav"}, "b": {"path": "/etc/x.wav"}},
     [("X002", "absolute path '/etc/x.wav' points outside the pack", "/b/path", None),
      ("X003", "network path '\\\\host\\share\\x.wav': loading it contacts another machine (and may send the "
               "user's Windows credentials)", "/a/path", None)]),
    ({"a": {"path": "/etc/x.wav"}, "b": {"path": "\\\\host\\share\\x.wav"}},
     [("X002", "absolute path '/etc/x.wav' points outside the pack", "/a/path", None),
      ("X003", "network path '\\\\host\\share\\x.wav': loading it contacts another machine (and may send the "
               "user's Windows credentials)", "/b/path", None)]),
])
def test_what_is_taken_for_a_path(raw: Any, expected: list[Found]) -> None:
    assert scan(jdoc(raw)) == expected


def test_path_rules_run_through_the_engine_behind_their_pre_filters(tmp_path: Path) -> None:
    from presetctl.engine.runner import run
    from presetctl.engine.security.scope import scan_options

    for name, raw in {"Up.json": {"sample": {"path": "../x.wav"}}, "Web.json": {"sample": {"path": "https://e.x/t.wav"}},
                      "Uri.json": {"comments": "see file:///etc/passwd"}}.items():
        (tmp_path / name).write_text(json.dumps(raw))
    result = run(["."], scan_options(Options()), command="scan-security", cwd=str(tmp_path))
    assert sorted((f.path, f.code) for f in result.findings if f.code in {"X001", "X002", "X003", "X004"}) == [
        ("Up.json", "X001"), ("Uri.json", "X004"), ("Web.json", "X004")]


def test_archive_findings_inside_another_archive_name_the_inner_one() -> None:
    assert archive_scan(zipped(("inner.zip", b"PK\x03\x04" + bytes(40)),
                               ("inner.gz", gzip.compress(_noise(3000), mtime=0)[:-100]))) == [
        (STOP, "scan stopped at entry inner.zip: content could not be decoded (not a readable zip: File is not a zip "
               "file); the rest was not scanned", "entry inner.zip"),
        (STOP, "scan stopped at entry inner.gz: content could not be decoded (truncated); the rest was not scanned",
         "entry inner.gz"),
        ("X034", "zip archive inside another archive", "entry inner.zip"),
        ("X034", "gzip archive inside another archive", "entry inner.gz"),
        ("X035", "zip data cannot be read: not a readable zip: File is not a zip file", "entry inner.zip"),
        ("X035", "gzip data cannot be read: truncated", "entry inner.gz"),
        ("X035", "compressed data is damaged (truncated); the rest was not scanned", "entry inner.gz")]


def _json_archive_scan(raw: dict[str, str]) -> list[tuple[str, str, str]]:
    doc = jdoc(raw)
    ctx = RuleContext(PurePosixPath("pack/P.json"), OPTIONS)
    return [(v.code or r.code, v.message, v.location.render())
            for r in SECURITY if r.code in ARCHIVE_RULES for v in r.check(doc, ctx)]  # type: ignore[misc]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_archives_embedded_in_two_fields_are_judged_apart() -> None:
    """Nesting depth and a gzip trailer's claim belong to the field the archive is in, not to a namesake
    or a lying stream in another field."""
    one_level = zipped(("x.zip", zipped(("p.vital", b"{}"))))
    two_levels = zipped(("x.zip", zipped(("y.zip", zipped(("q.vital", b"[]"))))))
    assert _json_archive_scan({"a": _b64(one_level), "b": _b64(two_levels)}) == [
        ("X034", "zip archive inside another archive", "entry x.zip /a"),
        ("X034", "zip archive inside another archive, 3 levels in all", "entry x.zip /b")]
    lying, honest = gzip_lying_bytes(2, 1234), gzip_lying_bytes(2, 2 * MIB)
    assert [f for f in _json_archive_scan({"a": _b64(lying), "b": _b64(honest)}) if f[0] == "X032"] == [
        ("X032", "compressed data inflates more than 100:1; inflation stopped; its trailer claims 1234 bytes", "/a"),
        ("X032", "compressed data inflates more than 100:1; inflation stopped", "/b")]
