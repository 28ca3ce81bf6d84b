"""One ``presetctl bench``: the pack, every chosen stage measured, the claims, the peer, scaling, baselines.

The result is a plain value (:class:`BenchResult`, and its ``to_json()`` document, version 1), rendered
by presetctl/report/bench.py and saved as a baseline in the state folder (``bench/NAME.json``) for
``--compare``. Comparison is on the median per item: a stage whose median grew by more than the
threshold is a regression.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import orjson

from presetctl import __version__
from presetctl.bench.generate import write_pack
from presetctl.bench.measure import StageStats, load_average, measure
from presetctl.bench.peer import PeerResult, measure_peer
from presetctl.bench.stages import BY_NAME, STAGES, Pack, Stage
from presetctl.engine.errors import UsageError
from presetctl.engine.options import Options
from presetctl.engine.runner import run as run_engine
from presetctl.engine.workers import PARALLEL_MIN_FILES
from presetctl.fsutil import atomic_write

RESULT_VERSION = 1
SCALING_CLAIM = 0.85  # two workers at least 1.7x one: 85 % of linear, on a free machine
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class BenchSettings:
    presets: int = 500
    params: int = 400
    corpus: Path | None = None
    stages: tuple[str, ...] = tuple(s.name for s in STAGES)
    rounds: int = 5
    warmup: int = 1
    jobs: int | None = None  # scaling: 1 worker against this many
    peer: bool = True
    peer_files: int = 200
    seed: int = 0


@dataclass(frozen=True)
class StageResult:
    name: str
    title: str
    unit: str
    stats: StageStats
    claim: float | None
    claim_text: str

    @property
    def met(self) -> bool | None:
        return None if self.claim is None else self.stats.p50 <= self.claim

    @property
    def ratio(self) -> float | None:
        """Median over the claim (2.0: twice the promised time)."""
        return None if self.claim is None or self.claim <= 0 else self.stats.p50 / self.claim


@dataclass(frozen=True)
class Scaling:
    jobs: int
    files: int
    one: float  # seconds, validate with one process
    many: float  # seconds with ``jobs`` workers
    load: tuple[float, float] | None  # load average before and after

    @property
    def speedup(self) -> float:
        return self.one / self.many if self.many > 0 else 0.0

    @property
    def met(self) -> bool:
        return self.speedup >= SCALING_CLAIM * self.jobs


@dataclass(frozen=True)
class Change:
    stage: str
    before: float
    after: float
    threshold: float

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before > 0 else 1.0

    @property
    def regression(self) -> bool:
        return self.ratio > 1.0 + self.threshold


@dataclass(frozen=True)
class BenchResult:
    settings: BenchSettings
    pack: Mapping[str, Any]
    machine: Mapping[str, Any]
    stages: tuple[StageResult, ...]
    peer: PeerResult | None = None
    peer_note: str = ""
    scaling: Scaling | None = None
    scaling_note: str = ""
    compared: str = ""  # the baseline compared with
    changes: tuple[Change, ...] = field(default=())

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RESULT_VERSION,
            "tool": {"name": "presetctl", "version": __version__},
            "machine": dict(self.machine),
            "pack": dict(self.pack),
            "settings": {"rounds": self.settings.rounds, "warmup": self.settings.warmup, "jobs": self.settings.jobs,
                         "stages": list(self.settings.stages)},
            "stages": {s.name: _stage_json(s) for s in self.stages},
            "peer": {**asdict(self.peer), **{f"ratio_{stage}{'_cpu' if cpu else ''}": peer_ratio(self, stage, cpu)
                                             for stage in ("quick", "comprehensive") for cpu in (False, True)}}
            if self.peer else None,
            "peer_note": self.peer_note or None,
            "scaling": {**asdict(self.scaling), "speedup": self.scaling.speedup, "claim": SCALING_CLAIM * self.scaling.jobs,
                        "met": self.scaling.met} if self.scaling else None,
            "scaling_note": self.scaling_note or None,
            "comparison": {"baseline": self.compared, "changes": [{**asdict(c), "ratio": c.ratio,
                                                                   "regression": c.regression} for c in self.changes]}
            if self.compared else None,
        }


def _stage_json(s: StageResult) -> dict[str, Any]:
    st = s.stats
    return {"title": s.title, "unit": s.unit, "samples": st.samples, "p50": st.p50, "p95": st.p95, "p99": st.p99,
            "max": st.max, "mean": st.mean, "throughput": st.throughput, "cpu": st.cpu, "peak_rss": st.peak_rss,
            "round_medians": list(st.rounds), "spread": st.spread, "warning": st.warning or None,
            "claim": s.claim, "claim_text": s.claim_text or None, "met": s.met, "ratio": s.ratio}


def peer_ratio(result: BenchResult, stage: str, cpu: bool) -> float | None:
    """check-jsonschema's cost per file over presetctl's: wall clock against our median, or CPU against
    our CPU per preset (steadier on a shared machine)."""
    found = next((s for s in result.stages if s.name == stage), None)
    if result.peer is None or found is None:
        return None
    ours, theirs = (found.stats.cpu, result.peer.cpu) if cpu else (found.stats.p50, result.peer.wall)
    return theirs / ours if ours > 0 else None


def parse_stages(names: Sequence[str]) -> tuple[str, ...]:
    chosen: list[str] = []
    for n in names:
        if n == "all":
            chosen.extend(s.name for s in STAGES)
        elif n in BY_NAME:
            chosen.append(n)
        else:
            raise UsageError(f"--stage: unknown stage {n!r} (known: all, {', '.join(BY_NAME)})")
    return tuple(s.name for s in STAGES if s.name in set(chosen))


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise UsageError(f"baseline name {name!r}: use letters, digits, '.', '_' and '-' (at most 64)")
    return name


def _machine(load0: tuple[float, float, float] | None) -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_before": load0[0] if load0 else None, "load_after": (load_average() or (None,))[0]}


def _scaling(root: Path, options: Options, jobs: int, rounds: int) -> tuple[Scaling | None, str]:
    """validate of the whole pack with one process and with ``jobs`` workers, best of ``rounds`` each,
    interleaved so the machine's load hits both alike."""
    files = sum(1 for _ in root.rglob("*") if _.is_file())
    if files < PARALLEL_MIN_FILES:
        return None, (f"scaling needs at least {PARALLEL_MIN_FILES} files (below that validate runs in one "
                      "process); use --presets 200 or more")
    load0 = load_average()
    best: dict[int, float] = {}
    for _ in range(max(1, min(rounds, 3))):
        for j in (1, jobs):
            t0 = time.perf_counter()
            run_engine([str(root)], replace(options, jobs=j))
            best[j] = min(best.get(j, float("inf")), time.perf_counter() - t0)
    load1 = load_average()
    load = (load0[0], load1[0]) if load0 and load1 else None
    return Scaling(jobs, files, best[1], best[jobs], load), ""


def compare(result: BenchResult, saved: Mapping[str, Any], name: str, threshold: float) -> BenchResult:
    stages = saved.get("stages") if isinstance(saved, dict) else None
    if not isinstance(stages, dict):
        raise UsageError(f"baseline {name!r} is not a presetctl bench result")
    changes = []
    for s in result.stages:
        old = stages.get(s.name)
        if isinstance(old, dict) and isinstance(old.get("p50"), int | float):
            changes.append(Change(s.name, float(old["p50"]), s.stats.p50, threshold))
    return replace(result, compared=name, changes=tuple(changes))


def baseline_path(state: Path, name: str) -> Path:
    return state / "bench" / f"{check_name(name)}.json"


def load_baseline(state: Path, name: str) -> dict[str, Any]:
    path = baseline_path(state, name)
    try:
        doc = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"no saved benchmark {name!r} (save one with `presetctl bench --save {name}`)") from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the saved benchmark {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path} is not a presetctl bench result")
    return doc


def save_baseline(state: Path, name: str, result: BenchResult) -> Path:
    path = baseline_path(state, name)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    atomic_write(path, orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2) + b"\n", mode=0o600)
    return path


def _pack_facts(pack: Pack, settings: BenchSettings) -> dict[str, Any]:
    sizes = [c.size for c in pack.candidates]
    return {"source": str(settings.corpus) if settings.corpus else "generated",
            "presets": None if settings.corpus else settings.presets,
            "params": None if settings.corpus else settings.params, "files": pack.files,
            "bytes": sum(sizes), "mean_bytes": statistics.fmean(sizes) if sizes else 0}


def run_bench(settings: BenchSettings, options: Options, progress: Callable[[str], None] | None = None) -> BenchResult:
    """Measure every chosen stage (see presetctl/bench/stages.py) on a generated pack or ``settings.corpus``."""
    say = progress or (lambda _: None)
    load0 = load_average()
    with tempfile.TemporaryDirectory(prefix="presetctl-bench-") as tmp:
        scratch = Path(tmp)
        if settings.corpus is not None:
            root = settings.corpus
        else:
            root = scratch / "pack"
            say(f"generating {settings.presets} presets of {settings.params} parameters")
            write_pack(root, settings.presets, settings.params, settings.seed)
        (scratch / "work").mkdir()
        pack = Pack.find(root, options, scratch / "work")
        if not pack.files:
            raise UsageError(f"no files to measure in {root}")
        results = []
        for name in settings.stages:
            stage: Stage = BY_NAME[name]
            say(f"measuring {name}")
            stats = measure(stage.prepare(pack), settings.rounds, settings.warmup, stage.per_sample(pack))
            results.append(StageResult(name, stage.title, stage.unit, stats, stage.claim, stage.claim_text))
        peer, peer_note = _peer(settings, pack)
        scaling, scaling_note = (None, "")
        if settings.jobs is not None and settings.jobs > 1:
            say(f"scaling: 1 against {settings.jobs} workers")
            scaling, scaling_note = _scaling(root, options, settings.jobs, settings.rounds)
        return BenchResult(settings, _pack_facts(pack, settings), _machine(load0), tuple(results), peer, peer_note,
                           scaling, scaling_note)


def _peer(settings: BenchSettings, pack: Pack) -> tuple[PeerResult | None, str]:
    if not settings.peer:
        return None, "not measured (--no-peer)"
    if settings.corpus is not None:
        return None, "measured on generated packs only (presetctl JSON, the format its schema describes)"
    got = measure_peer([c.path for c in pack.candidates], settings.peer_files)
    if got is None:
        return None, "check-jsonschema is not installed (pip install 'presetctl[bench]')"
    return got, ""
