"""``presetctl report [RUN]`` and ``presetctl report diff A B``: browse a run, compare two.

``report RUN`` opens the Textual viewer at a terminal; piped, in CI or with ``--no-interactive``
it prints the same grouping and filters as a static Rich report (paged when long), or with
``-o json|csv|markdown`` the filtered findings; ``--html FILE`` writes one self-contained page.
A bare ``presetctl report FILE`` is ``presetctl report show FILE``: the group sends every
argument that is no subcommand to ``show``.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from presetctl.cli import options as o
from presetctl.cli.console import use_color, width, write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.session import history_location
from presetctl.engine.errors import UsageError
from presetctl.engine.model import Severity
from presetctl.engine.rules.registry import BY_CODE
from presetctl.fsutil import atomic_write
from presetctl.report.browse import export, pager, static
from presetctl.report.browse.context import ContextReader
from presetctl.report.browse.diff import diff_runs
from presetctl.report.browse.source import HistorySource, load_run
from presetctl.report.browse.view import GroupBy, apply, by_severity, make_filter
from presetctl.report.browse.voices import VoicePictures
from presetctl.report.rule_doc import rule_doc_markdown


class _ShowByDefault(TyperGroup):
    """``report X ...`` means ``report show X ...`` unless X names a subcommand or asks for help."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["show", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(
    cls=_ShowByDefault,
    help="Browse the findings of a run (viewer, static report, HTML page) and compare two runs.",
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ShowFormat(str, enum.Enum):
    text = "text"
    json = "json"
    csv = "csv"
    markdown = "markdown"


class DiffFormat(str, enum.Enum):
    text = "text"
    json = "json"


def rule_docs(code: str) -> str | None:
    """What `presetctl rule CODE` prints, or None for a code no rule has."""
    rule = BY_CODE.get(code)
    return rule_doc_markdown(rule) if rule is not None else None


# Options shared by `show` and `diff`, declared once.
GroupByOpt = Annotated[GroupBy, typer.Option("--group-by", help="Group findings by rule, file or preset.")]
SeverityOpt = Annotated[list[str] | None, typer.Option("--severity", help="Only these severities: "
                        "error,warning or warning+ (that and worse). Repeatable.")]
SelectOpt = Annotated[list[str] | None, typer.Option("--select", help="Only these rule codes or prefixes "
                      "(comma-separated, repeatable): M001, M, X05.")]
PathOpt = Annotated[list[str] | None, typer.Option("--path", help="Only files matching this glob "
                    "(on the whole path, or the file name when it has no slash). Repeatable.")]
GrepOpt = Annotated[str | None, typer.Option("--grep", help="Only findings whose message, path, code, rule "
                    "name, location or hint contains this text (case-insensitive).")]
TopOpt = Annotated[int, typer.Option("--top", min=0, help="Findings listed per group in the static "
                   "report (0: counts only).")]
RunArg = Annotated[str, typer.Argument(help="A recorded run: `last` (the last validate or scan-security run), "
                   "`last~N` (N runs of the same command over the same targets before it), a run id or a unique "
                   "prefix of one (presetctl logs runs); or a JSON report file (presetctl validate --report "
                   "json:PATH).", show_default=True)]


def history(ctx: typer.Context | None) -> HistorySource:
    """The run history this command reads (never records: browsing is not a run)."""
    path, off = history_location(ctx)
    return HistorySource(path, off)


@report_app.command("show")
@guarded
def show(
    typer_ctx: typer.Context,
    run: RunArg = "last",
    group_by: GroupByOpt = GroupBy.rule,
    severity: SeverityOpt = None,
    select: SelectOpt = None,
    path: PathOpt = None,
    grep: GrepOpt = None,
    top: TopOpt = 10,
    output_format: Annotated[ShowFormat, typer.Option("--output-format", "-o", help="Static output: the grouped "
                             "report (text), or the filtered findings as json, csv or markdown.")] = ShowFormat.text,
    html: Annotated[Path | None, typer.Option("--html", metavar="FILE", help="Write one self-contained HTML page "
                    "of the (filtered) run to FILE instead of showing it.")] = None,
    interactive: Annotated[bool | None, typer.Option("--interactive/--no-interactive", help="Open the full-screen "
                           "viewer (default: when standard input and output are a terminal).",
                           show_default=False)] = None,
    baseline: Annotated[Path, typer.Option("--baseline", help="Baseline file the viewer's accept keys add "
                        "findings to.")] = Path("presetctl-baseline.json"),
    use_pager: Annotated[bool, typer.Option("--pager/--no-pager", help="Page a long static report at a terminal "
                         "through $PAGER (default `less -FRX`).")] = True,
    color: o.ColorOpt = o.Color.auto,
) -> None:
    """Show the findings of a run: a full-screen viewer at a terminal, else a static report.

    Exit codes: 0 shown, 2 usage or history error (unreadable report, unknown run, no history), 130 interrupted.
    """
    flt = make_filter(severity, select, path, grep)
    loaded = load_run(run, history(typer_ctx))
    if html is not None:
        from presetctl.report.browse.html_report import render_html

        findings = by_severity(apply(loaded.findings, flt))
        page = render_html(loaded, findings, rule_docs, flt, VoicePictures(ContextReader(loaded.header)))
        atomic_write(html, page.encode("utf-8"))
        sys.stderr.write(f"wrote {html} ({len(findings):,} findings)\n")
        raise typer.Exit(EXIT_OK)
    at_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive and not sys.stdout.isatty():
        raise UsageError("--interactive needs a terminal on standard output")
    if interactive or (interactive is None and at_terminal and output_format is ShowFormat.text):
        from presetctl.report.browse.tui import ReportApp  # Textual loads only when the viewer opens

        app = ReportApp(loaded, rule_docs, group_by=group_by, flt=flt, baseline=baseline)
        app.run()
        if app.failure is not None:
            raise app.failure  # reported by the error table: a message, no traceback, no local variables
        raise typer.Exit(EXIT_OK)
    findings = by_severity(apply(loaded.findings, flt))
    if output_format is not ShowFormat.text:
        write_stdout(export.EXPORTERS[output_format.value](findings))
        raise typer.Exit(EXIT_OK)
    text = static.render_report(loaded, findings, group_by, flt, top, color=use_color(color.value, sys.stdout),
                                width=width(sys.stdout), pictures=VoicePictures(ContextReader(loaded.header)))
    pager.show(text, sys.stdout, enabled=use_pager)
    raise typer.Exit(EXIT_OK)


@report_app.command("diff")
@guarded
def diff(
    typer_ctx: typer.Context,
    before: Annotated[str, typer.Argument(help="The earlier run: a run id, `last~1` (the run before the last over "
                      "the same targets), or a JSON report file.")],
    after: Annotated[str, typer.Argument(help="The later run: a run id, `last`, or a JSON report file.")],
    fail_on: Annotated[o.FailOn, typer.Option("--fail-on", help="Lowest severity of a new finding that makes "
                       "the exit code 1.")] = o.FailOn.error,
    exit_zero: o.ExitZeroOpt = False,
    severity: SeverityOpt = None,
    select: SelectOpt = None,
    path: PathOpt = None,
    grep: GrepOpt = None,
    top: Annotated[int, typer.Option("--top", min=0, help="New and fixed findings listed (json lists all).")] = 20,
    output_format: Annotated[DiffFormat, typer.Option("--output-format", "-o", help="text or json.")] = DiffFormat.text,
    color: o.ColorOpt = o.Color.auto,
) -> None:
    """Compare two runs: new, fixed and unchanged findings, by rule.

    Findings match on path, code and location (never the line). Exit codes: 0 no new finding at
    or above --fail-on, 1 new findings at or above it, 2 usage error, 130 interrupted.
    """
    flt = make_filter(severity, select, path, grep)
    source = history(typer_ctx)
    old, new = load_run(before, source), load_run(after, source)
    result = diff_runs(apply(old.findings, flt), apply(new.findings, flt))
    if output_format is DiffFormat.json:
        write_stdout(export.diff_json(result, old.header.source, new.header.source))
    else:
        write_stdout(static.render_diff(old, new, result, top, color=use_color(color.value, sys.stdout),
                                        width=width(sys.stdout)))
    failed = result.fails(Severity.parse(fail_on.value))
    raise typer.Exit(EXIT_FINDINGS if failed and not exit_zero else EXIT_OK)
