"""Shared fixtures: isolation from the real home, the real corpus, CLI runners."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from processes import children, describe
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_presets"


def corpus_root() -> Path:
    return Path(os.environ.get("PRESETCTL_CORPUS", REPO.parent / "shared" / "corpus")).resolve()


PR_SET_CHILD_SUBREAPER = 36


def pytest_configure(config: pytest.Config) -> None:
    """Make this process the subreaper of everything the tests start: a worker orphaned by a
    killed presetctl is re-parented here (not to init), so the leak check below sees it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@pytest.fixture(autouse=True)
def _no_process_left_behind() -> Iterator[None]:
    """A test fails when any process it started (or an orphan of one) outlives it."""
    yield
    left = children()
    if not left:
        return
    # Processes that are exiting (a reaped pool, a killed run's workers) get a moment to be gone.
    _, alive = psutil.wait_procs(left, timeout=10)
    if alive:
        described = [describe(p) for p in alive]
        for p in alive:
            p.kill()
        psutil.wait_procs(alive, timeout=10)
        pytest.fail(f"processes outlived the test: {described}")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """State, cache, config and log dirs of every test live under a temporary folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("PRESETCTL_STATE_DIR", str(home / "presetctl-state"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("PRESETCTL_DEBUG", raising=False)
    monkeypatch.setenv("COLUMNS", "100")


def require_corpus(part: str = "") -> Path:
    """The real third-party corpus (or ``part`` of it): skipped when absent, a failure when
    PRESETCTL_REQUIRE_CORPUS is set (CI). Every corpus test goes through here, never around it."""
    root = corpus_root()
    target = root / part if part else root
    require_tool(f"the real corpus ({target})", target.exists(), "PRESETCTL_REQUIRE_CORPUS",
                 "set PRESETCTL_CORPUS to ../shared/corpus")
    return target


@pytest.fixture
def corpus() -> Path:
    """The real third-party corpus; skipped when absent, unless PRESETCTL_REQUIRE_CORPUS is set (CI)."""
    return require_corpus()


CHROMIUM = "/usr/bin/chromium"  # Debian's package; .ci/run installs it


def require_tool(tool: str, found: bool, variable: str, install: str) -> None:
    """Skip a test whose tool is missing, or fail it when ``variable`` says the tool is required (CI)."""
    if found:
        return
    if os.environ.get(variable):
        pytest.fail(f"{variable} is set but {tool} is missing ({install})")
    pytest.skip(f"{tool} is missing ({install}; set {variable}=1 to make this a failure)")


@pytest.fixture
def chromium() -> str:
    """Debian's chromium and Playwright to drive it; required when PRESETCTL_REQUIRE_BROWSER is set."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_tool("playwright", False, "PRESETCTL_REQUIRE_BROWSER", "pip install -e '.[test]'")
    require_tool("chromium", Path(CHROMIUM).exists(), "PRESETCTL_REQUIRE_BROWSER", "apt-get install -y chromium")
    return CHROMIUM


@pytest.fixture
def tmux() -> str:
    """tmux for a real terminal session; required when PRESETCTL_REQUIRE_TMUX is set."""
    found = shutil.which("tmux")
    require_tool("tmux", found is not None, "PRESETCTL_REQUIRE_TMUX", "apt-get install -y tmux")
    assert found is not None
    return found


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke the Typer app in-process: ``cli(["validate", path])`` -> Result."""
    from presetctl.cli.app import app

    def invoke(args: list[str], **kw: object):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [str(a) for a in args], **kw)

    return invoke


def run_subprocess(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m presetctl`` in a real process (exit codes, streams, signals as users see them)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "presetctl", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.fixture
def pack(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "pack"
    folder.mkdir()
    yield folder
