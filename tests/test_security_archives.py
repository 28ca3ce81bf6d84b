"""Compression bombs and archive tricks are bounded by size and memory, never inflated blindly.

Bounds are asserted on bytes inflated and on peak traced memory, not on wall time (the machine
is shared); benchmarks/security_bench.py measures the time.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from hostile import deflate_zeros, gzip_lying_bytes, nested_zip_bytes, zip_bomb_bytes, zip_raw

from presetctl.engine.formats.base import Document
from presetctl.engine.model import NOWHERE, Location
from presetctl.engine.options import Limits, Options
from presetctl.engine.rules.base import Level, RuleContext
from presetctl.engine.rules.registry import RULES
from presetctl.engine.runner import run
from presetctl.engine.security.scope import scan_options
from presetctl.engine.security.unpack import Unpacker

MIB = 1 << 20
SECURITY = tuple(r for r in RULES if r.level is Level.SECURITY and r.check is not None)
OPTIONS = Options(levels=frozenset({"security"}))


class _Budget:
    def __init__(self) -> None:
        self.hits: list[str] = []

    def expired(self) -> bool:
        return False

    def hit(self, key: str, message: str, location: Location = NOWHERE) -> None:
        self.hits.append(message)


def _scan_codes(data: bytes, name: str, options: Options = OPTIONS) -> list[str]:
    doc = Document("vitalbank", data)
    ctx = RuleContext(PurePosixPath(name), options)
    return sorted(v.code or r.code for r in SECURITY for v in r.check(doc, ctx))  # type: ignore[misc]


def test_deflate_zeros_builder_is_a_real_stream() -> None:
    stream, crc = deflate_zeros(5)
    out = zlib.decompress(stream, -15)
    assert len(out) == 5 * MIB and not out.strip(b"\x00") and zlib.crc32(out) == crc


def test_1gib_zip_bomb_is_refused_before_inflating_within_memory() -> None:
    bomb = zip_bomb_bytes(1024)
    assert len(bomb) < 2 * MIB
    tracemalloc.start()
    try:
        up = Unpacker(Limits(), _Budget())
        up.add_file(bomb)
        codes = _scan_codes(bomb, "pack/Bomb.vitalbank")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert up.total == 0  # declared 1 GiB: nothing inflated at all
    assert codes == ["X032", "X071"]
    assert peak < 100 * MIB, peak


def test_zip_bomb_with_lying_sizes_stops_at_the_declared_size() -> None:
    bomb = zip_bomb_bytes(64, lie=True)  # declares 1000 bytes
    budget = _Budget()
    up = Unpacker(Limits(), budget)
    up.add_file(bomb)
    assert up.total <= 1000
    assert _scan_codes(bomb, "pack/Bomb.vitalbank") == ["X035", "X071"]  # CRC mismatch: damaged, not scanned


def test_gzip_with_lying_trailer_is_bounded() -> None:
    data = gzip_lying_bytes(1024, claimed=1234)
    tracemalloc.start()
    try:
        up = Unpacker(Limits(), _Budget())
        up.add_file(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert up.archives[0].declared == 1234
    assert up.total <= Limits().max_ratio * len(data) + 2 * MIB  # stopped by the ratio bound, not the trailer
    assert up.stops and up.stops[0][1] == "ratio"
    assert peak < 100 * MIB, peak
    doc = Document("zyn-xiz", data)
    ctx = RuleContext(PurePosixPath("pack/a.xiz"), OPTIONS)
    found = [v for r in SECURITY for v in r.check(doc, ctx)]  # type: ignore[misc]
    bomb = [v for v in found if v.code in ("", "X032") and "trailer claims 1234 bytes" in v.message]
    assert len(bomb) == 1


def test_entry_count_and_total_limits() -> None:
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(30):
            zf.writestr(f"p{i}.vital", b"{}")
    few = Options(levels=OPTIONS.levels, limits=Limits(max_entries=10))
    assert _scan_codes(many.getvalue(), "p/b.vitalbank", few) == ["X032", "X071"]
    assert _scan_codes(many.getvalue(), "p/b.vitalbank") == []


def test_overlapping_members_are_a_bomb() -> None:
    stream, crc = deflate_zeros(2)
    data = zip_raw([("a.vital", stream, crc, 2 * MIB, 0)])
    # a second central-directory record pointing at the same local header: members share bytes
    cd_start = data.index(b"PK\x01\x02")
    eocd = data.index(b"PK\x05\x06")
    record = data[cd_start:eocd].replace(b"a.vital", b"b.vital")
    cd = data[cd_start:eocd] + record
    fixed = data[:cd_start] + cd + b"PK\x05\x06" + b"\x00\x00\x00\x00" + (2).to_bytes(2, "little") * 2 \
        + len(cd).to_bytes(4, "little") + cd_start.to_bytes(4, "little") + b"\x00\x00"
    assert "X032" in _scan_codes(fixed, "p/b.vitalbank")


def test_nesting_depth_is_bounded() -> None:
    data = nested_zip_bytes(40)
    up = Unpacker(Limits(max_recursion=5), _Budget())
    up.add_file(data)
    assert max(a.depth for a in up.archives) == 5
    assert any(why == "recursion" for _, why in up.stops)


def test_bomb_disguised_as_json_through_the_whole_run(tmp_path: Path) -> None:
    (tmp_path / "Pad.json").write_bytes(zip_bomb_bytes(1024))
    tracemalloc.start()
    try:
        result = run(["."], scan_options(Options()), command="scan-security", cwd=str(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {f.code for f in result.findings} == {"F011", "X032", "X070", "X071"}
    assert peak < 100 * MIB, peak
