"""Taxonomy: categories, authors, tags, folders and banks; the category x author matrix; drift.

Drift groups spellings that fold to the same key (the Q004/Q005 keys: case, spacing and
plural for categories; case, spaces and punctuation for authors). For categories it proposes
an alias table in the exact shape ``fix`` reads: ``[tool.presetctl] category-aliases``, a
table from a spelling to the spelling it should become.
"""

from __future__ import annotations

import posixpath
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from presetctl.engine import taxonomy
from presetctl.engine.rules.pack import author_key
from presetctl.engine.stats.common import bar_chart, count_table, presets_of, ranked, table
from presetctl.engine.stats.model import FileFacts, PresetFacts, Section, StatsContext

MATRIX_SIZE = 10  # categories and authors shown in the matrix (the most used of each)


def _target(spellings: Mapping[str, int], formats: set[str], profile: tuple[str, ...]) -> str:
    """The spelling a drift group should converge on: the taxonomy's, else the most used."""
    choices: list[str] = []
    for fmt in sorted(formats):
        choices.extend(taxonomy.allowed(fmt, profile) or ())
    order = [s for s, _ in ranked(spellings)]
    for s in order:
        if s in choices:
            return s
    for s in order:
        canon = taxonomy.canonical(s, tuple(choices))
        if canon is not None:
            return canon
    return order[0]


def drift(values: Sequence[tuple[str, PresetFacts]], key_fn: Callable[[str], str],
          profile: tuple[str, ...] | None) -> list[dict[str, Any]]:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    formats: dict[str, set[str]] = defaultdict(set)
    for value, p in values:
        k = key_fn(value)
        groups[k][value] += 1
        formats[k].add(p.format)
    out: list[dict[str, Any]] = []
    for k, spellings in sorted(groups.items()):
        if len(spellings) < 2:
            continue
        target = _target(spellings, formats[k], profile) if profile is not None else ranked(spellings)[0][0]
        out.append({"key": k, "spellings": dict(ranked(spellings)), "suggested": target,
                    "presets": sum(spellings.values()), "formats": sorted(formats[k])})
    return out


def aliases(groups: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for g in groups:
        target = str(g["suggested"])
        spellings = g["spellings"]
        assert isinstance(spellings, dict)
        out.update({s: target for s in spellings if s != target})
    return dict(sorted(out.items()))


def toml_string(text: str) -> str:
    """A TOML basic string, ASCII only: quotes, backslashes, controls and all non-ASCII escaped
    (TOML forbids surrogate escapes, so characters past U+FFFF take the 8-digit form)."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
    out.append('"')
    return "".join(out)


def alias_toml(table_aliases: Mapping[str, str]) -> str:
    """The alias table as the body of a ``[category-aliases]`` TOML table."""
    return "".join(f"{toml_string(k)} = {toml_string(v)}\n" for k, v in table_aliases.items())


def additions(groups: Sequence[Mapping[str, Any]], profile: tuple[str, ...]) -> list[str]:
    """Suggested spellings outside the taxonomy of a format they are used in.

    ``fix`` keeps a category fix only when the new category is allowed, so an alias to such a
    spelling needs it added to ``taxonomy`` (extra categories extend the profiles).
    """
    out: set[str] = set()
    for g in groups:
        target = str(g["suggested"])
        for fmt in g["formats"]:
            allowed = taxonomy.allowed(fmt, profile)
            if allowed is not None and target not in allowed:
                out.add(target)
    return sorted(out)


def _not_in_taxonomy(presets: Sequence[PresetFacts], profile: tuple[str, ...]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for p in presets:
        if p.category and p.category.strip():
            allowed = taxonomy.allowed(p.format, profile)
            if allowed is not None and p.category not in allowed:
                out[p.category] += 1
    return dict(ranked(out))


def _matrix(presets: Sequence[PresetFacts]) -> dict[str, Any]:
    cats = [c for c, _ in ranked(Counter(p.category for p in presets if p.category))][:MATRIX_SIZE]
    authors = [a for a, _ in ranked(Counter(p.author for p in presets if p.author))][:MATRIX_SIZE]
    cell: Counter[tuple[str, str]] = Counter((p.category, p.author) for p in presets if p.category and p.author)
    return {"categories": cats, "authors": authors, "counts": [[cell[(c, a)] for a in authors] for c in cats]}


def compute(files: Sequence[FileFacts], ctx: StatsContext) -> Section:
    presets = presets_of(files)
    profile = ctx.options.taxonomy
    categories = Counter(p.category for p in presets if p.category and p.category.strip())
    authors = Counter(p.author for p in presets if p.author and p.author.strip())
    tags = Counter(t for p in presets for t in dict.fromkeys(p.tags) if t.strip())
    folders = Counter(posixpath.dirname(p.path) or "." for p in presets)
    banks = {f.path: len(f.presets) for f in files if any(p.index is not None for p in f.presets)}
    uncategorized = [p.ref for p in presets if "category" not in p.filled]
    cat_drift = drift([(p.category, p) for p in presets if p.category and p.category.strip()], taxonomy.fold, profile)
    author_drift = drift([(p.author, p) for p in presets if p.author and p.author.strip()], author_key, None)
    category_aliases = aliases(cat_drift)
    matrix = _matrix(presets)
    not_in = _not_in_taxonomy(presets, profile)
    data = {
        "taxonomy": list(profile),
        "categories": dict(ranked(categories)),
        "authors": dict(ranked(authors)),
        "tags": dict(ranked(tags)),
        "folders": dict(ranked(folders)),
        "banks": dict(sorted(banks.items())),
        "without_category": len(uncategorized),
        "without_category_by_format": dict(sorted(Counter(p.format for p in presets if "category" not in p.filled).items())),
        "not_in_taxonomy": not_in,
        "matrix": matrix,
        "drift": {"categories": cat_drift, "authors": author_drift},
        "category_aliases": category_aliases,
        "taxonomy_additions": additions(cat_drift, profile),
        "author_aliases": aliases(author_drift),
    }
    top = ctx.top
    m_cats, m_authors, m_counts = matrix["categories"], matrix["authors"], matrix["counts"]
    assert isinstance(m_cats, list) and isinstance(m_authors, list) and isinstance(m_counts, list)
    drift_rows = [("category", str(g["suggested"]), ", ".join(f"{s} ({n})" for s, n in g["spellings"].items()))
                  for g in cat_drift]
    drift_rows += [("author", str(g["suggested"]), ", ".join(f"{s} ({n})" for s, n in g["spellings"].items()))
                   for g in author_drift]
    tables = (
        count_table("categories", "Categories", "category", categories, top),
        count_table("authors", "Authors", "author", authors, top),
        count_table("tags", "Tags", "tag", tags, top),
        count_table("folders", "Folders", "folder", folders, top),
        count_table("banks", "Banks (files holding several presets)", "bank", banks, top),
        table("matrix", "Category x author (most used)", ("category", *m_authors),
              [(c, *row) for c, row in zip(m_cats, m_counts, strict=True)]) if m_authors else None,
        table("drift", "Spelling drift", ("kind", "suggested", "spellings (presets)"), drift_rows, top),
        table("category_aliases", "Suggested [tool.presetctl.category-aliases]", ("spelling", "becomes"),
              list(category_aliases.items())),
        count_table("not_in_taxonomy", "Categories not in the taxonomy", "category", not_in, top),
    )
    notes = [f"{len(uncategorized)} of {len(presets)} presets have no category"]
    if category_aliases:
        notes.append("paste the alias table under [tool.presetctl.category-aliases] (or write it with --aliases) "
                     "and run `presetctl fix` to apply it")
    charts = (bar_chart("categories", "Presets by category", categories, unit="presets"),
              bar_chart("authors", "Presets by author", authors, unit="presets"))
    return Section("taxonomy", data, tuple(t for t in tables if t is not None and t.rows), charts, tuple(notes))
