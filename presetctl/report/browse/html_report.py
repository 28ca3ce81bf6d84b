"""``presetctl report RUN --html FILE``: one self-contained page for people to browse a run.

Built from the blocks of :mod:`presetctl.report.html` (the ``stats --html`` page's too): summary
cards, a chart by rule and severity, a virtual findings table over the run as a JSON data block,
the biggest groups, and the documentation of every rule the run reports. Strings are interned
in tables (a pack repeats its paths and messages) so 100,000 findings stay a few megabytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from presetctl.engine.model import Finding, Severity
from presetctl.engine.stats.model import Envelope
from presetctl.report.browse.richtext import RuleDocs, location_text, safe
from presetctl.report.browse.source import LoadedRun
from presetctl.report.browse.view import Filter, GroupBy, by_severity, counts_by_severity, group
from presetctl.report.browse.voices import VoicePictures
from presetctl.report.html import HtmlPage

CHART_RULES = 25  # rules drawn in the chart (the table has all)
MAX_PICTURES = 100  # voice envelopes drawn (each is a small inline SVG)
TOP_FILES = 20
SEVERITIES = tuple(sorted(Severity, reverse=True))  # error, warning, info: the "rank" order


class _Interner:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.values: list[str] = []

    def __call__(self, text: str) -> int:
        n = self.index.get(text)
        if n is None:
            n = self.index[text] = len(self.values)
            self.values.append(text)
        return n


def table_data(findings: Sequence[Finding]) -> dict[str, Any]:
    """The data block of the findings table (shape: presetctl/report/assets/virtual_table.js)."""
    codes, paths, messages, hints, names = _Interner(), _Interner(), _Interner(), _Interner(), _Interner()
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    rows = [[rank[f.severity], codes(safe(f.code)), names(safe(f.rule_name)), paths(safe(f.path)), location_text(f),
             messages(safe(f.message)), hints(safe(f.hint))] for f in findings]
    code_counts: dict[str, int] = {}
    for f in findings:
        code_counts[f.code] = code_counts.get(f.code, 0) + 1
    names_by_code = {f.code: f.rule_name for f in findings}
    return {
        "columns": [
            {"key": "sev", "label": "severity", "table": "sev", "match": "rank", "aliases": ["sev", "severity"],
             "width": "6.5rem", "classes": "sev-"},
            {"key": "code", "label": "code", "table": "code", "match": "prefix", "aliases": ["code", "rule"],
             "width": "4.5rem"},
            {"key": "name", "label": "rule", "table": "name", "match": "text", "aliases": ["name"], "hidden": True},
            {"key": "path", "label": "path", "table": "path", "match": "glob", "aliases": ["path", "file"],
             "width": "minmax(10rem, 2fr)"},
            {"key": "loc", "label": "location", "match": "text", "aliases": ["loc", "location"],
             "width": "minmax(6rem, 1fr)"},
            {"key": "msg", "label": "message", "table": "msg", "match": "text", "aliases": ["msg", "message"],
             "width": "minmax(12rem, 3fr)"},
            {"key": "hint", "label": "fix hint", "table": "hint", "match": "text", "aliases": ["hint"], "hidden": True},
        ],
        "tables": {"sev": [s.label for s in SEVERITIES], "code": codes.values, "name": names.values,
                   "path": paths.values, "msg": messages.values, "hint": hints.values},
        "rows": rows,
        "facets": [
            {"column": "sev", "label": "severity", "options": [["", "every severity"], ["sev:error", "errors"],
                                                                ["sev:warning+", "warnings and errors"],
                                                                ["sev:warning", "warnings"], ["sev:info", "info"]]},
            {"column": "code", "label": "rule", "options": [["", "every rule"]] + [
                [f"code:{safe(c)}", f"{safe(c)} {safe(names_by_code[c])} ({n:,})".replace("  ", " ")]
                for c, n in sorted(code_counts.items())]},
        ],
        "link": {"column": "code", "prefix": "rule-", "label": "rule documentation"},
    }


def voices_section(page: HtmlPage, findings: Sequence[Finding], pictures: VoicePictures) -> None:
    """The envelope of each voice an audio finding names, as inline SVG (the first ``MAX_PICTURES``)."""
    audio = [f for f in findings if pictures.wanted(f)]
    if not audio:
        return
    shown = audio[:MAX_PICTURES]
    pictures.prefetch(shown)
    page.heading("Rendered voices")
    page.paragraph("The level of each voice's test note, as the audio rules rendered it (from the render cache, "
                   "or rendered now): RMS from -80 to 0 dBFS over the 2 s note, the dashed line where the key "
                   "is released.", note=True)
    rows: list[list[object]] = []
    for f in shown:
        picture = pictures.picture(f)
        rows.append([f.code, f.location.voice, picture if isinstance(picture, Envelope) else f"no picture: {picture}",
                     f.path, f.message])
    page.table(["code", "voice", "envelope", "file", "message"], rows, caption="Envelopes of the voices the audio "
               "findings name", more=len(audio) - len(shown))


def render_html(run: LoadedRun, findings: Sequence[Finding], docs: RuleDocs, flt: Filter | None = None,
                pictures: VoicePictures | None = None) -> str:
    """The page for ``findings`` (already filtered) of ``run``; ``pictures`` adds the envelopes of
    the voices audio findings name."""
    h = run.header
    roots = " ".join(h.shown_roots) or h.source
    page = HtmlPage(f"presetctl report: {roots}",
                    f"presetctl {h.command} {roots}, {h.started_at or 'time unknown'}; "
                    + (f"run {h.run_id} from the run history" if h.run_id else f"report {h.source}"))
    ordered = by_severity(findings)
    counts = counts_by_severity(ordered)
    page.heading("Summary")
    cards: list[tuple[str, object] | tuple[str, object, str]] = [("findings", len(ordered))]
    cards += [(f"{s.label}s" if s is not Severity.INFO else "info", counts[s.label], f"sev-{s.label}") for s in SEVERITIES]
    if h.files is not None:
        cards.append(("files", h.files))
    if h.presets is not None:
        cards.append(("presets", h.presets))
    cards.append(("rules", len({f.code for f in ordered})))
    if h.exit_code is not None:
        cards.append((f"exit code (fail-on {h.fail_on or 'error'})", h.exit_code))
    page.cards(cards)
    if flt is not None and flt.active:
        page.paragraph(f"Filtered: {flt.describe()} ({len(ordered):,} of {len(run.findings):,} findings).", note=True)
    if h.by_format:
        page.paragraph("Files by format: " + ", ".join(f"{k} {v:,}" for k, v in sorted(h.by_format.items())), note=True)
    rules = group(ordered, GroupBy.rule)
    page.stacked_bar_chart("Findings by rule and severity", [s.label for s in SEVERITIES],
                           [(f"{g.key} {g.title}".strip(), [g.counts[s.label] for s in SEVERITIES])
                            for g in rules[:CHART_RULES]])
    if len(rules) > CHART_RULES:
        page.paragraph(f"The chart shows the {CHART_RULES} biggest of {len(rules)} rules; the table has all.", note=True)
    page.heading("Findings")
    page.paragraph("Filter with words, or with sev:warning+, code:M0, path:'*.syx' (the same syntax as the "
                   "terminal viewer). Click a column to sort, a row for its details.", note=True)
    page.json_data("findings-data", table_data(ordered))
    page.virtual_table("findings", "findings-data", search_label="Filter findings")
    if pictures is not None:
        voices_section(page, ordered, pictures)
    page.heading("Rules")
    page.table(["code", "rule", "findings", "errors", "warnings", "info"],
               [[g.key, g.title, len(g), g.counts["error"], g.counts["warning"], g.counts["info"]] for g in rules],
               caption="Findings by rule")
    files = group(ordered, GroupBy.file)
    page.table(["file", "findings", "errors", "warnings", "info"],
               [[g.key, len(g), g.counts["error"], g.counts["warning"], g.counts["info"]] for g in files[:TOP_FILES]],
               caption="Files with the most findings", more=max(0, len(files) - TOP_FILES))
    page.heading("Rule documentation")
    for g in sorted(rules, key=lambda g: g.key):
        doc = docs(g.key)
        page.details(f"{g.key} {g.title}".strip(), doc or f"no documentation for {g.key}", anchor=f"rule-{g.key}")
    return page.render()
