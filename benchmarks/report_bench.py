"""How `presetctl report` copes with a big run: load, static report, HTML page, browser, viewer.

    python benchmarks/report_bench.py [--findings 100000] [--chromium /usr/bin/chromium]

Builds a JSON report of N findings shaped like a DX7 archive (mostly duplicate-name and
duplicate-sound warnings over 40-finding banks), then times, in one process on the same file:
loading it, the static report, writing the HTML page (and its size), the page's time to
interactive in headless chromium (the ``vt-ready`` performance mark) and one filter keystroke
there, and the viewer's first paint and group switches through Textual's pilot.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import orjson

from presetctl.cli.report import rule_docs
from presetctl.report.browse.html_report import render_html
from presetctl.report.browse.source import load_run
from presetctl.report.browse.static import render_report
from presetctl.report.browse.tui import ReportApp
from presetctl.report.browse.view import Filter, GroupBy, by_severity

CODES = [("Q001", "duplicate-sound", "warning"), ("Q002", "duplicate-name", "warning"),
         ("M002", "missing-author", "warning"), ("N003", "name-too-long", "info"),
         ("D001", "dx7-checksum-mismatch", "error"), ("M001", "missing-name", "error")]


def make_report(path: Path, count: int) -> None:
    findings = []
    for i in range(count):
        code, name, sev = CODES[(i * 7) % len(CODES)] if i % 11 else CODES[i % 2]
        findings.append({"path": f"archive/bank-{i // 40:05d}.syx", "code": code, "name": name, "severity": sev,
                         "security_severity": None, "message": f"name 'INIT {i % 500}' is used by {2 + i % 9} presets",
                         "location": f"voice {i % 32 + 1}", "pointer": None, "offset": None, "voice": i % 32 + 1,
                         "entry": None, "line": None, "column": None, "fixable": False, "hint": None})
    doc = {"version": 1, "command": "validate", "run": {"roots": ["archive"], "cwd": str(path.parent)},
           "summary": {"files": count // 40 + 1}, "findings": findings}
    path.write_bytes(orjson.dumps(doc))


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    value = fn()
    print(f"{label:<44} {time.perf_counter() - t0:8.3f} s")
    return value


def browser(page: Path, chromium: str, profile: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        try:
            tab = ctx.new_page()
            tab.goto(page.as_uri())
            tab.wait_for_selector("section#findings[data-state=ready]", timeout=60_000)
            ready = tab.evaluate("performance.getEntriesByName('vt-ready:findings')[0].startTime")
            print(f"{'html: time to interactive (chromium)':<44} {ready / 1000:8.3f} s")
            ms = tab.evaluate("""() => new Promise(done => {
                const count = document.querySelector('#findings .vt-count'), box = document.querySelector('#findings .vt-search');
                const t0 = performance.now();
                new MutationObserver(() => done(performance.now() - t0)).observe(count, {childList: true, subtree: true, characterData: true});
                box.value = 'INIT 42'; box.dispatchEvent(new Event('input'));
            })""")
            print(f"{'html: one filter keystroke (incl. 60 ms pause)':<44} {ms / 1000:8.3f} s")
        finally:
            ctx.close()


async def viewer(path: Path) -> None:
    run = load_run(str(path))
    t0 = time.perf_counter()
    app = ReportApp(run, rule_docs, baseline=path.parent / "baseline.json")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        print(f"{'viewer: first paint (pilot)':<44} {time.perf_counter() - t0:8.3f} s")
        for key in ("g", "g", "g"):
            t1 = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            print(f"{'viewer: group by ' + app.group_by.value + f' ({len(app.groups):,} groups)':<44} "
                  f"{time.perf_counter() - t1:8.3f} s")
        t1 = time.perf_counter()
        await pilot.press("slash", *"INIT 42", "enter")
        await pilot.pause()
        print(f"{'viewer: type a 7-character filter + Enter':<44} {time.perf_counter() - t1:8.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = folder / "run.json"
        make_report(report, args.findings)
        print(f"{args.findings:,} findings, report {report.stat().st_size / 1e6:.1f} MB")
        run = timed("load the JSON report", lambda: load_run(str(report)))
        ordered = timed("sort by severity", lambda: by_severity(run.findings))
        timed("static report, grouped by rule, --top 10", lambda: render_report(run, ordered, GroupBy.rule, Filter(), 10))
        page = folder / "report.html"
        timed("html: build and write the page", lambda: page.write_text(render_html(run, ordered, rule_docs)))
        print(f"{'html: page size':<44} {page.stat().st_size / 1e6:8.1f} MB")
        browser(page, args.chromium, folder / "profile")
        asyncio.run(viewer(report))


if __name__ == "__main__":
    main()
