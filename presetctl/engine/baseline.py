"""Baselines: accept the findings a pack has today, fail only on new ones.

A baseline entry names a finding by its path relative to the project root, its code, its
location (a JSON pointer, voice or byte offset: never a line number, which moves with
unrelated edits) and a short hash of its message, as SARIF's ``partialFingerprints`` do.
The project root is the folder of the config file in use, else the enclosing git work
tree, else the baseline file's own folder: so one baseline works from any working
directory and in any copy of the tree. Version 1 files (paths relative to the working
directory they were written from, no message hash) are still read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import ConfigError
from presetctl.engine.model import Finding

BASELINE = ErrorCode.BASELINE_INVALID
VERSION = 2
Key = tuple[str, str, str, str]  # (path from the project root, code, location, message hash)


def project_root(config: Path | None, baseline: Path) -> Path:
    """The folder baseline paths are relative to (see the module docstring)."""
    if config is not None:
        return config.resolve().parent
    start = baseline.resolve().parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def message_hash(message: str) -> str:
    return hashlib.sha256(message.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _from_root(path: str, root: Path, cwd: str) -> str:
    full = os.path.normpath(os.path.join(cwd, path))
    return os.path.relpath(full, root).replace(os.sep, "/")


def key(f: Finding, root: Path, cwd: str) -> Key:
    return (_from_root(f.path, root, cwd), f.code, f.location.render(), message_hash(f.message))


@dataclass(frozen=True)
class Baseline:
    """The findings a baseline file holds: reported no more while they stay as they are."""

    root: Path
    keys: frozenset[Key]
    legacy: frozenset[tuple[str, str, str]] = frozenset()  # version 1: (cwd-relative path, code, location)

    def keeper(self, cwd: str | None = None) -> Callable[[Finding], bool]:
        """A predicate: True for findings the baseline does not hold (they are reported)."""
        here = cwd or os.getcwd()

        def keep(f: Finding) -> bool:
            if key(f, self.root, here) in self.keys:
                return False
            if self.legacy:
                rel = os.path.relpath(os.path.join(here, f.path), here).replace(os.sep, "/")
                return (rel, f.code, f.location.render()) not in self.legacy
            return True

        return keep


def read_baseline(path: Path, config: Path | None = None) -> Baseline:
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc.strerror}", code=BASELINE) from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}", code=BASELINE) from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"baseline {path} has no 'findings' list", code=BASELINE)
    version = data.get("version", 1)
    fields = ("path", "code", "location", "message_hash") if version != 1 else ("path", "code", "location")
    rows: list[tuple[str, ...]] = []
    for e in entries:
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in fields):
            raise ConfigError(f"baseline {path}: each finding needs string {', '.join(fields[:-1])} and {fields[-1]}",
                              code=BASELINE)
        rows.append(tuple(e[k] for k in fields))
    root = project_root(config, path)
    if version == 1:
        return Baseline(root, frozenset(), frozenset((r[0], r[1], r[2]) for r in rows))
    return Baseline(root, frozenset((r[0], r[1], r[2], r[3]) for r in rows))


def merged_baseline_bytes(existing: Baseline | None, findings: Iterable[Finding], root: Path,
                          cwd: str | None = None) -> bytes:
    """A baseline holding ``existing`` and ``findings``: accepting more findings into it.

    A version 1 baseline cannot be merged (its paths are relative to a folder it does not
    record): write a new one with ``validate --write-baseline`` first.
    """
    if existing is not None and existing.legacy:
        raise ConfigError("this baseline is version 1; write a new one with `presetctl validate --write-baseline` "
                          "before accepting findings into it", code=BASELINE)
    here = cwd or os.getcwd()
    keys = sorted((existing.keys if existing is not None else frozenset()) | {key(f, root, here) for f in findings})
    return _keys_bytes(keys)


def baseline_bytes(findings: Iterable[Finding], root: Path, cwd: str | None = None) -> bytes:
    return merged_baseline_bytes(None, findings, root, cwd)


def _keys_bytes(keys: list[Key]) -> bytes:
    doc = {"version": VERSION, "findings": [
        {"path": p, "code": c, "location": loc, "message_hash": h} for p, c, loc, h in keys]}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
