"""The Typer application: global options and command registration. Commands live in modules."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from presetctl import __version__
from presetctl.cli import fix, report, rules, security, stats, validate
from presetctl.cli.errors import Interrupted, install_signal_handlers

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
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """presetctl: the toolkit for preset librarians."""


app.command("validate")(validate.validate)
app.command("rules")(rules.rules)
app.command("rule")(rules.rule)
app.command("fix")(fix.fix)
app.command("scan-security")(security.scan_security)
app.command("stats")(stats.stats)
app.add_typer(report.report_app, name="report")


def main() -> None:
    install_signal_handlers()
    try:
        app(prog_name="presetctl")
    except Interrupted as exc:  # a signal outside any command (while parsing options): same code, one line
        sys.stderr.write(exc.message() + "\n")
        sys.exit(exc.exit_code)
