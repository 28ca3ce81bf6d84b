"""Crash reports: what a bug report needs, written to the state folder when presetctl itself fails.

A report holds the traceback (frames and source lines, never local variables), presetctl's,
Python's and the main libraries' versions, the platform, and the command line and working
folder with the home folder written as ``~``. The exception message is kept as it is: it may
name a file from the pack. Nothing is sent anywhere; the user attaches the file to a report.
"""

from __future__ import annotations

import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from presetctl import __version__

LIBRARIES = ("typer", "rich", "orjson", "jsonschema", "jsonschema-rs", "platformdirs", "psutil", "numpy")


def redact_home(text: str, home: str | None = None) -> str:
    """``text`` with the home folder written as ``~`` (also its resolved form, when a link leads there)."""
    home = home if home is not None else os.path.expanduser("~")
    if not home or home in ("/", "~"):
        return text
    out = text
    for variant in sorted({home, os.path.realpath(home)}, key=len, reverse=True):
        out = out.replace(variant.rstrip("/"), "~")
    return out


def _versions() -> list[str]:
    from importlib import metadata  # here: 15 ms at start-up for something only a crash needs

    lines = [f"presetctl {__version__}", f"python {sys.version.split()[0]} ({platform.python_implementation()})"]
    for name in LIBRARIES:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} (not installed)")
    return lines


def render(exc: BaseException, argv: Sequence[str], *, cwd: str | None = None, home: str | None = None) -> str:
    tb = "".join(traceback.format_exception(exc))  # capture_locals stays off: locals can hold secrets
    try:
        here = cwd or os.getcwd()
    except OSError:
        here = "(unknown: the working folder was deleted)"
    body = [
        "presetctl crash report",
        f"time: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "",
        "## command",
        " ".join(argv),
        f"cwd: {here}",
        "",
        "## versions",
        *_versions(),
        "",
        "## platform",
        platform.platform(),
        f"{sys.platform}, {os.cpu_count()} cpus",
        "",
        "## traceback",
        tb.rstrip("\n"),
        "",
    ]
    return redact_home("\n".join(body), home)


def write_report(folder: Path, exc: BaseException, argv: Sequence[str], *, home: str | None = None) -> Path:
    """Write a report (0600) into ``folder`` and return its path; OSError when that is impossible."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"crash-{stamp}-{os.getpid()}-{int(time.monotonic_ns() % 1_000_000)}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(render(exc, argv, home=home))
    return path


def reports(folder: Path) -> list[Path]:
    try:
        return sorted(folder.glob("crash-*.txt"))
    except OSError:
        return []
