"""``presetctl logs``: the log as a table or raw JSON lines, filtered and followed; ``logs runs``; ``logs errors``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from presetctl.cli.errors import EXIT_OK, guarded
from presetctl.cli.globals import GlobalOptions
from presetctl.engine.errors import UsageError
from presetctl.obs.handlers import LOG_NAME
from presetctl.obs.reader import Follower, LogQuery, last_run_id, parse_when, parsed, records, select
from presetctl.safe_text import json_dumps, visible
from presetctl.state.history import open_for_reading
from presetctl.state.paths import Locations
from presetctl.state.queries import ErrorStat, RunRow, error_stats, find_run, list_runs

app = typer.Typer(help="Show presetctl's own log, recorded runs and error statistics.", rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})

SinceOpt = Annotated[str | None, typer.Option("--since", metavar="WHEN", help="Only records at or after WHEN: an age "
                     "(30m, 2h, 7d), a date (2025-01-31) or an ISO time (2025-01-31T12:00; local unless it has a zone).")]
UntilOpt = Annotated[str | None, typer.Option("--until", metavar="WHEN", help="Only records at or before WHEN "
                     "(same forms as --since).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Raw JSON, one object per line.")]


def _tail(text: str) -> int | None:
    if text.lower() == "all":
        return None
    if not text.isdigit():
        raise UsageError(f"--tail takes a number or 'all', got {text!r}")
    return int(text)


def _local(ts: float) -> str:
    t = datetime.fromtimestamp(ts)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _short_run(run_id: str) -> str:
    return run_id.rsplit("-", 1)[-1] if run_id else "-"


def render_records(items: Iterable[dict[str, Any]]) -> str:
    """Records as aligned lines: local time, level, run, command, code, file, message."""
    out = []
    for rec in items:
        code = str(rec.get("code") or "")
        where = str(rec.get("file") or "")
        dur = rec.get("dur")
        msg = str(rec.get("msg", "")) + (f" ({dur * 1000:.1f} ms)" if isinstance(dur, int | float) else "")
        fields = [_local(rec["_t"]), f"{str(rec.get('level', '')).upper():<8}", f"{_short_run(str(rec.get('run', ''))):<6}",
                  f"{str(rec.get('cmd') or '-'):<13}", f"{code or '-':<5}"]
        line = " ".join(fields) + " " + (f"{where}: " if where else "") + msg
        out.append(visible(line) + "\n")
    return "".join(out)


def _raw(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return text if text.isascii() else visible(text)  # presetctl writes ASCII; a hand-edited line may not be


@app.callback(invoke_without_command=True)
@guarded
def logs(
    ctx: typer.Context,
    since: SinceOpt = None,
    until: UntilOpt = None,
    level: Annotated[str | None, typer.Option("--level", "-l", metavar="LEVEL", help="Lowest level shown: debug, info, "
                     "warning, error, critical.")] = None,
    run: Annotated[str | None, typer.Option("--run", metavar="ID", help="Only this run: an id, a unique prefix of one, "
                   "or 'last'.")] = None,
    code: Annotated[str | None, typer.Option("--code", metavar="CODE", help="Only this error code (PE105, see "
                    "docs/errors.md).")] = None,
    file: Annotated[str | None, typer.Option("--file", metavar="PATTERN", help="Only records about files matching "
                    "PATTERN: a substring, or a glob when it has * ? [.")] = None,
    grep: Annotated[str | None, typer.Option("--grep", "-g", metavar="REGEX", help="Only messages matching REGEX "
                    "(case-insensitive unless it has a capital letter).")] = None,
    tail: Annotated[str, typer.Option("--tail", "-n", metavar="N", help="Show the last N matching records, or "
                    "'all'.")] = "100",
    as_json: JsonOpt = False,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new records as they are written "
                      "(also across a rotation) until Ctrl-C.")] = False,
) -> None:
    """Show presetctl's own log: what each run did, tool errors and recovery attempts (not findings).

    Exit codes: 0 done (also when nothing matches), 2 usage error, 130 interrupted (--follow).
    """
    if ctx.invoked_subcommand is not None:
        return
    folder = Locations.resolve(GlobalOptions.of(ctx).state_dir).logs
    if run == "last":
        run = last_run_id(folder)
        if run is None:
            sys.stderr.write("no run in the log yet\n")
            raise typer.Exit(EXIT_OK)
    query = LogQuery(
        since=parse_when(since) if since else None,
        until=parse_when(until) if until else None,
        min_level=LogQuery.level(level) if level else 0,
        run=run,
        code=code.upper() if code else None,
        file=file,
        grep=LogQuery.compile_grep(grep) if grep else None,
    )
    count = _tail(tail)
    follower = Follower(folder / LOG_NAME)
    items = [*records(folder, rotated_only=True), *parsed(follower.read_available())]
    shown = select(items, query, count)
    write = _writer(as_json)
    if not shown and not follow:
        sys.stderr.write("no log records match\n" if items else f"no log records in {visible(str(folder))}\n")
    write(shown)
    if not follow:
        follower.close()
        raise typer.Exit(EXIT_OK)
    try:
        for rec, line in parsed(follower.lines()):
            if query.matches(rec):
                write([(rec, line)])
    finally:
        follower.close()


def _writer(as_json: bool) -> Any:
    def write(batch: Sequence[tuple[dict[str, Any], bytes]]) -> None:
        if not batch:
            return
        if as_json:
            sys.stdout.write("".join(_raw(line) + "\n" for _, line in batch))
        else:
            sys.stdout.write(render_records(rec for rec, _ in batch))
        sys.stdout.flush()  # --follow: a pipe reader sees each record at once

    return write


def _history(ctx: typer.Context) -> Any:
    path = Locations.resolve(GlobalOptions.of(ctx).state_dir).history
    conn = open_for_reading(path)
    if conn is None:
        sys.stderr.write(f"no runs recorded yet ({visible(str(path))} does not exist)\n")
        raise typer.Exit(EXIT_OK)
    return conn


def _duration(run: RunRow) -> str:
    d = run.duration
    return "running" if d is None else f"{d:.2f}s"


def render_runs(runs: Sequence[RunRow]) -> str:
    head = f"{'run':<22} {'started':<19} {'command':<13} {'outcome':<11} {'exit':>4} {'time':>8} {'files':>6} " \
           f"{'err':>5} {'warn':>5} {'info':>5} {'tool':>4}  targets\n"
    lines = [head]
    for r in runs:
        started = datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M:%S")
        exit_code = "-" if r.exit_code is None else str(r.exit_code)
        outcome = r.outcome if r.finished else "running?"  # no end: still running, or the process died
        targets = " ".join(Path(t).name or t for t in r.targets)
        lines.append(visible(f"{r.id:<22} {started:<19} {r.command:<13} {outcome:<11} {exit_code:>4} "
                             f"{_duration(r):>8} {r.files:>6} {r.errors:>5} {r.warnings:>5} {r.infos:>5} "
                             f"{r.tool_errors:>4}  {targets}") + "\n")
    return "".join(lines)


@app.command("runs")
@guarded
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most N runs, newest first.")] = 20,
    command: Annotated[str | None, typer.Option("--command", "-c", help="Only runs of this command (validate, "
                       "scan-security, fix, stats).")] = None,
    since: SinceOpt = None,
    run: Annotated[str | None, typer.Option("--run", metavar="ID", help="Only this run (id, prefix or 'last'), with "
                   "its tool errors.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List recorded runs with their outcome: exit code, files, findings by severity, tool errors.

    Exit codes: 0 done, 2 the history cannot be read (damaged, foreign, newer), 130 interrupted.
    """
    conn = _history(ctx)
    try:
        rows = [find_run(conn, run)] if run else list_runs(conn, limit=limit, command=command,
                                                           since=parse_when(since) if since else None)
    finally:
        conn.close()
    if as_json:
        sys.stdout.write("".join(json_dumps(r.to_json(), indent=False) + "\n" for r in rows))
    elif rows:
        sys.stdout.write(render_runs(rows))
    else:
        sys.stderr.write("no runs match\n")
    raise typer.Exit(EXIT_OK)


def render_errors(stats: Sequence[ErrorStat]) -> str:
    lines = [f"{'code':<6} {'name':<26} {'count':>6} {'runs':>5} {'retries':>7} {'recovered':>9} {'failed':>6} "
             f"{'success':>7}  last seen\n"]
    for s in stats:
        rate = "-" if s.success_rate is None else f"{s.success_rate:.0%}"
        seen = datetime.fromtimestamp(s.last_seen).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{s.code:<6} {s.name:<26} {s.occurrences:>6} {s.runs:>5} {s.retries:>7} {s.recovered:>9} "
                     f"{s.failed:>6} {rate:>7}  {seen}\n")
    return "".join(lines)


@app.command("errors")
@guarded
def errors(
    ctx: typer.Context,
    since: SinceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tool errors by code across recorded runs: occurrences, retries, recovery success rate.

    Exit codes: 0 done, 2 the history cannot be read (damaged, foreign, newer), 130 interrupted.
    """
    conn = _history(ctx)
    try:
        stats = error_stats(conn, since=parse_when(since) if since else None)
    finally:
        conn.close()
    if as_json:
        sys.stdout.write("".join(json_dumps(s.to_json(), indent=False) + "\n" for s in stats))
    elif stats:
        sys.stdout.write(render_errors(stats))
    else:
        sys.stderr.write("no tool errors recorded\n")
    raise typer.Exit(EXIT_OK)
