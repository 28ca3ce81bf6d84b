"""Pack level: what only shows across files (duplicates, collisions, spelling drift)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence

from presetctl.engine.model import Location, PresetSummary, Severity, Violation
from presetctl.engine.options import Options
from presetctl.engine.rules.base import MARKETPLACE, Level, Rule, RuleDoc
from presetctl.engine.taxonomy import fold

W, I, E = Severity.WARNING, Severity.INFO, Severity.ERROR


def _where(s: PresetSummary) -> str:
    return f"{s.path} (voice {s.index})" if s.index is not None else s.path


def _loc(s: PresetSummary) -> Location:
    return Location(voice=s.index)


def duplicate_sounds(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    groups: dict[tuple[str, str], list[PresetSummary]] = defaultdict(list)
    for s in summaries:
        if s.sound_hash:
            groups[(s.format, s.sound_hash)].append(s)
    for group in groups.values():
        if len(group) < 2:
            continue
        first = group[0]
        for dup in group[1:]:
            yield dup.path, Violation(f"same sound as {_where(first)} (only name or metadata differ)", _loc(dup),
                                      data={"original": first.path})


def duplicate_names(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    groups: dict[tuple[str, str], list[PresetSummary]] = defaultdict(list)
    for s in summaries:
        if s.name and s.name.strip():
            groups[(s.format, s.name.strip().casefold())].append(s)
    for group in groups.values():
        if len(group) < 2:
            continue
        first = group[0]
        for dup in group[1:]:
            yield dup.path, Violation(f"name {dup.name!r} is also used by {_where(first)}", _loc(dup))


def case_collisions(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    by_fold: dict[str, list[str]] = defaultdict(list)
    for path in dict.fromkeys(s.path for s in summaries):
        by_fold[path.casefold()].append(path)
    for paths in by_fold.values():
        for other in paths[1:]:
            yield other, Violation(f"file name differs from {paths[0]!r} only by case: one overwrites the other "
                                   "on Windows and macOS")


def _drift(values: Sequence[tuple[str, PresetSummary]], key_fn, what: str) -> Iterator[tuple[str, Violation]]:  # type: ignore[no-untyped-def]
    groups: dict[str, dict[str, list[PresetSummary]]] = defaultdict(lambda: defaultdict(list))
    for value, s in values:
        groups[key_fn(value)][value].append(s)
    for spellings in groups.values():
        if len(spellings) < 2:
            continue
        # The most used spelling is the reference; the others drift from it.
        ranked = sorted(spellings.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        main = ranked[0][0]
        for spelling, users in ranked[1:]:
            for s in users:
                yield s.path, Violation(f"{what} {spelling!r} drifts from {main!r} used by {len(ranked[0][1])} presets",
                                        _loc(s), hint=f"use {main!r}", data={"replacement": main, "value": spelling})


def category_drift(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    return _drift([(s.category, s) for s in summaries if s.category], fold, "category")


def author_key(author: str) -> str:
    return re.sub(r"[\W_]+", "", author.casefold())


def author_drift(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    return _drift([(s.author, s) for s in summaries if s.author], author_key, "author")


RULES = (
    Rule("Q001", "duplicate-sound", Level.PACK, W, "Same sound as another preset",
         RuleDoc("Reports presets whose sound data (parameters, modulations, effects, assets) is identical to "
                 "another preset's of the same format, with name and metadata left out.",
                 "Buyers notice padded packs; duplicates also double the work of every later edit.",
                 "`Bass 01.vital` and `Bass 01 copy.vital` with different names", "Remove one of the copies."),
         pack_check=duplicate_sounds, profile=MARKETPLACE),
    Rule("Q002", "duplicate-name", Level.PACK, W, "Preset name used more than once",
         RuleDoc("Reports presets of the same format whose names are equal ignoring case.",
                 "Browsers and DAW recall by name: the wrong preset comes back.",
                 "two presets named `Init`", "Give each preset its own name."),
         pack_check=duplicate_names, profile=MARKETPLACE),
    Rule("Q003", "file-name-case-collision", Level.PACK, E, "File names differ only by case",
         RuleDoc("Reports files whose paths are equal ignoring case.",
                 "On Windows and macOS (case-insensitive file systems) one file overwrites the other when "
                 "the pack is unpacked.",
                 "`Bass.vital` and `bass.vital`", "Rename one of them."),
         pack_check=case_collisions),
    Rule("Q004", "category-drift", Level.PACK, I, "Category spelled differently across the pack",
         RuleDoc("Reports categories that are the same once case, spacing and plural are folded, but are "
                 "spelled differently (`Bass`, `Basses`, `BASS`); the most used spelling is the reference.",
                 "Each spelling becomes its own folder or filter in a browser.",
                 "10 presets in `Bass`, 2 in `Basses`: the 2 are reported",
                 "Use one spelling; `presetctl stats --section taxonomy` proposes an alias table."),
         pack_check=category_drift, profile=MARKETPLACE),
    Rule("Q005", "author-drift", Level.PACK, I, "Author spelled differently across the pack",
         RuleDoc("Reports authors equal once case, spaces and punctuation are removed but spelled "
                 "differently (`Damon Armani`, `DamonArmani`).",
                 "Credit splits between spellings; filtering by author misses presets.",
                 "`Damon Armani` on 30 presets, `DamonArmani` on 1: the 1 is reported", "Use one spelling."),
         pack_check=author_drift, profile=MARKETPLACE),
)
