"""``presetctl rules`` and ``presetctl rule CODE``: the rule registry, as a table or a doc."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from presetctl.cli.console import write_stdout
from presetctl.cli.errors import guarded
from presetctl.engine.errors import UsageError
from presetctl.engine.rules.base import PROFILES, Rule
from presetctl.engine.rules.registry import BY_CODE, RULES
from presetctl.report.rule_doc import rule_doc_markdown


def rule_row(rule: Rule) -> dict[str, object]:
    return {
        "code": rule.code, "name": rule.name, "level": rule.level.value, "severity": rule.severity.label,
        "security_severity": rule.security.label if rule.security else None,
        "fix": rule.fix.safety.value if rule.fix else None, "profile": rule.profile, "summary": rule.summary,
    }


@guarded
def rules(
    output_format: Annotated[str, typer.Option("--output-format", "-o", help="text or json.")] = "text",
    level: Annotated[str | None, typer.Option("--level", help="Only rules of this level (file, parse, schema, ...).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Only rules of this profile: default (what every "
                                                "run checks), marketplace or audio (opt-in).")] = None,
) -> None:
    """List every rule: code, name, level, default severity, fix safety, profile.

    Rules of the default profile run on every `validate`; the others run when their profile is on
    (`--profile marketplace`, `profile = "marketplace"` in config) or a selector names them
    (`--select M004`). docs/rules-policy.md says which rule is in which set, and why.
    """
    if profile is not None and profile not in PROFILES:
        raise UsageError(f"no profile {profile!r} (known: {', '.join(PROFILES)})")
    chosen = [r for r in RULES if (level is None or r.level.value == level) and (profile is None or r.profile == profile)]
    if level is not None and not chosen:
        raise UsageError(f"no rules at level {level!r}")
    if output_format == "json":
        write_stdout(orjson.dumps([rule_row(r) for r in chosen], option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if output_format != "text":
        raise UsageError("--output-format takes text or json")
    lines = [f"{'code':<6} {'name':<34} {'level':<12} {'severity':<8} {'fix':<7} {'profile':<11} summary"]
    for r in chosen:
        sev = r.security.label if r.security else r.severity.label
        fix = r.fix.safety.value if r.fix else "-"
        lines.append(f"{r.code:<6} {r.name:<34} {r.level.value:<12} {sev:<8} {fix:<7} {r.profile:<11} {r.summary}")
    write_stdout("\n".join(lines) + "\n")


@guarded
def rule(code: Annotated[str, typer.Argument(help="Rule code, e.g. S001.")]) -> None:
    """Show the documentation of one rule."""
    found = BY_CODE.get(code.upper())
    if found is None:
        raise UsageError(f"no rule {code!r} (see `presetctl rules`)")
    sys.stdout.write(rule_doc_markdown(found))
