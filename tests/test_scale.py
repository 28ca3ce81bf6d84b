"""The shortcuts taken for library scale (issue 14), each held against the plain definition it replaces.

* discovery names files below a root outside the working folder by prefix, not ``relpath``;
* ``is_packaging_junk`` rejects most paths with three substring tests first;
* the check cache reads many keys as one range of the index (``fetch_prefix``), never an entry
  it was not asked for, and decodes outcomes without the enum constructor;
* ``Preset.columns()`` of the presetctl loader equals the columns of ``Preset.parameters``;
* the stats duplicate search scales its matrix in place, takes medians column by column and
  compares windows in slices: the same clusters as the whole-matrix reference.

No timing is asserted here; benchmarks/scale_bench.py measures the targets.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path, PurePosixPath

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine import junk
from presetctl.engine.cache import Entry, Stamp, decode, encode
from presetctl.engine.discover import Candidate, _Namer, discover, display_path
from presetctl.engine.fix.planner import FilePlan, PlanRules, plan_file
from presetctl.engine.formats.base import LoadContext
from presetctl.engine.formats.presetctl_json import build_preset
from presetctl.engine.formats.registry import detect
from presetctl.engine.model import (
    FileOutcome,
    FileStatus,
    FileTable,
    Finding,
    Location,
    ParameterColumns,
    PresetSummary,
    Related,
    SecuritySeverity,
    Severity,
)
from presetctl.engine.options import Options, PackConfig
from presetctl.engine.runner import pack_summaries
from presetctl.engine.stats import duplicates
from presetctl.engine.stats.params import ParamMatrix
from presetctl.state.outcome_cache import SqliteOutcomeStore

REPO = Path(__file__).resolve().parents[1]
# What a walk yields below a root: names (no "/", never "." or "..") joined by "/".
names = st.lists(st.text(alphabet=st.sampled_from(list("ab. -_x")), min_size=1, max_size=5).filter(
    lambda n: n not in (".", "..")), min_size=1, max_size=3).map("/".join)


# --- discovery ------------------------------------------------------------------------------------

@given(root=st.sampled_from(["/tmp/pack", "/tmp/pack/", "/srv/a b/pack", "/", "/work/proj/sub", "/work/proj"]),
       cwd=st.sampled_from(["/work/proj", "/", "/tmp", "/tmp/pack/inner"]), below=names)
def test_namer_matches_relpath(root: str, cwd: str, below: str) -> None:
    full_root = os.path.normpath(root)
    namer = _Namer(root, full_root, cwd)
    full = os.path.join(full_root, below)
    assert namer.rel(full) == display_path(full, cwd)
    assert namer.shown(full) == os.path.normpath(full)


def test_discovery_outside_the_working_folder(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "a b").mkdir(parents=True)
    (pack / "a b" / "x.json").write_text("{}")
    (pack / "y.json").write_text("{}")
    cwd = tmp_path / "elsewhere" / "deeper"
    cwd.mkdir(parents=True)
    cands, _ = discover([str(pack)], Options(), str(cwd))
    assert sorted((c.display, c.rel) for c in cands) == [
        (str(pack / "a b" / "x.json"), "../../pack/a b/x.json"), (str(pack / "y.json"), "../../pack/y.json")]
    relative, _ = discover(["../../pack"], Options(), str(cwd))
    assert sorted(c.display for c in relative) == ["../../pack/a b/x.json", "../../pack/y.json"]


# --- packaging junk ---------------------------------------------------------------------------------

def _junk_reference(path: str) -> bool:
    parts = path.split("/")
    return parts[-1] in junk.JUNK_NAMES or parts[-1].startswith("._") or any(p in junk.JUNK_FOLDERS for p in parts[:-1])


@given(st.lists(st.sampled_from(["__MACOSX", "._a", ".DS_Store", "Thumbs.db", "desktop.ini", "a", "x._y", "b.fxp",
                                 "a.DS_Store", "__MACOSXy"]), min_size=1, max_size=4))
def test_junk_pretest_matches_definition(parts: list[str]) -> None:
    path = "/".join(parts)
    assert junk.is_packaging_junk(path) == _junk_reference(path)


# --- check cache ------------------------------------------------------------------------------------

def _entry(key: str, i: int) -> Entry:
    return Entry(key, Stamp(i, i, i, i, i), f"{i:064x}", True, orjson.dumps([i]))


@pytest.mark.parametrize("prefix", ["/p/", "/p/\udcff", "", "/p/\U0010ffff"])
def test_fetch_prefix_is_the_range_of_the_prefix(tmp_path: Path, prefix: str) -> None:
    store = SqliteOutcomeStore.open(tmp_path)
    keys = [f"{prefix}{n}\0x\0y" for n in ("a", "b", "\udcff", "\U0010ffff", "")] + ["/q/a\0x\0y", "/p\0x\0y", "/o/z"]
    store.save("s", [_entry(k, i) for i, k in enumerate(keys)])
    store.save("other", [_entry(k, 99) for k in keys])
    got = store.fetch_prefix("s", prefix)
    assert got == {k: e for k, e in store.fetch("s", keys).items() if k.startswith(prefix)}
    assert all(e.stamp.size != 99 for e in got.values())


def test_decode_is_encode_inverse() -> None:
    loc = Location("/a", 3, 2, "e")
    finding = Finding("p", "X001", Severity.ERROR, "m", loc, 1, 2, "h", True, SecuritySeverity.HIGH, "name",
                      (Related("q", loc, "n"),))
    for status in FileStatus:
        outcome = FileOutcome("p", "fmt", status, 10, 1, (finding,),
                              (PresetSummary("p", "fmt", "n", "a", "c", "h", 1, ("t",)),), 0.5, digest="d")
        assert decode(encode(outcome)) == outcome
        bare = FileOutcome("p", "fmt", status, 10, digest="d")
        assert decode(encode(bare)) == bare


# --- parameter columns ------------------------------------------------------------------------------

json_values = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                        st.text(max_size=4), st.lists(st.integers(), max_size=2))
params = st.lists(st.one_of(st.dictionaries(st.sampled_from(["name", "value", "min", "max", "default"]), json_values),
                            json_values), max_size=8)


@given(params)
def test_presetctl_columns_match_parameters(ps: list[object]) -> None:
    preset = build_preset({"parameters": ps})
    assert preset.columns() == ParameterColumns.of(preset.parameters)


def test_columns_of_real_and_generated_presets(corpus: Path) -> None:
    from presetctl.bench.generate import presets

    files = [p.read_bytes() for p in sorted([*corpus.rglob("*.json"), *(REPO / "sample_presets").rglob("*.json")])]
    files += [data for _, data in presets(40, 60, seed=3)]
    checked = 0
    for data in files:
        doc = detect(data[:4096], PurePosixPath("x.json"))
        if doc is None:
            continue
        loaded = doc.load(data, LoadContext.from_limits(PurePosixPath("x.json"), Options().limits))
        for preset in loaded.presets:
            assert preset.columns() == ParameterColumns.of(preset.parameters)
            checked += preset.column_source is not None
    assert checked >= 40


# --- stats duplicates -------------------------------------------------------------------------------

def _reference_features(x: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray, default: np.ndarray) -> np.ndarray:
    """feature_matrix as it was: every step a new whole-matrix array."""
    with np.errstate(all="ignore"):
        seen_lo = np.nanmin(np.where(np.isnan(x), np.inf, x), axis=0)
        seen_hi = np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=0)
        bad = ~(np.isfinite(lo_b) & np.isfinite(hi_b) & (hi_b > lo_b))
        lo = np.where(bad, seen_lo, lo_b)
        hi = np.where(bad, seen_hi, hi_b)
        half_lo = lo / 2
        span = np.where(hi > lo, hi / 2 - half_lo, 1.0)
        if np.isnan(x).any():
            fill = np.where(np.isnan(default), np.nanmedian(x, axis=0), default)
            x = np.where(np.isnan(x), fill, x)
        scaled = np.clip((x / 2 - half_lo) / span, 0.0, 1.0)
    return np.nan_to_num(scaled, nan=0.0)


@pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")  # columns with no value: as numpy warns
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.sampled_from([1, 2, 5, 40, 599, 600, 900]), cols=st.integers(1, 6), seed=st.integers(0, 2**16),
       holes=st.floats(0, 0.6))
def test_feature_matrix_in_place_matches_reference(rows: int, cols: int, seed: int, holes: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.choice([0.0, 0.5, 1.0, 3.0, -2.0, 1e308], size=(rows, cols)) * rng.random((rows, cols))
    x[rng.random((rows, cols)) < holes] = np.nan
    lo = rng.choice([np.nan, 0.0, -1.0, 5.0], size=cols)
    hi = rng.choice([np.nan, 1.0, 2.0, -3.0], size=cols)
    default = rng.choice([np.nan, 0.25], size=cols)
    expected = _reference_features(x.copy(), lo, hi, default)
    with np.errstate(all="ignore"):
        got = duplicates._column_medians(x.copy(), np.isnan(x))
        want = np.nanmedian(x, axis=0) if rows else np.full(cols, np.nan)
    assert np.array_equal(got, want, equal_nan=True)

    m = ParamMatrix(("p",) * cols, x.copy(), lo, hi, default)
    assert np.array_equal(duplicates.scaled_features(m), expected, equal_nan=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.integers(2, 3000), seed=st.integers(0, 2**16), spread=st.sampled_from([0.0, 0.01, 0.5]))
def test_close_pairs_match_all_pairs(rows: int, seed: int, spread: float) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.random((max(1, rows // 50), 5))
    x = centres[rng.integers(0, len(centres), rows)] + spread * rng.random((rows, 5))
    radius = 0.05
    pi, pj, dist = duplicates.close_pairs(x, radius)
    got = sorted(zip(pi.tolist(), pj.tolist(), strict=True))
    if rows <= 600:
        d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(axis=2))
        ii, jj = np.nonzero(np.triu(d <= radius, k=1))
        assert got == sorted(zip(ii.tolist(), jj.tolist(), strict=True))
    for i, j, dd in zip(pi.tolist(), pj.tolist(), dist.tolist(), strict=True):
        assert i < j and dd == pytest.approx(float(np.sqrt(((x[i] - x[j]) ** 2).sum())), abs=0, rel=0)


def test_candidate_stamp_from_discovery(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    cands, _ = discover([str(tmp_path)], Options())
    st_ = os.lstat(tmp_path / "a.json")
    assert isinstance(cands[0], Candidate) and cands[0].lstat == (st_.st_size, st_.st_mtime_ns, st_.st_ctime_ns,
                                                                  st_.st_ino, st_.st_dev)


# --- fix planning: the sound-only rules' earlier violations, held against running every rule again ------

def _plan_facts(plan: FilePlan) -> tuple[object, ...]:
    return (plan.format, plan.after, plan.name, plan.applied, plan.rolled_back, plan.passes, plan.parsed,
            plan.unsafe_left, plan.summaries_before, plan.summaries_after)


def _plans_agree(files: list[tuple[str, bytes]], options: Options) -> int:
    fast = PlanRules.build(options, options, unsafe=True)
    full = PlanRules.build(options, options, unsafe=True, reuse=False)
    fixed = 0
    for name, data in files:
        a = plan_file(data, PurePosixPath(name), fast, options)
        b = plan_file(data, PurePosixPath(name), full, options)
        assert _plan_facts(a) == _plan_facts(b), name
        fixed += a.changed
    return fixed


def test_fix_plans_reuse_matches_full_recheck_on_the_corpus(corpus: Path) -> None:
    files = [(str(p.relative_to(corpus)), p.read_bytes()) for p in sorted(corpus.rglob("*"))
             if p.is_file() and p.stat().st_size < 150_000]
    options = Options(profiles=("marketplace",), pack=PackConfig(author="Corpus Author"))
    assert _plans_agree(files, options) > 50


def test_fix_plans_reuse_matches_full_recheck_on_generated_problems(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(REPO))
    from benchmarks.fix_bench import OPTIONS, write_broken_pack

    write_broken_pack(tmp_path, 60, 30)
    files = [(str(p.relative_to(tmp_path)), p.read_bytes()) for p in sorted(tmp_path.rglob("*.json"))]
    # out of range values too: a fix of the sound (V002 clamps) must run the sound rules again
    for i, (name, data) in enumerate(files[:20]):
        doc = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
        doc["parameters"][i % len(doc["parameters"])]["value"] = 1e9
        files[i] = (name, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    assert _plans_agree(files, OPTIONS) == len(files)


def test_sound_codes_are_the_parameter_and_performance_rules() -> None:
    from presetctl.engine.fix.check import SOUND_CODES

    assert SOUND_CODES == {"V001", "V002", "V003", "V004", "V005", "V006", "V007", "V008", "A001", "A002", "A003", "D009"}


def test_file_table_gives_back_what_was_appended() -> None:
    loc = Location("/a")
    finding = Finding("b", "S001", Severity.ERROR, "m", loc)
    outcomes = (FileOutcome("a", "presetctl", FileStatus.VALIDATED, 10, 1, (), (), 0.25),
                FileOutcome("b", "vital", FileStatus.BROKEN, 2**40, 0, (finding,), (), 1.5, digest="d" * 64),
                FileOutcome("c", "unknown", FileStatus.SKIPPED, 0),
                FileOutcome("d", "presetctl", FileStatus.VALIDATED, 3, 2, (),
                            (PresetSummary("d", "presetctl", "n", None, None, "h", 1),
                             PresetSummary("d", "presetctl", "m", None, None, "h", 2)), 0.1))
    table = FileTable(outcomes)
    assert tuple(table) == outcomes and table == outcomes and len(table) == 4
    assert table[-1] == outcomes[-1] and table[1:3] == outcomes[1:3]
    with pytest.raises(IndexError):
        table[4]
    assert table.presets() == 3 and table.bytes_checked() == 10 + 2**40 + 3
    assert table.status_counts() == Counter(o.status for o in outcomes)
    assert table.summaries() == [PresetSummary("a", "presetctl", None, None, None, ""), *outcomes[3].summaries]
    plain = [s for o in outcomes for s in o.summaries] + [PresetSummary("a", "presetctl", None, None, None, "")]
    assert sorted(pack_summaries(list(outcomes)), key=repr) == sorted(plain, key=repr)
