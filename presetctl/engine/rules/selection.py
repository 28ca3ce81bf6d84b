"""Which rules run, at which severity, for which file: compiled once per process from Options."""

from __future__ import annotations

from fnmatch import fnmatch
from functools import lru_cache
from pathlib import PurePath

from presetctl.engine.errors import ConfigError
from presetctl.engine.metrics import RuleClock
from presetctl.engine.model import SecuritySeverity, Severity
from presetctl.engine.options import Options
from presetctl.engine.rules.base import DEFAULT, PROFILES, Level, Rule, RuleContext
from presetctl.engine.rules.registry import BY_CODE, RULES
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
        if s != "ALL" and not any(code.startswith(s) for code in BY_CODE):
            raise ConfigError(f"{what}: {s!r} matches no rule code (see `presetctl rules`)")


class RuleSet:
    def __init__(self, options: Options) -> None:
        self.options = options
        for name, sel in (("select", options.select), ("extend-select", options.extend_select), ("ignore", options.ignore)):
            check_selectors(sel, name)
        for code in options.severity_overrides:
            if code not in BY_CODE:
                raise ConfigError(f"severity override for unknown rule code {code!r}")
        unknown = set(options.profiles) - known_profiles()
        if unknown:
            raise ConfigError(f"unknown rule profile {sorted(unknown)[0]!r} (known: {', '.join(sorted(known_profiles()))})")
        levels = options.levels
        selectors = options.select + options.extend_select
        profiles = set(options.profiles)
        self.enabled_codes = frozenset(
            r.code
            for r in RULES
            if _matches(r.code, selectors)
            and not _matches(r.code, options.ignore)
            and (levels is None or r.level.value in levels)
            and (r.profile == DEFAULT or r.profile in profiles or "all" in profiles or _named(r.code, selectors))
        )
        self._per_file = tuple(options.per_file_ignores)
        # Whether a file's outcome must carry its presets' summaries: only pack rules read them, and
        # a rule that reads only paths (Q003, in the default set) is served without them.
        self.wants_summaries = any(not r.paths_only for r in self.pack_rules())
        # ... and the sound hash in them: only the rules that compare sounds read it.
        self.wants_sound = any(r.reads_sound for r in self.pack_rules())
        # Per-rule time of this process, when a run measures it (engine/metrics.py); None: not measured.
        self.clock: RuleClock | None = None

    def enabled(self, code: str) -> bool:
        return code in self.enabled_codes

    def context(self, path: PurePath) -> RuleContext:
        """A fresh per-file context for the checks of the file at ``path``."""
        return RuleContext(path, self.options, self.enabled_codes)

    def rule(self, code: str) -> Rule:
        return BY_CODE[code]

    def security(self, code: str) -> SecuritySeverity | None:
        """The security rating a finding of ``code`` carries (file, parse and format codes only in
        scan-security)."""
        rule = BY_CODE[code]
        return scan_rating(rule) if self.options.rate_security else rule.security

    def severity(self, code: str) -> Severity:
        override = self.options.severity_overrides.get(code)
        return override if override is not None else BY_CODE[code].severity

    @lru_cache(maxsize=64)  # noqa: B019 - one RuleSet per process, a handful of formats
    def checks_for(self, format_id: str, parsed: bool, validated: bool) -> tuple[Rule, ...]:
        out = []
        for r in RULES:
            wanted = r.code in self.enabled_codes or any(c in self.enabled_codes for c in r.also_emits)
            if r.check is None or not wanted or not r.applies_to(format_id):
                continue
            if not parsed and not r.needs_unparsed:
                continue
            if not validated and r.level is not Level.SECURITY and r.formats is None:
                continue
            out.append(r)
        return tuple(out)

    def pack_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in RULES if r.pack_check is not None and r.code in self.enabled_codes)


    @lru_cache(maxsize=4096)  # noqa: B019
    def ignored_for(self, path: str) -> tuple[str, ...]:
        name = path.rsplit("/", 1)[-1]
        out: list[str] = []
        for glob, codes in self._per_file:
            if fnmatch(path, glob) or fnmatch(name, glob):
                out.extend(codes)
        return tuple(out)

    def reports(self, path: str, code: str) -> bool:
        if code not in self.enabled_codes:
            return False
        ignored = self.ignored_for(path)
        return not (ignored and _matches(code, ignored))
