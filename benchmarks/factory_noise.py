"""Findings of the default rule set on the presets the synths' makers ship (issue 10's bar).

    python benchmarks/factory_noise.py [--corpus ../shared/corpus] [--profile marketplace]

Per maker's set: preset files, warning-or-worse findings per file (the bar is 0.05: one per 20
files) and findings by code; then the whole corpus by code under validate and scan-security.
tests/test_corpus_policy.py holds the same sets to the bar.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

from presetctl import api
from presetctl.engine.model import Severity

SETS = {
    "surge": ("surge-fxp/kurasu__surge/resources/data/patches_factory",
              "surge-fxp/kurasu__surge/resources/data/patches_3rdparty",
              "surge-fxp/instatetragrammaton__Patches/Surge Synth Team",
              "surge-fxp/instatetragrammaton__Patches/Vember Audio Surge"),
    "helm": ("helm/mtytel__helm",),
    "dx7": ("dx7-syx/mmontag__dx7-synth-js/roms",
            "dx7-syx/visualizersdotnl__Yamaha-DX7-patch-library/Original Yamaha/DX7 ROM1"),
    "vital": ("vital/instatetragrammaton__Patches/Matt Tytel Vital",),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("PRESETCTL_CORPUS", "../shared/corpus")))
    parser.add_argument("--profile", action="append", default=[], help="opt-in profile to add (repeatable)")
    args = parser.parse_args()
    options = api.Options(jobs=2, profiles=tuple(args.profile))
    total_files = total_warnings = 0
    for name, folders in SETS.items():
        result = api.validate([str(args.corpus / f) for f in folders], options)
        files = sum(1 for o in result.files if o.format != "unknown")
        warnings = Counter(f.code for f in result.findings if f.severity >= Severity.WARNING)
        every = Counter(f.code for f in result.findings)
        print(f"{name}: {files} files, {sum(warnings.values())} warning+ ({sum(warnings.values()) / files:.3f}/file); "
              f"warning+ {dict(warnings.most_common())}; all {dict(every.most_common())}")
        total_files += files
        total_warnings += sum(warnings.values())
    print(f"makers' sets: {total_files} files, {total_warnings} warning+, {total_warnings / total_files:.3f}/file "
          "(bar 0.050 per set)")
    whole = api.validate([str(args.corpus)], options)
    print(f"validate, whole corpus: {len(whole.files)} files, {len(whole.findings)} findings; "
          f"{dict(Counter(f.code for f in whole.findings).most_common())}")
    scan = api.scan_security([str(args.corpus)], api.Options(jobs=2))
    rated = Counter(f"{f.code}:{f.security.label if f.security else '-'}" for f in scan.findings)
    print(f"scan-security, whole corpus: {len(scan.findings)} findings; {dict(rated.most_common())}")


if __name__ == "__main__":
    main()
