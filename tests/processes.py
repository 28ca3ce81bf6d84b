"""The processes a test left behind: shared by the suite-wide check (conftest.py) and the tests
that assert it mid-test (browser and terminal tests)."""

from __future__ import annotations

import psutil


def is_resource_tracker(p: psutil.Process) -> bool:
    """multiprocessing's resource tracker (started once by a spawn context) serves the test process
    until it exits: infrastructure of the runner, not something a test left behind."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(p.cmdline())
    except psutil.Error:
        return False


def children() -> list[psutil.Process]:
    """This process's descendants, the resource tracker excepted."""
    return [p for p in psutil.Process().children(recursive=True) if not is_resource_tracker(p)]


def describe(p: psutil.Process) -> str:
    try:
        return f"{p.pid} {' '.join(p.cmdline()[:6])}"
    except psutil.Error:
        return str(p.pid)
