"""Rich ``Text`` building blocks shared by the static report and the Textual viewer.

Everything from a run (paths, messages, locations, file contents) goes through :func:`safe`
(visible escapes for controls, bidi and invisible characters; undecodable bytes spelled out) and
into ``Text`` objects, never into markup, so ``[bold]`` in a preset name stays literal in both
views and no escape sequence reaches the terminal.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.text import Text

from presetctl.engine.model import Finding, Severity
from presetctl.engine.stats.model import Envelope
from presetctl.report import pictures
from presetctl.report.browse.context import HEX_WIDTH, Context, HexContext, NoContext, TextContext
from presetctl.report.browse.source import RunHeader
from presetctl.report.browse.view import Group
from presetctl.safe_text import encodable, visible

STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
LABEL = {Severity.ERROR: "E", Severity.WARNING: "W", Severity.INFO: "I"}

RuleDocs = Callable[[str], str | None]  # code -> the text of `presetctl rule CODE`, None if unknown


def safe(text: object) -> str:
    return encodable(visible(str(text)))


def counts_text(counts: dict[str, int]) -> Text:
    t = Text()
    for sev in sorted(Severity, reverse=True):
        n = counts.get(sev.label, 0)
        if t:
            t.append("  ")
        t.append(f"{n:,} {sev.label}", style=STYLE[sev] if n else "dim")
    return t


def header_text(header: RunHeader, counts: dict[str, int], shown: int | None = None) -> Text:
    """Command, targets, when, exit code; counts by severity and by format."""
    t = Text()
    t.append(f"presetctl {safe(header.command)}", style="bold")
    if header.roots:
        t.append(" " + " ".join(safe(r) for r in header.shown_roots))
    t.append(f"   {safe(header.started_at) or 'time unknown'}", style="dim")
    if not header.finished:
        t.append("   no end: still running, or its process died", style="bold yellow")
    elif header.exit_code is not None:
        t.append(f"   exit {header.exit_code}", style="bold red" if header.exit_code else "green")
        if header.fail_on:
            t.append(f" (fail-on {safe(header.fail_on)})", style="dim")
    t.append("\n")
    t.append_text(counts_text(counts))
    if shown is not None and shown != sum(counts.values()):
        t.append(f"   showing {shown:,}", style="bold")
    facts = _facts(header)
    if facts:
        t.append("\n" + "   ".join(facts), style="dim")
    return t


def _facts(header: RunHeader) -> list[str]:
    facts = [f"run {safe(header.run_id)}"] if header.run_id else []
    if header.files is not None:
        facts.append(f"{header.files:,} files")
    if header.presets is not None:
        facts.append(f"{header.presets:,} presets")
    if header.by_format:
        facts.append(", ".join(f"{safe(k)} {v:,}" for k, v in sorted(header.by_format.items(), key=lambda kv: -kv[1])))
    return facts


def group_text(g: Group) -> Text:
    t = Text()
    t.append(LABEL[g.worst], style=STYLE[g.worst])
    t.append(f" {safe(g.key)}", style="bold")
    if g.title:
        t.append(f" {safe(g.title)}")
    t.append(f"  {len(g):,}", style="bold")
    parts = [f"{n:,}{sev[0].upper()}" for sev, n in g.counts.items() if n]
    if len(parts) > 1:
        t.append(f" ({' '.join(parts)})", style="dim")
    return t


def location_text(f: Finding) -> str:
    parts = []
    if f.line is not None:
        parts.append(f"{f.line}:{f.column or 1}")
    loc = f.location.render()
    if loc:
        parts.append(loc)
    return safe(" ".join(parts))


def finding_text(f: Finding, show_path: bool = True) -> Text:
    t = Text()
    t.append(f"{f.code} ", style=STYLE[f.severity])
    t.append(f"{f.severity.label:<7} ", style=STYLE[f.severity])
    if show_path:
        t.append(safe(f.path), style="bold")
        t.append(" ")
    where = location_text(f)
    if where:
        t.append(where, style="dim")
        t.append(" ")
    t.append(safe(f.message))
    if f.fixable:
        t.append("  (fixable)", style="green")
    return t


def context_text(ctx: Context) -> Text:
    if isinstance(ctx, NoContext):
        return Text(safe(ctx.reason), style="dim italic")
    if isinstance(ctx, TextContext):
        t = Text()
        width = len(str(ctx.lines[-1][0])) if ctx.lines else 1
        for n, line in ctx.lines:
            marked = n == ctx.line
            t.append(f"{'>' if marked else ' '} {n:>{width}} | ", style="bold red" if marked else "dim")
            t.append(safe(line), style="bold" if marked else "")
            t.append("\n")
            if marked and ctx.column is not None and ctx.column >= ctx.first_column:
                pad = len(safe(line[: ctx.column - ctx.first_column]))
                t.append(" " * (width + 5 + pad) + "^\n", style="bold red")
        t.rstrip()
        return t
    return hex_text(ctx)


def _hex_column(i: int) -> int:
    return 10 + i * 3 + (1 if i >= 8 else 0)


def hex_text(ctx: HexContext) -> Text:
    """``offset  hex bytes  |ascii|`` rows; the finding's bytes highlighted and marked ``^^`` below."""
    t = Text()
    for at, chunk in ctx.rows:
        t.append(f"{at:08x}  ", style="dim")
        marks: list[int] = []
        for i, b in enumerate(chunk):
            mark = ctx.start <= at + i < ctx.end
            if mark:
                marks.append(i)
            t.append(f"{b:02x}", style="bold reverse red" if mark else "")
            t.append("  " if i == 7 else " ")
        t.append("   " * (HEX_WIDTH - len(chunk)) + (" " if len(chunk) <= 8 else "") + " |")
        for i, b in enumerate(chunk):
            mark = ctx.start <= at + i < ctx.end
            t.append(chr(b) if 0x20 <= b < 0x7F else ".", style="bold reverse red" if mark else "")
        t.append("|\n")
        if marks:
            line = [" "] * (_hex_column(HEX_WIDTH - 1) + 2)
            for i in marks:
                line[_hex_column(i)] = line[_hex_column(i) + 1] = "^"
            t.append("".join(line).rstrip() + "\n", style="bold red")
    t.append(f"byte {ctx.start} of {ctx.size}", style="dim")
    return t


def envelope_text(picture: Envelope | str, rows: int = 4) -> Text:
    """A voice's envelope as a block chart with its time axis, or why there is none."""
    if isinstance(picture, str):
        return Text(safe(picture), style="dim italic")
    chart = pictures.block_chart(picture.points, rows)
    t = Text()
    for line in chart:
        t.append("    " + line + "\n", style="cyan")
    t.append(pictures.axis(picture, len(picture.points)) + "\n", style="dim")
    t.append(pictures.caption(picture, marked=True), style="dim")
    return t


def sparkline_text(picture: Envelope | str) -> Text:
    """One line for a list of findings: the envelope as a sparkline, or why there is none."""
    t = Text("envelope ", style="dim")
    if isinstance(picture, str):
        t.append(safe(picture), style="dim italic")
        return t
    t.append("\u2595", style="dim")
    t.append(pictures.sparkline(picture.points), style="cyan")
    t.append("\u258f", style="dim")
    t.append(f" {pictures.caption(picture)}", style="dim")
    return t


def detail(f: Finding, docs: RuleDocs, ctx: Context | None, picture: Envelope | str | None = None) -> RenderableType:
    """The detail pane: the finding, its location and context, the voice's envelope for an audio
    finding, the rule's doc and fix hint."""
    head = Text()
    head.append(f"{f.code} {safe(f.rule_name)}".strip(), style=STYLE[f.severity])
    head.append(f"  {f.severity.label}", style=STYLE[f.severity])
    if f.security is not None:
        head.append(f"  security {f.security.label}", style="bold magenta")
    if f.fixable:
        head.append("  fixable by `presetctl fix`", style="green")
    head.append("\n")
    head.append(safe(f.message))
    where = Text()
    where.append("file      ", style="dim")
    where.append(safe(f.path), style="bold")
    for label, value in (("line", f"{f.line}:{f.column or 1}" if f.line is not None else ""),
                         ("location", f.location.render())):
        if value:
            where.append(f"\n{label:<10}", style="dim")
            where.append(safe(value))
    if f.hint:
        where.append("\nfix hint  ", style="dim")
        where.append(safe(f.hint), style="green")
    for i, r in enumerate(f.related):  # every other member of a duplicate group
        where.append("\nalso      " if i == 0 else "\n          ", style="dim")
        where.append(safe(r.render() + (f" {r.name!r}" if r.name else "")))
    parts: list[RenderableType] = [head, Text(""), where]
    if ctx is not None:
        parts += [Text(""), Text("context", style="bold underline"), context_text(ctx)]
    if picture is not None:
        parts += [Text(""), Text("envelope of the rendered test note", style="bold underline"), envelope_text(picture)]
    doc = docs(f.code)
    parts += [Text(""), Text(f"presetctl rule {f.code}", style="bold underline"),
              Text(doc.rstrip("\n")) if doc else Text(f"no documentation for {safe(f.code)}", style="dim")]
    return RichGroup(*parts)
