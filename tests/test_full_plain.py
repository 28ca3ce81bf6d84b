"""The ``full`` report off a terminal (plain strings, no rich) held against the same report drawn
by rich, byte for byte, on generated runs: hostile and wide text, hints, duplicate groups, unknown
files, security ratings, baselines and counts of every width.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from presetctl.engine.model import (
    FileOutcome,
    FileStatus,
    Finding,
    Location,
    Related,
    RunResult,
    SecuritySeverity,
    Severity,
    StageTiming,
)
from presetctl.report.base import ReportContext
from presetctl.report.full import FullReporter, FullWriter
from presetctl.report.full_rich import RichFullWriter

# Text a preset may carry: controls, bidi overrides, rich markup, wide and combining characters,
# trailing blanks, nothing at all.
texts = st.one_of(st.text(max_size=40), st.sampled_from(
    ["", " ", "trailing  ", "[bold]x[/bold]", ":smile:", "\t\r\x1b[31mred", "\u202egnp", "音色", "e\u0301", "a\nb"]))
locations = st.builds(Location, texts, st.none() | st.integers(0, 10**6), st.none() | st.integers(1, 32), texts)
related = st.builds(Related, texts, locations, texts)
findings = st.builds(
    Finding, texts, st.sampled_from(["P001", "V003", "X040", "Q001"]), st.sampled_from(list(Severity)), texts,
    locations, st.none() | st.integers(1, 10**6), st.none() | st.integers(0, 999), texts, st.booleans(),
    st.none() | st.sampled_from(list(SecuritySeverity)), texts, st.lists(related, max_size=3).map(tuple))


@st.composite
def results(draw: st.DrawFn) -> RunResult:
    outcomes = []
    for path in draw(st.lists(texts, max_size=4, unique=True)):
        mine = tuple(draw(st.lists(findings.map(lambda f, p=path: _at(f, p)), max_size=3)))
        outcomes.append(FileOutcome(path, "presetctl", draw(st.sampled_from(list(FileStatus))),
                                    draw(st.integers(0, 10**9)), draw(st.integers(0, 10**6)), mine))
    pack = tuple(draw(st.lists(findings, max_size=3)))
    every = tuple(f for o in outcomes for f in o.findings) + pack
    seconds = draw(st.floats(0, 10**7, allow_nan=False))
    return RunResult("validate", (".",), tuple(outcomes), every, (StageTiming("total", seconds),),
                     draw(st.integers(0, 10**5)), pack=pack)


def _at(f: Finding, path: str) -> Finding:
    return Finding(path, f.code, f.severity, f.message, f.location, f.line, f.column, f.hint, f.fixable, f.security,
                   f.rule_name, f.related)


contexts = st.builds(ReportContext, color=st.just(False), width=st.sampled_from([60, 100, 200]), wrap=st.just(False),
                     verbose=st.booleans(), quiet=st.booleans(), show_unknown=st.booleans(),
                     show_related=st.booleans(), security=st.booleans())


def _render(writer: FullWriter, result: RunResult) -> str:
    parts = [writer.file(o) for o in result.files]
    parts.append(writer.pack(result.pack))
    parts.append(writer.end(result))
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(results(), contexts)
def test_plain_full_report_is_what_rich_draws(result: RunResult, ctx: ReportContext) -> None:
    assert _render(FullWriter(ctx), result) == _render(RichFullWriter(ctx), result)


def test_off_a_terminal_the_full_report_is_plain_and_on_one_rich() -> None:
    assert type(FullReporter().writer(ReportContext(color=False, wrap=False))) is FullWriter
    assert type(FullReporter().writer(ReportContext(color=True, wrap=False))) is RichFullWriter
    assert type(FullReporter().writer(ReportContext(color=False, wrap=True))) is RichFullWriter


def test_the_summary_table_as_drawn() -> None:
    result = RunResult("validate", (".",), (FileOutcome("a.json", "presetctl", FileStatus.VALIDATED, 10, 1),), (),
                       (StageTiming("total", 0.004),))
    assert FullWriter(ReportContext()).end(result) == (
        "Summary\n"
        "┏━━━━━━━━━━━━━┳━━━━━━━┓\n"
        "┃             ┃ count ┃\n"
        "┡━━━━━━━━━━━━━╇━━━━━━━┩\n"
        "│ files       │     1 │\n"
        "│   validated │     1 │\n"
        "│ presets     │     1 │\n"
        "│ errors      │     0 │\n"
        "│ warnings    │     0 │\n"
        "│ info        │     0 │\n"
        "│ seconds     │  0.00 │\n"
        "└─────────────┴───────┘\n")
