"""The browsing model: filter, sort and group findings. Pure functions; every view uses these.

A :class:`Filter` holds what the user narrowed the run to (severities, codes or prefixes, path
globs, free text); :func:`parse_query` reads the same filter from one line of text, which is what
the viewer's filter box and the HTML page's search accept. Groups are sorted by their worst
severity, then by size, so 80,000 duplicate warnings are one line below the few errors.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from presetctl.engine.errors import UsageError
from presetctl.engine.model import Finding, Severity


class GroupBy(str, enum.Enum):
    rule = "rule"
    file = "file"
    preset = "preset"

    def next(self) -> GroupBy:
        order = list(GroupBy)
        return order[(order.index(self) + 1) % len(order)]


ALL_SEVERITIES: frozenset[Severity] = frozenset(Severity)


@dataclass(frozen=True)
class Filter:
    """Findings to keep. Empty fields keep everything; within a field any entry may match."""

    severities: frozenset[Severity] = ALL_SEVERITIES
    codes: tuple[str, ...] = ()  # codes or prefixes: "M001", "M", "X05"
    paths: tuple[str, ...] = ()  # globs on the reported path ("*" crosses folders, as in fnmatch)
    text: str = ""  # case-insensitive substring of message, path, code, rule name, location or hint

    @property
    def active(self) -> bool:
        return self != Filter()

    def matches(self, f: Finding) -> bool:
        if f.severity not in self.severities:
            return False
        if self.codes and not f.code.upper().startswith(tuple(c.upper() for c in self.codes)):
            return False
        if self.paths and not any(_glob(f.path, g) for g in self.paths):
            return False
        return not self.text or self.text.casefold() in haystack(f)

    def describe(self) -> str:
        """The filter as :func:`parse_query` text (round-trips)."""
        parts: list[str] = []
        if self.severities != ALL_SEVERITIES:
            parts.append("sev:" + ",".join(s.label for s in sorted(self.severities, reverse=True)))
        parts += [f"code:{c}" for c in self.codes]
        parts += [f"path:{shlex.quote(p)}" for p in self.paths]
        if self.text:
            parts.append(shlex.quote(self.text))
        return " ".join(parts)


def _glob(path: str, pattern: str) -> bool:
    """A glob matches the whole path, or its file name when the glob has no slash."""
    if fnmatchcase(path, pattern):
        return True
    return "/" not in pattern and fnmatchcase(path.rsplit("/", 1)[-1], pattern)


def haystack(f: Finding) -> str:
    return "\n".join((f.message, f.path, f.code, f.rule_name, f.location.render(), f.hint)).casefold()


def severities_at_least(threshold: Severity) -> frozenset[Severity]:
    return frozenset(s for s in Severity if s >= threshold)


def parse_severities(values: Iterable[str]) -> frozenset[Severity]:
    """``error,warning`` (those exactly) or ``warning+`` (that and above); empty means all."""
    out: set[Severity] = set()
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                if part.endswith("+"):
                    out |= severities_at_least(Severity.parse(part[:-1]))
                else:
                    out.add(Severity.parse(part))
            except ValueError as exc:
                raise UsageError(str(exc)) from None
    return frozenset(out) or ALL_SEVERITIES


def split_list(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for v in values or () for p in v.split(",") if p.strip()))


def make_filter(severity: Sequence[str] | None = None, select: Sequence[str] | None = None,
                path: Sequence[str] | None = None, grep: str | None = None) -> Filter:
    """The filter the command-line options describe."""
    return Filter(parse_severities(severity or ()), split_list(select), tuple(path or ()), grep or "")


def parse_query(text: str) -> Filter:
    """``sev:warning+ code:M0,N path:'*.syx' free words`` -> Filter. Raises UsageError."""
    try:
        words = shlex.split(text)
    except ValueError as exc:  # an unclosed quote while typing
        raise UsageError(f"filter: {exc}") from None
    sev: list[str] = []
    codes: list[str] = []
    paths: list[str] = []
    free: list[str] = []
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key in ("sev", "severity"):
            sev.append(value)
        elif sep and key in ("code", "rule"):
            codes.append(value)
        elif sep and key in ("path", "file"):
            if value:  # "path:" half typed narrows nothing yet
                paths.append(value)
        else:
            free.append(word)
    return Filter(parse_severities(sev), split_list(codes), tuple(paths), " ".join(free))


def apply(findings: Sequence[Finding], flt: Filter, texts: Sequence[str] | None = None) -> tuple[Finding, ...]:
    """The findings ``flt`` keeps. ``texts[i]`` may hold ``haystack(findings[i])``, computed once by
    a caller that filters the same run on every keystroke."""
    if not flt.active:
        return tuple(findings)
    if texts is None or not flt.text:
        return tuple(f for f in findings if flt.matches(f))
    needle = flt.text.casefold()
    plain = replace(flt, text="")
    return tuple(f for f, t in zip(findings, texts, strict=True) if needle in t and plain.matches(f))


def severity_order(f: Finding) -> tuple[int, str, int, int, str, str, str]:
    """Most severe first, then the stable order of the run (path, line, location, code, message)."""
    return (-int(f.severity), *f.sort_key())


def by_severity(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=severity_order))


# -- grouping ---------------------------------------------------------------------------------------

def preset_label(f: Finding) -> str:
    """The preset a finding belongs to: the file, narrowed to an archive entry or a bank voice."""
    parts = [f.path]
    if f.location.entry:
        parts.append(f.location.entry)
    if f.location.voice is not None:
        parts.append(f"voice {f.location.voice}")
    return " \u203a ".join(parts)


def group_key(f: Finding, by: GroupBy) -> str:
    if by is GroupBy.rule:
        return f.code
    if by is GroupBy.file:
        return f.path
    return preset_label(f)


@dataclass(frozen=True)
class Group:
    key: str
    title: str  # the rule name for rule groups, else ""
    findings: tuple[Finding, ...]  # most severe first
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def worst(self) -> Severity:
        return self.findings[0].severity

    def __len__(self) -> int:
        return len(self.findings)


def group(findings: Iterable[Finding], by: GroupBy) -> tuple[Group, ...]:
    """Groups, worst severity first, then the biggest, then by key."""
    buckets: dict[str, list[Finding]] = {}
    for f in findings:
        buckets.setdefault(group_key(f, by), []).append(f)
    groups = []
    for key, members in buckets.items():
        ordered = by_severity(members)
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in ordered:
            counts[f.severity.label] += 1
        title = next((f.rule_name for f in ordered if f.rule_name), "") if by is GroupBy.rule else ""
        groups.append(Group(key, title, ordered, counts))
    groups.sort(key=lambda g: (-int(g.worst), -len(g), g.key))
    return tuple(groups)


def counts_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for f in findings:
        out[f.severity.label] += 1
    return out
