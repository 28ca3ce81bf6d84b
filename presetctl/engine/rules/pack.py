"""Pack level: what only shows across files (duplicates, collisions, spelling drift)."""

from __future__ import annotations

import re
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence

from presetctl.engine.model import Location, PresetSummary, Related, Severity, Violation
from presetctl.engine.names import is_placeholder
from presetctl.engine.options import Options
from presetctl.engine.rules.base import MARKETPLACE, Level, Rule, RuleDoc
from presetctl.engine.taxonomy import fold

W, I, E = Severity.WARNING, Severity.INFO, Severity.ERROR


SHOWN = 5  # members named in a duplicate finding's message; all of them are in its ``related``


def _loc(s: PresetSummary) -> Location:
    return Location(voice=s.index)


def _where(s: PresetSummary, first: PresetSummary, with_name: bool) -> str:
    """A member as the message names it: a voice of the first member's own file by its number only."""
    where = f"voice {s.index}" if s.path == first.path and s.index is not None else \
        f"{s.path} (voice {s.index})" if s.index is not None else s.path
    return f"{where} {s.name!r}" if with_name and s.name is not None else where


def _listed(others: Sequence[PresetSummary], first: PresetSummary, with_name: bool) -> str:
    shown = ", ".join(_where(s, first, with_name) for s in others[:SHOWN])
    more = len(others) - SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _related(others: Sequence[PresetSummary]) -> tuple[Related, ...]:
    return tuple(Related(s.path, _loc(s), s.name or "") for s in others)


def _presets(n: int) -> str:
    return f"{n} other preset" if n == 1 else f"{n} other presets"


def _name_key(s: PresetSummary) -> str:
    return " ".join((s.name or "").split()).casefold()


def _sound_groups(summaries: Sequence[PresetSummary]) -> list[list[PresetSummary]]:
    """Presets of one format with the same sound, in report order. Those without a sound hash are
    never duplicates of anything, nor are those with a placeholder name: 31 `INIT VOICE` voices in
    a bank are unused slots, not padding."""
    groups: dict[tuple[str, str], list[PresetSummary]] = defaultdict(list)
    for s in summaries:
        if s.sound_hash and not is_placeholder(s.name):
            groups[(s.format, s.sound_hash)].append(s)
    return [g for g in groups.values() if len(g) > 1]


def duplicate_sounds(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    """One finding per group of identical sounds, on its first member."""
    for group in _sound_groups(summaries):
        first, others = group[0], group[1:]
        same_name = [s for s in others if _name_key(s) == _name_key(first)]
        if len(same_name) == len(others):
            what = f"same sound and name as {_presets(len(others))}"
        elif not same_name:
            what = f"same sound as {_presets(len(others))}, under other names"
        else:
            what = f"same sound as {_presets(len(others))} ({len(same_name)} of them with the same name)"
        yield first.path, Violation(f"{what}: {_listed(others, first, bool(len(same_name) < len(others)))}",
                                    _loc(first), related=_related(others), data={"members": len(group)})


def duplicate_names(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    """One finding per name used by presets of different sounds, on its first user. Copies of one
    sound are Q001's (never both codes for one pair); placeholder names collide with nothing."""
    groups: dict[tuple[str, str], list[PresetSummary]] = defaultdict(list)
    for s in summaries:
        if not is_placeholder(s.name):
            groups[(s.format, _name_key(s))].append(s)
    for group in groups.values():
        distinct: dict[str, PresetSummary] = {}
        for i, s in enumerate(group):  # the first preset of each sound stands for its copies
            distinct.setdefault(s.sound_hash or f"#{i}", s)
        members = list(distinct.values())
        if len(members) < 2:
            continue
        first, others = members[0], members[1:]
        yield first.path, Violation(f"name {first.name!r} is also used by {_presets(len(others))} with a different "
                                    f"sound: {_listed(others, first, False)}", _loc(first),
                                    related=_related(others), data={"members": len(members)})


def case_collisions(summaries: Sequence[PresetSummary], options: Options) -> Iterator[tuple[str, Violation]]:
    # Two passes, so that 100,000 files do not cost a folded copy, a list and a dict entry each
    # (30 MB at the end of a run): first the folded names' hashes (8 bytes a file), then only
    # the paths whose hash is met twice are grouped. A hash shared by chance only adds a path
    # to the second pass, where the folded names themselves decide.
    hashes = array("q", (hash(path.casefold()) for path in _distinct_runs(s.path for s in summaries)))
    hashes = array("q", sorted(hashes))
    shared = {h for h, after in zip(hashes, hashes[1:], strict=False) if h == after}
    del hashes
    by_fold: dict[str, list[str]] = defaultdict(list)
    if shared:
        for path in dict.fromkeys(s.path for s in summaries):
            folded = path.casefold()
            if hash(folded) in shared:
                by_fold[folded].append(path)
    for paths in by_fold.values():
        for other in paths[1:]:
            yield other, Violation(f"file name differs from {paths[0]!r} only by case: one overwrites the other "
                                   "on Windows and macOS")


def _distinct_runs(paths: Iterator[str]) -> Iterator[str]:
    """``paths`` without the repeats of the path just before (a bank's presets share their file's)."""
    last = None
    for path in paths:
        if path != last:
            yield path
            last = path


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
    Rule("Q001", "duplicate-sound", Level.PACK, W, "Same sound as other presets",
         RuleDoc("Reports each group of presets of one format whose sound data (parameters, modulations, effects, "
                 "assets) is identical, with name and metadata left out: one finding on the group's first member "
                 "(in report order), saying how many others there are and whether their names differ, and naming "
                 f"the first {SHOWN} (a voice of the same bank by its number). Every member is in the finding's "
                 "`related` list: the JSON report's `related`, SARIF's `relatedLocations`, and printed under the "
                 "finding with `validate --show-duplicates`. Presets with placeholder names (`INIT VOICE`, blank, "
                 "dashes, question marks) are left out: those are unused slots of a bank.",
                 "Buyers notice padded packs; duplicates also double the work of every later edit. Every copy "
                 "loads and plays, so this is curation (the marketplace profile).",
                 "`Bass 01.vital` and `Bass 01 copy.vital` with different names: one finding on `Bass 01.vital`, "
                 "\"same sound as 1 other preset, under other names: Bass 01 copy.vital\"",
                 "Remove the copies."),
         pack_check=duplicate_sounds, profile=MARKETPLACE, reads_sound=True),
    Rule("Q002", "duplicate-name", Level.PACK, W, "Preset name used by different sounds",
         RuleDoc("Reports each name (equal ignoring case and repeated spaces) that presets of one format with "
                 "different sounds share: one finding on the first, naming the others as Q001 does. Copies of "
                 "one sound under one name are Q001's alone (the two codes never report the same pair), and "
                 "placeholder names (`INIT VOICE`, blank, dashes, question marks) collide with nothing.",
                 "Librarians, DAW browsers and sound lists that go by name show two different sounds as one. "
                 "The synths themselves list files (and DX7 banks repeat names by design), so this is curation "
                 "(the marketplace profile).",
                 "`Pads/Glass.fxp` and `Leads/Glass.fxp` with different sounds", "Give each sound its own name."),
         pack_check=duplicate_names, profile=MARKETPLACE, reads_sound=True),
    Rule("Q003", "file-name-case-collision", Level.PACK, E, "File names differ only by case",
         RuleDoc("Reports files whose paths are equal ignoring case.",
                 "On Windows and macOS (case-insensitive file systems) one file overwrites the other when "
                 "the pack is unpacked.",
                 "`Bass.vital` and `bass.vital`", "Rename one of them."),
         pack_check=case_collisions, paths_only=True),
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
