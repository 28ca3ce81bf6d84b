"""Measurements of a test note, and the render caches that keep them (memory, SQLite)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_data import sine_voice

from presetctl.engine.audio import analysis, batch
from presetctl.engine.audio.analysis import FLOOR_DB, VoiceSound, analyse
from presetctl.engine.audio.cache import FILE_NAME, MemoryCache, SqliteCache, cache_dir, usable
from presetctl.engine.audio.render import Audition, render
from presetctl.engine.audio.voice import with_values
from presetctl.engine.audio.voicebatch import VoiceBatch


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESETCTL_CACHE_DIR", str(tmp_path / "cache"))


def measure_one(values: tuple[int, ...]) -> VoiceSound:
    return analyse(render(VoiceBatch.from_values([values])))[0]


def test_a_sine_measures_its_textbook_levels() -> None:
    s = measure_one(sine_voice())
    assert s.peak_db == pytest.approx(-18.06, abs=0.05)
    assert s.rms_db == pytest.approx(-18.06 - 3.01, abs=0.1)  # a sine's RMS is 3 dB under its peak
    assert s.reachable_db == pytest.approx(-18.06, abs=0.05)
    assert s.onset_ms == 0.0
    assert s.release_db == FLOOR_DB  # INIT VOICE releases to nothing at rate 99
    assert not s.silent


def test_silence_measures_as_the_floor_with_no_onset() -> None:
    s = measure_one(sine_voice(op1_output_level=0))
    assert s.silent and s.peak_db == FLOOR_DB and s.onset_ms is None
    assert all(v == 0.0 for v in s.fingerprint)  # no NaN: every band equals the (silent) top


def test_a_slow_attack_has_a_late_onset() -> None:
    fast = measure_one(sine_voice())
    slow = measure_one(sine_voice(op1_eg_rate1=22))
    assert fast.onset_ms == 0.0
    assert slow.onset_ms is not None and 100 < slow.onset_ms < 1000


def test_fingerprints_tell_a_tweak_from_another_sound() -> None:
    base = with_values(sine_voice(op2_output_level=80), {"algorithm": 0, "op2_freq_coarse": 3})
    tweak = with_values(base, {"op1_freq_fine": 1})
    other = with_values(base, {"op2_freq_coarse": 7, "feedback": 0})
    a, b, c = analyse(render(VoiceBatch.from_values([base, tweak, other])))
    assert analysis.distance(a, a) == 0.0
    assert analysis.distance(a, b) < analysis.SOUND_ALIKE_DB < analysis.distance(a, c)


def test_measurements_round_trip_through_bytes() -> None:
    s = measure_one(sine_voice(op1_eg_rate1=22))
    back = VoiceSound.from_bytes(s.to_bytes())
    assert back.onset_ms == pytest.approx(s.onset_ms)
    assert np.allclose(back.fingerprint, s.fingerprint, atol=1e-3)
    assert back.peak_db == pytest.approx(s.peak_db, abs=1e-4)
    with pytest.raises(ValueError):
        VoiceSound.from_bytes(s.to_bytes()[:-4])


def test_memory_cache_keeps_versions_apart() -> None:
    cache = MemoryCache()
    cache.put_many("v1", {"a": b"1"})
    assert cache.get_many("v1", ["a", "b"]) == {"a": b"1"}
    assert cache.get_many("v2", ["a"]) == {}


def test_sqlite_cache_persists_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    with SqliteCache(path) as cache:
        cache.put_many("v1", {f"k{i}": str(i).encode() for i in range(1200)})  # several SELECT chunks
        cache.put_many("v1", {"k1": b"new"})
    with SqliteCache(path) as cache:
        got = cache.get_many("v1", [f"k{i}" for i in range(1200)] + ["missing"])
        assert len(got) == 1200 and got["k1"] == b"new" and got["k7"] == b"7"
        assert cache.get_many("v2", ["k1"]) == {}
        assert cache.versions() == [("v1", 1200)]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_default_cache_lives_in_the_configured_cache_dir(tmp_path: Path) -> None:
    assert cache_dir() == tmp_path / "cache"
    with SqliteCache() as cache:
        cache.put_many("v", {"k": b"v"})
    assert (tmp_path / "cache" / FILE_NAME).is_file()


_WRITER = """
import sys
from presetctl.engine.audio.cache import SqliteCache
path, who = sys.argv[1], sys.argv[2]
with SqliteCache(path) as cache:
    for batch in range(20):
        cache.put_many("v", {f"{who}-{batch}-{i}": who.encode() for i in range(50)})
        cache.get_many("v", [f"{who}-{batch}-0"])
"""


def test_concurrent_processes_write_one_cache_without_losing_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), f"p{n}"], stderr=subprocess.PIPE)
             for n in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    with SqliteCache(path) as cache:
        keys = [f"p{n}-{b}-{i}" for n in range(4) for b in range(20) for i in range(50)]
        got = cache.get_many("v", keys)
    assert len(got) == 4000 and all(got[k] == k.split("-")[0].encode() for k in keys)


def test_an_unusable_cache_file_falls_back_to_memory(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"this is not an SQLite database, it is only text" * 100)
    cache, problem = usable(SqliteCache(bad), "v")
    assert isinstance(cache, MemoryCache) and "unusable" in problem
    measured = batch.measure([sine_voice()], SqliteCache(bad))
    assert measured.rendered == 1 and "unusable" in measured.problem
    assert measured.sounds[0].peak_db == pytest.approx(-18.06, abs=0.05)


def test_measure_renders_each_distinct_voice_once_then_reads_the_cache(tmp_path: Path) -> None:
    voices = [sine_voice(), sine_voice(op1_freq_coarse=2), sine_voice()]
    with SqliteCache(tmp_path / "m.sqlite3") as cache:
        first = batch.measure(voices, cache)
        again = batch.measure(voices, cache)
    assert (first.rendered, first.cached) == (2, 0)
    assert (again.rendered, again.cached) == (0, 2)
    assert first.sounds[0] == first.sounds[2]
    for a, b in zip(first.sounds, again.sounds, strict=True):
        assert b.peak_db == pytest.approx(a.peak_db, abs=1e-4)
        assert np.allclose(a.fingerprint, b.fingerprint, atol=1e-3)


def test_a_renamed_copy_hits_the_cache_and_another_note_does_not(tmp_path: Path) -> None:
    cache = MemoryCache()
    batch.measure([sine_voice()], cache)
    assert batch.measure([sine_voice()], cache).cached == 1  # the name is not in the key
    assert batch.measure([sine_voice()], cache, Audition(velocity=64)).rendered == 1


def test_worker_processes_give_the_same_measurements() -> None:
    voices = [sine_voice(op1_freq_coarse=c, op1_freq_fine=f) for c in range(1, 5) for f in range(0, 90, 10)]
    one = batch.render_all(voices, Audition(hold=0.2, release=0.1), jobs=1)
    two = batch.render_all(voices, Audition(hold=0.2, release=0.1), jobs=2)
    assert one == two
