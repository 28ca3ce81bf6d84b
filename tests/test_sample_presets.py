"""The demo pack raises exactly the codes its README promises, and the good presets raise nothing."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from presetctl.api import validate
from presetctl.engine.options import Options

PACK = Path(__file__).resolve().parent.parent / "sample_presets"


def _promised() -> dict[str, set[str]]:
    rows: dict[str, set[str]] = {}
    for line in (PACK / "README.md").read_text().splitlines():
        m = re.match(r"\| ([\w/.-]+\.json) \| [^|]+ \| ([^|]+) \|$", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"\b[A-Z]\d{3}\b", m.group(2).split("(")[0]))
    return rows


def test_readme_lists_every_preset() -> None:
    on_disk = {str(p.relative_to(PACK)) for p in PACK.rglob("*.json")}
    promised = _promised()
    assert set(promised) == on_disk
    assert sum(1 for codes in promised.values() if not codes) == 12


def test_validate_reports_exactly_the_promised_codes() -> None:
    result = validate(["."], Options(jobs=1), cwd=str(PACK))
    found: dict[str, set[str]] = defaultdict(set)
    for finding in result.findings:
        found[str(finding.path)].add(finding.code)
    expected = {path: codes for path, codes in _promised().items() if codes}
    assert dict(found) == expected
