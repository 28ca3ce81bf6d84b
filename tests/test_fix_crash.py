"""SIGKILL a real ``python -m presetctl fix`` at many points of a 1,000-file batch.

After every kill, each file must be byte-identical to its original or to its fixed version
(renamed files: at the old name or the new one, or briefly at both as one hard-linked file);
``--resume`` then yields exactly the fixed pack and ``--undo`` exactly the original pack.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from presetctl.engine.fix.run import FixSettings, fix
from presetctl.engine.options import Options
from presetctl.fsutil import TMP_PREFIX

COUNT = 1000


def write_pack(folder: Path) -> dict[str, bytes]:
    """1,000 presets; about three in four need fixes (category, tags, BOM, file name)."""
    folder.mkdir()
    out: dict[str, bytes] = {}
    for i in range(COUNT):
        name = f"Pad {i:04d}"
        tags = ["Warm", "warm"] if i % 3 == 0 else ["warm"]
        meta = {"name": name, "author": "A", "license": "CC0-1.0", "description": "d",
                "category": "pads" if i % 2 else "Pad", "tags": tags}
        doc = {"format_version": "1.0", "metadata": meta,
               "parameters": [{"name": "cutoff", "type": "float", "value": i / COUNT, "min": 0, "max": 1}]}
        data = json.dumps(doc, indent=2).encode()
        if i % 7 == 0:
            data = b"\xef\xbb\xbf" + data
        file_name = f"{name}.json" if i % 50 else f"{name}?.json"
        (folder / file_name).write_bytes(data)
        out[file_name] = data
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if not p.name.startswith(TMP_PREFIX)}


def check_each_file_whole(folder: Path, original: dict[str, bytes], fixed: dict[str, tuple[str, bytes]]) -> int:
    """Every original file is present, whole, as original or fixed; returns how many are fixed."""
    now = snapshot(folder)
    seen: set[str] = set()
    done = 0
    for name, before in original.items():
        new_name, after = fixed[name]
        at_old, at_new = now.get(name), now.get(new_name) if new_name != name else None
        if at_new is not None:
            assert at_new == after, f"{new_name} is neither original nor fixed"
            assert at_old is None or os.path.samefile(folder / name, folder / new_name), name
            done += 1
        else:
            assert at_old in (before, after), f"{name} is neither original nor fixed"
            done += at_old == after and after != before
        seen.update({name, new_name})
    assert set(now) <= seen, f"unexpected files: {sorted(set(now) - seen)[:5]}"
    return done


def journal_lines(state: Path) -> int:
    total = 0
    for p in (state / "fix-runs").glob("*.jsonl") if (state / "fix-runs").is_dir() else ():
        total += p.read_bytes().count(b"\n")
    return total


class JournalWatch:
    """Counts journal lines incrementally (reads only what was appended since the last look),
    so polling costs the fix under test next to nothing, even on a busy machine."""

    def __init__(self, state: Path) -> None:
        self.folder = state / "fix-runs"
        self.seen: dict[Path, int] = {}
        self.lines = 0

    def count(self) -> int:
        for p in self.folder.glob("*.jsonl") if self.folder.is_dir() else ():
            at = self.seen.get(p, 0)
            with open(p, "rb") as fh:
                fh.seek(at)
                chunk = fh.read()
            self.seen[p] = at + len(chunk)
            self.lines += chunk.count(b"\n")
        return self.lines


def start(args: list[str], cwd: Path, state: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PRESETCTL_STATE_DIR": str(state)}
    # The pack's metadata fixes are in the marketplace profile (ignored with --undo and --resume).
    args = ["--profile", "marketplace", *args]
    return subprocess.Popen([sys.executable, "-m", "presetctl", "fix", "-q", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def kill_when(proc: subprocess.Popen[bytes], state: Path, lines: int, timeout: float = 120) -> bool:
    """SIGKILL ``proc`` once the journals hold ``lines`` lines; False if it finished first.

    The kill point is an observable event (journal lines), never a delay: on a slow or busy
    machine the run is simply caught later in wall time, at the same point of its work."""
    deadline = time.monotonic() + timeout
    watch = JournalWatch(state)
    while proc.poll() is None and time.monotonic() < deadline:
        if watch.count() >= lines:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            return True
        time.sleep(0.002)  # polling interval only: the kill itself waits for the event above
    proc.communicate()
    return False


def run(args: list[str], cwd: Path, state: Path) -> None:
    proc = start(args, cwd, state)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()


@contextlib.contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each for the duration (a loaded CI machine)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for b in burners:
            b.kill()
            b.wait()


ALL_POINTS = ((3, "undo"), (300, "resume-killed"), (900, "undo"), (1100, "resume"))


@pytest.mark.slow
@pytest.mark.parametrize(("load", "points"), [(0, ALL_POINTS), (2, ALL_POINTS[1:3])], ids=["idle", "both-cores-busy"])
def test_sigkill_at_many_points_never_loses_a_file(tmp_path: Path, load: int,
                                                   points: tuple[tuple[int, str], ...]) -> None:
    """Under load too: the kill points are events, so a slow machine only moves them in time."""
    with busy_cores(load):
        _kill_at_many_points(tmp_path, points)


def _kill_at_many_points(tmp_path: Path, points: tuple[tuple[int, str], ...]) -> None:
    pack = tmp_path / "pack"
    original = write_pack(pack)
    # The fixed version of every file, from an in-process run on a copy.
    ref = tmp_path / "ref"
    shutil.copytree(pack, ref)
    market = Options(profiles=("marketplace",))  # the pack's metadata fixes are in this profile
    result = fix([str(ref)], market, market, FixSettings(fsync=False, state_dir=str(tmp_path / "ref-state")),
                 cwd=str(tmp_path))
    renamed = {Path(f.path).name: Path(f.new_path).name for f in result.files if f.new_path}
    fixed_now = snapshot(ref)
    fixed = {n: (renamed.get(n, n), fixed_now[renamed.get(n, n)]) for n in original}
    changed = sum(1 for n, b in original.items() if fixed[n] != (n, b))
    assert 700 <= changed < COUNT and len(renamed) == 20

    state = tmp_path / "state"
    header = 1
    kills = 0
    # Kill the fix at several depths; resume (sometimes killing the resume too) or undo.
    for depth, then in points:
        proc = start([".", "--no-fsync"] if depth != 900 else ["."], pack, state)
        kills += kill_when(proc, state, journal_lines(state) + header + depth)
        done = check_each_file_whole(pack, original, fixed)
        assert 0 <= done <= changed
        if then.startswith("resume"):
            if then == "resume-killed":
                proc = start(["--resume", "--no-fsync"], pack, state)
                kills += kill_when(proc, state, journal_lines(state) + 200)
                assert check_each_file_whole(pack, original, fixed) >= done
            run(["--resume", "--no-fsync"], pack, state)
            assert snapshot(pack) == {new: data for new, data in fixed.values()}
        if depth == 900:  # kill the undo too, once it has put back 200 files (its journal says so), then undo again
            proc = start(["--undo", "--no-fsync"], pack, state)
            kills += kill_when(proc, state, journal_lines(state) + 200)
            check_each_file_whole(pack, original, fixed)
        run(["--undo", "--no-fsync"], pack, state)
        assert snapshot(pack) == original
    assert kills >= len(points)  # the runs really were killed mid-way (a late kill on a busy machine is harmless)
    again = start(["--undo"], pack, state)  # a second undo: nothing left, and that is not an error
    out, err = again.communicate(timeout=120)
    assert (again.returncode, err) == (0, b"")
