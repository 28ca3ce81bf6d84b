"""Which rules run, at which severity, for which file: compiled once per process from Options.

Compiled lazily, family by family and format by format (rules/registry.py): a run imports the
rule modules of the formats it meets and of the codes it reports, not every rule presetctl has.
What a rule set answers does not depend on what was imported before (tests/test_rules_registry.py).
"""

from __future__ import annotations

from collections.abc import Container
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import PurePath

from presetctl.engine.errors import ConfigError
from presetctl.engine.metrics import RuleClock
from presetctl.engine.model import SecuritySeverity, Severity
from presetctl.engine.options import Options
from presetctl.engine.rules import registry
from presetctl.engine.rules.base import DEFAULT, PROFILES, Level, Rule, RuleContext
from presetctl.engine.security.ratings import scan_rating


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def _named(code: str, selectors: tuple[str, ...]) -> bool:
    """A selector other than ALL names this code (by code or prefix): that opts in a profile rule."""
    return any(s != "ALL" and code.startswith(s) for s in selectors)


def known_profiles() -> frozenset[str]:
    """What ``profile``/``--profile`` accepts: each rule set, and ``all`` for every rule."""
    return frozenset(PROFILES) | {"all"}


def check_selectors(selectors: tuple[str, ...], what: str) -> None:
    """Reject selectors that match no rule, so a typo in config is an error, not a no-op."""
    for s in selectors:
        if s != "ALL" and not registry.any_code_starts_with(s):
            raise ConfigError(f"{what}: {s!r} matches no rule code (see `presetctl rules`)")


class _Enabled(Container[str]):
    """The run's selection as a check sees it (``RuleContext.enabled``): asks the rule set, which
    imports a code's family to decide."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.rules.enabled(code)


class RuleSet:
    def __init__(self, options: Options) -> None:
        self.options = options
        for name, sel in (("select", options.select), ("extend-select", options.extend_select), ("ignore", options.ignore)):
            check_selectors(sel, name)
        for code in options.severity_overrides:
            if registry.lookup(code) is None:
                raise ConfigError(f"severity override for unknown rule code {code!r}")
        unknown = set(options.profiles) - known_profiles()
        if unknown:
            raise ConfigError(f"unknown rule profile {sorted(unknown)[0]!r} (known: {', '.join(sorted(known_profiles()))})")
        self._levels = options.levels
        self._selectors = options.select + options.extend_select
        self._profiles = set(options.profiles)
        self._per_file = tuple(options.per_file_ignores)
        self._enabled = _Enabled(self)
        # Whether a file's outcome must carry its presets' summaries: only pack rules read them, and
        # a rule that reads only paths (Q003, in the default set) is served without them.
        self.wants_summaries = any(not r.paths_only for r in self.pack_rules())
        # ... and the sound hash in them: only the rules that compare sounds read it.
        self.wants_sound = any(r.reads_sound for r in self.pack_rules())
        # Per-rule time of this process, when a run measures it (engine/metrics.py); None: not measured.
        self.clock: RuleClock | None = None

    def _selected(self, r: Rule) -> bool:
        levels, selectors, profiles = self._levels, self._selectors, self._profiles
        return (_matches(r.code, selectors)
                and not _matches(r.code, self.options.ignore)
                and (levels is None or r.level.value in levels)
                and (r.profile == DEFAULT or r.profile in profiles or "all" in profiles or _named(r.code, selectors)))

    @property
    def enabled_codes(self) -> frozenset[str]:
        """Every enabled code (imports every rule module: for listings and tests, not the per-file path)."""
        return frozenset(r.code for r in registry.all_rules() if self._selected(r))

    @lru_cache(maxsize=1024)  # noqa: B019 - one RuleSet per process, a few hundred codes
    def enabled(self, code: str) -> bool:
        rule = registry.lookup(code)
        return rule is not None and self._selected(rule)

    def context(self, path: PurePath) -> RuleContext:
        """A fresh per-file context for the checks of the file at ``path``."""
        return RuleContext(path, self.options, self._enabled)

    def rule(self, code: str) -> Rule:
        rule = registry.lookup(code)
        if rule is None:
            raise KeyError(code)
        return rule

    def security(self, code: str) -> SecuritySeverity | None:
        """The security rating a finding of ``code`` carries (file, parse and format codes only in
        scan-security)."""
        rule = self.rule(code)
        return scan_rating(rule) if self.options.rate_security else rule.security

    def severity(self, code: str) -> Severity:
        override = self.options.severity_overrides.get(code)
        return override if override is not None else self.rule(code).severity

    @lru_cache(maxsize=64)  # noqa: B019 - one RuleSet per process, a handful of formats
    def checks_for(self, format_id: str, parsed: bool, validated: bool) -> tuple[Rule, ...]:
        out = []
        for r in registry.rules_of(registry.modules_for_format(format_id)):
            if r.check is None or not r.applies_to(format_id):
                continue
            if not (self.enabled(r.code) or any(self.enabled(c) for c in r.also_emits)):
                continue
            if not parsed and not r.needs_unparsed:
                continue
            if not validated and r.level is not Level.SECURITY and r.formats is None:
                continue
            out.append(r)
        return tuple(out)

    @lru_cache(maxsize=1)  # noqa: B019
    def pack_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in registry.rules_of(registry.any_format_modules())
                     if r.pack_check is not None and self.enabled(r.code))

    @lru_cache(maxsize=4096)  # noqa: B019
    def ignored_for(self, path: str) -> tuple[str, ...]:
        name = path.rsplit("/", 1)[-1]
        out: list[str] = []
        for glob, codes in self._per_file:
            if fnmatch(path, glob) or fnmatch(name, glob):
                out.extend(codes)
        return tuple(out)

    def reports(self, path: str, code: str) -> bool:
        if not self.enabled(code):
            return False
        ignored = self.ignored_for(path)
        return not (ignored and _matches(code, ignored))
