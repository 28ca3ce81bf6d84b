"""The default rule set on the presets the synths' makers ship: at most one warning-or-worse
finding per 20 files, for each maker's set (issue 10). A CI gate that warns on every factory
patch gets switched off.

What the three parts of issue 10 remove from these sets (measured on the corpus before them):

- the rule policy (docs/rules-policy.md): M004 taxonomy (325 Surge, 146 Helm), U012 category vs
  folder (126 Surge: Surge files bundled patches by folder and writes the author as category),
  Q001/Q002 duplicates (32 + 32 on the two copies of ROM1A, 11 + 1 on Surge, 1 on Helm), N004
  (4 Surge: prgName, which Surge never reads), A001/A002 CPU budgets (2 Vital, 5 Helm, 2 Surge),
  M002/M003 metadata completeness (3 Vital, 6 Helm): all moved to the marketplace profile;
- the Helm/Surge/Vital part: V003 on Helm's factory patches (22: values Helm's 0.9 conversion
  left outside the knob range, which Helm plays as stored, and float32 round-offs of a bound);
- the DX7 part: nothing on the original ROM1A bank.

What remains by design, with the synth's behaviour that makes it a defect:

- U008 on Surge's `Percussion/Snare Tight.fxp` (1): `&#x10;` in a controller label. Surge's
  TinyXML loads it, but every strict XML parser (librarians, converters, scripts) rejects the
  whole patch; a warning with a safe fix.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest

from presetctl import api
from presetctl.engine.model import Severity

SETS = {
    "Surge XT factory and bundled patches": (
        "surge-fxp/kurasu__surge/resources/data/patches_factory",
        "surge-fxp/kurasu__surge/resources/data/patches_3rdparty",
        "surge-fxp/instatetragrammaton__Patches/Surge Synth Team",
        "surge-fxp/instatetragrammaton__Patches/Vember Audio Surge",
    ),
    "Helm factory": ("helm/mtytel__helm",),
    "DX7 ROM1A (original Yamaha)": (
        "dx7-syx/mmontag__dx7-synth-js/roms",
        "dx7-syx/visualizersdotnl__Yamaha-DX7-patch-library/Original Yamaha/DX7 ROM1",
    ),
    "Vital factory (Matt Tytel)": ("vital/instatetragrammaton__Patches/Matt Tytel Vital",),
}
FILES_PER_WARNING = 20
# The codes the rule policy moved out of the default set that fired on these presets before.
CURATION = {"M002", "M003", "M004", "M006", "M007", "N001", "N004", "N005", "Q001", "Q002", "Q004", "Q005", "U011",
            "U012", "A001", "A002", "H004", "H008", "T004", "D010"}


@functools.lru_cache(maxsize=8)  # each set is validated once for the three tests
def _run(corpus: Path, folders: tuple[str, ...]) -> tuple[int, Counter[str]]:
    """(preset files, warning-or-worse findings by code) of the default validate."""
    result = api.validate([str(corpus / f) for f in folders], api.Options(jobs=2))
    files = sum(1 for o in result.files if o.format != "unknown")  # a LICENSE file is not a preset
    return files, Counter(f.code for f in result.findings if f.severity >= Severity.WARNING)


@pytest.mark.corpus
def test_the_sets_are_there(corpus: Path) -> None:
    counts = {name: _run(corpus, folders)[0] for name, folders in SETS.items()}
    assert counts == {"Surge XT factory and bundled patches": 450, "Helm factory": 274,
                      "DX7 ROM1A (original Yamaha)": 2, "Vital factory (Matt Tytel)": 82}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(SETS))
def test_no_curation_finding_on_the_makers_presets(corpus: Path, name: str) -> None:
    """The rule policy's share of the bar: no house-style or duplicate finding by default."""
    _, by_code = _run(corpus, SETS[name])
    assert set(by_code) & CURATION == set()


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(SETS))
def test_at_most_one_warning_per_20_files_on_the_makers_presets(corpus: Path, name: str) -> None:
    """The bar of issue 10, per maker. Needs all three parts of the issue: on the rule-policy branch
    alone, Helm's factory set still has V003 (22), which the Helm/Surge/Vital part removes."""
    files, by_code = _run(corpus, SETS[name])
    found = sum(by_code.values())
    assert found * FILES_PER_WARNING <= files, f"{name}: {found} warnings or worse in {files} files: {dict(by_code)}"
