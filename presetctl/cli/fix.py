"""``presetctl fix``: apply the fixes rules offer, journaled and undoable; preview, undo, resume, history."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from presetctl.cli import options as o
from presetctl.cli.console import progress_bar, write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.session import GlobalOptions, NoHistoryOpt, recorded_run
from presetctl.engine.errors import UsageError
from presetctl.engine.fix.model import FileFix, FixResult, UndoResult, counts_by_code
from presetctl.engine.fix.run import FixSettings
from presetctl.engine.fix.run import fix as run_fix
from presetctl.engine.fix.undo import history, resumable, undo
from presetctl.engine.options import Options
from presetctl.report.safe_text import visible

UnsafeOpt = Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply fixes that may change the sound or a name.")]
DiffOpt = Annotated[bool, typer.Option("--diff", help="Show what would change (unified diff; a summary for binary "
                                       "files) and change nothing. Exit 1 if anything would change.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="List the fixes that would be applied; change nothing.")]
ShowFixesOpt = Annotated[bool, typer.Option("--show-fixes", help="List every fix applied.")]
UndoOpt = Annotated[bool, typer.Option("--undo", help="Restore the files of a run byte for byte: "
                                       "`fix --undo [RUN_ID]` (default: the latest run not undone).")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Finish an interrupted run: `fix --resume [RUN_ID]`.")]
HistoryOpt = Annotated[bool, typer.Option("--history", help="List recorded fix runs.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="With --undo: restore files changed since the fix too "
                                        "(what is there now is backed up first).")]
NoFsyncOpt = Annotated[bool, typer.Option("--no-fsync", help="Skip fsync (faster; for throwaway copies: a power "
                                          "loss may lose fixes or backups).")]
StateDirOpt = Annotated[Path | None, typer.Option("--state-dir", help="Journal and backup folder (default: "
                                                  "PRESETCTL_STATE_DIR, else the user state folder).")]


def _fixes(f: FileFix, prefix: str) -> list[str]:
    return [f"  {prefix}{a.code} {visible(a.description)}\n" for a in f.applied]


def render_result(result: FixResult, show_fixes: bool, quiet: bool) -> str:
    out: list[str] = []
    for f in result.files:
        shown = visible(f.path) + (f" -> {visible(f.new_path)}" if f.new_path else "")
        if result.mode == "diff" and f.diff:
            out.append(visible_diff(f.diff))
        elif result.mode == "dry-run" and f.applied:
            out.append(f"{shown}: would apply {len(f.applied)} fixes\n")
            out.extend(_fixes(f, ""))
        elif f.applied and show_fixes:
            out.append(f"{shown}: {len(f.applied)} fixes\n")
            out.extend(_fixes(f, ""))
        for r in f.rolled_back:
            out.append(f"{visible(f.path)}: rolled back {r.code} {visible(r.description)}: {visible(r.reason)}\n")
        if f.error:
            out.append(f"{visible(f.path)}: {visible(f.error)}\n")
    if not quiet:
        out.append(summary(result))
    return "".join(out)


def visible_diff(diff: str) -> str:
    return "".join(visible(line.rstrip("\n")) + "\n" for line in diff.splitlines())


def summary(result: FixResult) -> str:
    files = len(result.changed)
    by_code = ", ".join(f"{c} x{n}" for c, n in counts_by_code(result.changed).items())
    verb = {"write": "Fixed", "diff": "Would fix", "dry-run": "Would fix"}[result.mode]
    line = f"{verb} {result.applied_count} issues in {files} of {len(result.files)} files"
    line += f" ({by_code})" if by_code else ""
    if result.rolled_back_count:
        line += f"; {result.rolled_back_count} fixes rolled back"
    if result.failed:
        line += f"; {len(result.failed)} files could not be written"
    line += ".\n"
    if result.run_id and files:
        line += f"Run {result.run_id}: undo with `presetctl fix --undo {result.run_id}`.\n"
    return line


def render_undo(result: UndoResult, cwd: str) -> str:
    out = [f"{visible(os.path.relpath(p, cwd))}: changed since the fix, not restored ({why})\n"
           for p, why in result.refused]
    out.append(f"Undo of run {result.run_id}: {len(result.restored)} files restored, {len(result.unchanged)} "
               f"already original, {len(result.refused)} refused.\n")
    return "".join(out)


def render_history(state: str | None) -> str:
    runs = history(state)
    if not runs:
        return "No fix runs recorded.\n"
    lines = [f"{'run':<24} {'started':<26} {'status':<12} files  paths\n"]
    for r in runs:
        paths = " ".join(str(p) for p in r.header.get("paths", []))
        lines.append(f"{r.run_id:<24} {r.started:<26} {r.status:<12} {r.files:>5}  {visible(paths)}\n")
    return "".join(lines)


def _check_options(targets: list[str], config: Path | None, include: list[str] | None,
                   exclude: list[str] | None) -> Options:
    """All configured rules: what a fixed file is validated against, whatever --select says."""
    return o.build_options(targets, config, include=include, exclude=exclude)


@guarded
def fix(
    typer_ctx: typer.Context,
    paths: o.PathsArg = None,
    unsafe_fixes: UnsafeOpt = False,
    diff: DiffOpt = False,
    dry_run: DryRunOpt = False,
    show_fixes: ShowFixesOpt = False,
    undo_run: UndoOpt = False,
    resume: ResumeOpt = False,
    show_history: HistoryOpt = False,
    force: ForceOpt = False,
    no_fsync: NoFsyncOpt = False,
    state_dir: StateDirOpt = None,
    config: o.ConfigOpt = None,
    select: o.SelectOpt = None,
    extend_select: o.ExtendSelectOpt = None,
    ignore: o.IgnoreOpt = None,
    include: o.IncludeOpt = None,
    exclude: o.ExcludeOpt = None,
    quiet: o.QuietOpt = False,
    verbose: o.VerboseOpt = False,
    no_history: NoHistoryOpt = False,
) -> None:
    """Fix presets: safe fixes by default, --unsafe-fixes for the rest. Every change is backed up and
    journaled first; `fix --undo` restores a run byte for byte.

    Exit codes: 0 done (or nothing to change), 1 --diff/--dry-run found changes or a file could not be
    written, 2 usage, config or state error, 130 interrupted.
    """
    state = str(state_dir) if state_dir else GlobalOptions.of(typer_ctx).state_dir  # `presetctl --state-dir` too
    if sum((diff, dry_run, undo_run, resume, show_history)) > 1:
        raise UsageError("choose one of --diff, --dry-run, --undo, --resume and --history")
    if show_history:
        write_stdout(render_history(state))
        raise typer.Exit(EXIT_OK)
    if undo_run:
        if paths is not None and len(paths) > 1:
            raise UsageError("--undo takes at most one RUN_ID")
        undone = undo(str(paths[0]) if paths else None, state=state, force=force, fsync=not no_fsync)
        write_stdout(render_undo(undone, os.getcwd()))
        raise typer.Exit(EXIT_OK if undone.ok else EXIT_FINDINGS)
    header: dict[str, Any]
    cwd: str | None = None
    if resume:
        if paths is not None and len(paths) > 1:
            raise UsageError("--resume takes at most one RUN_ID")
        info = resumable(state, str(paths[0]) if paths else None)
        header = dict(info.header)
        cwd = str(header.get("cwd") or os.getcwd())
        targets = [str(p) for p in header.get("paths", [])]
        cfg = Path(header["config"]) if header.get("config") else None
        options = o.build_options(targets, cfg, header.get("select"), header.get("extend_select"),
                                  header.get("ignore"), header.get("include"), header.get("exclude"))
        check = _check_options(targets, cfg, header.get("include"), header.get("exclude"))
        unsafe_fixes = bool(header.get("unsafe"))
    else:
        info = None
        targets = [os.path.abspath(p) for p in o.path_strings(paths)]
        options = o.build_options(targets, config, select, extend_select, ignore, include, exclude)
        check = _check_options(targets, config, include, exclude)
        header = {"paths": targets, "select": select, "extend_select": extend_select, "ignore": ignore,
                  "include": include, "exclude": exclude, "config": str(Path(config).resolve()) if config else None,
                  "unsafe": unsafe_fixes}
    mode = "diff" if diff else "dry-run" if dry_run else "write"
    settings = FixSettings(mode=mode, unsafe=unsafe_fixes, fsync=not no_fsync, state_dir=state, header=header)
    with recorded_run(typer_ctx, "fix", targets, options=options, state_dir=state, no_history=no_history,
                      quiet=quiet) as recorded:
        with progress_bar(not quiet, "fixing") as progress:
            result = run_fix(targets, options, check, settings, cwd=cwd, progress=progress, resume=info)
        recorded.record_fix(result)
        write_stdout(render_result(result, show_fixes or verbose, quiet))
        if verbose:
            sys.stderr.write(" ".join(f"{t.stage}={t.seconds:.3f}s" for t in result.timings) + "\n")
        if mode != "write":
            raise typer.Exit(EXIT_FINDINGS if result.changed else EXIT_OK)
        raise typer.Exit(EXIT_FINDINGS if result.failed else EXIT_OK)
