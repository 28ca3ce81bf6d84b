"""Driving Debian's chromium from tests through Playwright (no browser download: executable_path).

:func:`open_page` starts a fresh browser with a throw-away profile, records every console message,
page error and network request of the context, and closes the browser and the Playwright driver
on the way out; :func:`assert_no_children` proves nothing of ours is left running.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from processes import children, describe

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class PageLog:
    console: list[str] = field(default_factory=list)  # "type: text" of every console message
    errors: list[str] = field(default_factory=list)  # uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every request the browser context made


@contextmanager
def open_page(chromium: str, profile: Path, width: int = 1280, height: int = 900) -> Iterator[tuple[Any, PageLog]]:
    from playwright.sync_api import sync_playwright

    log = PageLog()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=FLAGS,
            viewport={"width": width, "height": height})
        try:
            context.on("request", lambda r: log.requests.append(r.url))
            page = context.new_page()
            page.on("console", lambda m: log.console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: log.errors.append(str(e)))
            yield page, log
        finally:
            context.close()


def assert_no_children(timeout: float = 15.0) -> None:
    """Every process this test process started has exited (browser, driver, tmux, app)."""
    _, alive = psutil.wait_procs(children(), timeout=timeout)
    assert [p.pid for p in alive] == [], [describe(p) for p in alive]
