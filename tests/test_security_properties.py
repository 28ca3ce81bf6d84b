"""Property tests: whatever the bytes, text or structure, the scanner raises nothing, stays bounded,
and never puts an unprintable character into a message."""

from __future__ import annotations

import base64
import gzip
import io
import time
import zipfile
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from hostile import PE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.formats.base import Blob, Document, DocumentFacts, Script
from presetctl.engine.model import Location, Violation
from presetctl.engine.options import Options
from presetctl.engine.rules.base import Level, RuleContext
from presetctl.engine.rules.registry import RULES

SECURITY = tuple(r for r in RULES if r.level is Level.SECURITY and r.check is not None)
OPTIONS = Options(levels=frozenset({"security"}))
SETTINGS = settings(max_examples=60, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow])

_hostile_chars = st.sampled_from(["\x1b", "\x9b", "\u202e", "\u200b", "\x00", "/", "\\", "..", ":", "@", "=", "<",
                                  "file://", "C:\\Users\\x\\", "os.", "\ud800"])
texts = st.one_of(st.text(max_size=60), st.lists(_hostile_chars, max_size=12).map("".join))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(texts, children, max_size=5)),
    max_leaves=40,
)


def _scan(doc: Document, path: str = "pack/x.json") -> list[Violation]:
    ctx = RuleContext(PurePosixPath(path), OPTIONS)
    t0 = time.perf_counter()
    out = [v for r in SECURITY for v in r.check(doc, ctx)]  # type: ignore[misc]
    assert time.perf_counter() - t0 < 10
    for v in out:
        assert all(ch.isprintable() for ch in v.message), repr(v.message)
    return out


@SETTINGS
@given(st.binary(max_size=4096), st.sampled_from(["x.vital", "x.fxp", "x.vitalbank", "x.syx", "x.xiz", "x.json"]))
def test_any_bytes(data: bytes, name: str) -> None:
    _scan(Document("unknown", data, parsed=False), f"pack/{name}")


@SETTINGS
@given(json_values, texts)
def test_any_json_value_and_file_name(raw: Any, name: str) -> None:
    safe_name = name.replace("/", "_").replace("\x00", "_") or "x"
    _scan(Document("presetctl", b"{}", raw=raw, facts=DocumentFacts(locator="json")), f"pack/{safe_name}.json")


@SETTINGS
@given(st.lists(st.tuples(st.text(max_size=20), texts), max_size=10), st.binary(max_size=256))
def test_any_xml_and_texts(attrs: list[tuple[str, str]], blob: bytes) -> None:
    root = Element("patch")
    for i, (name, value) in enumerate(attrs):
        clean = "".join(c for c in name if c.isalnum()) or "a"
        SubElement(root, f"e{i}", {clean: value, "formula": base64.b64encode(value.encode("utf-8", "replace")).decode()})
    doc = Document("surge-fxp", blob, raw=root, facts=DocumentFacts(
        texts=tuple((Location(voice=1), v) for _, v in attrs),
        blobs=(Blob(Location(pointer="/b"), "sample", lambda: blob), Blob(Location(), "bad", _raise)),
        scripts=(Script(Location(), "lua", blob), Script(Location(), "lua-bytecode", blob)),
    ))
    _scan(doc, "pack/x.fxp")


def _raise() -> bytes:
    raise ValueError("corrupt base64")


@SETTINGS
@given(st.lists(st.tuples(texts, st.binary(max_size=128)), min_size=1, max_size=6), st.integers(0, 400),
       st.booleans())
def test_any_zip_even_truncated(members: list[tuple[str, bytes]], cut: int, nest: bool) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, data) in enumerate(members):  # a suffix keeps names unique (and leading slashes intact)
            zf.writestr(name.replace("\x00", "_").encode("utf-8", "replace").decode() + f"#{i}", data)
        if nest:
            zf.writestr("inner.gz", gzip.compress(PE))
    data = buf.getvalue()
    _scan(Document("vitalbank", data[: len(data) - cut] if cut else data), "pack/x.vitalbank")
