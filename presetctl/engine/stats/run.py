"""Entry point of the stats engine: discover, gather facts in parallel, compute the sections.

Discovery, the loaders and the rule selection are validate's own, so stats counts exactly the
files and formats validate sees. Facts are gathered in worker processes as the runner does
(chunks, ``Options.jobs``, in-process for small runs); sections are computed in the parent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from presetctl.engine.discover import Candidate, discover
from presetctl.engine.errors import UsageError
from presetctl.engine.model import FileStatus
from presetctl.engine.options import Options
from presetctl.engine.rules.base import MARKETPLACE
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.stats import audio, duplicates, history, naming, overview, sound, taxonomy
from presetctl.engine.stats.extract import chunk_facts
from presetctl.engine.stats.model import SECTIONS, FileFacts, HistoryFacts, Section, StatsContext, StatsResult, Wanted
from presetctl.engine.workers import Progress, map_chunks, worker_count

Compute = Callable[[Sequence[FileFacts], StatsContext], Section]

COMPUTE: dict[str, Compute] = {
    "overview": overview.compute,
    "taxonomy": taxonomy.compute,
    "duplicates": duplicates.compute,
    "naming": naming.compute,
    "sound": sound.compute,
    "audio": audio.compute,
    "history": history.compute,
}

def stats_options(options: Options) -> Options:
    """Rules stats runs itself: the configured selection, narrowed to naming and metadata, with the
    marketplace profile on (the naming section is a curation view: it counts house-style rules too)."""
    return replace(options, levels=frozenset({"naming", "metadata"}), profiles=(*options.profiles, MARKETPLACE))


def wanted(sections: Sequence[str]) -> Wanted:
    chosen = set(sections)
    return Wanted(parameters=bool(chosen & {"duplicates", "sound", "audio"}), rules="naming" in chosen,
                  sound_hash="duplicates" in chosen)


def _lost(cand: Candidate) -> FileFacts:
    return FileFacts(cand.display, "unknown", FileStatus.SKIPPED, cand.size,
                     problem="E002: checking this file made a worker process die twice")


def gather(cands: Sequence[Candidate], options: Options, want: Wanted, progress: Progress | None = None) -> list[FileFacts]:
    rules = RuleSet(options)
    out: list[FileFacts] = []
    for _chunk, facts in map_chunks(cands, worker_count(options, len(cands)), lambda: rules, (),
                                    lambda r, chunk: chunk_facts(chunk, r, want), on_lost=_lost, ordered=False):
        out.extend(facts)
        if progress is not None:
            progress(len(out), len(cands))
    return out


def check_sections(sections: Sequence[str]) -> tuple[str, ...]:
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise UsageError(f"unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})")
    chosen = set(sections) or set(SECTIONS)
    return tuple(s for s in SECTIONS if s in chosen)


def collect(
    paths: Sequence[str],
    options: Options,
    sections: Sequence[str] = (),
    *,
    threshold: float = 0.02,
    top: int = 20,
    cwd: str | None = None,
    progress: Progress | None = None,
    history: HistoryFacts | None = None,
) -> StatsResult:
    """Statistics of the files under ``paths``; ``sections`` empty means all. Raises only for tool errors.

    ``history`` is what the run history knows about these targets (the CLI reads it); without it
    the history section says it needs run history.
    """
    t0 = time.perf_counter()
    chosen = check_sections(sections)
    rendering = bool(sections) or bool({"audio", "all"} & set(options.profiles))  # the audio section renders: opt-in
    if not threshold >= 0:
        raise UsageError("the near-duplicate threshold must be 0 or more")
    opts = stats_options(options)
    RuleSet(opts)  # a bad selection in config is a tool error before any work starts
    cands, skipped = discover(paths, opts, cwd)
    facts = [FileFacts(s.display, "unknown", FileStatus.SKIPPED, s.size, problem=f"{s.violation.code}: {s.violation.message}")
             for s in skipped]
    facts.extend(gather(cands, opts, wanted(chosen), progress))
    jobs = worker_count(options, len(cands))
    del cands, skipped  # 20,000 candidates are 10 MB the sections below have no use for
    facts.sort(key=lambda f: f.path)
    ctx = StatsContext(options, threshold, top, history)
    out = tuple(audio.opt_in_section() if name == "audio" and not rendering else COMPUTE[name](facts, ctx)
                for name in chosen)
    return StatsResult(tuple(paths), out, len(facts), sum(len(f.presets) for f in facts),
                       time.perf_counter() - t0, jobs)
