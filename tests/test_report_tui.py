"""The Textual viewer of `presetctl report`, driven by Textual's pilot over a real run of a hostile
pack: grouping, filtering, the detail pane (rule doc, JSON lines, hex bytes), accepting into a
baseline, exporting, help. Then once for real in tmux (test_report_tmux.py)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from report_data import make_pack, write_report
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from presetctl.cli.report import rule_docs
from presetctl.engine.baseline import key, read_baseline
from presetctl.report.browse.source import LoadedRun, load_run
from presetctl.report.browse.tui import HelpScreen, ReportApp
from presetctl.report.browse.view import GroupBy

SIZE = (160, 50)


@pytest.fixture
def run(tmp_path: Path) -> LoadedRun:
    return load_run(str(write_report(tmp_path, make_pack(tmp_path))))


def plain(renderable: object, width: int = 1000) -> str:
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def rows(app: ReportApp, table_id: str) -> list[list[str]]:
    table = app.query_one(table_id, DataTable)
    out = []
    for i in range(table.row_count):
        cells = table.get_row_at(i)
        assert all(isinstance(c, Text) for c in cells)  # never a str: DataTable would read it as markup
        out.append([c.plain for c in cells])
    return out


def detail_text(app: ReportApp) -> str:
    return plain(app.query_one("#detail", Static).content)


def drive(app: ReportApp, scenario: Callable[[Pilot[None]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await scenario(pilot)

    asyncio.run(main())


async def select_group(pilot: Pilot[None], key: str) -> None:
    app = pilot.app
    assert isinstance(app, ReportApp)
    index = next(i for i, g in enumerate(app.groups) if g.key == key)
    app.query_one("#groups", DataTable).move_cursor(row=index)
    await pilot.pause()


def test_groups_switch_with_one_key(run: LoadedRun, tmp_path: Path) -> None:
    app = ReportApp(run, rule_docs, baseline=tmp_path / "baseline.json")

    async def scenario(pilot: Pilot[None]) -> None:
        by_rule = rows(app, "#groups")
        assert by_rule[0][0] == "E" and len(by_rule) == len({f.code for f in run.findings})
        d008 = next(r for r in by_rule if r[1].startswith("D008"))
        assert d008 == ["W", "D008 dx7-name-charset", "32"]
        await pilot.press("g")
        by_file = rows(app, "#groups")
        assert app.group_by is GroupBy.file and by_file[0] == ["E", "pack/bank.syx", "66 (2E 33W 31I)"]
        await pilot.press("g")
        by_preset = [r[1] for r in rows(app, "#groups")]
        assert app.group_by is GroupBy.preset and "pack/bank.syx \u203a voice 7" in by_preset
        await pilot.press("g")
        assert app.group_by is GroupBy.rule
        status = plain(app.query_one("#status", Static).content)
        assert f"grouped by rule  \u00b7  {len(by_rule)} groups  \u00b7  {len(run.findings)} of {len(run.findings)}" \
               " findings" in status

    drive(app, scenario)


def test_filter_and_severity_keys(run: LoadedRun, tmp_path: Path) -> None:
    app = ReportApp(run, rule_docs, baseline=tmp_path / "baseline.json")

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"code:D", "enter")
        assert app.query_one("#filter", Input).value == "code:D"
        assert [r[1] for r in rows(app, "#groups")] == ["D001 dx7-checksum-mismatch", "D008 dx7-name-charset"]
        assert app.query_one("#groups", DataTable).has_focus  # Enter went back to the table
        await pilot.press("s")  # warning and worse
        assert len(rows(app, "#groups")) == 2
        await pilot.press("s")  # errors only
        assert [r[1] for r in rows(app, "#groups")] == ["D001 dx7-checksum-mismatch"]
        assert "error" in plain(app.query_one("#status", Static).content)
        # "/" selects the filter text, so typing replaces it; an unclosed quote keeps the last good filter.
        await pilot.press("s", "slash", *"code:D path:'*.json", "enter")
        assert "filter: No closing quotation" in plain(app.query_one("#status", Static).content)
        assert [r[1] for r in rows(app, "#groups")] == ["D001 dx7-checksum-mismatch", "D008 dx7-name-charset"]
        await pilot.press("slash", "ctrl+u", *"onerror", "enter")
        found = {f.path for g in app.groups for f in g.findings}
        assert found == {'pack/"><img src=x onerror=alert(1)>.json'}

    drive(app, scenario)


def test_detail_pane_shows_doc_lines_and_bytes(run: LoadedRun, tmp_path: Path) -> None:
    app = ReportApp(run, rule_docs, baseline=tmp_path / "baseline.json")

    async def scenario(pilot: Pilot[None]) -> None:
        await select_group(pilot, "D001")
        text = detail_text(app)
        assert text.startswith("D001 dx7-checksum-mismatch  error  fixable by `presetctl fix`\nbank 1: checksum")
        assert "location  byte 4102" in text
        assert "00001000  " in text and "^^" in text and "byte 4102 of 4104" in text  # hex, the byte marked
        assert "presetctl rule D001\n" + (rule_docs("D001") or "x").rstrip("\n") in text  # same as `presetctl rule`

        await select_group(pilot, "N006")
        text = detail_text(app)
        assert '> 4 |     "name": "[bold]Evil[/bold]\\u001b[31m<script>alert(1)</script>\\u202egnp",' in text
        assert "\x1b" not in text and "\u202e" not in text
        cells = rows(app, "#findings")[0]
        assert cells[1:4] == ["error", "N006", "pack/evil.json"]
        assert "'[bold]Evil[/bold]\\x1b[31m<script>alert(1)</script>\\u202egnp'" in cells[5]  # markup stays text

        await select_group(pilot, "D008")  # move inside a group: the detail follows the cursor
        await pilot.press("tab", "down", "down")
        assert app.selected is not None and app.selected is app.groups[app.groups.index(app.current)].findings[2]  # type: ignore[arg-type]
        assert "voice 1" not in detail_text(app).split("\n")[3]

    drive(app, scenario)


def test_accept_writes_through_the_baseline_module(run: LoadedRun, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    app = ReportApp(run, rule_docs, baseline=baseline)

    async def scenario(pilot: Pilot[None]) -> None:
        await select_group(pilot, "D001")
        await pilot.press("tab", "a")
        d001 = next(f for f in run.findings if f.code == "D001")
        stored = read_baseline(baseline)
        assert stored.keys == {key(d001, stored.root, run.header.cwd)}
        assert rows(app, "#findings")[0][0] == "\u2713"
        await select_group(pilot, "D008")
        await pilot.press("A")  # the whole group
        stored = read_baseline(baseline)
        assert len(stored.keys) == 33 and key(d001, stored.root, run.header.cwd) in stored.keys
        assert "33 accepted into" in plain(app.query_one("#status", Static).content)

    drive(app, scenario)


def test_export_and_help(run: LoadedRun, tmp_path: Path) -> None:
    app = ReportApp(run, rule_docs, baseline=tmp_path / "baseline.json", export_dir=tmp_path)

    async def scenario(pilot: Pilot[None]) -> None:
        await pilot.press("slash", *"sev:error", "enter", "e")
        box = app.screen.query_one("#export-path", Input)
        assert box.value == str(tmp_path / "presetctl-findings.csv")
        await pilot.press("enter")
        exported = list(csv.reader(io.StringIO((tmp_path / "presetctl-findings.csv").read_text())))
        assert len(exported) == 1 + sum(1 for f in run.findings if f.severity.label == "error")
        assert {r[0] for r in exported[1:]} == {"error"}
        await pilot.press("e", "ctrl+u", *str(tmp_path / "x.txt"), "enter")  # unknown format: told, nothing written
        assert not (tmp_path / "x.txt").exists()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "accept every finding of the highlighted group" in plain(app.screen.query_one("#help", Static).content)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")

    drive(app, scenario)
    assert app.return_code == 0


def test_an_empty_run(tmp_path: Path) -> None:
    from presetctl.report.browse.source import RunHeader

    app = ReportApp(LoadedRun(RunHeader("r.json"), ()), rule_docs, baseline=tmp_path / "b.json")

    async def scenario(pilot: Pilot[None]) -> None:
        assert rows(app, "#groups") == []
        assert detail_text(app).strip() == "this run has no findings"
        await pilot.press("g", "s", "a", "A")  # nothing to act on: nothing breaks, nothing is written
        assert not (tmp_path / "b.json").exists()

    drive(app, scenario)


def test_a_crash_is_kept_for_the_error_table(run: LoadedRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Textual would print a traceback with local variables; the CLI re-raises `failure` instead."""
    def broken_docs(code: str) -> str:
        raise RuntimeError(f"no doc for {code}")

    app = ReportApp(run, broken_docs, baseline=tmp_path / "b.json")

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()

    with pytest.raises(RuntimeError, match="no doc for"):
        asyncio.run(main())
    assert isinstance(app.failure, RuntimeError)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "locals" not in out.out + out.err
