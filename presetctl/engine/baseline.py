"""Baselines: accept the findings a pack has today, fail only on new ones.

Keys are (path, code, location) - never a line number, which moves with unrelated edits.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import ConfigError
from presetctl.engine.model import Finding

BaselineKeys = frozenset[tuple[str, str, str]]
BASELINE = ErrorCode.BASELINE_INVALID


def read_baseline(path: Path) -> BaselineKeys:
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc.strerror}", code=BASELINE) from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}", code=BASELINE) from None
    entries = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"baseline {path} has no 'findings' list", code=BASELINE)
    keys = set()
    for e in entries:
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) for k in ("path", "code", "location")):
            raise ConfigError(f"baseline {path}: each finding needs string path, code and location",
                              code=BASELINE)
        keys.add((e["path"], e["code"], e["location"]))
    return frozenset(keys)


def baseline_bytes(findings: tuple[Finding, ...] | list[Finding]) -> bytes:
    keys = sorted({f.baseline_key() for f in findings})
    doc = {"version": 1, "findings": [{"path": p, "code": c, "location": loc} for p, c, loc in keys]}
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
