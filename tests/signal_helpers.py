"""Shared by the signal and streaming tests: a pack that keeps workers busy, process watching."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from generate import presets  # noqa: E402


def broken_pack(folder: Path, count: int, params: int = 40) -> Path:
    """``count`` generated presets, each with one out-of-range value (one V002 finding each)."""
    folder.mkdir(parents=True)
    for rel, data in presets(count, params, seed=3):
        doc = orjson.loads(data)
        ranged = next(p for p in doc["parameters"] if isinstance(p.get("max"), int | float))
        ranged["value"] = ranged["max"] + 1
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return folder


def start_presetctl(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "presetctl", *args], cwd=cwd,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_line(proc: subprocess.Popen[bytes], timeout: float = 60) -> bytes:
    """The next line the process prints (waits for the event, with a hang guard).

    Reads the descriptor byte by byte: a buffered readline would swallow later lines that
    ``communicate()`` (which reads the descriptor directly) then never sees."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, "no output"
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


def wait_for_workers(proc: subprocess.Popen[bytes], count: int, timeout: float = 60) -> list[psutil.Process]:
    """The process's worker children, once ``count`` of them exist."""
    deadline = time.monotonic() + timeout
    parent = psutil.Process(proc.pid)
    while time.monotonic() < deadline:
        kids = parent.children()
        if len(kids) >= count:
            return kids
        time.sleep(0.01)  # polling interval; the condition is the event
    raise AssertionError(f"presetctl did not start {count} workers")


def drain_to_eof(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """Everything left on stdout and stderr; fails if either stays open past ``timeout``."""
    out, err = proc.communicate(timeout=timeout)
    return out, err


def gone(procs: list[psutil.Process], timeout: float) -> bool:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return not alive
