"""Per-file work of the stats command (runs in worker processes): read, load, reduce to facts.

It reuses the validate pipeline's pieces (bounded read, format detection, the loader
registry, rule selection and resolution) so stats sees every format validate sees, and a
loader that fails becomes a broken file here too, never an exception.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TypeVar

import numpy as np

from presetctl.engine.discover import Candidate, read_bounded
from presetctl.engine.formats.base import Document
from presetctl.engine.model import FileStatus, ParameterColumns, Preset
from presetctl.engine.pipeline import load_document, resolve, run_rules
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.stats.model import METADATA_FIELDS, FileFacts, ParamSchema, PresetFacts, Wanted

NAN = math.nan
SchemaKey = tuple[tuple[object, ...], ...]
T = TypeVar("T")


@dataclass(frozen=True)
class Interned:
    """What the presets of one chunk share, kept once: a worker's answer then carries each schema,
    category, tag list, modulation pair and set of filled fields once (pickle keeps shared
    references), where 20,000 presets each holding their own copies took half of stats' memory."""

    schemas: dict[SchemaKey, ParamSchema] = field(default_factory=dict)
    values: dict[object, object] = field(default_factory=dict)

    def __call__(self, value: T) -> T:
        return self.values.setdefault(value, value)  # type: ignore[return-value]


def preset_ref(path: str, index: int | None) -> str:
    """How outputs name a preset: the file, or ``file#N`` for the N-th (1-based) preset of a bank."""
    return path if index is None else f"{path}#{index}"


def _number(value: object) -> float:
    """A finite float, or NaN; bools count as 0/1 (they are ints)."""
    if not isinstance(value, (int, float)):
        return NAN
    try:
        f = float(value)
    except OverflowError:
        return NAN
    return f if math.isfinite(f) else NAN


_NUMERIC = frozenset({float, int, bool})


def _pick(c: ParameterColumns, keep: Sequence[int]) -> ParameterColumns:
    return ParameterColumns(tuple(c.names[i] for i in keep), tuple(c.values[i] for i in keep),
                            tuple(c.minimum[i] for i in keep), tuple(c.maximum[i] for i in keep),
                            tuple(c.default[i] for i in keep))


def _parameters(preset: Preset, interned: Interned) -> tuple[ParamSchema | None, np.ndarray | None]:
    # Column-wise (Preset.columns): this runs for every parameter of every preset (400 x 20,000 in
    # the benchmark), where one Parameter object each cost most of a stats run's time and memory.
    c = preset.columns()
    if not set(map(type, c.values)) <= _NUMERIC:  # None or text among them: only numeric values count
        c = _pick(c, [i for i, v in enumerate(c.values) if v is not None and not isinstance(v, str)])
    if not c.names:
        return None, None
    if len(set(c.names)) != len(c.names):  # a repeated name (V005): the first occurrence wins
        seen: set[str] = set()
        c = _pick(c, [i for i, n in enumerate(c.names) if n not in seen and not seen.add(n)])  # type: ignore[func-returns-value]
    names, values, lows, highs, defaults = c.names, c.values, c.minimum, c.maximum, c.default
    # Presets of one synth layout share one schema: built once per layout, found by its raw columns.
    key: SchemaKey | None = (names, lows, highs, defaults)
    try:
        schema = interned.schemas.get(key)  # type: ignore[arg-type]
    except TypeError:  # a default that is a list or an object (JSON allows it): this preset's own schema
        schema, key = None, None
    if schema is None:
        schema = ParamSchema(
            names, tuple(lo if type(lo) is float else _number(lo) for lo in lows),
            tuple(hi if type(hi) is float else _number(hi) for hi in highs),
            tuple(NAN if d is None else _number(d) for d in defaults))
        if key is not None:
            interned.schemas[key] = schema
    try:
        array = np.array(values, dtype=np.float64)  # bools become 0.0/1.0
    except (OverflowError, TypeError, ValueError):  # an integer past float range, or an odd type
        array = np.array([_number(v) for v in values], dtype=np.float64)
    array[~np.isfinite(array)] = NAN
    return schema, array


def _filled(preset: Preset) -> frozenset[str]:
    out: set[str] = set()
    for name in METADATA_FIELDS:
        value = getattr(preset, name)
        if (value and any(t.strip() for t in value)) if name == "tags" else (isinstance(value, str) and value.strip()):
            out.add(name)
    return frozenset(out)


def preset_facts(path: str, fmt: str, preset: Preset, want: Wanted, interned: Interned) -> PresetFacts:
    schema, values = _parameters(preset, interned) if want.parameters else (None, None)
    share = interned
    return PresetFacts(
        ref=preset_ref(path, preset.index), path=path, format=share(fmt), index=preset.index,
        name=preset.name, author=share(preset.author), category=share(preset.category), tags=share(preset.tags),
        filled=share(_filled(preset)), synth=share(preset.synth), synth_version=share(preset.synth_version),
        voices=preset.voices, unison=preset.unison, oscillators=preset.oscillators,
        modulations=tuple(share((m.source, m.target)) for m in preset.modulations),
        effects=tuple(share((e.type, e.enabled)) for e in preset.effects),
        embedded_bytes=sum(a.embedded_bytes for a in preset.assets),
        sound_hash=preset.sound_hash() if want.sound_hash else "",
        schema=schema, values=values,
    )


def _rule_counts(doc: Document, path: str, rules: RuleSet) -> tuple[tuple[str, int], ...]:
    violations = run_rules(doc, rules.context(PurePosixPath(path)), rules)
    counts = Counter(f.code for f in resolve(rules, path, violations))
    crashed = sum(v.code == "E001" for v in violations)
    if crashed:  # a rule bug is counted as validate reports it, even outside the stats selection
        counts["E001"] = crashed
    return tuple(sorted(counts.items()))


def file_facts(cand: Candidate, rules: RuleSet, want: Wanted, interned: Interned) -> FileFacts:
    path = cand.display
    try:
        data = read_bounded(cand.path, rules.options.limits.max_file_size)
    except OverflowError as exc:
        return FileFacts(path, "unknown", FileStatus.SKIPPED, cand.size, problem=f"F002: {exc.args[0]} bytes, over the size limit")
    except OSError as exc:
        return FileFacts(path, "unknown", FileStatus.SKIPPED, cand.size, problem=f"F007: {exc.strerror or exc}")
    loaded = load_document(data, PurePosixPath(path), rules.options.limits)
    if loaded is None:
        return FileFacts(path, "unknown", FileStatus.UNKNOWN, len(data))
    doc, found = loaded
    crash = next((v for v in found if v.code == "E001"), None)
    if crash is not None:  # the loader itself failed: the file counts as broken
        return FileFacts(path, doc.format, FileStatus.BROKEN, len(data), problem=f"E001: {': '.join(crash.message.split(': ')[:2])}")
    status = FileStatus.BROKEN if not doc.parsed else FileStatus.RECOGNIZED if not doc.validated else FileStatus.VALIDATED
    problem = ""
    if status is FileStatus.BROKEN:
        first = doc.problems[0] if doc.problems else None
        problem = f"{first.code}: {first.message}" if first is not None else "could not be parsed"
    presets = tuple(preset_facts(path, doc.format, p, want, interned) for p in doc.presets)
    counts = _rule_counts(doc, path, rules) if want.rules else ()
    return FileFacts(path, doc.format, status, len(data), presets, counts, problem)


def chunk_facts(cands: Sequence[Candidate], rules: RuleSet, want: Wanted) -> list[FileFacts]:
    interned = Interned()  # one schema object per synth layout in this chunk's answer, and so on
    return [file_facts(c, rules, want, interned) for c in cands]
