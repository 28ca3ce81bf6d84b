"""A self-contained HTML page builder for reports: headings, text, tables and bar charts.

The page needs nothing outside itself: no scripts, no fonts, no images, no network. Styles
are inline in one ``<style>`` element and charts are inline SVG. A Content-Security-Policy
meta tag forbids every fetch, so even a bug that let markup through could not load anything.
All text is escaped here (``visible`` first, so control and invisible characters from preset
files show as escapes, then HTML escaping); callers pass plain strings, never markup.

Usage::

    page = HtmlPage("presetctl stats")
    page.heading("Overview")
    page.table(["format", "files"], [["vital", 82]], caption="Files by format")
    page.bar_chart("Files by format", [("vital", 82), ("helm", 299)], unit="files")
    html_text = page.render()
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from presetctl import __version__
from presetctl.safe_text import encodable, visible

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
"""

BAR_HEIGHT = 18
LABEL_WIDTH = 220
CHART_WIDTH = 680


def esc(text: object) -> str:
    """Text from anywhere, safe in HTML element content and attribute values."""
    return html.escape(encodable(visible(str(text))), quote=True)


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

    def render(self) -> str:
        nav = ""
        if len(self._nav) > 1:
            nav = "<nav>" + "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in self._nav) + "</nav>"
        sub = f'<p class="note">{esc(self.subtitle)}</p>' if self.subtitle else ""
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="presetctl {esc(__version__)}">'
            f"<title>{esc(self.title)}</title><style>{STYLE}</style></head>"
            f"<body><header><h1>{esc(self.title)}</h1>{sub}{nav}</header><main>"
            + "\n".join(self._blocks)
            + f"</main><footer>presetctl {esc(__version__)}: a self-contained page, no scripts, no network.</footer>"
            "</body></html>\n"
        )
