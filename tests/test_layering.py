"""Data flows one way: the engine reports events and never knows where they go."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "presetctl"


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def users_of(package: str, folder: Path) -> list[str]:
    return sorted(str(p.relative_to(PKG)) for p in folder.rglob("*.py")
                  if any(m == package or m.startswith(package + ".") for m in imports(p)))


def test_the_engine_never_imports_logging_or_history() -> None:
    assert users_of("presetctl.obs", PKG / "engine") == []
    # The fix engine's journal, backups and lock predate this rule; nothing else in the engine may join it.
    assert users_of("presetctl.state", PKG / "engine") == ["engine/fix/run.py", "engine/fix/undo.py"]
    assert users_of("presetctl.cli", PKG / "engine") == []


def test_state_and_obs_use_nothing_above_them() -> None:
    for low in ("state", "obs"):
        for above in ("presetctl.cli", "presetctl.report", "presetctl.api"):
            assert users_of(above, PKG / low) == [], (low, above)
    assert users_of("presetctl.obs", PKG / "state") == [] and users_of("presetctl.state", PKG / "obs") == []


def test_only_the_cli_uses_the_benchmark() -> None:
    """presetctl/bench measures the engine, reporters, logging and history from above: none of them uses it."""
    for low in ("engine", "report", "state", "obs"):
        assert users_of("presetctl.bench", PKG / low) == [], low
