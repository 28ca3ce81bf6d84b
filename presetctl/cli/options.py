"""Reusable option declarations (declared once, shared by every command) and their parsing."""

from __future__ import annotations

import enum
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from presetctl.engine.config import resolve_options
from presetctl.engine.errors import UsageError
from presetctl.engine.options import Options


class Color(str, enum.Enum):
    auto = "auto"
    always = "always"
    never = "never"


class FailOn(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


PathsArg = Annotated[list[Path] | None, typer.Argument(help="Files and folders to check (default: the current folder).",
                                                      show_default=False)]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config file (default: presetctl.toml or "
                                                "[tool.presetctl] in pyproject.toml, searched upwards).")]
SelectOpt = Annotated[list[str] | None, typer.Option("--select", help="Rule codes or prefixes to enable (comma-separated; "
                                                     "replaces the configured selection).")]
ExtendSelectOpt = Annotated[list[str] | None, typer.Option("--extend-select", help="Rule codes or prefixes to add.")]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", help="Rule codes or prefixes to disable.")]
IncludeOpt = Annotated[list[str] | None, typer.Option("--include", help="Only check files matching these globs.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Skip paths matching these .gitignore-style patterns.")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores).")]
MaxSizeOpt = Annotated[int | None, typer.Option("--max-file-size", min=1, help="Largest file to read, in bytes "
                                                "(default 64 MiB); larger files are reported, never read.")]
ColorOpt = Annotated[Color, typer.Option("--color", help="Colour output: auto honours NO_COLOR, FORCE_COLOR and the terminal.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only: no summary, no progress.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Add fix hints and stage timings.")]
ShowUnknownOpt = Annotated[bool, typer.Option("--show-unknown", help="List files in no format presetctl knows.")]
ExitZeroOpt = Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when findings reach --fail-on "
                                           "(tool errors still exit 2).")]


def build_options(
    paths: list[str],
    config: Path | None,
    select: list[str] | None = None,
    extend_select: list[str] | None = None,
    ignore: list[str] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    jobs: int | None = None,
    max_file_size: int | None = None,
    show_unknown: bool = False,
    base: Options | None = None,
) -> Options:
    """Config file first, command-line flags on top (as ruff does)."""
    opts, _ = resolve_options(paths, str(config) if config else None, base)
    changes: dict[str, object] = {}
    if select:
        changes["select"] = _split(select)
    if extend_select:
        changes["extend_select"] = opts.extend_select + _split(extend_select)
    if ignore:
        changes["ignore"] = opts.ignore + _split(ignore)
    if include:
        changes["include"] = opts.include + _split(include)
    if exclude:
        changes["exclude"] = opts.exclude + _split(exclude)
    if jobs is not None:
        changes["jobs"] = jobs
    if max_file_size is not None:
        changes["limits"] = replace(opts.limits, max_file_size=max_file_size)
    if show_unknown:
        changes["show_unknown"] = True
    return replace(opts, **changes)  # type: ignore[arg-type]


def parse_report_specs(specs: list[str] | None, known: set[str]) -> list[tuple[str, Path]]:
    out = []
    for spec in specs or []:
        fmt, sep, dest = spec.partition(":")
        if not sep or not dest:
            raise UsageError(f"--report takes FORMAT:PATH, got {spec!r}")
        if fmt not in known:
            raise UsageError(f"--report: unknown format {fmt!r} (known: {', '.join(sorted(known))})")
        out.append((fmt, Path(dest)))
    return out


def path_strings(paths: list[Path] | None) -> list[str]:
    return [str(p) for p in paths] if paths else ["."]
