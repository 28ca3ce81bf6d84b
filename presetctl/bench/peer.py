"""The peer column: check-jsonschema on the same files with the same schema, in the same run.

check-jsonschema is a separate program (``pip install presetctl[bench]``); its start-up (about
0.6 s) is not what a file costs, so it runs twice over the same files, once on one file and once
on all of them (up to ``limit``), and the difference divided by the extra files is its cost per
file, by wall clock and by CPU time (user + system of the child).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from presetctl.engine.schemas import schema_path

TOOL = "check-jsonschema"


@dataclass(frozen=True)
class PeerResult:
    tool: str
    files: int
    wall: float  # seconds per file, start-up excluded
    cpu: float
    startup: float  # seconds of wall clock for one file (mostly start-up)
    error: str = ""


def find_tool() -> str | None:
    """check-jsonschema on PATH or beside this Python (a virtual environment's bin folder)."""
    beside = Path(sys.executable).parent / TOOL
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(TOOL)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str]) -> tuple[float, float, int]:
    c0, w0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                          check=False)
    return time.perf_counter() - w0, _children_cpu() - c0, done.returncode


def measure_peer(files: list[str], limit: int) -> PeerResult | None:
    """check-jsonschema's cost per file on ``files`` (presetctl JSON presets), None when not installed."""
    tool = find_tool()
    if tool is None or not files:
        return None
    chosen = files[: max(2, limit)]
    base = [tool, "--schemafile", str(schema_path("preset.schema.json"))]
    one_wall, one_cpu, _ = _timed([*base, chosen[0]])
    all_wall, all_cpu, code = _timed([*base, *chosen])
    extra = len(chosen) - 1
    if extra < 1:
        return PeerResult(TOOL, len(chosen), 0.0, 0.0, one_wall, "needs at least two files")
    error = "" if code in (0, 1) else f"exit code {code}"
    return PeerResult(TOOL, len(chosen), max(0.0, (all_wall - one_wall) / extra), max(0.0, (all_cpu - one_cpu) / extra),
                      one_wall, error)
