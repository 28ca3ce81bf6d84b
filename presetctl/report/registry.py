"""Reporter table: output format name -> reporter. One line per reporter.

A reporter's module is imported when its name is looked up, not when the table is: ``validate``
writing the ``full`` report does not import the SARIF, JUnit or GitLab writers (start-up time,
tests/test_startup.py). The names, and so ``--output-format``'s choices, need no import at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from presetctl.report.base import Reporter

# name -> (module, class); the order is the order --output-format lists them
_TABLE: dict[str, tuple[str, str]] = {
    "full": ("presetctl.report.full", "FullReporter"),
    "concise": ("presetctl.report.concise", "ConciseReporter"),
    "json": ("presetctl.report.json_report", "JsonReporter"),
    "json-lines": ("presetctl.report.json_report", "JsonLinesReporter"),
    "sarif": ("presetctl.report.sarif", "SarifReporter"),
    "junit": ("presetctl.report.junit", "JunitReporter"),
    "github": ("presetctl.report.github", "GithubReporter"),
    "gitlab": ("presetctl.report.gitlab", "GitlabReporter"),
}


class ReporterTable(Mapping[str, Reporter]):
    """A read-only mapping that imports a reporter's module on first look-up (the import system
    keeps the module; a reporter is a stateless factory of writers, made anew each time)."""

    def __getitem__(self, name: str) -> Reporter:
        module, attribute = _TABLE[name]
        reporter: Reporter = getattr(importlib.import_module(module), attribute)()
        return reporter

    def __iter__(self) -> Iterator[str]:
        return iter(_TABLE)

    def __len__(self) -> int:
        return len(_TABLE)

    def __contains__(self, name: object) -> bool:
        return name in _TABLE


REPORTERS = ReporterTable()


def get(name: str) -> Reporter:
    return REPORTERS[name]
