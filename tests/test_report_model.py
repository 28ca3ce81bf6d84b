"""The browsing model of `presetctl report`: loading runs, filters, grouping, diff, exports, context.

Pure functions, so exact values: every view (static, viewer, HTML) shows what these return.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_data import EVIL_NAME, make_pack, write_report
from test_reporters import CTX, RESULT, render

from presetctl.engine.baseline import baseline_bytes, key, merged_baseline_bytes, read_baseline
from presetctl.engine.errors import UsageError
from presetctl.engine.model import Finding, Location, Severity
from presetctl.report.browse import export
from presetctl.report.browse.context import (
    ContextReader,
    HexContext,
    NoContext,
    TextContext,
    context_for,
    hex_context,
    text_context,
)
from presetctl.report.browse.diff import diff_runs
from presetctl.report.browse.richtext import context_text
from presetctl.report.browse.source import JSON_HINT, RunHeader, load_run, run_from_dict
from presetctl.report.browse.view import (
    ALL_SEVERITIES,
    Filter,
    GroupBy,
    apply,
    by_severity,
    group,
    haystack,
    make_filter,
    parse_query,
    preset_label,
)

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


def F(path: str, code: str, sev: Severity = W, message: str = "m", **loc: object) -> Finding:
    return Finding(path, code, sev, message, Location(**loc), rule_name=f"rule-{code.lower()}")  # type: ignore[arg-type]


# -- source ------------------------------------------------------------------------------------------
def test_json_report_round_trips_to_the_same_findings() -> None:
    run = run_from_dict(json.loads(render("json")), "r.json")
    assert run.findings == RESULT.findings  # hostile text, locations, security ratings: all exact
    h = run.header
    assert (h.command, h.roots, h.cwd, h.started_at, h.exit_code, h.fail_on) == (
        "validate", ("pack",), "/home/librarian/packs", "2026-01-02T03:04:05+00:00", 1, "error")
    assert (h.files, h.presets, h.baseline_suppressed) == (8, 38, 2)
    assert dict(h.by_format) == {"dx7-syx": 1, "presetctl": 4, "unknown": 1, "vital": 1, "vitalbank": 1}
    assert run.counts() == {"error": 6, "warning": 4, "info": 1}


def test_a_report_without_the_run_object_still_loads() -> None:
    doc = json.loads(render("json"))
    del doc["run"]
    run = run_from_dict(doc, "old.json")
    assert run.header == RunHeader(source="old.json", tool_version="0.1.0-golden", files=8, presets=38,
                                   by_format=run.header.by_format, by_status=run.header.by_status,
                                   baseline_suppressed=2)
    assert len(run.findings) == 11


@pytest.mark.parametrize("spec", ["last", "42", "last~2", "20250131T1702", "20250131T170201-a1"])
def test_run_ids_without_a_history_say_so(spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as info:
        load_run(spec)
    assert str(info.value) == f"cannot open run {spec!r}: no run history here; {JSON_HINT}"


def test_a_file_wins_over_a_run_id_but_never_over_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "42").write_text(render("json"))
    (tmp_path / "last").write_text(render("json"))
    assert len(load_run("42").findings) == 11
    with pytest.raises(UsageError, match="cannot open run 'last'"):
        load_run("last")
    with pytest.raises(UsageError, match="no such report file or run: '3f9a2c1b'"):
        load_run("3f9a2c1b")  # not shaped like a run id, and no such file


@pytest.mark.parametrize(("content", "why"), [
    (b"{", "is not JSON"),
    (b"[]", "no 'findings' list"),
    (b'{"version": 2, "findings": []}', "schema version 2"),
    (b'{"version": 1, "findings": [{"path": "a", "code": "X", "message": "m", "severity": "fatal"}]}',
     "finding 0: unknown severity 'fatal'"),
    (b'{"version": 1, "findings": [{"path": 1, "code": "X", "message": "m", "severity": "error"}]}',
     "finding 0: each finding needs string path, code and message"),
])
def test_bad_reports_are_usage_errors(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "r.json"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="r.json") as info:
        load_run(str(path))
    assert why in str(info.value)


def test_missing_file_and_fifo(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such report file or run: 'nope.json'"):
        load_run("nope.json")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="cannot read report .*not a regular file"):
        load_run(str(fifo))  # never blocks on a FIFO


# -- filters -------------------------------------------------------------------------------------------
FINDINGS = (
    F("pack/a.json", "M001", E, "preset name is missing", pointer="/metadata/name"),
    F("pack/a.json", "M002", W, "preset has no author"),
    F("pack/bank.syx", "Q001", W, "same sound as voice 1", voice=3),
    F("pack/bank.syx", "Q001", W, "same sound as voice 1", voice=4),
    F("pack/bank.syx", "D001", E, "checksum", offset=4102),
    F("pack/sub/b.vitalbank", "M004", I, "category [bold]", entry="Pads/x.vital", pointer="/preset_style"),
)


@pytest.mark.parametrize(("query", "codes"), [
    ("", ["M001", "M002", "Q001", "Q001", "D001", "M004"]),
    ("sev:error", ["M001", "D001"]),
    ("sev:warning+", ["M001", "M002", "Q001", "Q001", "D001"]),
    ("sev:info,error", ["M001", "D001", "M004"]),
    ("code:M", ["M001", "M002", "M004"]),
    ("code:m00,D", ["M001", "M002", "D001", "M004"]),
    ("path:*.syx", ["Q001", "Q001", "D001"]),
    ("path:pack/*.json", ["M001", "M002"]),
    ("path:'pack/sub/*'", ["M004"]),
    ("[BOLD]", ["M004"]),  # free text: case-insensitive, markup is just text
    ("voice 4", ["Q001"]),  # matches the rendered location
    ("same sound sev:warning path:bank.syx", ["Q001", "Q001"]),
    ("code:Z", []),
])
def test_query_filters(query: str, codes: list[str]) -> None:
    flt = parse_query(query)
    assert [f.code for f in apply(FINDINGS, flt)] == codes
    assert parse_query(flt.describe()) == flt  # what the views show as the filter reads back the same


def test_options_make_the_same_filter_as_the_query() -> None:
    assert make_filter(["warning+"], ["M0,D"], ["*.syx"], "sound") == parse_query("sev:warning+ code:M0,D "
                                                                                  "path:*.syx sound")
    assert make_filter() == Filter() and not Filter().active
    with pytest.raises(UsageError, match="unknown severity 'fatal'"):
        make_filter(["fatal"])
    with pytest.raises(UsageError, match="filter: No closing quotation"):
        parse_query("path:'pack")


text_st = st.text(alphabet="ab/.*[]\x1b é", max_size=6)
finding_st = st.builds(F, st.sampled_from(["a.json", "b/c.syx", "b/é[x].json"]), st.sampled_from(["M001", "Q002", "X1"]),
                       st.sampled_from(list(Severity)), text_st)


@settings(max_examples=200, deadline=None)
@given(st.lists(finding_st, max_size=12), st.sets(st.sampled_from(list(Severity)), min_size=1), text_st,
       st.lists(st.sampled_from(["M", "Q0", "X1"]), max_size=2))
def test_precomputed_search_texts_filter_like_the_plain_filter(findings: list[Finding], sevs: set[Severity],
                                                               text: str, codes: list[str]) -> None:
    flt = Filter(frozenset(sevs), tuple(codes), (), text)
    texts = [haystack(f) for f in findings]
    assert apply(findings, flt, texts) == tuple(f for f in findings if flt.matches(f))


# -- grouping --------------------------------------------------------------------------------------------
def test_group_by_rule_worst_first_with_counts() -> None:
    groups = group(FINDINGS, GroupBy.rule)
    assert [(g.key, g.title, len(g), g.worst) for g in groups] == [
        ("D001", "rule-d001", 1, E), ("M001", "rule-m001", 1, E), ("Q001", "rule-q001", 2, W),
        ("M002", "rule-m002", 1, W), ("M004", "rule-m004", 1, I)]
    assert groups[2].counts == {"error": 0, "warning": 2, "info": 0}


def test_group_by_file_and_preset() -> None:
    by_file = group(FINDINGS, GroupBy.file)
    assert [(g.key, len(g), g.counts) for g in by_file] == [
        ("pack/bank.syx", 3, {"error": 1, "warning": 2, "info": 0}),
        ("pack/a.json", 2, {"error": 1, "warning": 1, "info": 0}),
        ("pack/sub/b.vitalbank", 1, {"error": 0, "warning": 0, "info": 1})]
    assert [f.code for f in by_file[0].findings] == ["D001", "Q001", "Q001"]  # worst first inside a group
    by_preset = [g.key for g in group(FINDINGS, GroupBy.preset)]
    assert by_preset == ["pack/a.json", "pack/bank.syx", "pack/bank.syx \u203a voice 3",
                         "pack/bank.syx \u203a voice 4", "pack/sub/b.vitalbank \u203a Pads/x.vital"]
    assert preset_label(F("x.syx", "Q", voice=2, entry="e")) == "x.syx \u203a e \u203a voice 2"
    assert GroupBy.rule.next() is GroupBy.file and GroupBy.preset.next() is GroupBy.rule


def test_eighty_thousand_duplicates_are_one_group() -> None:
    dupes = [F(f"bank{i // 32}.syx", "Q002", W, "same name", voice=i % 32 + 1) for i in range(80_000)]
    groups = group([*dupes, F("x.json", "M001", E)], GroupBy.rule)
    assert [(g.key, len(g)) for g in groups] == [("M001", 1), ("Q002", 80_000)]


# -- diff ------------------------------------------------------------------------------------------------
def test_diff_matches_on_path_code_location_and_occurrence() -> None:
    before = [F("a.json", "M001", E, "old wording", pointer="/n"), F("a.json", "P002", W, pointer="/k"),
              F("a.json", "P002", W, pointer="/k"), F("b.syx", "D001", E, offset=4102)]
    after = [F("a.json", "M001", E, "new wording", pointer="/n"), F("a.json", "P002", W, pointer="/k"),
             F("c.json", "M002", W), F("c.json", "N006", I)]
    d = diff_runs(before, after)
    assert [(f.code, f.path) for f in d.new] == [("M002", "c.json"), ("N006", "c.json")]
    assert [(f.code, f.path) for f in d.fixed] == [("P002", "a.json"), ("D001", "b.syx")]
    assert [f.message for f in d.unchanged] == ["m", "new wording"]  # the run order: path, then location
    assert [(r.code, r.new, r.fixed, r.unchanged) for r in d.by_rule()] == [
        ("M002", 1, 0, 0), ("N006", 1, 0, 0), ("D001", 0, 1, 0), ("P002", 0, 1, 1), ("M001", 0, 0, 1)]
    assert d.fails(W) and not d.fails(E)
    assert diff_runs(after, after).new == () and not diff_runs(before, before).fails(I)


# -- exports ---------------------------------------------------------------------------------------------
def test_csv_export_neutralizes_formulas_and_controls() -> None:
    evil = F("=cmd|'/c calc'!A0.json", "M001", E, "+SUM(1)\x1b[31m", pointer="/metadata/name")
    rows = list(csv.reader(io.StringIO(export.to_csv([evil, FINDINGS[2]]))))
    assert rows[0] == list(export.CSV_COLUMNS)
    assert rows[1] == ["error", "M001", "rule-m001", "'=cmd|'/c calc'!A0.json", "/metadata/name", "", "",
                       "'+SUM(1)\\x1b[31m", "", "no"]
    assert rows[2][4] == "voice 3"


def test_json_export_is_the_report_contract() -> None:
    doc = json.loads(export.to_json(RESULT.findings))
    assert run_from_dict(doc, "x").findings == RESULT.findings


def test_markdown_export_is_inert() -> None:
    md = export.to_markdown([F("a|b.json", "M001", E, f"name '{EVIL_NAME}' <img src=x onerror=alert(1)>")])
    row = md.splitlines()[-1]
    assert row.count(" | ") == 4  # the pipe in the path cannot add a column
    assert "<img" not in md and "<script" not in md and "\x1b" not in md and "\u202e" not in md
    # Markdown syntax backslashed (so "\\x1b", the visible escape, renders as itself), HTML opened never.
    assert "\\[bold\\]Evil" in row and "&lt;img src=x onerror=alert\\(1\\)\\>" in row and "\\\\x1b" in row
    assert export.format_for("out.MD") == "markdown" and export.format_for("a.csv") == "csv"
    with pytest.raises(UsageError, match="cannot tell the export format"):
        export.format_for("out.txt")


# -- context ---------------------------------------------------------------------------------------------
def test_text_context_windows_long_lines() -> None:
    data = b"{\n" + b'"k": "' + b"x" * 1000 + b'y",\n}\n'
    ctx = text_context(data, 2, 900)
    assert ctx.line == 2 and [n for n, _ in ctx.lines] == [1, 2, 3]
    assert ctx.first_column == 820 and ctx.lines[1][1] == ('"k": "' + "x" * 1000 + 'y",')[819:819 + 240]


def test_hex_context_marks_the_byte() -> None:
    data = bytes(range(200))
    ctx = hex_context(data, 100)
    assert (ctx.start, ctx.end, ctx.size) == (100, 101, 200)
    assert [at for at, _ in ctx.rows] == [32, 48, 64, 80, 96, 112, 128, 144, 160]
    text = context_text(ctx).plain.splitlines()
    assert text[4] == "00000060  60 61 62 63 64 65 66 67  68 69 6a 6b 6c 6d 6e 6f  |`abcdefghijklmno|"
    assert text[5] == " " * 22 + "^^"  # under byte 0x64
    assert hex_context(data, 10_000).start == 199  # an offset past the end marks the last byte


def test_context_for_each_kind_of_location() -> None:
    doc = b'{\n  "metadata": {\n    "name": "x"\n  }\n}\n'
    ctx = context_for(F("a.json", "M001", pointer="/metadata/name"), doc)
    assert isinstance(ctx, TextContext) and (ctx.line, ctx.column) == (3, 5)
    assert isinstance(context_for(F("a.json", "P001", offset=30), doc), TextContext)
    assert context_for(F("a.json", "M002"), doc) == NoContext("the finding is about the whole file")
    assert isinstance(context_for(F("b.syx", "D001", offset=3), b"\xf0\x43\x00\x09\x00"), HexContext)
    assert context_for(F("b.syx", "Q001", voice=3), b"\xf0\x00") == NoContext(
        "voice 3 of a bank; the finding names no byte")
    assert "archive member" in context_for(F("b.vitalbank", "M004", entry="x.vital"), b"PK").reason  # type: ignore[union-attr]


def test_reader_reads_real_findings_inside_the_targets(tmp_path: Path) -> None:
    run = load_run(str(write_report(tmp_path, make_pack(tmp_path))))
    reader = ContextReader(run.header, fallback_cwd="/nonexistent")
    by_code = {f.code: f for f in run.findings}
    name = reader.context(by_code["N006"])  # a JSON preset: the lines around /metadata/name
    assert isinstance(name, TextContext) and name.line == 4
    shown = context_text(name).plain  # the file holds a raw U+202E (JSON allows it) and an escaped ESC
    assert '"[bold]Evil[/bold]\\u001b[31m<script>alert(1)</script>\\u202egnp"' in shown and "\u202e" not in shown
    checksum = reader.context(by_code["D001"])  # a DX7 bank: the bytes around the checksum
    assert isinstance(checksum, HexContext) and (checksum.start, checksum.size) == (4102, 4104)


def test_reader_refuses_links_out_of_the_targets_and_big_files(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    outside = tmp_path / "secret.json"
    outside.write_text('{"token": "x"}')
    (tmp_path / "pack" / "link.json").symlink_to(outside)
    (tmp_path / "pack" / "big.json").write_bytes(b" " * 2048)
    (tmp_path / "pack" / "inner.json").write_text('{"a": 1}')
    (tmp_path / "pack" / "inner-link.json").symlink_to(tmp_path / "pack" / "inner.json")
    reader = ContextReader(RunHeader("r", roots=("pack",), cwd=str(tmp_path)), limit=1024)
    assert reader.read("pack/link.json") == "not read: the file is outside the run's targets now (moved, or a link)"
    assert reader.read("../secret.json") == reader.read("pack/link.json")
    assert reader.read("pack/big.json") == "not read: larger than 1024 bytes"
    assert reader.read("pack/inner-link.json") == "not read: Too many levels of symbolic links"  # O_NOFOLLOW
    assert reader.read("pack/gone.json") == "not read: No such file or directory"
    assert reader.read("pack/inner.json") == b'{"a": 1}'


# -- baselines (through engine/baseline.py) --------------------------------------------------------------
def test_accepting_merges_into_an_existing_baseline(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(baseline_bytes([FINDINGS[0]], tmp_path, str(tmp_path)))
    path.write_bytes(merged_baseline_bytes(read_baseline(path), [FINDINGS[2], FINDINGS[0]], tmp_path, str(tmp_path)))
    assert read_baseline(path).keys == {key(f, tmp_path, str(tmp_path)) for f in (FINDINGS[0], FINDINGS[2])}
    assert (merged_baseline_bytes(None, list(FINDINGS), tmp_path, str(tmp_path))
            == baseline_bytes(list(FINDINGS), tmp_path, str(tmp_path)))


def test_severity_order_is_stable() -> None:
    ordered = by_severity(reversed(FINDINGS))
    assert [f.code for f in ordered] == ["M001", "D001", "M002", "Q001", "Q001", "M004"]
    assert replace(Filter(), severities=ALL_SEVERITIES) == Filter()
    assert CTX.fail_threshold == "error"
