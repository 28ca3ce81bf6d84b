"""``presetctl bench``: structure, claims, baselines and exit codes on tiny packs (never timings)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from presetctl.bench.measure import measure, stability_warning
from presetctl.bench.stages import STAGES
from presetctl.cli.app import app

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_presets"
TINY = ["--presets", "3", "--params", "20", "--rounds", "2", "--warmup", "0", "--no-peer", "-q"]
STAGE_KEYS = {"title", "unit", "samples", "p50", "p95", "p99", "max", "mean", "throughput", "cpu", "peak_rss",
              "round_medians", "spread", "warning", "claim", "claim_text", "met", "ratio"}
CLAIMS = {"quick": 50e-6, "comprehensive": 500e-6, "autofix": 200e-6, "security": 100e-6, "log-queued": 1e-6,
          "log-direct": 10e-6}


def _bench(runner: CliRunner, *args: str) -> tuple[int, dict[str, Any]]:
    r = runner.invoke(app, ["bench", *TINY, "--json", *args])
    return r.exit_code, json.loads(r.stdout) if r.exit_code in (0, 1) else {"output": r.output}


def test_every_stage_is_measured_with_its_claim(runner: CliRunner) -> None:
    code, doc = _bench(runner)
    assert code == 0, doc
    assert doc["version"] == 1 and doc["pack"]["files"] == 3 and doc["pack"]["source"] == "generated"
    assert list(doc["stages"]) == [s.name for s in STAGES]
    for name, stage in doc["stages"].items():
        assert set(stage) == STAGE_KEYS, name
        assert stage["samples"] > 0 and stage["p50"] <= stage["p95"] <= stage["p99"] <= stage["max"]
        assert len(stage["round_medians"]) == 2
        assert stage["claim"] == CLAIMS.get(name)
        if name in CLAIMS:
            assert stage["met"] is (stage["p50"] <= stage["claim"])
            assert stage["ratio"] == pytest.approx(stage["p50"] / stage["claim"])
        else:
            assert stage["met"] is None and stage["ratio"] is None
    assert doc["stages"]["log-queued"]["unit"] == "record" and doc["stages"]["history"]["unit"] == "run"
    assert doc["peer"] is None and "--no-peer" in doc["peer_note"]
    assert doc["scaling"] is None and doc["comparison"] is None


def test_text_table_has_a_row_per_stage_and_the_verdicts(runner: CliRunner) -> None:
    r = runner.invoke(app, ["bench", *TINY, "--stage", "quick,read", "--stage", "log-direct"])
    assert r.exit_code == 0, r.output
    rows = [ln.split()[0] for ln in r.stdout.splitlines()[3:6]]
    assert rows == ["read", "quick", "log-direct"]  # in the engine's order, whatever order they were asked in
    quick = r.stdout.splitlines()[4]
    assert "< 50 us" in quick and ("met (" in quick or "NOT met: " in quick)
    assert "check-jsonschema: not measured (--no-peer)" in r.stdout


def test_corpus_and_scaling_notes(runner: CliRunner) -> None:
    code, doc = _bench(runner, "--corpus", str(SAMPLES), "--stage", "comprehensive", "--jobs", "2")
    assert code == 0, doc
    assert doc["pack"]["source"] == str(SAMPLES) and doc["pack"]["files"] > 5
    assert doc["scaling"] is None and "at least 96 files" in doc["scaling_note"]


@pytest.mark.slow
def test_scaling_is_measured_on_a_pack_big_enough(runner: CliRunner) -> None:
    r = runner.invoke(app, ["bench", "--presets", "100", "--params", "10", "--rounds", "1", "--warmup", "0",
                            "--no-peer", "-q", "--json", "--stage", "read", "--jobs", "2"])
    assert r.exit_code == 0, r.output
    scaling = json.loads(r.stdout)["scaling"]
    assert scaling["jobs"] == 2 and scaling["files"] == 100 and scaling["claim"] == pytest.approx(1.7)
    assert scaling["met"] is (scaling["speedup"] >= 1.7)


def test_peer_is_check_jsonschema_when_installed(runner: CliRunner) -> None:
    from presetctl.bench.peer import find_tool

    if find_tool() is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[bench]')")
    r = runner.invoke(app, ["bench", "--presets", "3", "--params", "20", "--rounds", "1", "--warmup", "0", "-q",
                            "--json", "--stage", "quick", "--peer-files", "3"])
    peer = json.loads(r.stdout)["peer"]
    assert peer["tool"] == "check-jsonschema" and peer["files"] == 3 and peer["error"] == ""
    quick = json.loads(r.stdout)["stages"]["quick"]
    assert peer["ratio_quick"] == pytest.approx(peer["wall"] / quick["p50"])
    assert peer["ratio_quick_cpu"] == pytest.approx(peer["cpu"] / quick["cpu"])
    assert peer["ratio_comprehensive"] is None  # not measured in this run


def _saved(name: str, p50: float) -> Path:
    state = Path(os.environ["PRESETCTL_STATE_DIR"])
    path = state / "bench" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 1, "stages": {"read": {"p50": p50}, "parse": {"p50": p50}}}))
    return path


def test_save_then_compare(runner: CliRunner) -> None:
    code, _ = _bench(runner, "--stage", "read", "--save", "base")
    assert code == 0
    saved = json.loads((Path(os.environ["PRESETCTL_STATE_DIR"]) / "bench" / "base.json").read_text())
    assert saved["version"] == 1 and list(saved["stages"]) == ["read"]
    assert (Path(os.environ["PRESETCTL_STATE_DIR"]) / "bench" / "base.json").stat().st_mode & 0o777 == 0o600
    _saved("slower-before", 1e-15)  # anything measured now is a regression against this
    code, doc = _bench(runner, "--stage", "read,parse", "--compare", "slower-before")
    assert code == 1
    changes = doc["comparison"]["changes"]
    assert [c["stage"] for c in changes] == ["read", "parse"] and all(c["regression"] for c in changes)
    _saved("faster-before", 1e6)  # nothing measured now is slower than a million seconds
    code, doc = _bench(runner, "--stage", "read", "--compare", "faster-before")
    assert code == 0 and doc["comparison"]["changes"][0]["regression"] is False


def test_threshold_decides_a_regression() -> None:
    from presetctl.bench.run import Change

    assert Change("read", 1.0, 1.09, 0.10).regression is False
    assert Change("read", 1.0, 1.11, 0.10).regression is True
    assert Change("read", 1.0, 1.11, 0.20).regression is False


@pytest.mark.parametrize(("args", "message"), [
    (["--stage", "warp"], "unknown stage 'warp'"),
    (["--compare", "never-saved"], "no saved benchmark 'never-saved'"),
    (["--save", "../escape"], "baseline name '../escape'"),
    (["--corpus", "/nonexistent-folder"], "not a folder"),
])
def test_usage_errors_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    r = runner.invoke(app, ["bench", *TINY, *args])
    assert r.exit_code == 2 and message in r.output, r.output


def test_metrics_file_has_the_stage_quantiles(runner: CliRunner, tmp_path: Path) -> None:
    dest = tmp_path / "bench.prom"
    r = runner.invoke(app, ["bench", *TINY, "--stage", "read", "--metrics-file", str(dest)])
    assert r.exit_code == 0, r.output
    fam = {f.name: f for f in text_string_to_metric_families(dest.read_text())}["presetctl_bench_seconds"]
    assert {(s.labels["stage"], s.labels["quantile"]) for s in fam.samples} == {
        ("read", q) for q in ("0.5", "0.95", "0.99", "1")}


def test_stability_warning_follows_pyperf() -> None:
    assert stability_warning((1.0, 1.01, 0.99)) == ""
    assert "standard deviation is" in stability_warning((1.0, 1.5, 0.7))
    assert "one measured round" in stability_warning((1.0,))


def test_measure_drops_warmup_rounds() -> None:
    calls: list[int] = []

    def one() -> list[float]:
        calls.append(1)
        return [float(len(calls))] * 4

    stats = measure(one, rounds=3, warmup=2)
    assert len(calls) == 5 and stats.rounds == (3.0, 4.0, 5.0) and stats.samples == 12 and stats.max == 5.0
