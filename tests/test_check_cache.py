"""The check cache (engine/cache.py, state/outcome_cache.py): a warm run equals a cold one, and
only what changed is checked again.

Which files were checked is observed by counting calls of the per-file check (a real function
swapped for a counting wrapper), never by timing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from signal_helpers import broken_pack

from presetctl import api
from presetctl.engine import cache as check_cache
from presetctl.engine import pipeline
from presetctl.engine.model import RunResult
from presetctl.state.outcome_cache import FILE_NAME, SqliteOutcomeStore

OLD = 1_600_000_000  # an mtime long before any run: entries stamped with it are trusted


def _pack(folder: Path, count: int = 12) -> Path:
    pack = broken_pack(folder, count, params=12)
    dup = sorted(pack.rglob("*.json"))
    shutil.copyfile(dup[0], dup[0].with_name("copy of first.json"))  # a duplicate sound (Q001, marketplace)
    for f in pack.rglob("*.json"):
        os.utime(f, (OLD, OLD))
    return pack


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = pipeline.check_file

    def counted(cand, rules, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(cand.display)
        return real(cand, rules, *args, **kwargs)

    monkeypatch.setattr("presetctl.engine.runner.check_file", counted)
    return seen


def _view(result: RunResult) -> tuple[object, ...]:
    files = tuple((f.path, f.format, f.status, f.size, f.presets, f.findings, f.summaries) for f in result.files)
    return files, result.findings, result.pack


def _run(tmp_path: Path, options: api.Options | None = None, cache: bool = True) -> RunResult:
    store = SqliteOutcomeStore.open(tmp_path / "cache") if cache else None
    try:
        return api.validate(["pack"], options or api.Options(jobs=1, profiles=("marketplace",)), cwd=str(tmp_path),
                            cache=store)
    finally:
        if store is not None:
            store.close()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    (tmp_path / "cache").mkdir()
    return tmp_path / "cache"


def test_a_warm_run_reports_exactly_what_a_cold_run_does_and_checks_nothing(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pack(tmp_path / "pack")
    plain = _run(tmp_path, cache=False)
    seen = _counting(monkeypatch)
    cold = _run(tmp_path)
    assert len(seen) == 13
    seen.clear()
    warm = _run(tmp_path)
    assert seen == []
    assert _view(cold) == _view(plain) == _view(warm)
    assert {f.code for f in warm.pack} == {"Q001"}  # the duplicate, from cached summaries
    assert sum(f.code == "V002" for f in warm.findings) == 13  # the copy too


def test_only_the_changed_file_is_checked_again_and_its_findings_are_new(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _pack(tmp_path / "pack")
    _run(tmp_path)
    victim = sorted(pack.rglob("*.json"))[3]
    doc = orjson.loads(victim.read_bytes())
    doc["metadata"]["description"] = "see http://example.com/x"  # X005, a new finding
    victim.write_bytes(orjson.dumps(doc))
    seen = _counting(monkeypatch)
    warm = _run(tmp_path)
    assert seen == [str(victim.relative_to(tmp_path))]
    assert _view(warm) == _view(_run(tmp_path, cache=False))
    assert any(f.code == "X005" for f in warm.findings)


def test_a_checkout_that_resets_mtimes_is_answered_by_content_hashes(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _pack(tmp_path / "pack")
    _run(tmp_path)
    for f in pack.rglob("*.json"):
        os.utime(f, (OLD + 1000, OLD + 1000))
    seen = _counting(monkeypatch)
    _run(tmp_path)
    assert seen == []


def test_same_size_new_content_with_the_old_mtime_is_checked_again(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = _pack(tmp_path / "pack")
    _run(tmp_path)
    victim = sorted(pack.rglob("*.json"))[0]
    data = victim.read_bytes()
    at = data.index(b'"name": "') + 9
    swapped = data[:at] + data[at : at + 1].swapcase() + data[at + 1 :]  # the name's first letter, other case
    assert len(swapped) == len(data) and swapped != data
    victim.write_bytes(swapped)
    os.utime(victim, (OLD, OLD))  # the stamp differs only in ctime: the hash decides
    seen = _counting(monkeypatch)
    _run(tmp_path)
    assert seen == [str(victim.relative_to(tmp_path))]


def test_a_file_changed_just_before_its_stamp_is_verified_by_its_hash(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Racy entries: a stamp taken within RACY_SECONDS of the last change proves nothing."""
    pack = _pack(tmp_path / "pack", count=3)
    for f in pack.rglob("*.json"):
        os.utime(f, None)  # now
    _run(tmp_path)
    store = SqliteOutcomeStore.open(cache_dir)
    try:
        rows = store._conn.execute("SELECT trusted FROM outcome").fetchall()  # type: ignore[union-attr]
    finally:
        store.close()
    assert rows and not any(r[0] for r in rows)
    reads: list[str] = []
    real = check_cache.read_bounded

    def reading(path: str, limit: int) -> bytes:
        reads.append(path)
        return real(path, limit)

    monkeypatch.setattr(check_cache, "read_bounded", reading)
    seen = _counting(monkeypatch)
    _run(tmp_path)
    assert seen == [] and len(reads) == 4


def test_other_options_never_reuse_an_entry(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pack(tmp_path / "pack", count=3)
    _run(tmp_path)
    seen = _counting(monkeypatch)
    narrow = _run(tmp_path, api.Options(jobs=1, select=("V",)))
    assert len(seen) == 4 and {f.code for f in narrow.findings} == {"V002"}
    seen.clear()
    _run(tmp_path, api.Options(jobs=3, profiles=("marketplace",)))  # jobs change nothing an outcome holds
    assert seen == []


def test_a_damaged_cache_file_costs_nothing_but_the_cache(tmp_path: Path, cache_dir: Path) -> None:
    _pack(tmp_path / "pack", count=3)
    (cache_dir / FILE_NAME).write_bytes(b"not a database" * 100)
    store = SqliteOutcomeStore.open(cache_dir)
    try:
        result = api.validate(["pack"], api.Options(jobs=1), cwd=str(tmp_path), cache=store)
    finally:
        store.close()
    assert store.problem.startswith("the check cache") and len(result.files) == 4
    assert _view(result) == _view(_run(tmp_path, api.Options(jobs=1), cache=False))


def test_a_stored_payload_that_is_not_an_outcome_is_a_miss() -> None:
    assert check_cache.decode(b"[1, 2]") is None
    assert check_cache.decode(b"\x80\x04junk") is None


def test_cli_no_cache_checks_everything_and_leaves_no_cache_file(tmp_path: Path) -> None:
    _pack(tmp_path / "pack", count=3)
    state = tmp_path / "state"
    env = {**os.environ, "PRESETCTL_STATE_DIR": str(state)}
    args = [sys.executable, "-m", "presetctl", "validate", "pack", "-o", "json", "-q"]
    off = subprocess.run([*args, "--no-cache"], cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)
    assert not (state / "cache" / FILE_NAME).exists()
    cold = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)
    assert (state / "cache" / FILE_NAME).exists()
    warm = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)

    def findings(proc: subprocess.CompletedProcess[bytes]) -> object:
        return proc.returncode, orjson.loads(proc.stdout)["findings"]

    assert findings(off) == findings(cold) == findings(warm)
    assert findings(off)[0] == 1


def test_concurrent_runs_share_one_cache(tmp_path: Path) -> None:
    pack = broken_pack(tmp_path / "pack", 200, params=12)
    state = tmp_path / "state"
    env = {**os.environ, "PRESETCTL_STATE_DIR": str(state)}
    args = [sys.executable, "-m", "presetctl", "validate", "pack", "-o", "json", "-q", "-j", "1"]
    procs = [subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1, 1], [o[1] for o in outs]
    reports = [orjson.loads(o[0])["findings"] for o in outs]
    assert reports[0] == reports[1] == reports[2] and len(reports[0]) == 200
    assert all(b"cache" not in o[1] for o in outs)
    store = SqliteOutcomeStore.open(state / "cache")
    try:
        assert store._conn is not None
        assert store._conn.execute("SELECT count(*) FROM outcome").fetchone()[0] == len(list(pack.rglob("*.json")))
    finally:
        store.close()
