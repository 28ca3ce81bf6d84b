"""The ``full`` report drawn by rich: colour and hard wrapping on a terminal.

Every piece of text becomes a ``rich.text.Text`` (never markup), so ``[bold]`` or ``:smile:``
in a preset name stays literal; what the pieces are is decided in ``full.py``, once for both.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from presetctl.engine.model import RunResult
from presetctl.report.base import ReportContext
from presetctl.report.full import HEADER, TITLE, FullWriter, Part, summary_rows


def make_console(ctx: ReportContext, buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=ctx.color, no_color=not ctx.color, color_system="standard" if ctx.color else None,
                   width=ctx.width, markup=False, emoji=False, highlight=False, soft_wrap=not ctx.wrap)


def summary_table(result: RunResult, security: bool = False) -> Table:
    table = Table(title=TITLE, show_header=True, title_justify="left")
    table.add_column(HEADER[0], style="bold")
    table.add_column(HEADER[1], justify="right")
    for label, count, style in summary_rows(result, security):
        table.add_row(Text(label, style=style) if style else label, count)
    return table


class RichFullWriter(FullWriter):
    def __init__(self, ctx: ReportContext) -> None:
        super().__init__(ctx)
        self.buf = io.StringIO()
        self.console = make_console(ctx, self.buf)

    def line(self, parts: Iterable[Part], *, no_wrap: bool = False) -> None:
        pieces = list(parts)
        if not pieces:
            self.console.print()
            return
        (first, style), rest = pieces[0], pieces[1:]
        text = (Text(first, style=style or "", no_wrap=True, overflow="ignore") if no_wrap
                else Text(first, style=style or ""))
        for piece, piece_style in rest:
            text.append(piece, style=piece_style)
        self.console.print(text)

    def table(self, result: RunResult) -> None:
        self.console.print(summary_table(result, self.ctx.security))

    def _take(self) -> str:
        text = self.buf.getvalue()
        self.buf.seek(0)
        self.buf.truncate()
        return text
