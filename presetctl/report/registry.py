"""Reporter table: output format name -> reporter. One line per reporter module."""

from __future__ import annotations

from presetctl.report import concise, full, github, gitlab, json_report, junit, sarif
from presetctl.report.base import Reporter

REPORTERS: dict[str, Reporter] = {
    r.name: r
    for r in (
        full.FullReporter(),
        concise.ConciseReporter(),
        json_report.JsonReporter(),
        json_report.JsonLinesReporter(),
        sarif.SarifReporter(),
        junit.JunitReporter(),
        github.GithubReporter(),
        gitlab.GitlabReporter(),
    )
}


def get(name: str) -> Reporter:
    return REPORTERS[name]
