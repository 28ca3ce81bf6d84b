"""Running ``fix`` over files: discover, plan each file, then back up, journal and write it.

A plan that changes what the pack rules see (names, sounds, categories, authors, paths) is
written only after every file is planned and the pack check (``pack_guard``) has rolled back
the fixes that would create a finding across files; every other plan is written at once.

Write order, so that a crash at any instant leaves every file whole and recoverable (files
are written in batches of up to 64, steps 1 and 2 once per batch):
1. the original bytes go to the backup store (one pack per batch; atomic, fsynced);
2. a ``begin`` record per file (path, rename target, hashes, mode, mtime, where its backup
   is) is appended, and the journal fsynced;
3. each file's new bytes replace it atomically (temporary file, fsync, rename, fsync folder);
4. a rename, if any, is a hard link to the new name then an unlink (never overwrites);
5. a ``done`` record. A failure in 3-4 puts the original back and records ``fail``.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from presetctl.engine.discover import Candidate, discover, read_bounded
from presetctl.engine.errors import StateError, UsageError
from presetctl.engine.fix.diff import render_diff
from presetctl.engine.fix.model import FileFix, FileFixStatus, FixResult
from presetctl.engine.fix.names import numbered
from presetctl.engine.fix.pack_guard import FixKey, changes_pack, guard
from presetctl.engine.fix.planner import FilePlan, PlanRules, plan_file
from presetctl.engine.interrupts import stops_deferred
from presetctl.engine.model import StageTiming
from presetctl.engine.options import Options
from presetctl.engine.workers import Progress, map_chunks, worker_count
from presetctl.fsutil import atomic_write, fsync_dir
from presetctl.state.backups import BackupStore, sha256
from presetctl.state.journal import Journal, RunHeader, RunInfo, journal_path, list_runs, new_run_id, now_iso
from presetctl.state.lock import StateLock
from presetctl.state.paths import backups_dir, lock_path, state_dir

MODES = ("write", "diff", "dry-run")
BATCH_FILES = 64  # files whose backups and journal records share one fsync
BATCH_BYTES = 16 * 1024 * 1024
HOLD_BYTES = 256 * 1024 * 1024  # plans held for the pack check; beyond this they are planned again to write


@dataclass(frozen=True)
class FixSettings:
    mode: str = "write"
    unsafe: bool = False
    fsync: bool = True
    state_dir: str | None = None
    header: RunHeader = field(default_factory=lambda: RunHeader())  # recorded for --resume and --history


def _free_name(folder: Path, wanted: str, current: str, claimed: set[Path]) -> str | None:
    def free(name: str) -> bool:
        return not os.path.lexists(folder / name) and folder / name not in claimed

    if wanted == current or free(wanted):
        return wanted
    for n in range(2, 100):
        candidate = numbered(wanted, n)
        if free(candidate):
            return candidate
    return None


def _rename_no_replace(src: Path, dst: Path, fsync: bool) -> None:
    """Move ``src`` to ``dst`` without ever replacing an existing ``dst`` (FileExistsError)."""
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:  # file systems without hard links: check, then rename
        if os.path.lexists(dst):
            raise FileExistsError(f"{dst} exists") from None
        os.rename(src, dst)
    else:
        os.unlink(src)
    if fsync:
        fsync_dir(dst.parent)


@dataclass
class _Pending:
    src: Path
    shown: str
    plan: FilePlan
    base: FileFix
    mode: int
    st: os.stat_result
    dst: Path | None


class _Writer:
    """Writes planned files in batches; the run's journal is created with the first change.

    Per batch: the originals go into one backup pack (one fsync), the ``begin`` records are
    appended and fsynced together, then each file is replaced atomically and its ``done``
    record appended. Durability is the same as per file, with far fewer fsyncs.
    """

    def __init__(self, open_journal: Callable[[], Journal], store: BackupStore, fsync: bool) -> None:
        self._open_journal = open_journal
        self._journal: Journal | None = None
        self.store = store
        self.fsync = fsync
        self.claimed: set[Path] = set()  # rename targets taken by this run

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = self._open_journal()
        return self._journal

    @property
    def opened(self) -> bool:
        return self._journal is not None

    def close(self, files: int) -> None:
        if self._journal is not None:
            self._journal.append({"t": "end", "at": now_iso(), "files": files})
            self._journal.close()

    def _prepare(self, src: Path, shown: str, plan: FilePlan) -> _Pending | FileFix:
        base = FileFix(shown, FileFixStatus.FAILED, plan.format, applied=plan.applied, rolled_back=plan.rolled_back,
                       before_sha=sha256(plan.before), after_sha=sha256(plan.after), passes=plan.passes,
                       seconds=plan.seconds, check_seconds=plan.check_seconds, unsafe_left=plan.unsafe_left)
        try:
            st = os.lstat(src)
        except OSError as exc:
            return replace(base, error=f"cannot stat: {exc.strerror or exc}")
        if not stat.S_ISREG(st.st_mode):
            return replace(base, error="no longer a regular file; not changed")
        if not st.st_mode & 0o222:
            return replace(base, error="file is read-only; not changed")
        try:
            if st.st_size != len(plan.before) or read_bounded(str(src), len(plan.before)) != plan.before:
                return replace(base, error="file changed while it was being fixed; not changed")
        except (OSError, OverflowError):
            return replace(base, error="file changed while it was being fixed; not changed")
        dst: Path | None = None
        if plan.name != plan.original_name:
            free = _free_name(src.parent, plan.name, src.name, self.claimed)
            if free is None:
                return replace(base, error=f"no free file name like {plan.name!r}; not renamed")
            dst = src.parent / free
            self.claimed.add(dst)
        return _Pending(src, shown, plan, base, stat.S_IMODE(st.st_mode), st, dst)

    def write_batch(self, items: Sequence[tuple[Path, str, FilePlan]]) -> list[FileFix]:
        t0 = time.perf_counter()
        prepared = [self._prepare(*item) for item in items]
        pending = [p for p in prepared if isinstance(p, _Pending)]
        out: dict[int, FileFix] = {i: p for i, p in enumerate(prepared) if isinstance(p, FileFix)}
        if pending:
            try:
                where = self.store.put_pack({p.base.before_sha: p.plan.before for p in pending})
            except OSError as exc:
                why = f"backup failed ({exc.strerror or exc}); file not changed"
                where = {}
                for i, p in enumerate(prepared):
                    if isinstance(p, _Pending):
                        out[i] = replace(p.base, error=why)
                pending = []
            for p in pending:
                self.journal.append({"t": "begin", "path": str(p.src), "to": str(p.dst) if p.dst else None,
                                     "before": p.base.before_sha, "after": p.base.after_sha, "mode": p.mode,
                                     "mtime_ns": p.st.st_mtime_ns, "blob": where[p.base.before_sha],
                                     "fixes": [a.code for a in p.plan.applied]}, durable=False)
            if pending:
                self.journal.sync()
        for i, p in enumerate(prepared):
            if isinstance(p, _Pending) and i not in out:
                with stops_deferred():  # an interrupt lands between files, never inside one's write
                    out[i] = self._write(p)
        share = (time.perf_counter() - t0) / max(1, len(items))  # pragma: no mutate (a timing, for the report)
        return [replace(out[i], write_seconds=share) for i in range(len(items))]  # pragma: no mutate (the same)

    def _write(self, p: _Pending) -> FileFix:
        written = False
        try:
            if p.plan.after != p.plan.before:
                atomic_write(p.src, p.plan.after, fsync=self.fsync, mode=p.mode)
                written = True
            if p.dst is not None:
                _rename_no_replace(p.src, p.dst, self.fsync)
        except OSError as exc:
            if written:  # put the original back: a half-done fix is worse than none
                atomic_write(p.src, p.plan.before, fsync=self.fsync, mode=p.mode)
                os.utime(p.src, ns=(p.st.st_atime_ns, p.st.st_mtime_ns))
            self.journal.append({"t": "fail", "path": str(p.src), "error": str(exc.strerror or exc)})
            return replace(p.base, error=f"write failed ({exc.strerror or exc}); file left as it was")
        self.journal.append({"t": "done", "path": str(p.src)}, durable=False)
        new_shown = str(PurePosixPath(p.shown).parent / p.dst.name) if p.dst is not None else None
        return replace(p.base, status=FileFixStatus.FIXED, new_path=new_shown)


# pragma: no mutate start (the results of --diff and --dry-run, which write nothing; docs/testing.md)
def _preview(shown: str, plan: FilePlan, mode: str) -> FileFix:
    new_shown = str(PurePosixPath(shown).parent / plan.name) if plan.name != plan.original_name else None
    diff = render_diff(shown, new_shown or shown, plan.before, plan.after, plan.applied) if mode == "diff" else ""
    return FileFix(shown, FileFixStatus.WOULD_FIX, plan.format, new_shown, plan.applied, plan.rolled_back,
                   before_sha=sha256(plan.before), after_sha=sha256(plan.after), diff=diff, passes=plan.passes,
                   seconds=plan.seconds, check_seconds=plan.check_seconds, unsafe_left=plan.unsafe_left)


def _unchanged(shown: str, plan: FilePlan) -> FileFix:
    status = FileFixStatus.UNCHANGED if plan.parsed else FileFixStatus.SKIPPED
    return FileFix(shown, status, plan.format, rolled_back=plan.rolled_back, passes=plan.passes, seconds=plan.seconds,
                   check_seconds=plan.check_seconds, unsafe_left=plan.unsafe_left)
# pragma: no mutate end


def interrupted_runs(root: Path) -> list[RunInfo]:
    return [r for r in list_runs(root) if r.status == "interrupted"]


def fix(
    paths: Sequence[str],
    options: Options,
    check_options: Options,
    settings: FixSettings,
    *,
    cwd: str | None = None,
    progress: Progress | None = None,
    resume: RunInfo | None = None,
) -> FixResult:
    """Fix ``paths``. ``options`` choose the fixes; ``check_options`` the rules that re-validate."""
    if settings.mode not in MODES:
        raise UsageError(f"unknown fix mode {settings.mode!r}")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    rules = PlanRules.build(options, check_options, settings.unsafe)
    cands, _ = discover(paths, options, cwd)
    t1 = time.perf_counter()
    if settings.mode != "write":
        files = [_fix_one(c, plan, settings.mode, progress, i, len(cands))
                 for i, (c, plan) in enumerate(_settled(_plans(cands, options, rules), rules, options), 1)]
        return _result(settings.mode, None, files, started, t0, t1)
    root = state_dir(settings.state_dir)
    with StateLock(lock_path(root)) as lock:
        if resume is None:
            stuck = interrupted_runs(root)
            if stuck:
                raise StateError(f"fix run {stuck[-1].run_id} was interrupted: finish it with `presetctl fix --resume` "
                                 f"or roll it back with `presetctl fix --undo {stuck[-1].run_id}`")
            run_id = new_run_id()
            header: RunHeader = {"cwd": cwd or os.getcwd(), **settings.header}

            def open_journal() -> Journal:
                return Journal.create(root, run_id, header, fsync=settings.fsync)
        else:
            from presetctl.engine.fix.undo import repair_in_flight

            run_id = resume.run_id
            repair_in_flight(resume)

            def open_journal() -> Journal:
                return Journal(journal_path(root, run_id), fsync=settings.fsync)
        writer = _Writer(open_journal, BackupStore(backups_dir(root), fsync=settings.fsync), settings.fsync)
        files = _write_all(cands, _settled(_plans(cands, options, rules, lock.fileno()), rules, options), writer,
                           progress)
        if resume is not None:
            writer.journal  # noqa: B018 - a resumed run is closed even when nothing was left to do
        writer.close(sum(f.status is FileFixStatus.FIXED for f in files))
    return _result("write", run_id if writer.opened else None, files, started, t0, t1)


# pragma: no mutate start (planning what to fix, not writing it; docs/testing.md)
def _read_and_plan(cand: Candidate, rules: PlanRules, options: Options,
                   forbidden: frozenset[FixKey] = frozenset()) -> FilePlan | FileFix:
    try:
        data = read_bounded(cand.path, options.limits.max_file_size)
    except (OSError, OverflowError) as exc:
        return FileFix(cand.display, FileFixStatus.SKIPPED, error=f"not read: {exc}")
    return plan_file(data, PurePosixPath(cand.display), rules, options, forbidden)


@dataclass(frozen=True)
class _Held:
    """A plan that changes what the pack rules see: final only after the pack check."""

    index: int
    cand: Candidate
    plan: FilePlan  # without its bytes when ``stale``
    before_sha: str
    stale: bool


def _light(plan: FilePlan) -> FilePlan:
    return replace(plan, before=b"", after=b"")


def _settled(plans: Iterator[tuple[Candidate, FilePlan | FileFix]], rules: PlanRules,
             options: Options) -> Iterator[tuple[Candidate, FilePlan | FileFix]]:
    """Plans as they become final: at once for a plan that changes nothing the pack rules see,
    after the pack check (engine/fix/pack_guard.py) for the others. Those are held until every
    file is planned, with their bytes up to HOLD_BYTES in all; beyond, planned again to write."""
    light: dict[int, FilePlan] = {}
    held: list[_Held] = []
    kept = 0
    for i, (cand, plan) in enumerate(plans):
        if isinstance(plan, FilePlan):
            light[i] = _light(plan)
            if changes_pack(plan):
                size = len(plan.before) + len(plan.after)
                stale = kept + size > HOLD_BYTES
                kept += 0 if stale else size
                held.append(_Held(i, cand, light[i] if stale else plan, sha256(plan.before), stale))
                continue
        yield cand, plan
    if not held:
        return
    cands = {h.index: h.cand for h in held}

    def replan(index: int, forbidden: frozenset[FixKey]) -> FilePlan | None:
        again = _read_and_plan(cands[index], rules, options, forbidden)
        return again if isinstance(again, FilePlan) else None

    guarded = guard(light, rules.check, replan)
    for h in held:
        g = guarded.get(h.index)
        if g is not None:
            yield h.cand, g.plan
        elif not h.stale:
            yield h.cand, h.plan
        else:
            yield h.cand, _planned_again(h, rules, options)


def _planned_again(h: _Held, rules: PlanRules, options: Options) -> FilePlan | FileFix:
    again = _read_and_plan(h.cand, rules, options)
    if isinstance(again, FilePlan) and sha256(again.before) != h.before_sha:
        return FileFix(h.cand.display, FileFixStatus.FAILED, again.format,
                       error="file changed while it was being fixed; not changed")
    return again


def _plan_chunk(state: tuple[PlanRules, Options], chunk: Sequence[Candidate]) -> list[FilePlan | FileFix]:
    rules, options = state
    return [_read_and_plan(c, rules, options) for c in chunk]


def _lost(cand: Candidate) -> FilePlan | FileFix:
    return FileFix(cand.display, FileFixStatus.SKIPPED,
                   error="planning its fixes made a worker process die twice; not changed")


def _plans(cands: Sequence[Candidate], options: Options, rules: PlanRules,
           close_fd: int = -1) -> Iterator[tuple[Candidate, FilePlan | FileFix]]:
    """Plans in discovery order; planned by worker processes for large runs (writes stay here).

    Ordered with a bounded look-ahead: plans hold the bytes of their files."""
    jobs = worker_count(options, len(cands))
    # The state lock, inherited by fork, is closed in workers: only this process may hold it.
    for chunk, plans in map_chunks(cands, jobs, lambda: (rules, options), (), _plan_chunk, on_lost=_lost,
                                   window=2 * jobs, close_fds=(close_fd,) if close_fd >= 0 else ()):
        yield from zip(chunk, plans, strict=True)


def _fix_one(cand: Candidate, plan: FilePlan | FileFix, mode: str,
             progress: Progress | None, i: int, total: int) -> FileFix:
    if isinstance(plan, FileFix):
        out = plan
    elif not plan.changed:
        out = _unchanged(cand.display, plan)
    else:
        out = _preview(cand.display, plan, mode)
    if progress is not None and (i % 50 == 0 or i == total):
        progress(i, total)
    return out
# pragma: no mutate end


def _write_all(cands: Sequence[Candidate], plans: Iterator[tuple[Candidate, FilePlan | FileFix]], writer: _Writer,
               progress: Progress | None) -> list[FileFix]:
    out: list[FileFix] = []
    batch: list[tuple[int, Path, str, FilePlan]] = []
    batch_bytes = 0

    def flush() -> None:
        nonlocal batch_bytes
        for (slot, _, _, _), done in zip(batch, writer.write_batch([b[1:] for b in batch]), strict=True):
            out[slot] = done
        batch.clear()
        batch_bytes = 0

    for i, (cand, plan) in enumerate(plans, 1):
        if isinstance(plan, FileFix):
            out.append(plan)
        elif not plan.changed:
            out.append(_unchanged(cand.display, plan))
        else:
            out.append(FileFix(cand.display, FileFixStatus.FAILED))  # placeholder until its batch is written
            batch.append((len(out) - 1, Path(cand.path), cand.display, plan))
            batch_bytes += len(plan.before)
            if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
                flush()
        if progress is not None and (i % 50 == 0 or i == len(cands)):
            progress(i, len(cands))
    if batch:
        flush()
    return out


# pragma: no mutate start (run timings for the report, not the write path; docs/testing.md)
def _result(mode: str, run_id: str | None, files: list[FileFix], started: str, t0: float, t1: float) -> FixResult:
    files.sort(key=lambda f: f.path)
    timings = (
        StageTiming("discover", t1 - t0),
        StageTiming("plan", sum(f.seconds for f in files)),
        StageTiming("plan-check", sum(f.check_seconds for f in files)),
        StageTiming("write", sum(f.write_seconds for f in files)),
        StageTiming("total", time.perf_counter() - t0),
    )
    return FixResult(mode, run_id, tuple(files), timings, started)
# pragma: no mutate end
