"""Errors of the tool itself (exit code 2). Problems in presets are findings, never these."""

from __future__ import annotations


class PresetctlError(Exception):
    """Base class: a failure of the tool or of its invocation, not of a preset."""


class UsageError(PresetctlError):
    """The request cannot be carried out as given (missing path, unknown option value)."""


class ConfigError(PresetctlError):
    """A configuration file is unreadable or holds invalid settings."""


class StateError(PresetctlError):
    """The state directory (journal, backups, history) is unusable."""
