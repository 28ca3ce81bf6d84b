"""The documented Python API: the same engine the CLI uses, without a terminal.

    from presetctl import api
    result = api.validate(["pack/"])
    if result.fails(api.Severity.ERROR): ...

Every function takes paths and options and returns frozen values (see presetctl.engine.model);
problems in presets are findings, tool failures raise :class:`PresetctlError` subclasses.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from presetctl.engine.baseline import Baseline, read_baseline
from presetctl.engine.cache import OutcomeStore
from presetctl.engine.config import resolve_options
from presetctl.engine.errors import ConfigError, PresetctlError, UsageError
from presetctl.engine.events import Event, FileChecked, Sink, no_sink
from presetctl.engine.metrics import Metrics
from presetctl.engine.model import Finding, Location, RunResult, SecuritySeverity, Severity
from presetctl.engine.options import Limits, Options, PackConfig, Thresholds
from presetctl.engine.rules import registry
from presetctl.engine.runner import run
from presetctl.engine.security.scope import scan_options
from presetctl.engine.workers import Progress

if TYPE_CHECKING:
    from presetctl.engine.fix.model import FixResult, UndoResult
    from presetctl.engine.fix.run import FixSettings
    from presetctl.engine.rules.registry import RULES

_LAZY = {"FixResult": "presetctl.engine.fix.model", "UndoResult": "presetctl.engine.fix.model",
         "FixSettings": "presetctl.engine.fix.run", "RULES": "presetctl.engine.rules.registry"}


def __getattr__(name: str) -> Any:
    """The fix engine's types, and every rule, imported when first asked for: ``validate`` never loads
    the fix engine, nor the rules of formats it does not meet."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

__all__ = [
    "ConfigError", "Finding", "FixResult", "FixSettings", "Limits", "Location", "Metrics", "Options", "PackConfig",
    "PresetctlError", "RULES", "RunResult", "SecuritySeverity", "Severity", "Thresholds", "UndoResult", "UsageError",
    "fix", "load_options", "rule", "scan_security", "undo", "validate",
]


def load_options(paths: Sequence[str], config: str | None = None) -> Options:
    """Options from the config file that applies to ``paths`` (or ``config``), else defaults."""
    return resolve_options(list(paths), config)[0]


def _sink(sink: Sink | None, progress: Progress | None) -> Sink:
    if progress is None:
        return sink or no_sink
    report = progress

    def with_progress(event: Event) -> None:
        if isinstance(event, FileChecked):
            report(event.done, event.total)
        if sink is not None:
            sink(event)

    return with_progress


def _baseline(baseline: Baseline | str | Path | None) -> Baseline | None:
    if baseline is None or isinstance(baseline, Baseline):
        return baseline
    return read_baseline(Path(baseline))


def validate(
    paths: Sequence[str],
    options: Options | None = None,
    *,
    baseline: Baseline | str | Path | None = None,
    sink: Sink | None = None,
    progress: Progress | None = None,
    cwd: str | None = None,
    worker_setup: Callable[[], None] | None = None,
    cache: OutcomeStore | None = None,
    metrics: Metrics | None = None,
) -> RunResult:
    """Validate files and folders; ``options`` default to the config file found for ``paths``.

    ``sink`` receives the run's events as they happen (see presetctl.engine.events): per-file
    outcomes in report order, then the cross-file findings, then the result. ``cache``: a store of
    earlier outcomes (``presetctl.state.outcome_cache.SqliteOutcomeStore``); files unchanged since
    are not checked again. ``metrics`` receives stage and per-rule timings, counts and resource
    samples (presetctl.engine.metrics).
    """
    opts = options if options is not None else load_options(paths)
    return run(list(paths) or ["."], opts, command="validate", sink=_sink(sink, progress), baseline=_baseline(baseline),
               cwd=cwd, worker_setup=worker_setup, cache=cache, metrics=metrics)


def scan_security(
    paths: Sequence[str],
    options: Options | None = None,
    *,
    baseline: Baseline | str | Path | None = None,
    sink: Sink | None = None,
    progress: Progress | None = None,
    cwd: str | None = None,
    worker_setup: Callable[[], None] | None = None,
    cache: OutcomeStore | None = None,
    metrics: Metrics | None = None,
) -> RunResult:
    """Run the security rules only; findings carry a :class:`SecuritySeverity` in ``security``."""
    opts = scan_options(options if options is not None else load_options(paths))
    return run(list(paths) or ["."], opts, command="scan-security", sink=_sink(sink, progress),
               baseline=_baseline(baseline), cwd=cwd, worker_setup=worker_setup, cache=cache, metrics=metrics)


def fix(
    paths: Sequence[str],
    options: Options | None = None,
    settings: FixSettings | None = None,
    *,
    check_options: Options | None = None,
    progress: Progress | None = None,
    cwd: str | None = None,
) -> FixResult:
    """Apply the rules' fixes (safe ones unless ``settings.unsafe``), with backups and a journal.

    ``settings.mode`` is "write" (default), "diff" or "dry-run"; ``settings.state_dir`` chooses where
    backups and the journal live (default: the user state directory). ``check_options`` choose the
    rules a fixed file is re-validated against (default: ``options``).
    """
    from presetctl.engine.fix.run import FixSettings
    from presetctl.engine.fix.run import fix as _fix

    opts = options if options is not None else load_options(paths)
    return _fix(list(paths) or ["."], opts, check_options or opts, settings or FixSettings(), cwd=cwd, progress=progress)


def undo(run_id: str | None = None, *, state_dir: str | None = None, force: bool = False) -> UndoResult:
    """Restore the files of fix run ``run_id`` (default: the latest run not yet undone) byte for byte."""
    from presetctl.engine.fix.undo import undo as _undo

    return _undo(run_id, state=state_dir, force=force)


def rule(code: str):  # type: ignore[no-untyped-def]
    """The registered rule for ``code`` (KeyError if none)."""
    return registry.by_code()[code]
