"""A self-contained HTML page builder for reports: headings, text, tables, cards, charts, scripts.

The page needs nothing outside itself: no fonts, no images, no network. Styles are inline in
one ``<style>`` element and charts are inline SVG. A Content-Security-Policy meta tag forbids
every fetch, so even a bug that let markup through could not load anything. All text is escaped
here (``visible`` first, so control and invisible characters from preset files show as escapes,
then HTML escaping); callers pass plain strings, never markup.

Pages without :meth:`HtmlPage.script` have no script at all (``stats --html``). A page that has
scripts allows exactly those: the CSP names each one by its SHA-256, so an injected script would
not run. Data for scripts goes in with :meth:`HtmlPage.json_data`, a ``<script
type="application/json">`` block the browser never executes, with ``<``, U+2028 and U+2029
escaped so no string can end the block. :meth:`HtmlPage.virtual_table` is a sortable,
filterable table over such data that draws only the rows in view (100,000 rows stay fluid).

Usage::

    page = HtmlPage("presetctl stats")
    page.heading("Overview")
    page.table(["format", "files"], [["vital", 82]], caption="Files by format")
    page.bar_chart("Files by format", [("vital", 82), ("helm", 299)], unit="files")
    html_text = page.render()
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from presetctl import __version__
from presetctl.engine.stats.model import Envelope
from presetctl.report.pictures import caption, outline
from presetctl.safe_text import encodable, json_dumps, visible

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light dark; --fg: #1d232a; --bg: #fff; --muted: #5b6570; --bar: #3b7dd8; --warn: #d8573b;
        --line: #d9dee3; --alt: #f4f6f8; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ec; --bg: #15191d; --muted: #9aa4ae; --bar: #5d9cf0;
        --warn: #f0795d; --line: #2f363d; --alt: #1c2126; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.3rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem;
     margin-top: 2.2rem; } h3 { font-size: 1.05rem; margin-top: 1.4rem; }
nav a { margin-right: .9rem; } p.note { color: var(--muted); }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .55rem; vertical-align: top; text-align: left; }
td.num { text-align: right; } tr:nth-child(even) td { background: var(--alt); }
td.more { color: var(--muted); font-style: italic; }
td { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 48rem; }
figure { margin: .6rem 0 1.2rem; } figcaption { font-weight: 600; margin-bottom: .3rem; }
svg text { fill: var(--fg); font: 12px system-ui, sans-serif; } svg rect.bar { fill: var(--bar); }
svg rect.flag { fill: var(--warn); } footer { color: var(--muted); margin-top: 3rem; font-size: .85rem; }
svg rect.sev-error { fill: #d83b3b; } svg rect.sev-warning { fill: #d8a23b; } svg rect.sev-info { fill: #3b9fd8; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .9rem; min-width: 8rem; }
.card .value { font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); } .card.sev-error .value { color: #d83b3b; }
.card.sev-warning .value { color: #c68a12; } .card.sev-info .value { color: #2d8bc4; }
.legend span { margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem;
        margin-right: .3rem; vertical-align: -1px; }
.legend i.sev-error { background: #d83b3b; } .legend i.sev-warning { background: #d8a23b; }
.legend i.sev-info { background: #3b9fd8; }
details.doc { border-bottom: 1px solid var(--line); padding: .3rem 0; } details.doc summary { cursor: pointer; }
details.doc pre, pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.vt-controls { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin: .6rem 0; }
.vt-controls input[type=search] { flex: 1 1 20rem; padding: .3rem .5rem; font: inherit; }
.vt-controls select { font: inherit; padding: .25rem; } .vt-count { color: var(--muted); }
.vt { border: 1px solid var(--line); font-variant-numeric: tabular-nums; }
.vt-head, .vt-row { display: grid; grid-template-columns: var(--vt-cols); }
.vt-head { background: var(--alt); font-weight: 600; border-bottom: 1px solid var(--line); }
.vt-head button { all: unset; cursor: pointer; padding: .25rem .5rem; }
.vt-head button:focus-visible { outline: 2px solid var(--bar); }
.vt-head button[aria-sort=ascending]::after { content: " \\25B2"; }
.vt-head button[aria-sort=descending]::after { content: " \\25BC"; }
.vt-body { height: 60vh; overflow-y: auto; position: relative; }
.vt-rows { position: absolute; left: 0; right: 0; top: 0; }
.vt-row { height: 24px; line-height: 24px; cursor: pointer; }
.vt-row:nth-child(even) { background: var(--alt); } .vt-row.selected { outline: 2px solid var(--bar); }
.vt-row span { padding: 0 .5rem; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.vt-row span.sev-error { color: #d83b3b; font-weight: 600; } .vt-row span.sev-warning { color: #c68a12; }
.vt-row span.sev-info { color: #2d8bc4; }
.vt-detail { border: 1px solid var(--line); border-top: 0; padding: .5rem .8rem; min-height: 3rem; }
.vt-detail dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: 0; }
.vt-detail dt { color: var(--muted); } .vt-detail dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
svg.env { display: block; } svg.env rect.env-bg { fill: var(--alt); } svg.env polygon.env-area { fill: var(--bar);
        fill-opacity: .3; } svg.env polyline.env-line { fill: none; stroke: var(--bar); stroke-width: 1.5; }
svg.env line.env-key { stroke: var(--muted); stroke-dasharray: 3 2; } td.pic { padding: .2rem; }
tr:has(> td.pic) > td:not(:last-child) { white-space: nowrap; }
"""

SEVERITY_CLASSES = ("sev-error", "sev-warning", "sev-info")

BAR_HEIGHT = 18
ENV_WIDTH, ENV_HEIGHT = 160, 36  # an envelope picture: 4 px per point of the analysis' 40
LABEL_WIDTH = 220
CHART_WIDTH = 680


def esc(text: object) -> str:
    """Text from anywhere, safe in HTML element content and attribute values."""
    return html.escape(encodable(visible(str(text))), quote=True)


def envelope_svg(env: Envelope, title: str = "", width: int = ENV_WIDTH, height: int = ENV_HEIGHT) -> str:
    """A voice's level over its test note as inline SVG: a filled area, key-up as a dashed line.

    Only numbers and the escaped ``title`` go in; nothing in it refers outside the element.
    """
    xy = outline(env, width, height)
    top = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    label = title or f"envelope: {caption(env)}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="env" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{esc(label)}"><title>{esc(label)}</title>'
             f'<rect class="env-bg" x="0" y="0" width="{width}" height="{height}"/>']
    if xy:
        parts.append(f'<polygon class="env-area" points="0,{height} {top} {width},{height}"/>'
                     f'<polyline class="env-line" points="{top}"/>')
    if env.key_up is not None and env.seconds > 0:
        x = env.key_up / env.seconds * width
        parts.append(f'<line class="env-key" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def script_json(value: Any) -> str:
    """JSON text safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and U+2028/2029 escaped."""
    text = json_dumps(value, indent=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


VIRTUAL_TABLE_JS = resources.files("presetctl.report").joinpath("assets/virtual_table.js").read_text(encoding="utf-8")


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.casefold()).strip("-") or "section"


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


class HtmlPage:
    """Collects blocks, then renders one complete document. Every method takes plain text."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self._blocks: list[str] = []
        self._nav: list[tuple[str, str]] = []
        self._scripts: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        level = min(max(level, 2), 4)
        anchor = _anchor(text)
        if level == 2:
            self._nav.append((anchor, text))
        self._blocks.append(f'<h{level} id="{esc(anchor)}">{esc(text)}</h{level}>')

    def paragraph(self, text: str, note: bool = False) -> None:
        cls = ' class="note"' if note else ""
        self._blocks.append(f"<p{cls}>{esc(text)}</p>")

    def preformatted(self, text: str) -> None:
        self._blocks.append(f"<pre>{esc(text)}</pre>")

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "", more: int = 0) -> None:
        out = ["<table>"]
        if caption:
            out.append(f"<caption>{esc(caption)}</caption>")
        out.append("<thead><tr>" + "".join(f'<th scope="col">{esc(c)}</th>' for c in columns) + "</tr></thead><tbody>")
        for row in rows:
            cells = []
            for cell in row:
                if isinstance(cell, Envelope):  # a picture: inline SVG, numbers only
                    cells.append(f'<td class="pic">{envelope_svg(cell)}</td>')
                    continue
                if isinstance(cell, (tuple, list)):  # a list of items: one per line
                    cells.append("<td>" + "<br>".join(esc(c) for c in cell) + "</td>")
                    continue
                numeric = isinstance(cell, (int, float)) and not isinstance(cell, bool)
                cells.append(f'<td class="num">{esc(cell)}</td>' if numeric else f"<td>{esc(cell)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody>")
        if more:  # a row of the table itself, so it stays with the table (and a screen reader reads it there)
            out.append(f'<tfoot><tr><td class="more" colspan="{max(len(columns), 1)}">'
                       f'{esc(f"... and {more} more rows (see --json)")}</td></tr></tfoot>')
        out.append("</table>")
        self._blocks.append("".join(out))

    def bar_chart(self, title: str, bars: Sequence[tuple[str, float] | tuple[str, float, bool]], unit: str = "") -> None:
        """Horizontal bars, one per (label, value[, flagged]); flagged bars use the warning colour."""
        if not bars:
            return
        top = max((float(b[1]) for b in bars), default=0.0) or 1.0
        plot = CHART_WIDTH - LABEL_WIDTH - 70
        height = BAR_HEIGHT * len(bars) + 6
        parts = [f'<figure><figcaption>{esc(title)}</figcaption>'
                 f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" height="{height}" '
                 f'viewBox="0 0 {CHART_WIDTH} {height}" aria-label="{esc(title)}">']
        for i, bar in enumerate(bars):
            label, value = bar[0], float(bar[1])
            flagged = len(bar) > 2 and bool(bar[2])
            y = i * BAR_HEIGHT + 3
            w = max(0.0, plot * value / top)
            shown = label if len(label) <= 34 else label[:33] + "\u2026"
            parts.append(
                f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{esc(shown)}<title>{esc(label)}</title></text>'
                f'<rect class="{"flag" if flagged else "bar"}" x="{LABEL_WIDTH}" y="{y}" width="{w:.1f}" '
                f'height="{BAR_HEIGHT - 4}"><title>{esc(f"{label}: {_fmt(value)} {unit}".strip())}</title></rect>'
                f'<text x="{LABEL_WIDTH + w + 4:.1f}" y="{y + 12}">{esc(_fmt(value))}</text>')
        parts.append("</svg></figure>")
        self._blocks.append("".join(parts))

    def cards(self, items: Sequence[tuple[str, object] | tuple[str, object, str]]) -> None:
        """Summary cards: (label, value[, css class such as ``sev-error``])."""
        out = ['<div class="cards">']
        for item in items:
            cls = f" {esc(item[2])}" if len(item) > 2 else ""
            value = _fmt(item[1]) if isinstance(item[1], (int, float)) and not isinstance(item[1], bool) else item[1]
            out.append(f'<div class="card{cls}"><div class="value">{esc(value)}</div>'
                       f'<div class="label">{esc(item[0])}</div></div>')
        out.append("</div>")
        self._blocks.append("".join(out))

    def stacked_bar_chart(self, title: str, series: Sequence[str], bars: Sequence[tuple[str, Sequence[float]]],
                          classes: Sequence[str] = SEVERITY_CLASSES) -> None:
        """Horizontal stacked bars: one per (label, values per series), a legend naming the series."""
        if not bars:
            return
        top = max((sum(b[1]) for b in bars), default=0.0) or 1.0
        plot = CHART_WIDTH - LABEL_WIDTH - 70
        height = BAR_HEIGHT * len(bars) + 6
        legend = "".join(f'<span><i class="{esc(c)}"></i>{esc(n)}</span>' for n, c in zip(series, classes, strict=False))
        parts = [f'<figure><figcaption>{esc(title)}</figcaption><div class="legend">{legend}</div>'
                 f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" height="{height}" '
                 f'viewBox="0 0 {CHART_WIDTH} {height}" aria-label="{esc(title)}">']
        for i, (label, values) in enumerate(bars):
            y = i * BAR_HEIGHT + 3
            shown = label if len(label) <= 30 else label[:29] + "\u2026"
            parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{esc(shown)}'
                         f"<title>{esc(label)}</title></text>")
            x = float(LABEL_WIDTH)
            for name, value, cls in zip(series, values, classes, strict=False):
                if value <= 0:
                    continue
                w = plot * float(value) / top
                parts.append(f'<rect class="{esc(cls)}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT - 4}">'
                             f'<title>{esc(f"{label}: {_fmt(value)} {name}")}</title></rect>')
                x += w
            parts.append(f'<text x="{x + 4:.1f}" y="{y + 12}">{esc(_fmt(sum(values)))}</text>')
        parts.append("</svg></figure>")
        self._blocks.append("".join(parts))

    def details(self, summary: str, body: str, anchor: str = "") -> None:
        """A collapsible block of preformatted text (a rule's documentation)."""
        ident = f' id="{esc(anchor)}"' if anchor else ""
        text = "\n".join(esc(line) for line in body.split("\n"))  # line breaks kept, every other control escaped
        self._blocks.append(f'<details class="doc"{ident}><summary>{esc(summary)}</summary><pre>{text}</pre>'
                            "</details>")

    def json_data(self, element_id: str, value: Any) -> None:
        """``value`` as a JSON data block for scripts: inert, and unable to close its element."""
        self._blocks.append(f'<script type="application/json" id="{esc(element_id)}">{script_json(value)}</script>')

    def script(self, source: str) -> None:
        """An inline script; the page's CSP allows exactly the scripts added here (by hash)."""
        if "</" in source:
            raise ValueError("an inline script must not contain '</'")
        self._scripts.append(source)

    def virtual_table(self, element_id: str, data_id: str, search_label: str = "Filter") -> None:
        """A table over the JSON data block ``data_id`` (see assets/virtual_table.js for its shape).

        Only the rows in view are in the DOM; cells are set with ``textContent``, never as HTML.
        """
        i = esc(element_id)
        self._blocks.append(
            f'<section class="vt-wrap" id="{i}" data-source="{esc(data_id)}" data-state="loading">'
            f'<div class="vt-controls"><input type="search" class="vt-search" aria-label="{esc(search_label)}" '
            f'placeholder="{esc(search_label)}"><span class="vt-facets"></span><span class="vt-count" '
            'aria-live="polite"></span></div>'
            '<div class="vt" role="table"><div class="vt-head" role="row"></div>'
            '<div class="vt-body" tabindex="0"><div class="vt-spacer"></div><div class="vt-rows" role="rowgroup">'
            '</div></div></div><div class="vt-detail" aria-live="polite"></div></section>')
        if VIRTUAL_TABLE_JS not in self._scripts:
            self.script(VIRTUAL_TABLE_JS)

    def csp(self) -> str:
        if not self._scripts:
            return CSP
        hashes = " ".join(f"'sha256-{_sha256(s)}'" for s in self._scripts)
        return f"{CSP}; script-src {hashes}"

    def render(self) -> str:
        nav = ""
        if len(self._nav) > 1:
            nav = "<nav>" + "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in self._nav) + "</nav>"
        sub = f'<p class="note">{esc(self.subtitle)}</p>' if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{self.csp()}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="presetctl {esc(__version__)}">'
            f"<title>{esc(self.title)}</title><style>{STYLE}</style></head>"
            f"<body><header><h1>{esc(self.title)}</h1>{sub}{nav}</header><main>"
            + "\n".join(self._blocks)
            + "</main>"
            + "".join(f"<script>{s}</script>" for s in self._scripts)
            + f"<footer>presetctl {esc(__version__)}: a self-contained page, "
            + ("no network." if self._scripts else "no scripts, no network.")
            + "</footer></body></html>\n"
        )
