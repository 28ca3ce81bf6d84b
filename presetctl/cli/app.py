"""The Typer application: global options and command registration. Commands live in modules.

Command modules are imported when their command runs (or help lists them), not at start-up:
``presetctl --version`` imports no engine, and ``presetctl validate`` not the fix engine, the
report viewer or the history queries of ``logs``. ``_COMMANDS`` is the registration table, in
the order help lists them.
"""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from presetctl import __version__
from presetctl.cli.globals import GlobalOptions
from presetctl.obs.defaults import DEFAULT_BACKUPS

# name -> (module, attribute, a Typer sub-app rather than a command function)
_COMMANDS: dict[str, tuple[str, str, bool]] = {
    "validate": ("presetctl.cli.validate", "validate", False),
    "rules": ("presetctl.cli.rules", "rules", False),
    "rule": ("presetctl.cli.rules", "rule", False),
    "fix": ("presetctl.cli.fix", "fix", False),
    "scan-security": ("presetctl.cli.security", "scan_security", False),
    "stats": ("presetctl.cli.stats", "stats", False),
    "merge-reports": ("presetctl.cli.merge", "merge_reports", False),
    "bench": ("presetctl.cli.bench", "bench", False),
    "doctor": ("presetctl.cli.doctor", "doctor", False),
    "report": ("presetctl.cli.report", "report_app", True),  # sub-apps after commands, as Typer lists them
    "logs": ("presetctl.cli.logs", "app", True),
}


def _load(name: str) -> Any:
    """The click command of ``name``, built by Typer from its module as ``app.command`` would."""
    module, attribute, group = _COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
    if group:
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    holder.callback()(lambda: None)  # a group, so that the command keeps its own name
    built = typer.main.get_command(holder)
    return built.commands[name]  # type: ignore[attr-defined]


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return [*_COMMANDS, *(n for n in self.commands if n not in _COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            self.commands[cmd_name] = _load(cmd_name)
        return self.commands.get(cmd_name)


app = typer.Typer(
    name="presetctl",
    help="Validate, fix, scan and measure synthesizer preset libraries.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # errors go through cli/errors.py, never as tracebacks
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=_LazyGroup,
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
    from presetctl.cli.units import parse_size
    from presetctl.engine.errors import UsageError
    from presetctl.obs.reader import LogQuery

    try:
        max_bytes, level = parse_size(log_max_size), LogQuery.level(log_level)
    except UsageError as exc:  # the callback runs outside the commands' error table: report as Typer does
        raise typer.BadParameter(str(exc)) from None
    ctx.obj = GlobalOptions(state_dir=state_dir, no_history=no_history, traceback=show_traceback, verbose=verbose,
                            quiet=quiet, log_max_bytes=max_bytes, log_backups=log_files, log_level=level,
                            metrics_file=metrics_file)
    if metrics_file is not None:  # commands without a run of their own (rules, logs, doctor, report) too
        from presetctl.cli.session import ProcessMetrics

        ctx.call_on_close(ProcessMetrics(ctx, Path(metrics_file), ctx.invoked_subcommand or ""))


def main() -> None:
    # Start-up (importing the command's modules, building its options) allocates tens of thousands of
    # objects and frees almost none; the cyclic collector would walk them again and again (a sixteenth
    # of a one-file validate's CPU). It is off until the command starts: cli/errors.guarded turns it
    # back on, with what start-up left frozen (modules and options live as long as the process).
    collecting = gc.isenabled()
    gc.disable()
    from presetctl.cli.errors import install_signal_handlers, say
    from presetctl.engine.errors import Interrupted

    install_signal_handlers()
    try:
        app(prog_name="presetctl")
    except Interrupted as exc:  # a signal outside any command (while parsing options): same code, one line
        say(exc.message())
        sys.exit(exc.exit_code)
    finally:
        if collecting:
            gc.enable()
