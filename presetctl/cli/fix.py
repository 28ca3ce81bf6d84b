"""``presetctl fix``: apply the fixes rules offer, journaled and undoable; preview, undo, resume, history."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import typer

from presetctl.cli import options as o
from presetctl.cli.console import progress_bar, write_stdout
from presetctl.cli.errors import EXIT_FINDINGS, EXIT_OK, guarded
from presetctl.cli.globals import GlobalOptions
from presetctl.cli.session import MetricsFileOpt, NoHistoryOpt, recorded_run
from presetctl.engine.errors import Interrupted, UsageError
from presetctl.engine.fix.model import FileFix, FixResult, UndoResult, counts_by_code
from presetctl.engine.fix.run import FixSettings, interrupted_runs
from presetctl.engine.fix.run import fix as run_fix
from presetctl.engine.fix.undo import history, resumable, undo
from presetctl.engine.options import Options
from presetctl.report.plural import plural
from presetctl.safe_text import visible
from presetctl.state.journal import RunHeader, RunInfo
from presetctl.state.paths import state_dir

UnsafeOpt = Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply fixes that may change the sound or a name.")]
DiffOpt = Annotated[bool, typer.Option("--diff", help="Show what would change (unified diff; a summary for binary "
                                       "files) and change nothing. Exit 1 if anything would change.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="List the fixes that would be applied (with --undo: the "
                                         "files that would be restored); change nothing.")]
ShowFixesOpt = Annotated[bool, typer.Option("--show-fixes", help="List every fix applied.")]
UndoOpt = Annotated[bool, typer.Option("--undo", help="Restore the files of a run byte for byte: "
                                       "`fix --undo [RUN_ID]` (default: the latest run not undone).")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Finish an interrupted run: `fix --resume [RUN_ID]`.")]
HistoryOpt = Annotated[bool, typer.Option("--history", help="List recorded fix runs.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="With --undo: restore files changed since the fix too "
                                        "(what is there now is backed up first).")]
NoFsyncOpt = Annotated[bool, typer.Option("--no-fsync", help="Skip fsync (faster; for throwaway copies: a power "
                                          "loss may lose fixes or backups).")]
StateDirOpt = Annotated[Path | None, typer.Option("--state-dir", metavar="DIR", help="Journal and backup folder (default: "
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
            out.append(f"{shown}: would apply {plural(len(f.applied), 'fix')}\n")
            out.extend(_fixes(f, ""))
        elif f.applied and show_fixes:
            out.append(f"{shown}: {plural(len(f.applied), 'fix')}\n")
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
    if not result.files:
        return "No presets found.\n"
    verb = {"write": "Fixed", "diff": "Would fix", "dry-run": "Would fix"}[result.mode]
    line = f"{verb} {plural(result.applied_count, 'issue')} in {files} of {plural(len(result.files), 'file')}"
    line += f" ({by_code})" if by_code else ""
    if result.rolled_back_count:
        line += f"; {plural(result.rolled_back_count, 'fix')} rolled back"
    if result.failed:
        line += f"; {plural(len(result.failed), 'file')} could not be written"
    line += ".\n"
    if result.unsafe_available:
        line += (f"{plural(result.unsafe_available, 'more fix')} available with `--unsafe-fixes` "
                 f"(they may change the sound or a name).\n")
    if result.run_id and files:
        line += f"Run {result.run_id}: undo with `presetctl fix --undo {result.run_id}`.\n"
    return line


def _shown(path: str, cwd: str) -> str:
    """A journaled (absolute) path: relative when it is under the working folder, else absolute."""
    rel = os.path.relpath(path, cwd)
    return visible(path if rel.startswith("..") else rel)


def render_undo(result: UndoResult, cwd: str) -> str:
    if result.run_id is None:
        return "Nothing left to undo: every recorded fix run is undone already.\n"
    if result.already_undone:
        return f"Nothing left to undo: fix run {result.run_id} was undone already.\n"
    out = [f"{_shown(p, cwd)}: changed since the fix, not restored ({why})\n" for p, why in result.refused]
    if result.dry_run:
        out.extend(f"would restore {_shown(p, cwd)}\n" for p in result.restored)
        out.append(f"Undo of run {result.run_id} would restore {plural(len(result.restored), 'file')}; "
                   f"{len(result.unchanged)} already original, {len(result.refused)} refused.\n")
        return "".join(out)
    out.append(f"Undo of run {result.run_id}: {plural(len(result.restored), 'file')} restored, {len(result.unchanged)} "
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
                   exclude: list[str] | None, profile: list[str] | None, fixing: Options) -> Options:
    """All configured rules of the run's profiles, and the rules the run fixes (a selector may opt in
    a rule of another profile): what a fixed file is validated against, whatever --select says."""
    check = o.build_options(targets, config, include=include, exclude=exclude, profile=profile).options
    named = tuple(s for s in (*fixing.select, *fixing.extend_select) if s != "ALL")
    return replace(check, extend_select=(*check.extend_select, *named))


@dataclass(frozen=True)
class _Job:
    """What a fix (or resume) run was asked to do; a resume reads it back from the journal."""

    targets: list[str]
    options: Options
    check: Options
    unsafe: bool
    header: RunHeader
    cwd: str | None = None
    resume: RunInfo | None = None


def _new_job(paths: list[Path] | None, config: Path | None, select: list[str] | None, extend_select: list[str] | None,
             ignore: list[str] | None, include: list[str] | None, exclude: list[str] | None, unsafe: bool,
             jobs: int | None, profile: list[str] | None) -> _Job:
    targets = o.path_strings(paths)
    options = o.build_options(targets, config, select, extend_select, ignore, include, exclude, jobs,
                              profile=profile).options
    header: RunHeader = {"paths": targets, "select": select, "extend_select": extend_select, "ignore": ignore,
              "include": include, "exclude": exclude, "profile": profile,
              "config": str(Path(config).resolve()) if config else None, "unsafe": unsafe}
    return _Job(targets, options, _check_options(targets, config, include, exclude, profile, options), unsafe, header)


def _resume_job(state: str | None, run_id: str | None) -> _Job:
    info = resumable(state, run_id)
    header = info.header
    cwd = str(header.get("cwd") or os.getcwd())
    targets = [str(p) for p in header.get("paths", [])]  # as given, relative to the run's cwd
    where = [os.path.join(cwd, t) for t in targets]  # for finding the config from anywhere
    config_file = header.get("config")
    cfg = Path(config_file) if config_file else None
    profile = header.get("profile")
    options = o.build_options(where, cfg, header.get("select"), header.get("extend_select"), header.get("ignore"),
                              header.get("include"), header.get("exclude"), profile=profile).options
    return _Job(targets, options, _check_options(where, cfg, header.get("include"), header.get("exclude"), profile, options),
                bool(header.get("unsafe")), header, cwd, info)


def _run(job: _Job, mode: str, state: str | None, fsync: bool, quiet: bool) -> FixResult:
    settings = FixSettings(mode=mode, unsafe=job.unsafe, fsync=fsync, state_dir=state, header=job.header)
    try:
        with progress_bar(not quiet, "fixing") as progress:
            return run_fix(job.targets, job.options, job.check, settings, cwd=job.cwd, progress=progress,
                           resume=job.resume)
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        stuck = interrupted_runs(state_dir(state)) if mode == "write" else []
        if stuck:
            raise Interrupted(signum, f"every file is as it was or fixed; finish with `presetctl fix --resume` or "
                                      f"roll back with `presetctl fix --undo {stuck[-1].run_id}`") from None
        raise


def _single_run_id(paths: list[Path] | None, flag: str) -> str | None:
    if paths is not None and len(paths) > 1:
        raise UsageError(f"{flag} takes at most one RUN_ID")
    return str(paths[0]) if paths else None


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
    state_dir_opt: StateDirOpt = None,
    config: o.ConfigOpt = None,
    select: o.SelectOpt = None,
    extend_select: o.ExtendSelectOpt = None,
    ignore: o.IgnoreOpt = None,
    profile: o.ProfileOpt = None,
    include: o.IncludeOpt = None,
    exclude: o.ExcludeOpt = None,
    jobs: o.JobsOpt = None,
    quiet: o.QuietOpt = False,
    verbose: o.VerboseOpt = False,
    metrics_file: MetricsFileOpt = None,
    no_history: NoHistoryOpt = False,
) -> None:
    """Fix presets: safe fixes by default, --unsafe-fixes for the rest. Every change is backed up and
    journaled first; `fix --undo` restores a run byte for byte (`--undo --dry-run` previews it).

    Exit codes: 0 done (or nothing to change), 1 --diff/--dry-run found changes or a file could not be
    written, 2 usage, config or state error, 130 interrupted (143 on SIGTERM, 129 on SIGHUP; the run
    can be finished with --resume).
    """
    state = str(state_dir_opt) if state_dir_opt else GlobalOptions.of(typer_ctx).state_dir  # `presetctl --state-dir` too
    if sum((diff, undo_run, resume, show_history)) > 1 or dry_run and (diff or resume or show_history):
        raise UsageError("choose one of --diff, --dry-run, --undo, --resume and --history (--dry-run goes with --undo)")
    if show_history:
        write_stdout(render_history(state))
        raise typer.Exit(EXIT_OK)
    if undo_run:
        run_id = _single_run_id(paths, "--undo")
        with recorded_run(typer_ctx, "undo", [run_id or "latest"], state_dir=state,
                          no_history=no_history or dry_run, quiet=quiet) as recorded:
            undone = undo(run_id, state=state, force=force, fsync=not no_fsync, dry_run=dry_run)
            recorded.record_undo(undone)
            write_stdout(render_undo(undone, os.getcwd()))
            raise typer.Exit(EXIT_OK if undone.ok else EXIT_FINDINGS)
    if resume:
        job = _resume_job(state, _single_run_id(paths, "--resume"))
    else:
        job = _new_job(paths, config, select, extend_select, ignore, include, exclude, unsafe_fixes, jobs, profile)
    mode = "diff" if diff else "dry-run" if dry_run else "write"
    with recorded_run(typer_ctx, "fix", job.targets, options=job.options, state_dir=state, no_history=no_history,
                      quiet=quiet, metrics_file=metrics_file) as recorded:
        result = _run(job, mode, state, not no_fsync, quiet)
        recorded.record_fix(result)
        write_stdout(render_result(result, show_fixes or verbose, quiet))
        if verbose:
            sys.stderr.write(" ".join(f"{t.stage}={t.seconds:.3f}s" for t in result.timings) + "\n")
        if mode != "write":
            raise typer.Exit(EXIT_FINDINGS if result.changed else EXIT_OK)
        raise typer.Exit(EXIT_FINDINGS if result.failed else EXIT_OK)
