"""The worker pool: order, death of a worker, a file that kills its worker every time, clean-up."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest
from signal_helpers import broken_pack, read_line, start_presetctl, wait_for_workers

from presetctl import api
from presetctl.engine import pipeline
from presetctl.engine.workers import WorkerError, chunks, map_chunks


def _square(state: int, items: Sequence[int]) -> list[int]:
    return [state * i * i for i in items]


def _lost(item: int) -> int:
    return -item


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_come_in_order_whatever_the_worker_count(jobs: int) -> None:
    items = list(range(500))
    out = [r for _, part in map_chunks(items, jobs, lambda: 2, (), _square, on_lost=_lost) for r in part]
    assert out == [2 * i * i for i in items]


def test_chunks_start_small_and_cover_everything_once() -> None:
    parts = chunks(list(range(10_000)), 2)
    assert [len(p) for p in parts[:4]] == [4, 8, 16, 32]
    assert [i for p in parts for i in p] == list(range(10_000))
    assert max(len(p) for p in parts) == 256
    sizes = [len(p) for p in parts]
    assert max(sizes[-8:]) <= 4  # the end comes in small chunks: no worker idles while one finishes a big one
    assert all(b <= a for a, b in zip(sizes[sizes.index(256):], sizes[sizes.index(256) + 1:], strict=False))


def _die_on_13(state: int, items: Sequence[int]) -> list[int]:
    if 13 in items:
        os._exit(3)  # a crash in native code, the OOM killer: the process is simply gone
    return list(items)


def test_an_item_that_kills_its_worker_every_time_becomes_on_lost_and_the_rest_is_kept() -> None:
    items = list(range(200))
    out = [r for _, part in map_chunks(items, 2, lambda: 0, (), _die_on_13, on_lost=_lost) for r in part]
    assert out == [-13 if i == 13 else i for i in items]  # only the guilty item is lost, its chunk-mates retried


def _raise(state: int, items: Sequence[int]) -> list[int]:
    raise ValueError("a bug")


def test_a_task_that_raises_is_a_bug_reported_in_the_parent() -> None:
    with pytest.raises(WorkerError, match="ValueError: a bug"):
        list(map_chunks(list(range(200)), 2, lambda: 0, (), _raise, on_lost=_lost))


def test_a_preset_that_crashes_its_worker_twice_is_an_e002_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pack = broken_pack(tmp_path / "pack", 120, params=12)
    victim = sorted(pack.rglob("*.json"))[50]
    real = pipeline.check_file

    def crashing(cand, rules):  # type: ignore[no-untyped-def]
        if cand.path == str(victim):
            os._exit(9)
        return real(cand, rules)

    monkeypatch.setattr("presetctl.engine.runner.check_file", crashing)
    result = api.validate(["pack"], api.Options(jobs=2), cwd=str(tmp_path))
    assert result.jobs == 2 and len(result.files) == 120
    lost = [f for f in result.findings if f.code == "E002"]
    assert [(f.path, f.message) for f in lost] == [
        (str(victim.relative_to(tmp_path)), "checking this file made a worker process die twice; it was not checked")]
    assert sum(f.code == "V002" for f in result.findings) == 119  # every other file was checked


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_replaced_and_its_files_are_checked(tmp_path: Path) -> None:
    pack = broken_pack(tmp_path / "pack", 3000, params=12)
    proc = start_presetctl(["validate", ".", "-o", "concise", "-q", "-j", "2"], pack)
    read_line(proc)
    victim = wait_for_workers(proc, 2)[0]
    victim.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    lines = out.decode().splitlines()
    assert proc.returncode == 1
    # The death is a critical error of the run: said once, at the end, apart from the findings.
    block = err.decode().splitlines()
    assert block[1] == "presetctl: 1 critical error in this run:" and block[0] == block[-1] == "-" * 72
    assert block[2].startswith("  PE501 worker-died: a worker process died checking ") and block[2].endswith(
        "files; they are checked again, one by one, in fresh workers")
    assert len(lines) == 3000 - 1 and all(": V002 [error] " in line for line in lines)  # one was read above
    assert "E002" not in out.decode()


def test_an_unreadable_path_given_directly_is_f007_as_in_a_folder(tmp_path: Path, cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "locked.json").write_text("{}")
    real = os.lstat

    def lstat(path, *a, **kw):  # type: ignore[no-untyped-def]
        if str(path).endswith("locked.json"):
            raise PermissionError(13, "Permission denied")
        return real(path, *a, **kw)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("presetctl.engine.discover.os.lstat", lstat)
    result = cli(["validate", "locked.json", "-o", "concise", "-q"])
    assert (result.exit_code, result.stdout) == (1, "locked.json: F007 [error] cannot stat: Permission denied\n")
    missing = cli(["validate", "gone.json"])
    assert (missing.exit_code, missing.stderr) == (2, "presetctl: error: cannot access 'gone.json': No such file or directory\n")
