"""The app callback's options, kept as the Typer context object (light: imported at start-up)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import typer

from presetctl.obs.defaults import DEFAULT_BACKUPS, DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class GlobalOptions:
    """The app callback's options (cli/app.py), kept as the Typer context object."""

    state_dir: str | None = None
    no_history: bool = False
    traceback: bool = False
    verbose: int = 0
    quiet: bool = False
    log_max_bytes: int = DEFAULT_MAX_BYTES
    log_backups: int = DEFAULT_BACKUPS
    log_level: int = logging.INFO
    metrics_file: str | None = None

    @classmethod
    def of(cls, ctx: typer.Context | None) -> GlobalOptions:
        obj = ctx.find_root().obj if ctx is not None else None
        return obj if isinstance(obj, GlobalOptions) else cls()
