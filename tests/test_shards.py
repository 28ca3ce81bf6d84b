"""--shard K/N and merge-reports: stable assignment, and a merge that equals the single run."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import require_corpus
from typer.testing import CliRunner

from presetctl.cli.app import app
from presetctl.engine.errors import UsageError
from presetctl.engine.shard import in_shard, parse_shard, shard_key, shard_of

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_presets"


def test_parse_shard() -> None:
    assert parse_shard("2/4") == (2, 4) and parse_shard(" 1 / 1 ") == (1, 1)
    for bad in ("0/4", "5/4", "1/0", "a/b", "2", "-1/3"):
        with pytest.raises(UsageError):
            parse_shard(bad)


@pytest.mark.parametrize(("display", "roots", "key"), [
    ("presets/Bass/a.json", ["presets"], "Bass/a.json"),
    ("presets/Bass/a.json", ["./presets/"], "Bass/a.json"),
    ("/ci/checkout/presets/Bass/a.json", ["/ci/checkout/presets"], "Bass/a.json"),
    ("Bass/a.json", ["."], "Bass/a.json"),
    ("presets/Bass/a.json", ["presets/Bass/a.json"], "a.json"),  # a file named as a target: its name
    ("presets/Bass/a.json", ["presets", "presets/Bass"], "a.json"),  # the deepest target
    ("../lib/x.syx", ["../lib"], "x.syx"),
    ("elsewhere/a.json", ["presets"], "elsewhere/a.json"),
])
def test_shard_key_is_the_path_relative_to_the_target(display: str, roots: list[str], key: str) -> None:
    assert shard_key(display, roots) == key


def test_assignment_is_stable_and_covers_every_file_once() -> None:
    keys = [f"Cat{i % 7}/Preset {i:04d}.json" for i in range(2000)]
    for n in (1, 2, 3, 5):
        owners = [[k for k in keys if in_shard(f"presets/{k}", ["presets"], (s, n))] for s in range(1, n + 1)]
        assert sorted(sum(owners, [])) == sorted(keys)
        assert all(len(o) > len(keys) / n * 0.8 for o in owners)  # roughly even


def test_shard_of_is_sha256_based() -> None:
    import hashlib

    for key in ("Bass/a.json", "Pads/Ünïcode.vital", "x"):
        digest = hashlib.sha256(key.encode()).digest()
        assert shard_of(key, 7) == int.from_bytes(digest[:8], "big") % 7 + 1


def _json(runner: CliRunner, *args: str) -> dict[str, Any]:
    r = runner.invoke(app, list(args))
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    doc["summary"].pop("seconds")
    doc["run"].pop("started_at")
    return doc


def test_shards_partition_the_files(runner: CliRunner, tmp_path: Path) -> None:
    whole = _json(runner, "validate", str(SAMPLES), "-o", "json", "--shard", "1/1")
    parts = [_json(runner, "validate", str(SAMPLES), "-o", "json", "--shard", f"{k}/3") for k in (1, 2, 3)]
    paths = [[f["path"] for f in p["shard"]["files"]] for p in parts]
    assert sorted(sum(paths, [])) == [f["path"] for f in whole["shard"]["files"]]
    assert all(paths) and sum(p["summary"]["files"] for p in parts) == whole["summary"]["files"]
    assert [p["shard"]["index"] for p in parts] == [1, 2, 3] and {p["shard"]["count"] for p in parts} == {3}


def _merge(runner: CliRunner, tmp_path: Path, command: str, target: str, n: int, *extra: str) -> tuple[
        dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(single run with --shard 1/1, plain single run, merge of the N shards), all as JSON reports."""
    files = []
    for k in range(1, n + 1):
        dest = tmp_path / f"{command}-{k}.json"
        r = runner.invoke(app, [command, target, "--shard", f"{k}/{n}", "-o", "concise", "--report",
                                f"json:{dest}", *extra])
        assert r.exit_code in (0, 1), r.output
        files.append(str(dest))
    single = _json(runner, command, target, "-o", "json", "--shard", "1/1", *extra)
    plain = _json(runner, command, target, "-o", "json", *extra)
    merged = _json(runner, "merge-reports", *files, "-o", "json")
    return single, plain, merged


@pytest.mark.corpus
def test_merged_report_equals_the_single_run_on_the_corpus(runner: CliRunner, tmp_path: Path) -> None:
    corpus = str(require_corpus())
    single, plain, merged = _merge(runner, tmp_path, "validate", corpus, 3, "--profile", "marketplace")
    assert merged["findings"] == single["findings"] == plain["findings"]  # identical, in the same order
    assert _comparable(merged) == _comparable(single)  # and everything else but the clock
    cross = {f["code"] for f in merged["findings"] if f["code"][0] == "Q"}
    assert {"Q001", "Q002"} <= cross  # duplicates across shards are found by the merge
    shard_q = [sum(f["code"] == "Q001" for f in json.loads((tmp_path / f"validate-{k}.json").read_text())["findings"])
               for k in (1, 2, 3)]
    assert sum(shard_q) != sum(f["code"] == "Q001" for f in merged["findings"])  # the shards alone miss groups


@pytest.mark.corpus
def test_merged_security_scan_equals_the_single_run(runner: CliRunner, tmp_path: Path) -> None:
    corpus = str(require_corpus())
    single, plain, merged = _merge(runner, tmp_path, "scan-security", corpus, 2)
    assert merged["findings"] == plain["findings"] and _comparable(merged) == _comparable(single)


def test_merge_renders_every_format_as_the_single_run(runner: CliRunner, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pack = tmp_path / "pack"
    pack.mkdir()
    for p in SAMPLES.glob("*.json"):
        (pack / p.name).write_bytes(p.read_bytes())
        (pack / f"copy of {p.name}").write_bytes(p.read_bytes())  # duplicates across shards
    (pack / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (pack / "broken.json").write_text('{"format_version": "1.0",')  # an error: exit 1
    parts = []
    for k in (1, 2):
        dest = tmp_path / f"s{k}.json"
        r = runner.invoke(app, ["validate", "pack", "--profile", "marketplace", "--shard", f"{k}/2", "-o", "json"])
        dest.write_text(r.stdout)
        parts.append(str(dest))
    for fmt in ("concise", "sarif", "junit", "github", "gitlab"):
        single = runner.invoke(app, ["validate", "pack", "--profile", "marketplace", "-o", fmt])
        merged = runner.invoke(app, ["merge-reports", *parts, "-o", fmt])
        assert merged.exit_code == single.exit_code == 1
        assert _strip_clock(merged.stdout) == _strip_clock(single.stdout), fmt


def _strip_clock(text: str) -> str:
    import re

    text = re.sub(r'time="[0-9.]+"', 'time=""', text)
    text = re.sub(r'timestamp="[^"]*"', 'timestamp=""', text)
    return re.sub(r'"(startTimeUtc|endTimeUtc)": "[^"]*"', r'"\1": ""', text)


def test_merge_needs_every_shard_once_of_one_run(runner: CliRunner, tmp_path: Path) -> None:
    reports = {}
    for spec in ("1/2", "2/2", "1/3"):
        dest = tmp_path / f"s{spec.replace('/', '-')}.json"
        dest.write_text(runner.invoke(app, ["validate", str(SAMPLES), "--shard", spec, "-o", "json"]).stdout)
        reports[spec] = str(dest)
    plain = tmp_path / "plain.json"
    plain.write_text(runner.invoke(app, ["validate", str(SAMPLES), "-o", "json"]).stdout)
    cases = [
        ([reports["1/2"]], "shard 2 of 2 missing"),
        ([reports["1/2"], reports["1/2"]], "are both shard 1/2"),
        ([reports["1/2"], reports["1/3"]], "their shard count differ"),
        ([str(plain)], "no 'shard' key"),
        ([str(tmp_path / "absent.json")], "cannot read report"),
    ]
    for files, message in cases:
        r = runner.invoke(app, ["merge-reports", *files, "-o", "json"])
        assert r.exit_code == 2 and message in r.output, (files, r.output)
    ok = runner.invoke(app, ["merge-reports", reports["1/2"], reports["2/2"], "-o", "concise", "-q"])
    assert ok.exit_code in (0, 1), ok.output


def test_merge_with_a_baseline(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pack = tmp_path / "pack"
    pack.mkdir()
    for p in list(SAMPLES.glob("*.json"))[:4]:
        (pack / p.name).write_bytes(p.read_bytes())
        (pack / f"again {p.name}").write_bytes(p.read_bytes())
    (tmp_path / "presetctl.toml").write_text('profile = "marketplace"\n')
    first = list(SAMPLES.glob("*.json"))[0].name
    runner.invoke(app, ["validate", f"pack/{first}", "pack/again " + first, "--write-baseline", "base.json"])
    parts = []
    for k in (1, 2):
        dest = tmp_path / f"s{k}.json"
        dest.write_text(runner.invoke(app, ["validate", "pack", "--shard", f"{k}/2", "--baseline", "base.json",
                                            "-o", "json"]).stdout)
        parts.append(str(dest))
    r = runner.invoke(app, ["merge-reports", *parts, "-o", "json"])
    assert r.exit_code == 2 and "pass the same --baseline" in r.output
    merged = json.loads(runner.invoke(app, ["merge-reports", *parts, "-o", "json", "--baseline", "base.json"]).stdout)
    single = json.loads(runner.invoke(app, ["validate", "pack", "--baseline", "base.json", "-o", "json"]).stdout)
    assert merged["findings"] == single["findings"]
    assert merged["summary"]["baseline_suppressed"] == single["summary"]["baseline_suppressed"] > 0


def test_shard_in_a_subprocess_matches_in_process(tmp_path: Path) -> None:
    """The assignment does not depend on the process (PYTHONHASHSEED): a real run picks the same files."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-m", "presetctl", "--no-history", "validate", str(SAMPLES), "--shard",
                          "2/3", "-o", "json"], capture_output=True, text=True, env=env, check=False)
    paths = [f["path"] for f in json.loads(out.stdout)["shard"]["files"]]
    expected = sorted(str(p) for p in _all_files(SAMPLES) if in_shard(str(p), [str(SAMPLES)], (2, 3)))
    assert paths == expected


def _all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() or p.is_symlink()]
