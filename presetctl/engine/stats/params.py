"""One matrix per synth: the numeric parameters of many presets over the union of their names."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from presetctl.engine.stats.model import ParamSchema, PresetFacts

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ParamMatrix:
    """``values[i, j]``: parameter ``names[j]`` of preset i, NaN where the preset lacks it.

    ``minimum``/``maximum``/``default`` are the first bound a loader declared for the column
    (NaN when none did): one synth declares one range per parameter.
    """

    names: tuple[str, ...]
    values: F64
    minimum: F64
    maximum: F64
    default: F64


def raw_matrix(presets: Sequence[PresetFacts]) -> ParamMatrix:
    columns: dict[str, int] = {}
    schemas: dict[int, ParamSchema] = {}
    for p in presets:
        if p.schema is not None and id(p.schema) not in schemas:
            schemas[id(p.schema)] = p.schema
            for n in p.schema.names:
                columns.setdefault(n, len(columns))
    width = len(columns)
    lo, hi, default = np.full(width, np.nan), np.full(width, np.nan), np.full(width, np.nan)
    index = {key: np.fromiter((columns[n] for n in s.names), dtype=np.intp, count=len(s.names))
             for key, s in schemas.items()}
    for key, s in schemas.items():
        idx = index[key]
        for target, source in ((lo, s.minimum), (hi, s.maximum), (default, s.default)):
            vals = np.asarray(source, dtype=np.float64)
            unset = np.isnan(target[idx])
            target[idx[unset]] = vals[unset]
    x = np.full((len(presets), width), np.nan)
    rows_by_schema: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(presets):
        if p.schema is not None and p.values is not None:
            rows_by_schema[id(p.schema)].append(i)
    for key, rows in rows_by_schema.items():
        block = np.stack([np.asarray(presets[r].values, dtype=np.float64) for r in rows])
        x[np.ix_(np.asarray(rows, dtype=np.intp), index[key])] = block
    return ParamMatrix(tuple(columns), x, lo, hi, default)
