"""SIGTERM, SIGHUP, SIGINT and SIGKILL to a real presetctl mid-run: nothing is left behind.

Each test starts a real ``python -m presetctl`` with two workers on a pack big enough to keep
them busy, waits for observable events (the first finding on stdout, the workers existing),
sends the signal, and then asserts within a few seconds: the reader of its pipes sees EOF,
no process of that run is left, the exit code and the one line on stderr are the contract's.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from signal_helpers import broken_pack, drain_to_eof, gone, read_line, start_presetctl, wait_for_workers

COUNT = 4000


@pytest.fixture(scope="module")
def big_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return broken_pack(tmp_path_factory.mktemp("signals") / "pack", COUNT)


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "line"), [
    (signal.SIGTERM, 143, b"presetctl: terminated\n"),
    (signal.SIGHUP, 129, b"presetctl: hang-up\n"),
    (signal.SIGINT, 130, b"presetctl: interrupted\n"),
    (signal.SIGKILL, -signal.SIGKILL, b""),
])
def test_a_signal_mid_run_leaves_no_process_and_closes_the_pipes(big_pack: Path, sig: signal.Signals, code: int,
                                                                  line: bytes) -> None:
    proc = start_presetctl(["validate", ".", "-o", "concise", "-j", "2"], big_pack)
    assert b": V002 [error] " in read_line(proc)  # the run is under way and streaming
    workers = wait_for_workers(proc, 2)
    proc.send_signal(sig)
    out, err = drain_to_eof(proc, timeout=15)  # EOF on both pipes: no worker holds them
    assert proc.returncode == code
    assert err == line
    assert gone(workers, timeout=10), [w.pid for w in workers if w.is_running()]
    assert out.count(b"\n") < COUNT  # it really was stopped mid-run


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGHUP, 129, "hang-up")])
def test_fix_stopped_by_a_signal_says_how_to_resume_and_resume_finishes(tmp_path: Path, sig: signal.Signals,
                                                                        code: int, word: str) -> None:
    pack = broken_pack(tmp_path / "pack", 1500)
    original = {p: p.read_bytes() for p in pack.rglob("*.json")}
    state = tmp_path / "state"
    env = {"PRESETCTL_STATE_DIR": str(state)}
    proc = start_presetctl(["fix", ".", "--unsafe-fixes", "--no-fsync", "-j", "2"], pack, env)
    journals = state / "fix-runs"
    # Wait until files are being written (the journal has records), then stop the run.
    while proc.poll() is None and not (journals.is_dir() and any(
            p.stat().st_size > 2000 for p in journals.glob("*.jsonl"))):
        time.sleep(0.002)  # polling interval; the condition is the event
    proc.send_signal(sig)
    _, err = drain_to_eof(proc, timeout=15)
    assert proc.returncode == code, err
    message = err.decode()
    assert message.startswith(f"presetctl: {word}; every file is as it was or fixed; finish with "
                              "`presetctl fix --resume` or roll back with `presetctl fix --undo ")
    assert message.count("\n") == 1
    now = {p: p.read_bytes() for p in pack.rglob("*.json")}
    assert set(now) == set(original)  # nothing half-written, no temporary file left (checked below)
    assert not [p for p in pack.rglob("*") if p.name.startswith(".presetctl-tmp-")]
    for data in now.values():
        json.loads(data)  # every file whole: old or new
    resumed = start_presetctl(["fix", "--resume", "--no-fsync"], pack, env)
    _, err = drain_to_eof(resumed, timeout=120)
    assert resumed.returncode == 0, err
    fixed = {p: p.read_bytes() for p in pack.rglob("*.json")}
    assert fixed != original and all(b"V002" not in d for d in fixed.values())
    check = start_presetctl(["validate", ".", "-o", "concise", "--select", "V002", "-q"], pack)
    out, _ = drain_to_eof(check, timeout=120)
    assert (check.returncode, out) == (0, b"")  # every out-of-range value was fixed, once
