"""Issue 15's pictures: the envelope of each voice an audio finding (W101-W105) names, in the viewer's
detail pane and the static report (Unicode blocks) and in the HTML pages (inline SVG), and of the
sounds that sound alike in `stats --html`. The picture's data is the renderer's own."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from audio_data import syx_bank
from browser import assert_no_children, open_page
from test_report_tui import detail_text, drive, select_group
from textual.pilot import Pilot

from presetctl.cli.report import rule_docs
from presetctl.engine.audio.analysis import ENVELOPE_POINTS, analyse
from presetctl.engine.audio.render import Audition, render
from presetctl.engine.audio.voice import init_voice, with_values
from presetctl.engine.audio.voicebatch import VoiceBatch
from presetctl.engine.model import Finding, Location, Severity
from presetctl.engine.stats.model import Envelope
from presetctl.report import pictures
from presetctl.report.browse.context import ContextReader
from presetctl.report.browse.source import HistorySource, LoadedRun, RunHeader, load_run
from presetctl.report.browse.tui import ReportApp
from presetctl.report.browse.voices import VoicePictures
from presetctl.report.html import HtmlPage, envelope_svg

INIT = init_voice()
SILENT = with_values(INIT, {"op1_output_level": 0})
PERCUSSIVE = with_values(INIT, {"op1_eg_rate2": 50, "op1_eg_level2": 60, "op1_eg_level3": 60})
RINGS_ON = with_values(PERCUSSIVE, {"op1_eg_level4": 99})  # W105
QUIET = with_values(INIT, {"op1_output_level": 60})  # W103
VOICES = [INIT, SILENT, RINGS_ON, QUIET, INIT, INIT]
HOSTILE_BANK = '<img src=x onerror=alert(1)>"\x1b[31m\u202e.syx'


def rendered(voice: tuple[int, ...]) -> Envelope:
    """The envelope straight from the renderer and its analysis (no cache, no presetctl report)."""
    note = Audition()
    (sound,) = analyse(render(VoiceBatch.from_values([voice]), note))
    return Envelope(tuple(round(p, 2) for p in sound.envelope), note.hold + note.release, note.hold)


@pytest.fixture
def audio_run(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedRun:  # type: ignore[no-untyped-def]
    """A recorded validate of a bank with a silent, a ringing and a quiet voice (audio rules on)."""
    monkeypatch.setenv("PRESETCTL_CACHE_DIR", str(tmp_path / "render-cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / HOSTILE_BANK).write_bytes(syx_bank(VOICES))
    result = cli(["validate", "pack", "--select", "W1", "-o", "concise"])
    assert result.exit_code == 0, result.output
    run = load_run("last", HistorySource(Path(__import__("os").environ["PRESETCTL_STATE_DIR"]) / "history.sqlite3"))
    assert [(f.code, f.location.voice) for f in run.findings] == [("W101", 2), ("W105", 3), ("W103", 4)]
    return run


def test_the_pictures_data_is_the_renderers(audio_run: LoadedRun, tmp_path: Path) -> None:
    pics = VoicePictures(ContextReader(audio_run.header), budget=0)  # the cache the rules filled answers
    by_voice = {f.location.voice: pics.picture(f) for f in audio_run.findings}
    for number, voice in ((2, SILENT), (3, RINGS_ON), (4, QUIET)):
        assert by_voice[number] == rendered(voice)
    env = by_voice[3]
    assert isinstance(env, Envelope) and len(env.points) == ENVELOPE_POINTS == 40
    assert (env.seconds, env.key_up) == (2.0, 1.0)
    assert max(env.points[20:]) > max(env.points[10:20])  # RINGS_ON: louder after key-up than late in the hold
    assert set(by_voice[2].points) == {-140.0}  # type: ignore[union-attr]  # silence: the analysis' floor


def test_a_voice_missing_from_the_cache_is_rendered_while_cheap(audio_run: LoadedRun, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESETCTL_CACHE_DIR", str(tmp_path / "empty-cache"))
    findings = audio_run.findings
    none_left = VoicePictures(ContextReader(audio_run.header), budget=0)
    assert none_left.picture(findings[0]) == "not rendered: more than 128 voices missing from the render cache"
    pics = VoicePictures(ContextReader(audio_run.header), budget=1)
    assert pics.picture(findings[1]) == rendered(RINGS_ON)  # rendered now, and stored
    assert isinstance(pics.picture(findings[2]), str)  # the budget is spent
    assert VoicePictures(ContextReader(audio_run.header), budget=0).picture(findings[1]) == rendered(RINGS_ON)


def test_no_picture_for_other_findings_or_changed_files(audio_run: LoadedRun, tmp_path: Path) -> None:
    pics = VoicePictures(ContextReader(audio_run.header))
    other = Finding("pack/x.syx", "D001", Severity.ERROR, "checksum", Location(offset=4102))
    assert pics.picture(other) is None
    w101 = audio_run.findings[0]
    bank = tmp_path / "pack" / HOSTILE_BANK
    bank.write_bytes(b"\x00" * 16 + bank.read_bytes())  # every voice moved
    assert VoicePictures(ContextReader(audio_run.header)).picture(w101) == \
        "voice 2 is not where the run found it: the file changed since"
    bank.unlink()
    assert VoicePictures(ContextReader(audio_run.header)).picture(w101) == "not read: No such file or directory"
    archived = Finding("pack/a.zip", "W101", Severity.WARNING, "silent", Location(voice=1, entry="b.syx"))
    assert pics.picture(archived) == "inside archive member 'b.syx': no picture"


def test_unicode_pictures() -> None:
    assert pictures.sparkline([-140.0, -80.0, -40.0, 0.0, -10.0, 6.0, float("nan")]) == "  \u2584\u2588\u2587\u2588 "
    assert pictures.block_chart([-80.0, -60.0, -40.0, -20.0, 0.0], rows=2) == [
        "   \u2584\u2588", " \u2584\u2588\u2588\u2588"]  # 16 levels: 0, 4, 8, 12, 16 eighths
    env = Envelope((-20.0,) * 8, 2.0, 1.0)
    assert pictures.axis(env, 8) == "0 s     ^    2 s"
    assert pictures.caption(env) == "RMS level -80 to 0 dBFS over 2 s, key up at 1 s"


def test_svg_is_inline_numbers_and_an_escaped_title() -> None:
    env = rendered(RINGS_ON)
    svg = envelope_svg(env, title=HOSTILE_BANK)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="env" role="img"') and svg.endswith("</svg>")
    assert "<img" not in svg and "&lt;img src=x onerror=alert(1)&gt;&quot;\\x1b[31m\\u202e.syx" in svg
    assert "\x1b" not in svg and "\u202e" not in svg
    assert not re.search(r"href|url\(|src=[^x]|<script|<image|<foreignObject", svg)  # refers to nothing outside
    (points,) = re.findall(r'<polyline class="env-line" points="([^"]+)"', svg)
    xy = [tuple(map(float, p.split(","))) for p in points.split()]
    assert len(xy) == 40 and xy[0][0] == 2.0 and xy[-1][0] == 158.0  # one point per 50 ms, 4 px apart
    expected = [36 - pictures.level(p, 1000) / 1000 * 34 for p in env.points]
    assert [y for _, y in xy] == [round(y, 1) for y in expected]
    assert '<line class="env-key" x1="80.0" y1="0" x2="80.0" y2="36"/>' in svg  # key up at 1 s of 2
    page = HtmlPage("t")
    page.table(["voice", "envelope"], [[HOSTILE_BANK, env]])
    assert f'<td class="pic">{envelope_svg(env)}</td>' in page.render()


# -- the views ------------------------------------------------------------------------------------------
def test_the_static_report_shows_a_sparkline_per_audio_finding(cli, audio_run: LoadedRun) -> None:  # type: ignore[no-untyped-def]
    out = cli(["report", "--no-interactive"]).stdout
    for voice in (SILENT, RINGS_ON, QUIET):
        line = f"      envelope \u2595{pictures.sparkline(rendered(voice).points)}\u258f RMS level -80 to 0 dBFS"
        assert line in out
    assert out.count("      envelope ") == 3 and "\x1b" not in out and "\u202e" not in out


def test_the_viewer_draws_the_envelope_in_the_detail_pane(audio_run: LoadedRun, tmp_path: Path) -> None:
    app = ReportApp(audio_run, rule_docs, baseline=tmp_path / "baseline.json")

    async def scenario(pilot: Pilot[None]) -> None:
        await select_group(pilot, "W105")
        text = detail_text(app)
        assert "envelope of the rendered test note" in text
        chart = pictures.block_chart(rendered(RINGS_ON).points)
        lines = text.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("envelope of the rendered"))
        assert [line.rstrip() for line in lines[start + 1 : start + 5]] == [("    " + row).rstrip() for row in chart]
        assert lines[start + 5].startswith("0 s ") and "^" in lines[start + 5]
        await select_group(pilot, "W101")
        assert "envelope of the rendered test note" in detail_text(app)
        await pilot.press("g")  # by file: the first finding is a DX7 one, no picture needed for the header
        assert "presetctl rule" in detail_text(app)

    drive(app, scenario)


class _Svgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg":
            self.cells.append(dict(attrs).get("class") or "")


def test_the_html_page_draws_each_voice(cli, audio_run: LoadedRun, tmp_path: Path, chromium: str) -> None:  # type: ignore[no-untyped-def]
    assert cli(["report", "--html", "page.html"]).exit_code == 0
    html = (tmp_path / "page.html").read_text()
    for voice in (SILENT, RINGS_ON, QUIET):
        assert f'<td class="pic">{envelope_svg(rendered(voice))}</td>' in html
    svgs = _Svgs()
    svgs.feed(html)
    assert svgs.cells.count("env") == 3
    assert "<img" not in html.split("<script", 1)[0]  # the hostile file name is text in every table
    with open_page(chromium, tmp_path / "profile") as (page, log):
        page.goto((tmp_path / "page.html").as_uri())
        page.wait_for_selector("section#findings[data-state=ready]")
        boxes = page.eval_on_selector_all("svg.env", "els => els.map(e => [e.getBBox().width, e.clientHeight])")
        assert boxes == [[160, 36]] * 3  # drawn, at their size
        assert page.eval_on_selector_all("img", "els => els.length") == 0
        assert log.errors == [] and log.console == []
        assert [u for u in log.requests if not u.startswith("file://")] == []
    assert_no_children()


def test_stats_html_draws_the_sounds_that_sound_alike(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PRESETCTL_CACHE_DIR", str(tmp_path / "render-cache"))
    monkeypatch.chdir(tmp_path)
    bright = with_values(INIT, {"op2_output_level": 85, "op2_freq_coarse": 3})
    tweaked = with_values(bright, {"op1_freq_fine": 1})
    (tmp_path / "bank.syx").write_bytes(syx_bank([bright, tweaked, PERCUSSIVE]))
    result = cli(["stats", "bank.syx", "-s", "audio", "--json", "--html", "stats.html", "-q"])
    data = json.loads(result.stdout)["audio"]
    envelopes = {tuple(e["voices"]): e["points"] for e in data["envelopes"]}
    assert envelopes[("bank.syx#1",)] == list(rendered(bright).points)
    assert envelopes[("bank.syx#2",)] == list(rendered(tweaked).points)
    assert (data["envelope_seconds"], data["envelope_key_up"]) == (2.0, 1.0)
    html = (tmp_path / "stats.html").read_text()
    assert envelope_svg(rendered(bright)) in html and "<script" not in html
    text = cli(["stats", "bank.syx", "-s", "audio", "-q"]).stdout
    assert pictures.sparkline(rendered(tweaked).points).rstrip() in text
    csv_out = cli(["stats", "bank.syx", "-s", "audio", "--csv", "-q"]).stdout
    assert "'" + " ".join(f"{p:g}" for p in rendered(bright).points) in csv_out  # a leading '-' neutralized


def test_run_header_roots_are_shown_relative() -> None:
    header = RunHeader("r", roots=("/w/pack", "/elsewhere/x"), cwd="/w")
    assert header.shown_roots == ("pack", "/elsewhere/x")
