"""The metrics registry, the run's metrics, --metrics-file (Prometheus text format) and budgets (E003)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from presetctl import api
from presetctl.cli.app import app
from presetctl.engine.config import options_from_config
from presetctl.engine.errors import ConfigError
from presetctl.engine.metrics import MAX_SAMPLES, Metrics, RuleClock, percentile
from presetctl.engine.options import Budgets, Options
from presetctl.obs.prometheus import render

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_presets"


def families(text: str) -> dict[str, object]:
    """Parsed by the official client's parser: an independent check of the exposition format."""
    return {f.name: f for f in text_string_to_metric_families(text)}


# -- the registry -----------------------------------------------------------------------------------


def test_counters_gauges_and_labels() -> None:
    m = Metrics()
    files = m.counter("presetctl_files_total", "Files")
    files.inc(status="validated")
    files.inc(2, status="validated")
    files.inc(status="broken")
    assert files.value(status="validated") == 3 and files.value(status="broken") == 1 and files.value() == 0
    with pytest.raises(ValueError):
        files.inc(-1)
    peak = m.gauge("peak", "Peak")
    for v in (3, 7, 5):
        peak.max(v)
    assert peak.value() == 7
    assert m.counter("presetctl_files_total") is files  # made once, found by name
    with pytest.raises(TypeError):
        m.gauge("presetctl_files_total")


def test_histogram_percentiles_and_buckets() -> None:
    m = Metrics()
    h = m.histogram("h", "H", buckets=(1.0, 10.0, 100.0))
    for v in range(1, 101):
        h.observe(float(v))
    s = h.labels()
    assert (s.count, s.sum, s.min, s.max) == (100, 5050.0, 1.0, 100.0)
    assert s.cumulative() == [1, 10, 100]
    assert h.percentile(0.5) == pytest.approx(50.5)
    assert h.percentile(0.99) == pytest.approx(99.01)
    assert math.isnan(h.percentile(0.5, other="x"))
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN
    assert percentile([4.0], 0.99) == 4.0


def test_histogram_keeps_a_bounded_reservoir() -> None:
    h = Metrics().histogram("h", "H")
    for v in range(MAX_SAMPLES + 5000):
        h.observe(float(v))
    s = h.labels()
    assert len(s.samples) == MAX_SAMPLES and s.count == MAX_SAMPLES + 5000 and s.max == MAX_SAMPLES + 4999


def test_timers_observe_the_block() -> None:
    m = Metrics()
    with m.timer("t", "T", stage="x"):
        pass
    with m.gauge("g", "G").time(stage="y"):
        pass
    assert m.histogram("t").labels(stage="x").count == 1
    assert (m.gauge("g").value(stage="y") or -1) >= 0


def test_rule_clock_drains_and_adds_up() -> None:
    clock = RuleClock()
    assert clock.drain() is None
    clock.add("X001", 0.5)
    clock.add("X001", 0.25)
    clock.add("M001", 0.1)
    times = clock.drain()
    assert times is not None and clock.drain() is None
    m = Metrics()
    m.add_rule_times(times)
    m.add_rule_times(times)
    assert m.rule_costs() == [("X001", 1.5, 4), ("M001", 0.2, 2)]


def test_rule_clock_samples_files_and_scales_the_time_up() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class R:
        code: str

    checks = (R("A001"), R("B002"))
    clock = RuleClock(every=4, warm=2)
    timed_files = []
    for n in range(1, 11):
        if clock.timing(checks):
            timed_files.append(n)
            for r in checks:
                clock.add(r.code, 1.0)
    assert timed_files == [1, 2, 4, 8]  # the first two, then every fourth
    times = clock.drain()
    assert times is not None
    assert sorted(times.entries) == [("A001", 10, 10.0), ("B002", 10, 10.0)]  # calls exact, seconds scaled 10/4
    assert clock.drain() is None


# -- the Prometheus text format ----------------------------------------------------------------------


def test_exposition_format_parses_with_the_official_parser() -> None:
    m = Metrics()
    m.counter("presetctl_files_total", "Files looked at, by status").inc(3, status='odd "name"\\x\n')
    m.gauge("presetctl_workers", "Workers").set(2)
    h = m.histogram("presetctl_file_check_seconds", "Seconds per file", buckets=(0.001, 0.01))
    for v in (0.0005, 0.005, 0.05):
        h.observe(v)
    m.counter("presetctl_empty_total", "never incremented")
    text = render(m)
    assert "# TYPE presetctl_file_check_seconds histogram" in text
    assert 'presetctl_file_check_seconds_bucket{le="+Inf"} 3' in text
    assert "presetctl_empty_total" not in text  # a family without samples is left out
    got = families(text)
    files = got["presetctl_files"]
    assert files.type == "counter"  # type: ignore[attr-defined]
    assert files.samples[0].labels == {"status": 'odd "name"\\x\n'}  # type: ignore[attr-defined]
    buckets = {s.labels["le"]: s.value for s in got["presetctl_file_check_seconds"].samples  # type: ignore[attr-defined]
               if s.name.endswith("_bucket")}
    assert buckets == {"0.001": 1.0, "0.01": 2.0, "+Inf": 3.0}


# -- a run's metrics ----------------------------------------------------------------------------------


def test_a_run_measures_stages_rules_files_and_resources() -> None:
    m = Metrics()
    result = api.validate([str(SAMPLES)], Options(jobs=1), metrics=m)
    stages = m.gauge("presetctl_stage_seconds")
    assert {dict(k)["stage"] for k in stages.values} == {"discover", "check", "pack", "total"}
    files = m.counter("presetctl_files_total")
    assert sum(files.values.values()) == len(result.files)
    costs = m.rule_costs()
    assert costs and all(seconds >= 0 and calls > 0 for _, seconds, calls in costs)
    checked = [o for o in result.files if o.status.value != "skipped"]
    assert m.histogram("presetctl_file_check_seconds").labels().count == len(checked)
    assert (m.gauge("presetctl_peak_rss_bytes").value() or 0) > 0
    assert m.counter("presetctl_cpu_seconds_total").value(mode="user") >= 0


def test_rule_times_come_back_from_worker_processes(tmp_path: Path) -> None:
    """Two workers: every rule call made in a worker is counted in the parent's registry, as in-process."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for i in range(120):  # over PARALLEL_MIN_FILES, so the run uses worker processes
        (pack / f"p{i:03d}.json").write_text(json.dumps({"format_version": "1.0", "metadata": {"name": f"p{i:03d}"},
                                                         "parameters": [{"name": "x", "value": i}]}))
    counts = []
    for jobs in (1, 2):
        m = Metrics()
        result = api.validate([str(pack)], Options(jobs=jobs), metrics=m)
        assert result.jobs == jobs
        counts.append({code: calls for code, _, calls in m.rule_costs()})
    assert counts[0] == counts[1] and counts[0]["S001"] == 120


def test_a_run_without_a_registry_times_no_rule() -> None:
    from presetctl.engine.rules.selection import RuleSet

    assert RuleSet(Options()).clock is None  # the fix planner, stats and API runs without metrics


def test_metrics_file_is_written_atomically_in_prometheus_format(tmp_path: Path, runner: CliRunner) -> None:
    dest = tmp_path / "presetctl.prom"
    r = runner.invoke(app, ["validate", str(SAMPLES), "-q", "--exit-zero", "--metrics-file", str(dest)])
    assert r.exit_code == 0, r.output
    got = families(dest.read_text())
    assert got["presetctl_exit_code"].samples[0].value == 0  # type: ignore[attr-defined]
    info = got["presetctl_run_info"].samples[0].labels  # type: ignore[attr-defined]
    assert info["command"] == "validate"
    for name in ("presetctl_stage_seconds", "presetctl_rule_seconds", "presetctl_files", "presetctl_findings",
                 "presetctl_file_check_seconds", "presetctl_peak_rss_bytes", "presetctl_run_duration_seconds"):
        assert name in got, name
    assert [p.name for p in tmp_path.iterdir()] == ["presetctl.prom"]  # no temporary file left behind


@pytest.mark.parametrize("where", ["global", "env"])
def test_metrics_file_before_the_command_and_from_the_environment(tmp_path: Path, runner: CliRunner,
                                                                 monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    dest = tmp_path / "m.prom"
    args = ["stats", str(SAMPLES), "-q", "--section", "overview"]
    if where == "global":
        args = ["--metrics-file", str(dest), *args]
    else:
        monkeypatch.setenv("PRESETCTL_METRICS_FILE", str(dest))
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    got = families(dest.read_text())
    assert got["presetctl_run_info"].samples[0].labels["command"] == "stats"  # type: ignore[attr-defined]


def test_global_metrics_file_for_a_command_without_a_run(tmp_path: Path, runner: CliRunner) -> None:
    dest = tmp_path / "rules.prom"
    r = runner.invoke(app, ["--metrics-file", str(dest), "rules"])
    assert r.exit_code == 0, r.output
    got = families(dest.read_text())
    assert got["presetctl_run_info"].samples[0].labels["command"] == "rules"  # type: ignore[attr-defined]
    assert "presetctl_peak_rss_bytes" in got and "presetctl_stage_seconds" not in got


def test_metrics_file_in_a_missing_folder_is_a_usage_error(tmp_path: Path, runner: CliRunner) -> None:
    r = runner.invoke(app, ["validate", str(SAMPLES), "--metrics-file", str(tmp_path / "nope" / "m.prom")])
    assert r.exit_code == 2 and "does not exist" in r.output


def test_validate_v_lists_the_costliest_rules(runner: CliRunner) -> None:
    r = runner.invoke(app, ["validate", str(SAMPLES), "-v", "--exit-zero", "-o", "concise"])
    assert r.exit_code == 0
    line = next(ln for ln in r.stderr.splitlines() if ln.startswith("costliest rules: "))
    assert line.count("%") == 5 and " in " in line


# -- budgets (E003) ---------------------------------------------------------------------------------


def test_budgets_config() -> None:
    got = options_from_config({"budgets": {"wall-time": "1.5m", "peak-memory": "512MiB"}}).budgets
    assert got == Budgets(wall_time=90.0, peak_memory=512 * 1024 * 1024)
    assert options_from_config({"budgets": {"wall-time": 30, "peak-memory": "2GB"}}).budgets == \
        Budgets(30.0, 2_000_000_000)
    for bad in ({"wall-time": "soon"}, {"wall-time": 0}, {"peak-memory": True}, {"cpu": 3}):
        with pytest.raises(ConfigError):
            options_from_config({"budgets": bad})


def test_a_run_over_its_budgets_gets_a_warning_finding_and_a_log_record(tmp_path: Path, runner: CliRunner,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "presetctl.toml").write_text('[budgets]\nwall-time = "1ms"\npeak-memory = 1\n')
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "a.json").write_text((SAMPLES / "evening-pad.json").read_text())
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["validate", "pack", "-o", "json"])
    assert r.exit_code == 0, r.output  # a warning: the gate (errors) passes
    found = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "E003"]
    assert [(f["path"], f["severity"]) for f in found] == [("pack", "warning")] * 2
    assert "over the wall-time budget of 0.0 s" in found[0]["message"] + found[1]["message"]
    assert any("over the peak-memory budget" in f["message"] for f in found)
    state = Path(os.environ["PRESETCTL_STATE_DIR"])
    records = [json.loads(line) for line in (state / "logs" / "presetctl.log").read_text().splitlines()]
    assert sum(1 for rec in records if rec["code"] == "PE407" and rec["level"] == "warning") == 2


def test_a_run_within_its_budgets_has_no_e003(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "presetctl.toml").write_text('[budgets]\nwall-time = "1h"\npeak-memory = "64GiB"\n')
    (tmp_path / "a.json").write_text((SAMPLES / "evening-pad.json").read_text())
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["validate", "a.json", "-o", "json"])
    assert r.exit_code == 0 and all(f["code"] != "E003" for f in json.loads(r.stdout)["findings"])


def test_scan_security_logs_a_budget_it_went_over(tmp_path: Path, runner: CliRunner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """scan-security reports only security codes: no E003 finding there, but the PE407 record is logged."""
    (tmp_path / "presetctl.toml").write_text('[budgets]\nwall-time = "1ms"\n')
    (tmp_path / "a.json").write_text((SAMPLES / "evening-pad.json").read_text())
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["scan-security", "a.json", "-o", "json"])
    assert r.exit_code == 0, r.output
    assert all(f["code"] != "E003" for f in json.loads(r.stdout)["findings"])
    state = Path(os.environ["PRESETCTL_STATE_DIR"])
    records = [json.loads(line) for line in (state / "logs" / "presetctl.log").read_text().splitlines()]
    assert [rec["cmd"] for rec in records if rec["code"] == "PE407"] == ["scan-security"]
