"""Configuration: ``[tool.presetctl]`` in pyproject.toml or a ``presetctl.toml``.

Found by walking up from the first target; ``--config`` names a file directly. Keys are
kebab-case like ruff's. Unknown keys are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import ConfigError
from presetctl.engine.model import Severity
from presetctl.engine.options import Budgets, Limits, Options, PackConfig, Thresholds

CONFIG_NAMES = ("presetctl.toml", "pyproject.toml")


def find_config(start: str) -> Path | None:
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file() and _section(candidate) is not None:
                return candidate
    return None


def _section(path: Path) -> dict[str, Any] | None:
    import tomllib  # only when a config file is there to read (start-up of a run without one)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", code=ErrorCode.CONFIG_UNREADABLE) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", code=ErrorCode.CONFIG_UNREADABLE) from None
    # pyproject.toml keeps it under [tool.presetctl]; another file given to --config may too
    if path.name == "pyproject.toml" or set(data) == {"tool"}:
        tool = data.get("tool", {})
        section = tool.get("presetctl") if isinstance(tool, dict) else None
        return section if isinstance(section, dict) else None
    return data


def load_config(path: Path) -> dict[str, Any]:
    section = _section(path)
    if section is None:
        raise ConfigError(f"{path} has no [tool.presetctl] section")
    return section


def _strs(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{key} must be a string or a list of strings")


def _str_map(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{key} must be a table of strings")
    return {str(k): v for k, v in value.items()}


def _numbers(value: Any, key: str, cls: type[Limits] | type[Thresholds]) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a table")
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for k, v in value.items():
        name = k.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{key}.{k}: unknown setting (known: {', '.join(n.replace('_', '-') for n in known)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise ConfigError(f"{key}.{k} must be a positive number")
        kwargs[name] = v
    return cls(**kwargs)


def _per_file_ignores(value: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError("per-file-ignores must be a table of glob = [codes]")
    return tuple((g, _strs(c, f"per-file-ignores.{g}")) for g, c in value.items())


def _severities(value: Any, key: str) -> dict[str, Severity]:
    try:
        return {c: Severity.parse(s) for c, s in _str_map(value, key).items()}
    except ValueError as exc:
        raise ConfigError(f"severity: {exc}") from None


def _jobs(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError("jobs must be a positive integer")
    return value


# config key -> (Options field, parser of the value)
_KEYS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    **{k: (k.replace("-", "_"), _strs) for k in ("select", "extend-select", "ignore", "include", "exclude", "taxonomy")},
    "profile": ("profiles", _strs),
    "profiles": ("profiles", _strs),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "severity": ("severity_overrides", _severities),
    "category-aliases": ("category_aliases", _str_map),
    "limits": ("limits", lambda v, k: _numbers(v, k, Limits)),
    "thresholds": ("thresholds", lambda v, k: _numbers(v, k, Thresholds)),
    "pack": ("pack", lambda v, k: _pack(v)),
    "jobs": ("jobs", _jobs),
    "budgets": ("budgets", lambda v, k: _budgets(v)),
}


def options_from_config(section: Mapping[str, Any], base: Options | None = None) -> Options:
    """Build Options from a config table (already extracted from its file)."""
    changes: dict[str, Any] = {}
    for key, value in section.items():
        if key not in _KEYS:
            raise ConfigError(f"unknown setting {key!r} in [tool.presetctl]")
        name, parse = _KEYS[key]
        changes[name] = parse(value, key)
    return replace(base or Options(), **changes)


def _pack(value: Any) -> PackConfig:
    if not isinstance(value, dict):
        raise ConfigError("pack must be a table")
    known = {"author", "license", "min-versions", "max-versions"}
    for k in value:
        if k not in known:
            raise ConfigError(f"pack.{k}: unknown setting (known: {', '.join(sorted(known))})")
    author, lic = value.get("author"), value.get("license")
    if author is not None and not isinstance(author, str) or lic is not None and not isinstance(lic, str):
        raise ConfigError("pack.author and pack.license must be strings")
    return PackConfig(author=author, license=lic,
                      min_versions=_str_map(value.get("min-versions", {}), "pack.min-versions"),
                      max_versions=_str_map(value.get("max-versions", {}), "pack.max-versions"))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
               "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}


def _amount(value: Any, key: str, pattern: re.Pattern[str], units: Mapping[str, float], example: str) -> float:
    """A positive number, or a number with a unit of ``units`` matched by ``pattern``."""
    number = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (m := pattern.match(value)) is not None:
        number = float(m.group(1)) * units[(m.group(2) or "").lower()]
    if number is None or not number > 0:
        raise ConfigError(f"budgets.{key} must be a positive number or a string like {example}, got {value!r}")
    return number


def _budgets(value: Any) -> Budgets:
    """``wall-time`` in seconds (``90``, ``"90s"``, ``"5m"``), ``peak-memory`` in bytes (``"2GB"``, ``"512MiB"``)."""
    if not isinstance(value, dict):
        raise ConfigError("budgets must be a table")
    known = {"wall-time", "peak-memory"}
    for k in value:
        if k not in known:
            raise ConfigError(f"budgets.{k}: unknown setting (known: {', '.join(sorted(known))})")
    wall = value.get("wall-time")
    memory = value.get("peak-memory")
    return Budgets(
        wall_time=_amount(wall, "wall-time", _DURATION, _DURATION_UNITS, '"90s" or "5m"') if wall is not None else None,
        peak_memory=int(_amount(memory, "peak-memory", _SIZE, _SIZE_UNITS, '"2GB" or "512MiB"'))
        if memory is not None else None,
    )


def resolve_options(targets: list[str], config_path: str | None, base: Options | None = None) -> tuple[Options, Path | None]:
    """Options from the named or discovered config file; no file gives the defaults."""
    if config_path is not None:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(f"config file {config_path!r} does not exist")
        return options_from_config(load_config(path), base), path
    found = find_config(targets[0] if targets else os.getcwd())
    if found is None:
        return base or Options(), None
    return options_from_config(load_config(found), base), found
