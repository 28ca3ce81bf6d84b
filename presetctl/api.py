"""The documented Python API: the same engine the CLI uses, without a terminal.

    from presetctl import api
    result = api.validate(["pack/"])
    if result.fails(api.Severity.ERROR): ...

Every function takes paths and options and returns frozen values (see presetctl.engine.model);
problems in presets are findings, tool failures raise :class:`PresetctlError` subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from presetctl.engine.baseline import read_baseline
from presetctl.engine.config import resolve_options
from presetctl.engine.errors import ConfigError, PresetctlError, UsageError
from presetctl.engine.model import Finding, Location, RunResult, SecuritySeverity, Severity
from presetctl.engine.options import Limits, Options, PackConfig, Thresholds
from presetctl.engine.rules.registry import BY_CODE, RULES
from presetctl.engine.runner import Progress, run

__all__ = [
    "ConfigError", "Finding", "Limits", "Location", "Options", "PackConfig", "PresetctlError", "RULES",
    "RunResult", "SecuritySeverity", "Severity", "Thresholds", "UsageError", "load_options", "rule", "validate",
]


def load_options(paths: Sequence[str], config: str | None = None) -> Options:
    """Options from the config file that applies to ``paths`` (or ``config``), else defaults."""
    return resolve_options(list(paths), config)[0]


def validate(
    paths: Sequence[str],
    options: Options | None = None,
    *,
    baseline: str | Path | None = None,
    progress: Progress | None = None,
    cwd: str | None = None,
) -> RunResult:
    """Validate files and folders; ``options`` default to the config file found for ``paths``."""
    opts = options if options is not None else load_options(paths)
    keys = read_baseline(Path(baseline)) if baseline is not None else None
    return run(list(paths) or ["."], opts, command="validate", progress=progress, baseline=keys, cwd=cwd)


def rule(code: str):  # type: ignore[no-untyped-def]
    """The registered rule for ``code`` (KeyError if none)."""
    return BY_CODE[code]
