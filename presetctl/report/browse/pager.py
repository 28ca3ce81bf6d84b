"""Showing long output through a pager, as git does: ``$PAGER``, else ``less -FRX``.

Only when standard output is a terminal and the text is taller than it; ``-F`` makes less exit
at once when the text fits after all, ``-R`` passes colours, ``-X`` leaves the text on screen.
The pager is waited for, so no process of ours outlives the command.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
from typing import TextIO

DEFAULT_PAGER = "less -FRX"


def pager_command(environ: dict[str, str] | None = None) -> list[str] | None:
    """The pager to run, or None for none (``PAGER=`` or ``PAGER=cat``, or nothing installed)."""
    env = os.environ if environ is None else environ
    text = env.get("PAGER", DEFAULT_PAGER)
    try:
        argv = shlex.split(text)
    except ValueError:
        return None
    if not argv or argv[0] == "cat" or shutil.which(argv[0]) is None:
        return None
    return argv


def terminal_height(stream: TextIO) -> int | None:
    try:
        return os.get_terminal_size(stream.fileno()).lines if stream.isatty() else None
    except (OSError, ValueError):
        return None


def show(text: str, stream: TextIO, enabled: bool = True) -> None:
    """Write ``text`` to ``stream``, through the pager when it is long and ``stream`` a terminal."""
    height = terminal_height(stream) if enabled else None
    argv = pager_command() if height is not None and text.count("\n") >= height else None
    if argv is None:
        stream.write(text)
        stream.flush()
        return
    env = {**os.environ}
    env.setdefault("LESS", "FRX")  # as git does: a bare `less` in $PAGER still keeps colours
    env.setdefault("LV", "-c")
    stream.flush()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    stdin = proc.stdin
    assert stdin is not None
    try:
        # The user may quit the pager before the end: a broken pipe then is no error.
        with contextlib.suppress(BrokenPipeError):
            stdin.write(text.encode("utf-8", "replace"))
        with contextlib.suppress(BrokenPipeError):
            stdin.close()
        proc.wait()
    except KeyboardInterrupt:  # less handles ^C itself; make sure it is gone before we go
        proc.terminate()
        proc.wait()
        raise
