"""The Typer application: global options and command registration. Commands live in modules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from presetctl import __version__
from presetctl.cli import bench, doctor, fix, logs, merge, report, rules, security, stats, validate
from presetctl.cli.errors import install_signal_handlers, say
from presetctl.cli.session import GlobalOptions, ProcessMetrics
from presetctl.cli.units import parse_size
from presetctl.engine.errors import Interrupted, UsageError
from presetctl.obs.reader import LogQuery
from presetctl.obs.session import DEFAULT_BACKUPS

app = typer.Typer(
    name="presetctl",
    help="Validate, fix, scan and measure synthesizer preset libraries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # errors go through cli/errors.py, never as tracebacks
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"presetctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_callback(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
    state_dir: Annotated[str | None, typer.Option("--state-dir", envvar="PRESETCTL_STATE_DIR", metavar="DIR",
                         help="Keep history, logs, caches, backups and crash reports here (default: the user "
                         "state, log and cache folders).")] = None,
    no_history: Annotated[bool, typer.Option("--no-history", envvar="PRESETCTL_NO_HISTORY",
                          help="Do not record this run in the run history.")] = False,
    show_traceback: Annotated[bool, typer.Option("--traceback", help="Print the traceback of an internal error "
                              "(as PRESETCTL_DEBUG=1 does).")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More messages on stderr: -v info, "
                       "-vv debug.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    log_max_size: Annotated[str, typer.Option("--log-max-size", envvar="PRESETCTL_LOG_MAX_SIZE", metavar="SIZE",
                            help="Rotate the log file at this size.")] = "5MB",
    log_files: Annotated[int, typer.Option("--log-files", envvar="PRESETCTL_LOG_FILES", min=0, metavar="N",
                         help="Rotated log files kept.")] = DEFAULT_BACKUPS,
    log_level: Annotated[str, typer.Option("--log-level", envvar="PRESETCTL_LOG_LEVEL", metavar="LEVEL",
                         help="Lowest level written to the log file: debug, info, warning, error.")] = "info",
    metrics_file: Annotated[str | None, typer.Option("--metrics-file", envvar="PRESETCTL_METRICS_FILE",
                            metavar="PATH", help="Write the run's metrics to PATH in the Prometheus text format "
                            "(node_exporter's textfile collector), atomically.")] = None,
) -> None:
    """presetctl: the toolkit for preset librarians."""
    try:
        max_bytes, level = parse_size(log_max_size), LogQuery.level(log_level)
    except UsageError as exc:  # the callback runs outside the commands' error table: report as Typer does
        raise typer.BadParameter(str(exc)) from None
    ctx.obj = GlobalOptions(state_dir=state_dir, no_history=no_history, traceback=show_traceback, verbose=verbose,
                            quiet=quiet, log_max_bytes=max_bytes, log_backups=log_files, log_level=level,
                            metrics_file=metrics_file)
    if metrics_file is not None:  # commands without a run of their own (rules, logs, doctor, report) too
        ctx.call_on_close(ProcessMetrics(ctx, Path(metrics_file), ctx.invoked_subcommand or ""))


app.command("validate")(validate.validate)
app.command("rules")(rules.rules)
app.command("rule")(rules.rule)
app.command("fix")(fix.fix)
app.command("scan-security")(security.scan_security)
app.command("stats")(stats.stats)
app.command("merge-reports")(merge.merge_reports)
app.command("bench")(bench.bench)
app.add_typer(report.report_app, name="report")
app.add_typer(logs.app, name="logs")
app.command("doctor")(doctor.doctor)


def main() -> None:
    install_signal_handlers()
    try:
        app(prog_name="presetctl")
    except Interrupted as exc:  # a signal outside any command (while parsing options): same code, one line
        say(exc.message())
        sys.exit(exc.exit_code)
