"""The full-screen viewer of ``presetctl report`` (Textual). A view: the model is in :mod:`.view`.

Groups on the left (by rule, file or preset; ``g`` switches), the findings of the highlighted
group on the right, the detail of the highlighted finding below them (rule doc, location, the
lines or bytes around it, read from disk only then). ``/`` filters with the same syntax as the
HTML page; ``s`` steps the lowest severity shown; ``a``/``A`` accept the finding or the whole
group into a baseline file; ``e`` exports what is shown; ``?`` lists the keys.

Every cell and pane gets a Rich ``Text`` (or a group of them) built from visible-escaped text:
DataTable would read a plain string as markup, so a preset named ``[bold]`` must never be one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from presetctl.engine.baseline import merged_baseline_bytes, project_root, read_baseline
from presetctl.engine.errors import PresetctlError, UsageError
from presetctl.engine.model import Finding, Severity
from presetctl.fsutil import atomic_write
from presetctl.report.browse.context import ContextReader
from presetctl.report.browse.export import EXPORTERS, format_for
from presetctl.report.browse.richtext import (
    LABEL,
    STYLE,
    RuleDocs,
    detail,
    header_text,
    location_text,
    safe,
)
from presetctl.report.browse.source import LoadedRun
from presetctl.report.browse.view import (
    ALL_SEVERITIES,
    Filter,
    Group,
    GroupBy,
    apply,
    by_severity,
    group,
    haystack,
    parse_query,
    severities_at_least,
)
from presetctl.report.browse.voices import VoicePictures
from presetctl.safe_text import visible

# Rows a table holds: a DataTable row costs ~0.2 ms to add, and nobody scrolls through more; the
# filter narrows, the export and the static report have them all.
MAX_ROWS = 1000  # findings of one group
MAX_GROUPS = 1000  # groups (by preset, a DX7 archive has one per voice)
TYPING_PAUSE = 0.2  # seconds without a keystroke before the filter applies (Enter applies at once)
SEVERITY_STEPS: tuple[Severity | None, ...] = (None, Severity.WARNING, Severity.ERROR)

HELP = """\
Keys
  g          group by rule, file, preset (cycles)
  s          lowest severity shown: all, warning, error (cycles)
  /          filter: words, sev:warning+, code:M0,N, path:'*.syx' (Enter or Esc leaves)
  Tab        move between groups and findings
  Up/Down    move; the detail pane follows the highlighted finding
  a          accept the highlighted finding into the baseline file
  A          accept every finding of the highlighted group
  e          export what is shown (JSON, CSV or Markdown, by file name)
  ?          this help        q  quit

Findings accepted into the baseline are marked with a check; `presetctl validate --baseline FILE`
then reports only the others.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss_help", "close")]
    DEFAULT_CSS = "HelpScreen { align: center middle; } #help { width: 96; height: auto; border: round $accent; " \
                  "padding: 1 2; background: $surface; }"

    def compose(self) -> ComposeResult:
        yield Static(Text(HELP), id="help")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class ExportScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = "ExportScreen { align: center middle; } #export-box { width: 80; height: auto; " \
                  "border: round $accent; padding: 1 2; background: $surface; }"

    def __init__(self, default: str, count: int) -> None:
        super().__init__()
        self.default = default
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(Text(f"Export the {self.count:,} findings shown to (.json, .csv or .md):"))
            yield Input(value=self.default, id="export-path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReportApp(App[None]):
    """Browse one run. ``docs(code)`` gives the text of `presetctl rule CODE`."""

    TITLE = "presetctl report"
    CSS = """
    #header { height: auto; padding: 0 1; background: $boost; }
    #filter { height: 3; }
    #status { height: 1; padding: 0 1; color: $text-muted; }
    #groups { width: 42%; }
    #right { width: 1fr; }
    #findings { height: 1fr; }
    #detail-box { height: 1fr; border-top: solid $accent; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "cycle_group", "group"),
        Binding("s", "cycle_severity", "severity"),
        Binding("slash", "focus_filter", "filter"),
        Binding("a", "accept", "accept"),
        Binding("A", "accept_group", "accept group", show=False),
        Binding("e", "export", "export"),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
        Binding("escape", "leave_filter", show=False),
    ]

    def __init__(self, run: LoadedRun, docs: RuleDocs, *, group_by: GroupBy = GroupBy.rule,
                 flt: Filter | None = None, baseline: Path | None = None, export_dir: Path | None = None) -> None:
        super().__init__()
        self.run_data = run
        self.docs = docs
        self.group_by = group_by
        self.query_filter = flt or Filter()
        self.min_severity: Severity | None = None
        self.baseline = baseline or Path("presetctl-baseline.json")
        self.export_dir = export_dir or Path.cwd()
        self.reader = ContextReader(run.header)
        self.pictures = VoicePictures(self.reader)  # envelopes of audio findings, rendered on demand
        self.texts = [haystack(f) for f in run.findings]  # searched on every keystroke: computed once
        self.shown: tuple[Finding, ...] = ()
        self.groups: tuple[Group, ...] = ()
        self.current: Group | None = None
        self.selected: Finding | None = None
        self.accepted: set[tuple[str, str, str]] = set()
        self.error = ""
        self.failure: BaseException | None = None  # an exception that ended the app (the CLI re-raises it)
        self.pending: Timer | None = None  # the filter waiting for the typing to pause
        self.typing = False  # the filter box has the keys: said in the status line

    # -- errors: Textual's own report of a crash is a traceback *with local variables* (they can hold
    # text from the files); ours goes through cli/errors.py instead, so the app only remembers it.
    def _handle_exception(self, error: Exception) -> None:
        self.failure = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        self.bell()
        self._close_messages_no_wait()

    # -- layout ------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield Input(value=self.query_filter.describe(), id="filter",
                    placeholder="filter: words  sev:warning+  code:M0,N  path:'*.syx'   (/ to type, Enter to leave)")
        yield Static(id="status")
        with Horizontal():
            yield DataTable(id="groups", cursor_type="row", zebra_stripes=True)
            with Vertical(id="right"):
                yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="detail-box"):
                    yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#groups", DataTable).add_columns("", "group", "count")
        self.query_one("#findings", DataTable).add_columns("", "sev", "code", "path", "where", "message")
        self.refresh_view()
        self.query_one("#groups", DataTable).focus()

    # -- the model -> the widgets ----------------------------------------------------------------------
    def effective_filter(self) -> Filter:
        flt = self.query_filter
        if self.min_severity is not None:
            flt = replace(flt, severities=flt.severities & severities_at_least(self.min_severity))
        return flt

    def refresh_view(self) -> None:
        flt = self.effective_filter()
        self.shown = apply(self.run_data.findings, flt, self.texts)
        self.groups = group(self.shown, self.group_by)
        self.query_one("#header", Static).update(header_text(self.run_data.header, self.run_data.counts(),
                                                             shown=len(self.shown)))
        table = self.query_one("#groups", DataTable)
        table.clear()
        for i, g in enumerate(self.groups[:MAX_GROUPS]):
            table.add_row(*_group_cells(g), key=str(i))
        if len(self.groups) > MAX_GROUPS:
            table.add_row(Text(""), Text(f"... {len(self.groups) - MAX_GROUPS:,} more groups: filter to narrow",
                                         style="dim"), Text(""), key="more")
        self.update_status()
        self.show_group(self.groups[0] if self.groups else None)

    def update_status(self) -> None:
        flt = self.effective_filter()
        t = Text(f"grouped by {self.group_by.value}  \u00b7  {len(self.groups):,} groups  \u00b7  "
                 f"{len(self.shown):,} of {len(self.run_data.findings):,} findings")
        if flt.severities != ALL_SEVERITIES:
            t.append("  \u00b7  " + ",".join(s.label for s in sorted(flt.severities, reverse=True)))
        if self.accepted:
            t.append(f"  \u00b7  {len(self.accepted):,} accepted into {safe(self.baseline)}", style="green")
        if self.error:
            t.append(f"  \u00b7  {safe(self.error)}", style="bold red")
        if self.typing:
            t.append("  \u00b7  typing a filter: Enter or Esc to leave", style="bold")
        self.query_one("#status", Static).update(t)

    def show_group(self, g: Group | None) -> None:
        self.current = g
        table = self.query_one("#findings", DataTable)
        table.clear()
        members = g.findings if g is not None else ()
        for i, f in enumerate(members[:MAX_ROWS]):
            table.add_row(*self._finding_cells(f), key=str(i))
        if len(members) > MAX_ROWS:
            table.add_row(Text(""), Text(""), Text(""), Text(f"... {len(members) - MAX_ROWS:,} more: filter to narrow, "
                                                              "or export", style="dim"), Text(""), Text(""), key="more")
        self.show_finding(members[0] if members else None)

    def _finding_cells(self, f: Finding) -> tuple[Text, ...]:
        mark = "\u2713" if f.baseline_key() in self.accepted else ""
        return (Text(mark, style="green"), Text(f.severity.label, style=STYLE[f.severity]), Text(safe(f.code)),
                Text(safe(f.path)), Text(location_text(f), style="dim"), Text(safe(f.message)))

    def show_finding(self, f: Finding | None) -> None:
        self.selected = f
        pane = self.query_one("#detail", Static)
        if f is None:
            pane.update(Text("no finding selected" if self.run_data.findings else "this run has no findings",
                             style="dim"))
            return
        pane.update(detail(f, self.docs, self.reader.context(f), self.pictures.picture(f)))

    # -- events ---------------------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is None or key == "more":
            return
        if event.data_table.id == "groups":
            g = self.groups[int(key)] if int(key) < len(self.groups) else None
            if g is not self.current:
                self.show_group(g)
        elif self.current is not None:
            self.show_finding(self.current.findings[int(key)])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "groups":
            self.query_one("#findings", DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        if self.pending is not None:
            self.pending.stop()
        self.pending = self.set_timer(TYPING_PAUSE, self.apply_filter_text)

    def apply_filter_text(self) -> None:
        if self.pending is not None:
            self.pending.stop()
            self.pending = None
        try:
            flt = parse_query(self.query_one("#filter", Input).value)
        except UsageError as exc:  # an unclosed quote while typing: keep the last good filter
            self.error = str(exc)
            self.update_status()
            return
        self.error = ""
        if flt != self.query_filter:
            self.query_filter = flt
            self.refresh_view()
        else:
            self.update_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.apply_filter_text()
            self.leave_filter()

    # -- actions ----------------------------------------------------------------------------------------
    def action_cycle_group(self) -> None:
        self.group_by = self.group_by.next()
        self.refresh_view()

    def action_cycle_severity(self) -> None:
        self.min_severity = SEVERITY_STEPS[(SEVERITY_STEPS.index(self.min_severity) + 1) % len(SEVERITY_STEPS)]
        self.refresh_view()

    def action_focus_filter(self) -> None:
        # Focus now, not after the queue (Widget.focus defers): keys typed right after "/" are filter text.
        self.screen.set_focus(self.query_one("#filter", Input))
        self.typing = True
        self.update_status()

    def action_leave_filter(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            self.apply_filter_text()
            self.leave_filter()

    def leave_filter(self) -> None:
        self.screen.set_focus(self.query_one("#groups", DataTable))
        self.typing = False
        self.update_status()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_accept(self) -> None:
        if self.selected is not None:
            self.accept([self.selected])

    def action_accept_group(self) -> None:
        if self.current is not None:
            self.accept(list(self.current.findings))

    def accept(self, findings: list[Finding]) -> None:
        """Add ``findings`` to the baseline file (through engine/baseline.py: its format, its keys)."""
        try:
            existing = read_baseline(self.baseline) if self.baseline.exists() else None
            root = existing.root if existing is not None else project_root(None, self.baseline)
            atomic_write(self.baseline, merged_baseline_bytes(existing, findings, root,
                                                              self.run_data.header.cwd or None))
        except (PresetctlError, OSError) as exc:
            self.notify(visible(f"baseline not written: {exc}"), severity="error", markup=False)
            return
        self.accepted.update(f.baseline_key() for f in findings)
        self.notify(visible(f"{len(findings):,} accepted into {self.baseline}"), markup=False)
        self.update_status()
        self.show_group(self.current)

    def action_export(self) -> None:
        default = str(self.export_dir / "presetctl-findings.csv")
        self.push_screen(ExportScreen(default, len(self.shown)), self.export_to)

    def export_to(self, target: str | None) -> None:
        if not target:
            return
        try:
            fmt = format_for(target)
            path = Path(os.path.expanduser(target))
            atomic_write(path, EXPORTERS[fmt](by_severity(self.shown)).encode("utf-8"))
        except (PresetctlError, OSError) as exc:
            self.notify(visible(f"not exported: {exc}"), severity="error", markup=False)
            return
        self.notify(visible(f"exported {len(self.shown):,} findings to {target} ({fmt})"), markup=False)


def _group_cells(g: Group) -> tuple[Text, Text, Text]:
    name = Text(safe(g.key), style="bold")
    if g.title:
        name.append(f" {safe(g.title)}", style="")
    counts = Text(f"{len(g):,}", style="bold")
    parts = [f"{n:,}{sev[0].upper()}" for sev, n in g.counts.items() if n]
    if len(parts) > 1:
        counts.append(f" ({' '.join(parts)})", style="dim")
    return Text(LABEL[g.worst], style=STYLE[g.worst]), name, counts
