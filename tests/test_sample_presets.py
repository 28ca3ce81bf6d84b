"""The demo pack raises exactly the codes its README promises, with the default rule set and with the
marketplace profile, and the good presets raise nothing in either."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from presetctl.api import validate
from presetctl.engine.options import Options

PACK = Path(__file__).resolve().parent.parent / "sample_presets"
ROW = re.compile(r"\| ([\w/.-]+\.json) \| [^|]+ \| ([^|]+) \| ([^|]+) \|$")


def _codes(cell: str) -> set[str]:
    return set(re.findall(r"\b[A-Z]\d{3}\b", cell.split("(")[0]))


def _promised() -> dict[str, tuple[set[str], set[str]]]:
    """file -> (codes of the default set, codes the marketplace profile adds)."""
    rows: dict[str, tuple[set[str], set[str]]] = {}
    for line in (PACK / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = (_codes(m.group(2)), _codes(m.group(3)))
    return rows


def _found(options: Options) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for finding in validate(["."], options, cwd=str(PACK)).findings:
        found[str(finding.path)].add(finding.code)
    return dict(found)


def test_readme_lists_every_preset() -> None:
    on_disk = {str(p.relative_to(PACK)) for p in PACK.rglob("*.json")}
    promised = _promised()
    assert set(promised) == on_disk
    assert sum(1 for default, market in promised.values() if not default and not market) == 12
    assert sum(1 for default, _ in promised.values() if default) == 5  # the defects
    assert sum(1 for default, market in promised.values() if market and not default) == 3  # house style only


def test_validate_reports_exactly_the_promised_codes() -> None:
    expected = {path: default for path, (default, _) in _promised().items() if default}
    assert _found(Options(jobs=1)) == expected


def test_the_marketplace_profile_adds_exactly_the_promised_codes() -> None:
    expected = {path: default | market for path, (default, market) in _promised().items() if default | market}
    assert _found(Options(jobs=1, profiles=("marketplace",))) == expected
