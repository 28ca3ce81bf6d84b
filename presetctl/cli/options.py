"""Reusable option declarations (declared once, shared by every command) and their parsing."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from presetctl.engine.config import resolve_options
from presetctl.engine.errors import UsageError
from presetctl.engine.options import Options
from presetctl.engine.shard import ShardInfo, pack_settings, parse_shard
from presetctl.report.base import ReportContext


class Color(str, enum.Enum):
    auto = "auto"
    always = "always"
    never = "never"


class FailOn(str, enum.Enum):
    error = "error"
    warning = "warning"
    info = "info"


def split(values: list[str] | None) -> tuple[str, ...]:
    """Repeated and comma-separated values as one tuple."""
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


PathsArg = Annotated[list[Path] | None, typer.Argument(help="Files and folders to check (default: the current folder).",
                                                      show_default=False, metavar="PATH")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", metavar="FILE", help="Config file (default: presetctl.toml "
                                                "or [tool.presetctl] in pyproject.toml, searched upwards).")]
SelectOpt = Annotated[list[str] | None, typer.Option("--select", metavar="CODES", help="Rule codes or prefixes to "
                                                     "enable (comma-separated; replaces the configured selection).")]
ExtendSelectOpt = Annotated[list[str] | None, typer.Option("--extend-select", metavar="CODES",
                                                           help="Rule codes or prefixes to add.")]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", metavar="CODES", help="Rule codes or prefixes to disable.")]
ProfileOpt = Annotated[list[str] | None, typer.Option("--profile", metavar="NAMES", help="Opt-in rule profiles to add "
                                                      "to the default set (see `presetctl rules`), e.g. marketplace.")]
IncludeOpt = Annotated[list[str] | None, typer.Option("--include", metavar="GLOBS",
                                                      help="Only check files matching these globs.")]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", metavar="PATTERNS",
                                                      help="Skip paths matching these .gitignore-style patterns.")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", "-j", min=1, metavar="N", help="Worker processes (default: all cores).")]
MaxSizeOpt = Annotated[int | None, typer.Option("--max-file-size", min=1, metavar="BYTES", help="Largest file to read "
                                                "(default 64 MiB); larger files are reported, never read.")]
ColorOpt = Annotated[Color, typer.Option("--color", help="Colour output: auto honours NO_COLOR, FORCE_COLOR and the terminal.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only: no summary, no progress.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Add fix hints and stage timings.")]
ShowUnknownOpt = Annotated[bool, typer.Option("--show-unknown", help="List files in no format presetctl knows.")]
ExitZeroOpt = Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when findings reach --fail-on "
                                           "(tool errors still exit 2).")]
StatisticsOpt = Annotated[bool, typer.Option("--statistics", help="Print how many findings each rule has, "
                                             "instead of the findings.")]
ReportOpt = Annotated[list[str] | None, typer.Option("--report", metavar="FORMAT:PATH",
                                                     help="Also write a report in FORMAT to PATH (repeatable).")]
ShardOpt = Annotated[str | None, typer.Option("--shard", metavar="K/N", help="Check only shard K of N: files are "
                     "assigned by a hash of their path relative to the target, the same on every machine. With -o "
                     "json or --report json:PATH the report carries what `presetctl merge-reports` needs.")]
BaselineOpt = Annotated[Path | None, typer.Option("--baseline", metavar="FILE",
                                                  help="Report only findings not in this baseline file.")]


@dataclass(frozen=True)
class Resolved:
    """Options from config and flags, and the config file they came from (if any)."""

    options: Options
    config: Path | None


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
    profile: list[str] | None = None,
) -> Resolved:
    """Config file first, command-line flags on top (as ruff does)."""
    opts, found = resolve_options(paths, str(config) if config else None, base)
    changes: dict[str, object] = {}
    if select:
        changes["select"] = split(select)
    if extend_select:
        changes["extend_select"] = opts.extend_select + split(extend_select)
    if ignore:
        changes["ignore"] = opts.ignore + split(ignore)
    if profile:
        changes["profiles"] = opts.profiles + split(profile)
    if include:
        changes["include"] = opts.include + split(include)
    if exclude:
        changes["exclude"] = opts.exclude + split(exclude)
    if jobs is not None:
        changes["jobs"] = jobs
    if max_file_size is not None:
        changes["limits"] = replace(opts.limits, max_file_size=max_file_size)
    if show_unknown:
        changes["show_unknown"] = True
    return Resolved(replace(opts, **changes), found)  # type: ignore[arg-type]


def parse_report_specs(specs: list[str] | None, known: set[str]) -> list[tuple[str, Path]]:
    """``FORMAT:PATH`` pairs, checked before any work starts (a bad one is a usage error)."""
    out = []
    for spec in specs or []:
        fmt, sep, dest = spec.partition(":")
        if not sep or not dest:
            raise UsageError(f"--report takes FORMAT:PATH, got {spec!r}")
        if fmt not in known:
            raise UsageError(f"--report: unknown format {fmt!r} (known: {', '.join(sorted(known))})")
        path = Path(dest)
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise UsageError(f"--report {spec}: the folder {str(folder)!r} does not exist")
        if path.is_dir():
            raise UsageError(f"--report {spec}: {dest!r} is a folder")
        out.append((fmt, path))
    return out


def with_shard(options: Options, shard: str | None) -> Options:
    """``--shard K/N`` into the options (the engine keeps only that shard's files)."""
    return replace(options, shard=parse_shard(shard)) if shard is not None else options


def shard_context(ctx: ReportContext, options: Options, baseline: bool) -> ReportContext:
    """A sharded run's report context: its JSON report carries the shard's files and settings."""
    if options.shard is None:
        return ctx
    k, n = options.shard
    return replace(ctx, shard=ShardInfo(k, n, {**pack_settings(options), "baseline": baseline}))


def path_strings(paths: list[Path] | None) -> list[str]:
    return [str(p) for p in paths] if paths else ["."]
