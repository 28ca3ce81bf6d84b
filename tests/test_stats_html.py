"""The self-contained HTML page (presetctl/report/html.py): escaping everywhere, no assets, and a
real headless browser rendering it without console messages or network requests (skipped without
chromium, failed without it when PRESETCTL_REQUIRE_BROWSER is set: the `chromium` fixture)."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from browser import assert_no_children, open_page
from conftest import require_corpus

from presetctl.report.html import HtmlPage

EVIL = "<img src=x onerror=alert(1)>\"'&\x1b]8;;http://x\x07\u202e"


def test_every_block_escapes_its_text() -> None:
    page = HtmlPage(EVIL, subtitle=EVIL)
    page.heading(EVIL)
    page.heading("Second")
    page.paragraph(EVIL, note=True)
    page.preformatted(EVIL)
    page.table([EVIL, "n"], [[EVIL, 3], [(EVIL, "b"), 2.5]], caption=EVIL, more=4)
    page.bar_chart(EVIL, [(EVIL, 3.0), ("ok", 1.0, True)], unit=EVIL)
    html = page.render()
    assert "<img" not in html and "<svg" in html
    assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;\\x1b]8;;http://x\\x07\\u202e" in html
    assert "\x1b" not in html and "\x07" not in html and "\u202e" not in html
    assert html.count("<script") == 0 and "... and 4 more rows" in html
    assert 'class="flag"' in html and "<br>" in html  # flagged bar, list cell


class _Where(HTMLParser):
    """The open elements (tag and attributes) around each piece of text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, list[tuple[str, dict[str, str | None]]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("br", "meta"):
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1][0] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.texts.append((data, list(self.stack)))


def _around(html: str, text: str) -> list[list[tuple[str, dict[str, str | None]]]]:
    where = _Where()
    where.feed(html)
    return [stack for data, stack in where.texts if text in data]


def test_more_rows_is_a_row_of_its_table() -> None:
    page = HtmlPage("t")
    page.table(["format", "saved with", "presets"], [["surge-fxp", "Surge patch revision 9", 135]], caption="V",
               more=23)
    page.table(["a"], [["x"]], caption="W")
    html = page.render()
    (stack,) = _around(html, "... and 23 more rows (see --json)")
    assert [tag for tag, _ in stack[-4:]] == ["table", "tfoot", "tr", "td"]
    assert stack[-1][1] == {"class": "more", "colspan": "3"}  # spans every column
    assert "<p" not in html.split("</caption>", 1)[1]  # no loose note after the table
    assert html.count("<tfoot>") == 1  # a table with every row shown has no footer


def test_more_rows_in_the_stats_page(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    pack.mkdir()
    for i in range(3):
        (pack / f"p{i}.json").write_bytes(
            b'{"format_version": "1.0", "metadata": {"name": "p%d", "author": "A%d", "category": "C%d"},'
            b' "parameters": []}' % (i, i, i))
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "stats.html"
    assert cli(["stats", "pack", "--quiet", "--top", "1", "-s", "taxonomy", "--html", str(page)]).exit_code == 0
    html = page.read_text(encoding="utf-8")
    stacks = _around(html, "more rows")
    assert stacks and all([tag for tag, _ in s[-4:]] == ["table", "tfoot", "tr", "td"] for s in stacks)
    assert "... and 2 more rows (see --json)" in html  # the Authors table keeps 1 of 3


def test_empty_chart_is_left_out() -> None:
    page = HtmlPage("t")
    page.bar_chart("nothing", [])
    assert "<svg" not in page.render()


def _chromium(chromium: str, page: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={page.parent / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def test_page_renders_in_headless_chromium(chromium: str, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    src = require_corpus("helm/mtytel__helm/patches/Factory Presets/Bass")
    shutil.copytree(src, tmp_path / "pack")
    (tmp_path / "pack" / "evil.json").write_bytes(
        b'{"format_version": "1.0", "metadata": {"name": "x", "category": "<script>console.error(1)</script>"},'
        b' "parameters": []}')
    monkeypatch.chdir(tmp_path)
    page = tmp_path / "stats.html"
    result = cli(["stats", "pack", "--quiet", "--html", str(page)])
    assert result.exit_code == 0, result.output

    # The harness must see console messages: a control page that logs one.
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><html><body><script>console.error('seen')</script></body></html>")
    seen = _chromium(chromium, control)
    assert any('"seen"' in line for line in _console_lines(seen.stderr)), seen.stderr[-2000:]

    run = _chromium(chromium, page)
    assert run.returncode == 0, run.stderr[-2000:]
    assert _console_lines(run.stderr) == []  # no errors, no CSP violations, no blocked fetches
    dom = run.stdout
    assert "<h1>presetctl stats</h1>" in dom
    for section in ("Overview", "Taxonomy", "Duplicates", "Naming", "Sound", "History"):
        assert f">{section}</h2>" in dom
    assert dom.count("<svg") >= 5 and "<script" not in dom
    assert "&lt;script&gt;console.error(1)&lt;/script&gt;" in dom

    # The same page through the browser harness of the report page: not one network request.
    with open_page(chromium, tmp_path / "profile-2") as (browser_page, log):
        browser_page.goto(page.as_uri())
        assert browser_page.inner_text("h1") == "presetctl stats"
        assert browser_page.evaluate("document.querySelectorAll('img, script').length") == 0
    assert log.console == [] and log.errors == [] and log.requests == [page.as_uri()]
    assert_no_children()


def test_more_rows_stays_in_its_table_in_a_browser(chromium: str, tmp_path: Path) -> None:
    page = HtmlPage("t")
    page.table(["format", "saved with", "presets"], [["vital", "Vital 1.5.3", 38]], caption="V", more=23)
    path = tmp_path / "page.html"
    path.write_text(page.render(), encoding="utf-8")
    run = _chromium(chromium, path)
    assert run.returncode == 0, run.stderr[-2000:]
    # The browser's own DOM: loose text in a table would be moved out of it (foster parenting).
    assert ('<tfoot><tr><td class="more" colspan="3">... and 23 more rows (see --json)</td></tr></tfoot></table>'
            in run.stdout), run.stdout[-2000:]
