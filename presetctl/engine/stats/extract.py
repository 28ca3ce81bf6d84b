"""Per-file work of the stats command (runs in worker processes): read, load, reduce to facts.

It reuses the validate pipeline's pieces (bounded read, format detection, the loader
registry, rule selection and resolution) so stats sees every format validate sees, and a
loader that fails becomes a broken file here too, never an exception.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePosixPath

import numpy as np

from presetctl.engine.discover import Candidate, read_bounded
from presetctl.engine.formats.base import Document
from presetctl.engine.model import FileStatus, Preset
from presetctl.engine.pipeline import load_document, resolve, run_rules
from presetctl.engine.rules.selection import RuleSet
from presetctl.engine.stats.model import METADATA_FIELDS, FileFacts, ParamSchema, PresetFacts, Wanted

NAN = math.nan
Interned = dict[ParamSchema, ParamSchema]


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


def _parameters(preset: Preset, interned: Interned) -> tuple[ParamSchema | None, np.ndarray | None]:
    params = [p for p in preset.parameters if p.value is not None and not isinstance(p.value, str)]
    if not params:
        return None, None
    names = tuple(p.name for p in params)
    if len(set(names)) != len(names):  # a repeated name (V005): the first occurrence wins
        firsts: dict[str, object] = {}
        params = [p for p in params if p.name not in firsts and firsts.setdefault(p.name, p) is p]
        names = tuple(p.name for p in params)
    # Inline conditionals: this runs for every parameter of every preset (400 x 20,000 in the benchmark).
    schema = ParamSchema(names, tuple(lo if type(lo := p.minimum) is float else _number(lo) for p in params),
                         tuple(hi if type(hi := p.maximum) is float else _number(hi) for p in params),
                         tuple(NAN if (d := p.default) is None else _number(d) for p in params))
    try:
        values = np.array([p.value for p in params], dtype=np.float64)  # bools become 0.0/1.0
    except (OverflowError, TypeError, ValueError):  # an integer past float range, or an odd type
        values = np.array([_number(p.value) for p in params], dtype=np.float64)
    values[~np.isfinite(values)] = NAN
    return interned.setdefault(schema, schema), values


def _filled(preset: Preset) -> frozenset[str]:
    out = set()
    for name in METADATA_FIELDS:
        value = getattr(preset, name)
        if (value and any(t.strip() for t in value)) if name == "tags" else (isinstance(value, str) and value.strip()):
            out.add(name)
    return frozenset(out)


def preset_facts(path: str, fmt: str, preset: Preset, want: Wanted, interned: Interned) -> PresetFacts:
    schema, values = _parameters(preset, interned) if want.parameters else (None, None)
    return PresetFacts(
        ref=preset_ref(path, preset.index), path=path, format=fmt, index=preset.index,
        name=preset.name, author=preset.author, category=preset.category, tags=preset.tags,
        filled=_filled(preset), synth=preset.synth, synth_version=preset.synth_version,
        voices=preset.voices, unison=preset.unison, oscillators=preset.oscillators,
        modulations=tuple((m.source, m.target) for m in preset.modulations),
        effects=tuple((e.type, e.enabled) for e in preset.effects),
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
    interned: Interned = {}  # one schema object per synth layout in this chunk's answer
    return [file_facts(c, rules, want, interned) for c in cands]
