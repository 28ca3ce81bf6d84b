"""``presetctl fix`` through the CLI: preview modes, writes, undo, history, locks and failures."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from presetctl.state.lock import StateLock

# M004 and M005 (marketplace profile) are the fixes these tests exercise: every fix runs with --profile marketplace.
PRESET = (b'{\n  "format_version": "1.0",\n  "metadata": {\n    "name": "%s",\n    "category": "basses",\n'
          b'    "tags": ["Dark", "dark "]\n  },\n  "parameters": []\n}\n')
FIXED = PRESET.replace(b'"basses"', b'"Bass"').replace(b'["Dark", "dark "]', b'["dark"]')
CLEAN = (b'{"format_version": "1.0", "metadata": {"name": "Clean", "author": "A", "category": "Bass", '
         b'"description": "d", "license": "CC0-1.0"}, "parameters": []}')


def preset(name: str) -> bytes:
    return PRESET % name.encode()


def fixed(name: str) -> bytes:
    return FIXED % name.encode()


@pytest.fixture
def two(pack: Path) -> Path:
    (pack / "Bass.json").write_bytes(preset("Bass"))
    (pack / "Clean.json").write_bytes(CLEAN)
    return pack


def test_diff_shows_changes_and_changes_nothing(cli, two: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(two)
    r = cli(["fix", "--profile", "marketplace", "--diff", "Bass.json"])
    assert r.exit_code == 1
    assert r.output == (
        "--- a/Bass.json\n+++ b/Bass.json\n@@ -3,6 +3,6 @@\n"
        '   "metadata": {\n     "name": "Bass",\n'
        '-    "category": "basses",\n-    "tags": ["Dark", "dark "]\n'
        '+    "category": "Bass",\n+    "tags": ["dark"]\n'
        '   },\n   "parameters": []\n'
        "Would fix 2 issues in 1 of 1 file (M004 x1, M005 x1).\n")
    assert (two / "Bass.json").read_bytes() == preset("Bass")
    assert cli(["fix", "--profile", "marketplace", "--diff", "Clean.json"]).exit_code == 0


def test_dry_run_lists_fixes(cli, two: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli(["fix", "--profile", "marketplace", "--dry-run", str(two)])
    assert r.exit_code == 1
    assert "would apply 2 fixes" in r.output
    assert "  M004 category 'basses' -> 'Bass'\n" in r.output
    assert "  M005 tags ['Dark', 'dark '] -> ['dark']\n" in r.output
    assert (two / "Bass.json").read_bytes() == preset("Bass")


def test_fix_show_fixes_then_undo_restores_bytes_and_mtime(cli, two: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    os.utime(two / "Bass.json", ns=(1_000_000_000, 1_000_000_000))
    r = cli(["fix", "--profile", "marketplace", "--show-fixes", str(two)])
    assert r.exit_code == 0, r.output
    assert "  M004 category 'basses' -> 'Bass'\n" in r.output
    assert "Fixed 2 issues in 1 of 2 files (M004 x1, M005 x1).\n" in r.output
    assert (two / "Bass.json").read_bytes() == fixed("Bass")
    assert (two / "Clean.json").read_bytes() == CLEAN
    again = cli(["fix", "--profile", "marketplace", str(two)])  # idempotent: nothing left, and no run recorded
    assert again.exit_code == 0 and "Fixed 0 issues in 0 of 2 files.\n" in again.output
    hist = cli(["fix", "--history"])
    assert hist.exit_code == 0 and hist.output.count(" complete ") == 1
    monkeypatch.chdir(two.parent)  # journaled paths are shown relative to the working folder when under it
    preview = cli(["fix", "--undo", "--dry-run"])
    assert (preview.exit_code, preview.stdout) == (0, "would restore pack/Bass.json\n"
                                                      f"Undo of run {hist.output.split()[5]} would restore 1 file; "
                                                      "0 already original, 0 refused.\n")
    assert (two / "Bass.json").read_bytes() == fixed("Bass")  # a preview changes nothing
    u = cli(["fix", "--undo"])
    assert u.exit_code == 0, u.output
    assert "1 file restored" in u.output
    assert (two / "Bass.json").read_bytes() == preset("Bass")
    assert (two / "Bass.json").stat().st_mtime_ns == 1_000_000_000
    assert " undone " in cli(["fix", "--history"]).output
    second = cli(["fix", "--undo"])
    assert (second.exit_code, second.stdout) == (0, "Nothing left to undo: every recorded fix run is undone already.\n")


def test_undo_refuses_a_file_changed_since_unless_forced(cli, two: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli(["fix", "--profile", "marketplace", str(two)]).exit_code == 0
    (two / "Bass.json").write_bytes(b"edited by hand")
    r = cli(["fix", "--undo"])
    assert r.exit_code == 1 and "changed since the fix" in r.output
    assert (two / "Bass.json").read_bytes() == b"edited by hand"
    forced = cli(["fix", "--undo", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (two / "Bass.json").read_bytes() == preset("Bass")


def test_rename_never_overwrites_and_is_undone(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    (pack / "Bass?.json").write_bytes(preset("Bass?"))
    (pack / "Bass_.json").write_bytes(b"someone else's file")
    r = cli(["fix", "--show-fixes", "--select", "N002", str(pack)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in pack.iterdir()) == ["Bass_ (2).json", "Bass_.json"]
    assert (pack / "Bass_.json").read_bytes() == b"someone else's file"
    assert (pack / "Bass_ (2).json").read_bytes() == preset("Bass?")
    assert cli(["fix", "--undo"]).exit_code == 0
    assert sorted(p.name for p in pack.iterdir()) == ["Bass?.json", "Bass_.json"]
    assert (pack / "Bass?.json").read_bytes() == preset("Bass?")


def test_unsafe_fixes_need_the_flag(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    body = b'{"format_version": "1.0", "metadata": {"name": "Other"}, "parameters": []}'
    (pack / "Bass.json").write_bytes(body)
    safe_only = cli(["fix", "--select", "N001", str(pack)])
    assert safe_only.exit_code == 0
    assert safe_only.stdout == ("Fixed 0 issues in 0 of 1 file.\n"
                                "1 more fix available with `--unsafe-fixes` (they may change the sound or a name).\n")
    assert (pack / "Bass.json").read_bytes() == body
    assert cli(["fix", "--select", "N001", "--unsafe-fixes", str(pack)]).exit_code == 0
    assert (pack / "Bass.json").read_bytes() == body.replace(b'"Other"', b'"Bass"')


def test_pack_config_fills_author_and_license(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    (pack / "presetctl.toml").write_text('[pack]\nauthor = "Ada Moog"\nlicense = "CC0-1.0"\n')
    body = b'{"format_version": "1.0", "metadata": {"name": "Bass"}, "parameters": []}'
    (pack / "Bass.json").write_bytes(body)
    assert cli(["fix", "--select", "M002,M007", str(pack)]).exit_code == 0
    assert (pack / "Bass.json").read_bytes() == (
        b'{"format_version": "1.0", "metadata": {"license": "CC0-1.0", "author": "Ada Moog", "name": "Bass"}, '
        b'"parameters": []}')


def test_read_only_file_is_reported_and_the_batch_goes_on(cli, pack: Path) -> None:  # type: ignore[no-untyped-def]
    (pack / "A.json").write_bytes(preset("A"))
    (pack / "B.json").write_bytes(preset("B"))
    os.chmod(pack / "A.json", 0o444)
    r = cli(["fix", "--profile", "marketplace", str(pack)])
    assert r.exit_code == 1
    assert "A.json: file is read-only; not changed" in r.output
    assert (pack / "A.json").read_bytes() == preset("A")
    assert (pack / "B.json").read_bytes() == fixed("B")


def test_full_disk_is_reported_and_the_batch_goes_on(cli, pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from presetctl.engine.fix import run as fix_run

    (pack / "A.json").write_bytes(preset("A"))
    (pack / "B.json").write_bytes(preset("B"))
    real = fix_run.atomic_write

    def full(path: Path, data: bytes, **kw: object) -> None:
        if Path(path).name == "A.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(fix_run, "atomic_write", full)
    r = cli(["fix", "--profile", "marketplace", str(pack)])
    assert r.exit_code == 1
    assert "A.json: write failed (No space left on device); file left as it was" in r.output
    assert (pack / "A.json").read_bytes() == preset("A")
    assert (pack / "B.json").read_bytes() == fixed("B")
    assert cli(["fix", "--undo"]).exit_code == 0  # the failed file needs nothing, the other is restored
    assert (pack / "B.json").read_bytes() == preset("B")


def test_a_second_run_is_locked_out(cli, two: Path) -> None:  # type: ignore[no-untyped-def]
    state = Path(os.environ["PRESETCTL_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    with StateLock(state / "fix.lock"):
        r = cli(["fix", "--profile", "marketplace", str(two)])
    assert r.exit_code == 2 and "another presetctl fix run" in r.output
    assert (two / "Bass.json").read_bytes() == preset("Bass")


def test_interrupted_run_blocks_new_runs_until_resumed(cli, two: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli(["fix", "--profile", "marketplace", str(two)]).exit_code == 0
    journal = next((Path(os.environ["PRESETCTL_STATE_DIR"]) / "fix-runs").glob("*.jsonl"))
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-2]) + b'{"t": "do')  # as if killed before "done": torn last line
    (two / "Bass.json").write_bytes(preset("Bass"))  # and before the write landed
    r = cli(["fix", "--profile", "marketplace", str(two)])
    assert r.exit_code == 2 and "was interrupted" in r.output
    assert " interrupted " in cli(["fix", "--history"]).output
    resumed = cli(["fix", "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert (two / "Bass.json").read_bytes() == fixed("Bass")
    assert cli(["fix", "--undo"]).exit_code == 0
    assert (two / "Bass.json").read_bytes() == preset("Bass")


def test_options_conflict_and_unknown_run(cli, two: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli(["fix", "--profile", "marketplace", "--diff", "--dry-run", str(two)]).exit_code == 2
    r = cli(["fix", "--undo", "nope"])
    assert r.exit_code == 2 and "state error" in r.output


@pytest.mark.parametrize("hold", [True, False])
def test_file_changed_while_being_fixed_is_left_alone(cli, pack: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                      hold: bool) -> None:
    from presetctl.engine.fix import run as fix_run

    if not hold:  # the plan (its category changes, so it waits for the pack check) is planned again to write
        monkeypatch.setattr(fix_run, "HOLD_BYTES", 0)
    (pack / "A.json").write_bytes(preset("A"))
    real = fix_run.plan_file

    def plan_then_edit(data, display, rules, options, *more):  # type: ignore[no-untyped-def]
        plan = real(data, display, rules, options, *more)
        (pack / "A.json").write_bytes(b"saved by the synth meanwhile")
        return plan

    monkeypatch.setattr(fix_run, "plan_file", plan_then_edit)
    r = cli(["fix", "--profile", "marketplace", str(pack)])
    assert r.exit_code == 1 and "file changed while it was being fixed; not changed" in r.output
    assert (pack / "A.json").read_bytes() == b"saved by the synth meanwhile"


def test_plans_waiting_for_the_pack_check_are_written_the_same_when_planned_again(  # type: ignore[no-untyped-def]
        cli, two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from presetctl.engine.fix import run as fix_run

    monkeypatch.setattr(fix_run, "HOLD_BYTES", 0)  # no plan bytes kept: every held plan is planned again
    r = cli(["fix", "--show-fixes", "--profile", "marketplace", str(two)])
    assert r.exit_code == 0, r.output
    assert (two / "Bass.json").read_bytes() == fixed("Bass") and (two / "Clean.json").read_bytes() == CLEAN
    assert cli(["fix", "--undo"]).exit_code == 0
    assert (two / "Bass.json").read_bytes() == preset("Bass")


def test_history_and_resume_with_nothing_recorded(cli) -> None:  # type: ignore[no-untyped-def]
    h = cli(["fix", "--history"])
    assert h.exit_code == 0 and h.output == "No fix runs recorded.\n"
    r = cli(["fix", "--resume"])
    assert r.exit_code == 2 and "no interrupted fix run to resume" in r.output


def test_parallel_planning_matches_one_process(pack: Path) -> None:
    from dataclasses import replace

    from presetctl.engine.fix.run import FixSettings, fix
    from presetctl.engine.options import Options

    for i in range(120):  # over PARALLEL_MIN_FILES, so two workers plan
        (pack / f"P{i:03d}.json").write_bytes(preset(f"P{i:03d}") if i % 2 else CLEAN.replace(b"Clean", b"P%03d" % i))
    market = Options(profiles=("marketplace",))
    runs = [fix(["."], replace(market, jobs=jobs), market, FixSettings(mode="diff"), cwd=str(pack))
            for jobs in (1, 2)]
    assert [(f.path, f.applied, f.diff) for f in runs[0].files] == [(f.path, f.applied, f.diff) for f in runs[1].files]
    assert len(runs[0].changed) == 60
