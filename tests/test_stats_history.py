"""The `stats` history section: findings per rule over the recorded runs over the same targets, runs
per outcome, recovery rates of tool errors; in the terminal, JSON, CSV and HTML; and what it says
when the history is off, foreign or empty."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from test_history import finding

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.incidents import Incident, Outcome, RecoveryAttempt
from presetctl.engine.options import Options
from presetctl.engine.stats import history
from presetctl.engine.stats.model import HistoryFacts, RecordedRun, RecoveryStat, StatsContext
from presetctl.state.history import HistoryStore
from presetctl.state.queries import stats_history
from presetctl.state.recorder import HistoryRecorder, RunHeader


def run(i: int, command: str = "validate", by_rule: dict[str, int] | None = None, outcome: str = "findings",
        errors: int = 0) -> RecordedRun:
    rules = by_rule if by_rule is not None else {}
    return RecordedRun(f"2026010{i}T000000-{i:06x}", command, 1_767_225_600.0 + i * 86400, outcome,
                       None if outcome == "no end" else 1, 10, sum(rules.values()),
                       {"error": errors, "warning": 0, "info": 0}, by_rule)


FACTS = HistoryFacts(
    ("/w/pack",),
    (run(1, by_rule={"M001": 3, "N003": 1}, errors=3), run(2, "scan-security", {"X061": 1}, "clean"),
     run(3, by_rule={"M001": 1, "Q001": 2}, errors=1), run(4, "stats", None, "clean"),
     run(5, by_rule=None, outcome="no end")),
    (RecoveryStat("PE302", "history-locked", 3, 2, 4, 2, 1), RecoveryStat("PE303", "history-corrupt", 1, 1, 0, 0, 0)),
)


def test_the_section_from_facts() -> None:
    section = history.compute([], StatsContext(Options(), history=FACTS))
    data = section.data
    assert data["available"] is True and data["targets"] == ["/w/pack"]
    assert [r["id"] for r in data["runs"]] == [r.id for r in FACTS.runs]
    assert data["runs"][0]["started_at"] == "2026-01-02T00:00:00+00:00"
    validate = data["findings_over_time"]["validate"]
    assert validate["runs"] == [FACTS.runs[0].id, FACTS.runs[2].id]  # finished runs with counts only
    # Most findings in the last run first, then the most over the window, then by code.
    assert validate["by_rule"] == {"Q001": [0, 2], "M001": [3, 1], "N003": [1, 0]}
    assert data["findings_over_time"]["scan-security"]["by_rule"] == {"X061": [1]}
    assert data["outcomes"] == {"scan-security": {"clean": 1}, "stats": {"clean": 1},
                                "validate": {"findings": 2, "no end": 1}}
    assert data["recovery"][0] == {"code": "PE302", "name": "history-locked", "occurrences": 3, "runs": 2,
                                   "retries": 4, "recovered": 2, "failed": 1, "success_rate": 2 / 3}
    assert data["recovery"][1]["success_rate"] is None
    tables = {t.key: t for t in section.tables}
    assert list(tables) == ["validate_by_rule", "scan-security_by_rule", "outcomes", "recovery"]
    by_rule = tables["validate_by_rule"]
    assert by_rule.columns == ("rule", "000001", "000003", "change")  # columns: the short run ids, oldest first
    assert by_rule.rows == (("Q001", 0, 2, 2), ("M001", 3, 1, -2), ("N003", 1, 0, -1))
    assert tables["outcomes"].rows == (("scan-security", 1, 1, 0, 0, 0, 0), ("stats", 1, 1, 0, 0, 0, 0),
                                       ("validate", 3, 0, 2, 0, 0, 1))
    assert tables["recovery"].rows[0] == ("PE302", "history-locked", 3, 2, 4, 2, 1, "67%")
    assert tables["recovery"].rows[1][-1] == "-"
    chart = section.charts[0]
    assert [(b.value, b.flagged) for b in chart.bars] == [(4.0, True), (3.0, True)]


def test_what_the_section_says_without_runs() -> None:
    empty = history.compute([], StatsContext(Options(), history=HistoryFacts(("/w",))))
    assert empty.data["available"] is True and empty.data["runs"] == [] and empty.tables == ()
    assert empty.notes == ("no run over these targets is recorded yet: validate and scan-security runs appear here",)
    off = history.compute([], StatsContext(Options(), history=HistoryFacts(("/w",), problem="run history is off")))
    assert off.data == {"available": False, "reason": "run history is off"}
    assert history.compute([], StatsContext(Options())).data["available"] is False


def _record(store: HistoryStore, run_id: str, targets: tuple[str, ...], codes: list[str], started: float,
            command: str = "validate", incidents: tuple[Incident, ...] = ()) -> None:
    rec = HistoryRecorder(store, RunHeader(run_id, command, "{}", targets, "/", "t", started_at=started))
    rec.begin()
    rec.findings([finding(f"f{i}.json", code) for i, code in enumerate(codes)])
    for inc in incidents:
        rec.incident(inc)
    rec.finish(1 if codes else 0)


def test_the_read_side_keeps_a_window_and_the_targets(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path / "history.sqlite3")
    for i in range(12):
        _record(store, f"v{i:02d}", ("/w/pack",), ["M001"] * i, 100.0 + i)
    _record(store, "other", ("/w/elsewhere",), ["M001"], 200.0)
    locked = Incident(ErrorCode.HISTORY_LOCKED, "locked", stage="history", at=1.0, outcome=Outcome.RECOVERED,
                      attempts=(RecoveryAttempt(1, 0.01, True),))
    _record(store, "s1", ("/w/pack/",), [], 150.0, "stats", (locked,))  # the same targets, spelled otherwise
    _record(store, "s2", ("/w/elsewhere",), [], 160.0, "stats", (locked,))
    facts = stats_history(store.conn, ["/w/pack"], window=10, exclude=("v11",))
    assert [r.id for r in facts.runs] == [f"v{i:02d}" for i in range(11)] + ["s1"]
    counted = [r.id for r in facts.runs if r.by_rule is not None]
    assert counted == [f"v{i:02d}" for i in range(1, 11)]  # the last 10 finished validate runs
    assert facts.runs[5].by_rule == {"M001": 5} and facts.runs[1].by_rule == {"M001": 1}
    assert [(s.code, s.occurrences, s.recovered, s.success_rate) for s in facts.recovery] == \
        [("PE302", 1, 1, 1.0)]  # only the runs over these targets
    store.close()


@pytest.fixture
def two_runs(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    """A pack validated twice (one problem fixed in between) and scanned once, each run recorded."""
    monkeypatch.chdir(tmp_path)
    pack = tmp_path / "pack"
    pack.mkdir()
    for name in ("a", "b", "c"):
        (pack / f"{name}.json").write_text(json.dumps({"format_version": "1.0", "metadata": {"name": name},
                                                      "parameters": [{"name": "x", "value": 2.0, "min": 0.0,
                                                                      "max": 1.0}]}))
    (pack / "broken.json").write_text('{"format_version": "1.0", "metadata"')
    assert cli(["validate", "pack", "-q", "--report", "json:one.json"]).exit_code == 1
    (pack / "broken.json").unlink()
    assert cli(["validate", "./pack/", "-q", "--report", "json:two.json"]).exit_code == 1
    assert cli(["scan-security", str(pack), "-q"]).exit_code in (0, 1)
    return tmp_path


def _codes(report: Path) -> Counter[str]:
    return Counter(f["code"] for f in json.loads(report.read_text())["findings"])


def test_the_section_in_every_output(cli, two_runs: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json", "-s", "history"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["history"]
    assert [r["command"] for r in data["runs"]] == ["validate", "validate", "scan-security"]  # not this stats run
    over = data["findings_over_time"]["validate"]
    one, two = _codes(two_runs / "one.json"), _codes(two_runs / "two.json")
    assert over["by_rule"] == {code: [one[code], two[code]] for code in one | two}  # exact, as the reports say
    assert one["P001"] == 1 and two["P001"] == 0
    assert data["outcomes"]["validate"] == {"findings": 2}
    ids = [run_id.rsplit("-", 1)[1] for run_id in over["runs"]]

    text = cli(["stats", "pack", "-s", "history"]).stdout
    assert "validate findings per rule in the last 2 runs over these targets" in text
    assert all(i in text for i in ids) and "Runs over these targets by outcome" in text
    assert "validate findings per run" in text and "\u2588" in text

    rows = list(csv.reader(io.StringIO(cli(["stats", "pack", "--csv", "-s", "history"]).stdout)))
    assert ["history", "validate_by_rule", "P001", ids[0], "1"] in rows
    assert ["history", "validate_by_rule", "P001", "change", "-1"] in rows
    assert ["history", "outcomes", "validate", "findings", "2"] in rows

    assert cli(["stats", "pack", "-s", "history", "--html", "page.html", "-q"]).exit_code == 0
    page = (two_runs / "page.html").read_text()
    assert "<h2 id=\"history\">History</h2>" in page and "validate findings per rule" in page
    assert f"<th scope=\"col\">{ids[1]}</th>" in page


def test_history_off_or_foreign_says_so(cli, two_runs: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["stats", "pack", "--json", "-s", "history", "--no-history"])
    assert json.loads(result.stdout)["history"] == {
        "available": False, "reason": "run history is off (--no-history or PRESETCTL_NO_HISTORY): runs are "
                                      "neither recorded nor read"}
    db = Path(os.environ["PRESETCTL_STATE_DIR"]) / "history.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    result = cli(["stats", "pack", "--json", "-s", "history"])
    assert result.exit_code == 0  # history never changes how a command ends
    assert json.loads(result.stdout)["history"] == {
        "available": False, "reason": f"{db} is not a presetctl history database"}
