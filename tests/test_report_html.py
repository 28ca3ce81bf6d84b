"""`presetctl report RUN --html FILE`: one self-contained page, inert hostile text, and a real
headless Chromium that filters, sorts and opens 100,000 findings (tests/browser.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from browser import assert_no_children, open_page
from report_data import EVIL_FILE, EVIL_NAME, big_report, make_pack, write_report

from presetctl.cli.report import rule_docs
from presetctl.engine.model import Finding, Location, Severity
from presetctl.report.browse.html_report import render_html, table_data
from presetctl.report.browse.source import LoadedRun, RunHeader, load_run
from presetctl.report.html import HtmlPage, script_json

READY = "section#findings[data-state=ready]"


def _run(*findings: Finding) -> LoadedRun:
    return LoadedRun(RunHeader("r.json", roots=(EVIL_NAME,), started_at="2026-01-02T03:04:05+00:00", exit_code=1,
                               fail_on="error", files=3, presets=3), findings)


EVIL = Finding(EVIL_FILE, "N006", Severity.ERROR, f"name '{EVIL_NAME}' line\u2028sep </script><!--",
               Location(pointer="/metadata/name"), hint="<b>remove</b>", rule_name="name-control-characters")
DUPE = Finding("pack/b.syx", "Q002", Severity.WARNING, "name 'INIT' is used twice", Location(voice=2),
               rule_name="duplicate-name")


def _data_block(page: str) -> dict[str, object]:
    m = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', page, re.S)
    assert m is not None
    value: dict[str, object] = json.loads(m.group(1))
    return value


def test_page_is_self_contained_and_escapes_everything() -> None:
    page = render_html(_run(EVIL, DUPE), [EVIL, DUPE], rule_docs)
    assert "<img" not in page and "<b>" not in page and "\u2028" not in page and "\x1b" not in page
    assert page.count("<script") == 2  # the data block and the one script, nothing from the run
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.json" in page  # in the tables, as text
    assert "<!--" not in page.split("<main>", 1)[1]  # the data block cannot open a comment either
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)  # no external asset of any kind
    data = _data_block(page)
    assert data == json.loads(script_json(table_data([EVIL, DUPE])))
    tables = data["tables"]
    assert isinstance(tables, dict)
    assert tables["msg"][0] == ("name '[bold]Evil[/bold]\\x1b[31m<script>alert(1)</script>\\u202egnp' "
                                "line\\u2028sep </script><!--")  # visible escapes, then exact text in JSON


def test_csp_allows_exactly_the_inline_script() -> None:
    page = render_html(_run(DUPE), [DUPE], rule_docs)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None and "default-src 'none'" in csp.group(1)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert csp.group(1).endswith(f"script-src 'sha256-{digest}'")
    plain = HtmlPage("t")
    plain.paragraph("no scripts")
    assert "script-src" not in plain.render() and "<script" not in plain.render()  # stats pages stay script-free
    with pytest.raises(ValueError, match="must not contain"):
        plain.script("x = '</script>'")


def test_rule_docs_are_in_the_page() -> None:
    page = render_html(_run(EVIL, DUPE), [EVIL, DUPE], rule_docs)
    assert '<details class="doc" id="rule-N006"><summary>N006 name-control-characters</summary>' in page
    doc = rule_docs("N006")
    assert doc is not None and doc.splitlines()[0] == "## N006 name-control-characters"
    assert '<details class="doc" id="rule-Q002">' in page


def test_html_option_writes_the_page(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    report = write_report(tmp_path, make_pack(tmp_path))
    result = cli(["report", report, "--html", "out.html", "--severity", "error"])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"wrote out\.html \(\d+ findings\)\n", result.stderr)
    page = (tmp_path / "out.html").read_text()
    assert "Filtered: sev:error" in page
    rows = _data_block(page)["rows"]
    assert isinstance(rows, list) and rows and {r[0] for r in rows} == {0}  # severity index 0: error only


# -- in a real browser ---------------------------------------------------------------------------------
def _visible_rows(page) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows: list[list[str]] = page.eval_on_selector_all(
        "#findings .vt-row", "rows => rows.map(r => Array.from(r.children, c => c.textContent))")
    return rows


def _count(page) -> str:  # type: ignore[no-untyped-def]
    text: str = page.inner_text("#findings .vt-count")
    return text


def test_report_page_in_chromium(chromium: str, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    report = write_report(tmp_path, make_pack(tmp_path))
    findings = load_run(str(report)).findings
    total, dupes = len(findings), sum(1 for f in findings if f.code == "D008")
    assert dupes >= 30
    assert cli(["report", report, "--html", "page.html"]).exit_code == 0
    url = (tmp_path / "page.html").as_uri()
    dialogs: list[str] = []
    with open_page(chromium, tmp_path / "profile") as (page, log):
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.wait_for_selector(READY)
        assert _count(page) == f"showing {total} of {total}"
        first = _visible_rows(page)
        assert first[0][0] == "error" and len(first) == min(total, len(first))

        # Hostile names are text: no element, no handler, no dialog came from them.
        assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
        assert page.evaluate("document.querySelectorAll('script').length") == 2
        paths = {r[2] for r in first}
        assert f"pack/{EVIL_FILE}" in paths
        body = page.inner_text("body")
        assert "'[bold]Evil[/bold]\\x1b[31m<script>alert(1)</script>\\u202egnp'" in body

        # Filtering: the query box and the facets change the visible rows.
        page.fill("#findings .vt-search", "sev:error path:*.syx")
        page.wait_for_function("() => document.querySelector('#findings .vt-count').textContent.startsWith('showing 2 ')")
        assert sorted((r[0], r[1]) for r in _visible_rows(page)) == [("error", "D001"), ("error", "X063")]
        page.fill("#findings .vt-search", "")
        page.select_option("#findings select[aria-label=rule]", "code:D008")
        page.wait_for_function("() => document.querySelector('#findings .vt-count').textContent === "
                               f"'showing {dupes} of {total}'")
        assert {r[1] for r in _visible_rows(page)} == {"D008"}
        page.select_option("#findings select[aria-label=rule]", "")

        # Sorting: a click on "code" sorts ascending, a second click descending.
        page.click("#findings .vt-head button:has-text('code')")
        page.wait_for_function("() => document.querySelector('#findings .vt-head button[aria-sort]') !== null")
        codes = [r[1] for r in _visible_rows(page)]
        assert codes == sorted(codes) and codes[0] == "A001"
        page.click("#findings .vt-head button:has-text('code')")
        page.wait_for_function("() => document.querySelector('#findings .vt-head button[aria-sort=descending]') !== null")
        assert _visible_rows(page)[0][1] == "X064"

        # A row opens its details, with a link to the rule's documentation.
        page.click("#findings .vt-row >> nth=0")
        detail = page.inner_text("#findings .vt-detail")
        assert "X064" in detail and "rule documentation" in detail
        page.click("#findings .vt-detail a")
        assert page.evaluate("document.getElementById('rule-X064').open") is True
    assert log.console == [] and log.errors == [] and dialogs == []
    assert log.requests == [url]  # the page itself, and nothing else: no fetch, no font, no favicon
    assert_no_children()


def test_hundred_thousand_findings_are_interactive_within_two_seconds(chromium: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = big_report(tmp_path / "big.json", 100_000)
    assert cli(["report", report, "--html", tmp_path / "big.html"]).exit_code == 0
    url = (tmp_path / "big.html").as_uri()
    with open_page(chromium, tmp_path / "profile") as (page, log):
        page.goto(url)
        page.wait_for_selector(READY, timeout=30_000)
        ready_ms = page.evaluate("performance.getEntriesByName('vt-ready:findings')[0].startTime")
        assert ready_ms < 2000, f"interactive after {ready_ms:.0f} ms"
        assert _count(page) == "showing 100,000 of 100,000"
        assert page.evaluate("document.querySelectorAll('.vt-row').length") < 100  # only what is in view
        page.fill("#findings .vt-search", "onerror")
        page.wait_for_function("() => document.querySelector('#findings .vt-count').textContent === 'showing 101 of 100,000'")
        assert all(r[2] == f"archive/{EVIL_FILE}" for r in _visible_rows(page))
        page.fill("#findings .vt-search", "")
        page.wait_for_function("() => document.querySelector('#findings .vt-count').textContent.startsWith('showing 100,000')")
        page.eval_on_selector("#findings .vt-body", "b => { b.scrollTop = b.scrollHeight; }")
        # At the bottom the drawn rows are the last ones: 100,000 rows of 24 px, drawn near 2.4 million px.
        page.wait_for_function("() => parseFloat((/translateY\\(([^p]+)px/.exec(document.querySelector("
                               "'#findings .vt-rows').style.transform) || [0, '0'])[1]) > 2390000")
        assert page.evaluate("document.querySelectorAll('.vt-row').length") < 100
    assert log.console == [] and log.errors == [] and log.requests == [url]
    assert_no_children()
