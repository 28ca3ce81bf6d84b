"""Regenerate the screenshots of docs/report.md: the viewer (SVG, saved by Textual) and the HTML
page (PNG, by headless chromium).

    python benchmarks/report_screenshots.py [--chromium /usr/bin/chromium]

It validates a demo pack (sample_presets/broken, a DX7 bank with a bad checksum and an escape
sequence in a voice name, a preset named with markup) in a temporary folder, writes its JSON
report, and renders both views of that run into docs/img/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from presetctl import api
from presetctl.cli.report import rule_docs
from presetctl.report.base import ReportContext
from presetctl.report.browse.html_report import render_html
from presetctl.report.browse.source import load_run
from presetctl.report.browse.tui import ReportApp
from presetctl.report.browse.view import by_severity

REPO = Path(__file__).resolve().parents[1]
IMG = REPO / "docs" / "img"


def dx7_bank(first_name: bytes) -> bytes:
    voices = bytearray(4096)
    for v in range(32):
        voices[v * 128 + 118 : v * 128 + 128] = (first_name if v == 0 else b"BRASS   %d" % (v % 10)).ljust(10)[:10]
    checksum = ((-sum(voices)) & 0x7F) ^ 0x55  # deliberately wrong
    return b"\xf0\x43\x00\x09\x20\x00" + bytes(voices) + bytes([checksum, 0xF7])


def demo_report(folder: Path) -> Path:
    pack = folder / "pack"
    shutil.copytree(REPO / "sample_presets" / "broken", pack)
    (pack / "bank.syx").write_bytes(dx7_bank(b"\x1b]52;c;x\x07"))
    (pack / "markup.json").write_text(json.dumps({
        "format_version": "1.0", "metadata": {"name": "[bold]Loud[/bold] <b>Lead</b>", "author": "QA", "category": "Lead"},
        "parameters": [{"name": "cutoff", "value": 0.5, "min": 0.0, "max": 1.0}]}, indent=2))
    result = api.validate(["pack"], api.Options(jobs=1, profiles=("marketplace",)), cwd=str(folder))
    from presetctl.report.json_report import JsonReporter

    out = folder / "run.json"
    out.write_text(JsonReporter().render(result, ReportContext(extra={"cwd": str(folder)})))
    return out


async def tui_svg(report: Path, target: Path) -> None:
    app = ReportApp(load_run(str(report)), rule_docs, baseline=report.parent / "baseline.json")
    async with app.run_test(size=(150, 44)) as pilot:
        await pilot.pause()
        index = next(i for i, g in enumerate(app.groups) if g.key == "D001")
        app.query_one("#groups").move_cursor(row=index)  # type: ignore[attr-defined]
        await pilot.pause()
        target.write_text(app.export_screenshot(title="presetctl report run.json"))


def html_png(report: Path, target: Path, chromium: str) -> None:
    run = load_run(str(report))
    page = (report.parent / "report.html").resolve()
    page.write_text(render_html(run, by_severity(run.findings), rule_docs))
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    f"--user-data-dir={(report.parent / 'profile').resolve()}", "--window-size=1280,1500",
                    f"--screenshot={target}", page.as_uri()], check=True, capture_output=True, timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    IMG.mkdir(parents=True, exist_ok=True)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the pages name the report as a user would: run.json
        try:
            demo_report(Path(tmp))
            asyncio.run(tui_svg(Path("run.json"), IMG / "report-tui.svg"))
            html_png(Path("run.json"), IMG / "report-html.png", args.chromium)
        finally:
            os.chdir(here)
    print(f"wrote {IMG / 'report-tui.svg'} and {IMG / 'report-html.png'}")


if __name__ == "__main__":
    main()
