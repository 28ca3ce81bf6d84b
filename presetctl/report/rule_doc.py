"""A rule's documentation page (Markdown): ``presetctl rule CODE`` and docs/rules.md print it."""

from __future__ import annotations

from presetctl.engine.rules.base import Rule


def rule_doc_markdown(rule: Rule) -> str:
    """The ruff-style page of one rule: a summary line, then its sections."""
    fix = f"{rule.fix.safety.value} ({rule.fix.description})" if rule.fix else "none"
    head = [
        f"## {rule.code} {rule.name}",
        "",
        f"{rule.summary}. Level: {rule.level.value}. Default severity: {rule.severity.label}"
        + (f". Security severity: {rule.security.label}" if rule.security else "") + f". Fix: {fix}."
        + (f" Profile: {rule.profile} (opt-in)." if rule.profile != "default" else ""),
    ]
    body = [f"\n### {title}\n{text}" for title, text in rule.doc.sections(rule.fix)]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n"
