"""Run history with real processes: sixteen at once, damaged databases, read-only and full state folders.

Whatever happens to the state folder, the command does its job and exits as it would have.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLES, run_subprocess

from presetctl.api import Options, validate
from presetctl.report.json_report import finding_dict
from presetctl.state.history import quarantined
from presetctl.state.queries import findings_of, list_runs

CONCURRENCY = 16
CLEAN = ("evening-pad.json", "felt-keys.json", "glass-lead.json")


def history(state: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{state / 'history.sqlite3'}?mode=ro", uri=True)


def make_pack(folder: Path, broken: int) -> Path:
    """A small pack: clean presets plus ``broken`` with one schema error each."""
    folder.mkdir(parents=True)
    for name in CLEAN:
        shutil.copy(SAMPLES / name, folder / name)
    for i in range(broken):  # one folder each: the file name must stay the preset's name
        (folder / f"b{i}").mkdir()
        shutil.copy(SAMPLES / "broken" / "wrong-type.json", folder / f"b{i}" / "wrong-type.json")
    return folder


@pytest.mark.slow
def test_sixteen_processes_at_once_all_succeed_and_are_all_recorded(tmp_path: Path) -> None:
    state = tmp_path / "state"
    packs = [make_pack(tmp_path / f"pack{i}", broken=i % 4) for i in range(CONCURRENCY)]
    env = {**os.environ, "PRESETCTL_STATE_DIR": str(state), "PRESETCTL_LOG_LEVEL": "debug"}
    procs = [subprocess.Popen([sys.executable, "-m", "presetctl", "validate", str(p), "-o", "concise", "-j", "1"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in packs]  # all started before any is waited for
    outs = [p.communicate(timeout=180) for p in procs]
    for i, (proc, (_, err)) in enumerate(zip(procs, outs, strict=True)):
        assert proc.returncode == (1 if i % 4 else 0), err
        assert err == "", err  # no "database is locked", no warning of any kind
    conn = history(state)
    runs = list_runs(conn, limit=None)
    assert len(runs) == CONCURRENCY and len({r.id for r in runs}) == CONCURRENCY
    by_target = {r.targets[0]: r for r in runs}
    for i, pack in enumerate(packs):
        run = by_target[str(pack)]
        assert (run.exit_code, run.outcome, run.files, run.errors) == (1 if i % 4 else 0,
                                                                      "findings" if i % 4 else "clean", 3 + i % 4, i % 4)
        assert run.ended_at is not None
        expected = validate([str(pack)], Options(jobs=1), cwd=str(tmp_path))
        assert list(findings_of(conn, run.id)) == [finding_dict(f) for f in expected.findings]
    conn.close()
    # every record of every process reached the shared log whole: one JSON object per line
    lines = (state / "logs" / "presetctl.log").read_bytes().splitlines()
    records = [json.loads(line) for line in lines]
    assert sum(r["event"] == "run.start" for r in records) == CONCURRENCY
    assert sum(r["event"] == "run.end" for r in records) == CONCURRENCY
    assert sum(r["event"] == "file.checked" for r in records) == sum(3 + i % 4 for i in range(CONCURRENCY))


def _reference(pack: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run_subprocess(["--no-history", "validate", str(pack), "-o", "concise"], cwd=tmp_path,
                          env={"PRESETCTL_STATE_DIR": str(tmp_path / "reference-state")})


@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty"])
def test_a_damaged_database_is_moved_aside_and_the_run_goes_on(tmp_path: Path, kind: str) -> None:
    pack = make_pack(tmp_path / "pack", broken=2)
    state = tmp_path / "state"
    env = {"PRESETCTL_STATE_DIR": str(state)}
    for _ in range(3):
        assert run_subprocess(["validate", str(pack), "-o", "concise"], cwd=tmp_path, env=env).returncode == 1
    db = state / "history.sqlite3"
    data = db.read_bytes()
    bad = {"garbage": os.urandom(8192), "truncated": data[: len(data) // 2 + 1000], "empty": b""}[kind]
    for side in ("-wal", "-shm"):
        (state / f"history.sqlite3{side}").unlink(missing_ok=True)
    db.write_bytes(bad)
    expected = _reference(pack, tmp_path)
    got = run_subprocess(["validate", str(pack), "-o", "concise"], cwd=tmp_path, env=env)
    assert (got.returncode, got.stdout) == (expected.returncode, expected.stdout) == (1, got.stdout)
    assert got.stderr.count("PE303") == 1 and "critical error" in got.stderr  # one warning, in the block
    assert "Traceback" not in got.stderr
    aside = quarantined(db)
    assert len(aside) == 1 and aside[0].read_bytes() == bad  # kept, renamed with a timestamp
    again = run_subprocess(["validate", str(pack), "-o", "concise"], cwd=tmp_path, env=env)
    assert (again.returncode, again.stderr) == (1, "")
    conn = history(state)
    assert len(list_runs(conn, limit=None)) == 2  # the repaired run and the next one
    conn.close()


def _restricted(how: str, folder: Path) -> list[str] | None:
    """A command prefix under which ``folder`` cannot be written, or None when this machine cannot do it."""
    if how == "read-only-fs":
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            return None
        return ["unshare", "-m", "sh", "-c", f'mount --bind "{folder}" "{folder}" && '
                f'mount -o remount,bind,ro "{folder}" && exec "$0" "$@"']
    folder.chmod(0o500)
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:  # root ignores modes unless it drops the capabilities that let it
        return None
    return ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def _probe(prefix: list[str], folder: Path) -> bool:
    """The restriction really holds here (containers may refuse unshare or setpriv)."""
    probe = subprocess.run([*prefix, sys.executable, "-c", f"open({str(folder / 'probe')!r}, 'w')"],
                           capture_output=True, text=True, check=False)
    return probe.returncode != 0 and ("Read-only" in probe.stderr or "Permission denied" in probe.stderr)


@pytest.mark.parametrize("how", ["permissions", "read-only-fs"])
@pytest.mark.parametrize("existing", [False, True])
def test_a_read_only_state_folder_costs_history_not_the_gate(tmp_path: Path, how: str, existing: bool) -> None:
    clean = make_pack(tmp_path / "clean", broken=0)
    dirty = make_pack(tmp_path / "dirty", broken=1)
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    if existing:  # a history and a log from earlier runs
        assert run_subprocess(["validate", str(clean)], cwd=tmp_path, env={"PRESETCTL_STATE_DIR": str(state)}
                              ).returncode == 0
    prefix = _restricted(how, state)
    try:
        if prefix is None or not _probe(prefix, state):
            pytest.skip(f"cannot make a {how} folder on this machine")
        for pack, code in ((clean, 0), (dirty, 1)):
            expected = _reference(pack, tmp_path)
            proc = subprocess.run([*prefix, sys.executable, "-m", "presetctl", "validate", str(pack), "-o", "concise"],
                                  cwd=tmp_path, env={**os.environ, "PRESETCTL_STATE_DIR": str(state)},
                                  capture_output=True, text=True, timeout=120, check=False)
            assert (proc.returncode, proc.stdout) == (code, expected.stdout)  # a passing gate stays green
            warnings = proc.stderr.splitlines()
            assert len(warnings) == 1 and warnings[0].startswith("presetctl: warning: PE"), proc.stderr
            assert "run history" in warnings[0] and "off for this run" in warnings[0]
            assert "Traceback" not in proc.stderr
    finally:
        state.chmod(0o700)


def test_a_full_disk_costs_history_not_the_gate(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root for a private tmpfs")
    pack = make_pack(tmp_path / "pack", broken=1)
    small = tmp_path / "small"
    small.mkdir()
    expected = _reference(pack, tmp_path)
    # The check cache is off: its database and shared-memory file would take 32 of the 40 KiB, and
    # which writer then meets the full disk first (history, log) would vary from run to run.
    script = (f'mount -t tmpfs -o size=40k tmpfs "{small}" || exit 99; '
              f'PRESETCTL_NO_CACHE=1 PRESETCTL_STATE_DIR="{small}/state" '
              f'exec "$0" -m presetctl validate "{pack}" -o concise')
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script, sys.executable], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode == 99:
        pytest.skip("cannot mount a tmpfs here")
    assert (proc.returncode, proc.stdout) == (1, expected.stdout)
    assert "critical error" in proc.stderr and proc.stderr.count("PE105") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
