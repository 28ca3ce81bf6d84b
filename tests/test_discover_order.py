"""Discovery in report order, column-wise (issue 14's memory target), held against what it replaces.

``discover_in_order`` must give exactly ``sorted([*candidates, *skipped], key=display)`` of
``discover``: the same Candidate values (path, display, size, rel, stamp), the same findings,
in the same order, on generated trees (names that sort around ``/``, excluded folders, links
in and out, a FIFO, files over the size limit, several roots) and on the corpus. The memory
property is held without timing: bytes kept a file, counted by tracemalloc. Below: what the run
keeps of each file (the outcomes' columns, Q003's two passes) against the plain definitions.
"""

from __future__ import annotations

import gc
import os
import tempfile
import tracemalloc
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from presetctl.engine.discover import Candidate, Discovered, Skipped, discover, discover_in_order
from presetctl.engine.model import FileOutcome, FileStatus, FileTable
from presetctl.engine.options import Limits, Options
from presetctl.engine.runner import run

REPO = Path(__file__).resolve().parents[1]
SAMPLE = (REPO / "sample_presets" / "felt-keys.json").read_bytes()

# Names whose order against "/" matters: "-" and "." sort before it, "0" and letters after.
name = st.text(alphabet=st.sampled_from(list("ab-.0A _~é")), min_size=1, max_size=4).filter(
    lambda n: n not in (".", ".."))
tree = st.recursive(
    st.sampled_from(["file", "big", "link-in", "link-out", "fifo", "empty"]),
    lambda inner: st.dictionaries(name, inner, min_size=1, max_size=4),
    max_leaves=14,
).filter(lambda t: isinstance(t, dict))


def _build(folder: Path, spec: dict[str, object], outside: Path) -> None:
    for entry, what in spec.items():
        path = folder / entry
        if isinstance(what, dict):
            path.mkdir()
            _build(path, what, outside)
        elif what == "file":
            path.write_bytes(SAMPLE)
        elif what == "big":
            path.write_bytes(b" " * 3000)
        elif what == "empty":
            path.write_bytes(b"")
        elif what == "link-in":
            path.symlink_to(folder)
        elif what == "link-out":
            path.symlink_to(outside)
        elif what == "fifo":
            os.mkfifo(path)


def _reference(paths: list[str], options: Options, cwd: str) -> list[Candidate | Skipped]:
    """What the runner did before: every entry of ``discover``, sorted by the path shown."""
    cands, skipped = discover(paths, options, cwd)
    every: list[Candidate | Skipped] = [*cands, *skipped]
    return sorted(every, key=lambda i: i.display)


def _kept_whole(found: Discovered) -> int:
    return sum(1 for i in range(len(found)) if not found.is_candidate(i)) + found.whole_candidates()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=tree, roots=st.sampled_from(["pack", "abs", "./pack/", "pack+sub", "sub+pack", "pack+pack", "here",
                                         "abs-here"]),
       exclude=st.sampled_from([(), ("a*",), ("*.json", "b/")]))
def test_in_order_is_the_sorted_walk(spec: dict[str, object], roots: str, exclude: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        outside = base / "outside"
        outside.mkdir()
        (outside / "x.json").write_bytes(SAMPLE)
        pack = base / "pack"
        pack.mkdir()
        _build(pack, spec, outside)
        sub = next((str(p.relative_to(base)) for p in sorted(pack.iterdir()) if p.is_dir() and not p.is_symlink()),
                   "pack")
        paths = {"pack": ["pack"], "abs": [str(pack)], "./pack/": ["./pack/"], "pack+sub": ["pack", sub],
                 "sub+pack": [sub, "pack"], "pack+pack": ["pack", "pack"], "here": ["."],
                 "abs-here": [str(pack)]}[roots]
        cwd = str(pack) if roots in ("here", "abs-here") else tmp  # shown and rel cut below the root, or not
        options = Options(exclude=exclude, limits=Limits(max_file_size=2000))
        found = discover_in_order(paths, options, cwd)
        expected = _reference(paths, options, cwd)
        assert list(found) == expected
        assert len(found) == len(expected) and found.candidates() == sum(isinstance(i, Candidate) for i in expected)
        assert [found[i] for i in range(len(found))] == expected
        assert list(found[1:]) == expected[1:] and list(found.rows(range(0, len(found), 2))) == expected[::2]
        if len(paths) == 1:  # one root in report order: every candidate is kept column-wise
            assert _kept_whole(found) == sum(isinstance(i, Skipped) for i in expected)


def test_in_order_sorts_what_the_walk_cannot_place(tmp_path: Path) -> None:
    """Roots given out of order and a folder that cannot be read (it sorts by its own name, not
    with its contents): the same entries as the sorted reference, kept whole."""
    for name in ("b", "a"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.json").write_bytes(SAMPLE)
    found = discover_in_order(["b", "a"], Options(), str(tmp_path))
    assert [i.display for i in found] == ["a/x.json", "b/x.json"]
    assert list(found) == _reference(["b", "a"], Options(), str(tmp_path))
    assert found.whole_candidates() == 2  # sorted after the walk, not column-wise


def test_in_order_on_the_corpus(corpus: Path, tmp_path: Path) -> None:
    for cwd, target in ((str(corpus.parent), corpus.name), (str(tmp_path), str(corpus)), (str(corpus), ".")):
        found = discover_in_order([target], Options(), cwd)
        expected = _reference([target], Options(), cwd)
        assert len(expected) > 1000
        assert list(found) == expected
        assert _kept_whole(found) == sum(isinstance(i, Skipped) for i in expected)


def _write_pack(folder: Path, count: int) -> None:
    for i in range(count):
        sub = folder / f"bank {i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"preset number {i:05d}.json").write_bytes(SAMPLE)


def test_discovery_holds_about_100_bytes_a_file(tmp_path: Path) -> None:
    """The Candidate objects were about 450 bytes a file, all alive before the first check."""
    _write_pack(tmp_path / "pack", 3000)
    tracemalloc.start()
    try:
        found = discover_in_order([str(tmp_path / "pack")], Options(), str(tmp_path))
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(found) == 3000
    # The path below the root's folder ("pack/bank 1/preset number 00001.json"), 40 bytes of stamp,
    # 12 of offsets and indexes.
    assert held / 3000 < 130, held / 3000
    assert peak / 3000 < 250, peak / 3000
    whole = [Candidate(c.path, c.display, c.size, c.rel, c.stamp) for c in found]
    assert whole == _reference([str(tmp_path / "pack")], Options(), str(tmp_path))


def test_file_table_holds_a_clean_file_in_about_80_bytes() -> None:
    paths = [f"/some/pack/folder/bank {i % 7}/preset number {i:05d}.json" for i in range(3000)]
    tracemalloc.start()
    try:
        table = FileTable()
        for path in paths:
            table.append(FileOutcome(path, "presetctl", FileStatus.VALIDATED, 1234, 1, seconds=0.001))
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held / 3000 < 110, held / 3000  # the path's 52 bytes, its end, 2 + 2 + 3 x 8 of columns
    assert list(table.paths) == paths and table[17].path == paths[17]


def _peak_of_run(pack: Path, options: Options) -> int:
    """The peak of what this process allocates in a run over ``pack``: the main process's share,
    as the checks run in worker processes (which stop tracing first)."""
    # Cyclic garbage counts in the peak until the collector's oldest generation runs, which it does
    # only once a quarter of the objects it holds are new: late in a test session (millions of
    # objects) rarely. Frozen, they are out of that count, as in a presetctl process
    # (cli/reporting.run_and_report freezes what it holds at the start).
    gc.freeze()
    gc.collect()
    tracemalloc.start()
    try:
        # The paths shown are as long wherever tmp_path is.
        result = run([pack.name], options, cwd=str(pack.parent), worker_setup=tracemalloc.stop)
        _held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    assert result.jobs == 2
    assert result.files.status_counts() == {FileStatus.VALIDATED: len(result.files)}
    return peak


def test_a_run_peaks_at_a_few_hundred_bytes_a_file(tmp_path: Path) -> None:
    """The main process's peak in a run (discovery, outcomes, pack rules) grows by what each file
    keeps, not by what the run holds of every file at once. 1.5x the memory of a run over a
    tenth of the files allows about 300 bytes a file (docs/performance.md, "Memory"). Measured
    so, it was 560 when discovery's Candidates, the outcomes' path strings and the pack rule's
    folded copies were all alive together; 165 now. Only the pack rule Q003 (the
    run's cross-file work) is selected, so that the workers' checks are quick; both runs large
    enough that the pool's chunks are the same size (256 files)."""
    options = Options(jobs=2, select=("Q003",))
    small, large = 4200, 8200
    _write_pack(tmp_path / "small", small)
    _write_pack(tmp_path / "large", large)
    # Imports, caches and compiled rules first, and tables that grow with what is alive at once
    # at their size for the larger run.
    _peak_of_run(tmp_path / "large", options)
    grown = _peak_of_run(tmp_path / "large", options) - _peak_of_run(tmp_path / "small", options)
    assert grown / (large - small) < 300, grown / (large - small)


# --- what the run keeps of each file, column-wise -----------------------------------------------

def _case_collisions_reference(paths: list[str]) -> list[tuple[str, str]]:
    """Q003 as it was: every distinct path grouped by its folded form."""
    by_fold: dict[str, list[str]] = {}
    for path in dict.fromkeys(paths):
        by_fold.setdefault(path.casefold(), []).append(path)
    return [(other, group[0]) for group in by_fold.values() for other in group[1:]]


@given(st.lists(st.text(alphabet=st.sampled_from(list("aAbBß/ .éÉ")), min_size=1, max_size=4), max_size=30))
def test_case_collisions_match_the_grouping_of_every_path(paths: list[str]) -> None:
    from presetctl.engine.model import PresetSummary
    from presetctl.engine.rules.pack import case_collisions

    summaries = [PresetSummary(p, "presetctl", None, None, None, "") for p in paths]
    found = [(path, v.message) for path, v in case_collisions(summaries, Options())]
    expected = _case_collisions_reference(paths)
    assert [path for path, _ in found] == [other for other, _ in expected]
    assert all(repr(first) in message for (_, message), (_, first) in zip(found, expected, strict=True))


@given(st.lists(st.text(max_size=6), max_size=20))
def test_text_column_gives_back_any_string(values: list[str]) -> None:
    from presetctl.engine.model import Coded, TextColumn

    column, coded = TextColumn(), Coded[str]()
    for v in [*values, "\udc80x", "\ud800"]:  # a file name that is not UTF-8, a lone surrogate
        column.append(v)
        coded.append(v)
    assert list(column) == list(coded) == [*values, "\udc80x", "\ud800"]
    assert column[1:3] == coded[1:3] == [*values, "\udc80x", "\ud800"][1:3]
    assert dict(coded.counts()) == dict(Counter([*values, "\udc80x", "\ud800"]))


def test_stand_in_summaries_are_read_from_the_columns() -> None:
    from presetctl.engine.model import PresetSummary

    table = FileTable([FileOutcome("a", "vital", FileStatus.VALIDATED, 3, 1),
                       FileOutcome("b", "unknown", FileStatus.SKIPPED, 0),
                       FileOutcome("c", "helm", FileStatus.VALIDATED, 3, 2)])
    stand_ins = [PresetSummary("a", "vital", None, None, None, ""), PresetSummary("c", "helm", None, None, None, "")]
    assert list(table.summaries()) == stand_ins and table.summaries()[1] == stand_ins[1] and len(table.summaries()) == 2
