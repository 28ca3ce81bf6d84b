"""Write a pack of synthetic presetctl presets for benchmarks and fast-path tests.

    python benchmarks/generate.py OUT --count 20000 --params 400 [--seed 0]

The generator lives in the package (presetctl/bench/generate.py), where ``presetctl bench`` uses it;
this script is its command-line front end for the other benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from a source checkout
    sys.path.insert(0, str(REPO))

from presetctl.bench.generate import (  # noqa: E402
    CATEGORIES,
    MODULES,
    main,
    make_preset,
    parameter_specs,
    presets,
    write_pack,
)

__all__ = ["CATEGORIES", "MODULES", "main", "make_preset", "parameter_specs", "presets", "write_pack"]

if __name__ == "__main__":
    sys.exit(main())
