"""The docs are current and complete: generated pages match the code, every schema field is
documented, examples are valid, and links lead somewhere."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer

from presetctl import api, docgen
from presetctl.cli.app import app
from presetctl.engine.config import options_from_config
from presetctl.engine.rules.registry import RULES
from presetctl.engine.schemas import load_schema

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
OWN_PAGES = ("index.md", "getting-started.md", "format.md", "ci.md", "cli.md", "rules.md", "errors.md", "state.md")
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


def test_generated_docs_are_current() -> None:
    stale = [str(p.relative_to(REPO)) for p in docgen.stale()]
    assert stale == [], "run `make docs` (python -m presetctl.docgen) and commit the result"


def test_generation_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = docgen.cli_markdown()
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    assert docgen.cli_markdown() == expected
    assert "\x1b" not in expected


def test_check_mode_exits_1_when_stale(tmp_path: Path) -> None:
    assert docgen.main(["--check", "--docs-dir", str(tmp_path)]) == 1  # missing
    assert docgen.main(["--docs-dir", str(tmp_path)]) == 0
    assert docgen.main(["--check", "--docs-dir", str(tmp_path)]) == 0
    rules = tmp_path / "rules.md"
    rules.write_text(rules.read_text() + "edited by hand\n")
    assert docgen.main(["--check", "--docs-dir", str(tmp_path)]) == 1


def _commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    ctx = root.make_context("presetctl", [], resilient_parsing=True)
    return [(name, root.get_command(ctx, name)) for name in root.list_commands(ctx)]  # type: ignore[attr-defined]


def test_cli_reference_has_every_command_and_option() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands()
    assert len(commands) >= 5
    for name, command in commands:
        assert f"\n## presetctl {name}\n" in text
        assert f"Usage: presetctl {name} [OPTIONS]" in text
        section = text.split(f"\n## presetctl {name}\n", 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in section, (name, opt)


def test_rule_reference_has_every_rule() -> None:
    text = (DOCS / "rules.md").read_text()
    for rule in RULES:
        assert f"\n## {rule.code} {rule.name}\n" in text
        assert f"[{rule.code}](#{rule.code.lower()}-{rule.name})" in text
        assert rule.doc.what in text
    assert f"{len(RULES)} rules." in text


# -- the format reference -------------------------------------------------------------------------
def _schema_fields(schema: dict[str, Any]) -> list[str]:
    """Every property of the schema as a dotted path (`metadata.synth.version`, `parameters[].unit`)."""
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    out: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        node = resolve(node)
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            walk(node["items"], prefix + "[]")
        for key, sub in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            out.append(path)
            walk(sub, path)

    walk(schema, "")
    return out


def test_format_reference_documents_every_schema_field() -> None:
    text = (DOCS / "format.md").read_text()
    fields = _schema_fields(load_schema())
    assert len(fields) >= 40 and "metadata.synth.version" in fields and "assets[].sha256" in fields
    missing = [f for f in fields if f"| `{f}` |" not in text]
    assert missing == []


def _example(text: str) -> dict[str, Any]:
    match = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert match is not None
    value: dict[str, Any] = json.loads(match.group(1))
    return value


def test_format_example_is_valid_and_clean(tmp_path: Path) -> None:
    example = _example((DOCS / "format.md").read_text())
    jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker()).validate(example)
    assert {k for k in _schema_fields(load_schema()) if "." not in k and "[" not in k} - set(example) == {"$schema"}
    path = tmp_path / f"{example['metadata']['name']}.json"
    path.write_text(json.dumps(example, indent=2))
    assert api.validate([str(path)], api.Options(jobs=1)).findings == ()


def test_format_reference_lists_the_builtin_taxonomy() -> None:
    from presetctl.engine.taxonomy import PROFILES

    text = (DOCS / "format.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `metadata.category` |"))
    assert re.findall(r"`([A-Z][A-Za-z]*)`", row) == list(PROFILES["presetctl"])


# -- getting started and CI ------------------------------------------------------------------------
def test_getting_started_config_example_is_valid() -> None:
    text = (DOCS / "getting-started.md").read_text()
    block = re.search(r"```toml\n(.*?)\n```", text, re.S)
    assert block is not None
    options = options_from_config(tomllib.loads(block.group(1)))
    assert options.ignore == ("M006", "N001") and options.thresholds.max_effects == 8


def test_ci_recipes_use_real_options_and_the_shipped_hook() -> None:
    text = (DOCS / "ci.md").read_text()
    assert "github/codeql-action/upload-sarif" in text and "codequality: gl-code-quality-report.json" in text
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    hook_id = re.search(r"- id: (\S+)", hooks)
    assert hook_id is not None and f"id: {hook_id.group(1)}" in text
    cli = (DOCS / "cli.md").read_text()
    for flag in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text)):
        assert flag in cli, flag


# -- links ------------------------------------------------------------------------------------------
def _anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", path.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", OWN_PAGES)
def test_links_lead_somewhere(page: str) -> None:
    source = DOCS / page
    for link in LINK_RE.findall(source.read_text()):
        if re.match(r"[a-z]+:", link):
            continue  # external
        target, _, anchor = link.partition("#")
        dest = (source.parent / target).resolve() if target else source
        assert dest.exists(), (page, link)
        if anchor and dest.suffix == ".md":
            assert anchor in _anchors(dest), (page, link)


def test_index_links_every_page() -> None:
    text = (DOCS / "index.md").read_text()
    links = set(LINK_RE.findall(text))
    pages = sorted(p.name for p in DOCS.glob("*.md") if p.name != "index.md")
    assert [p for p in pages if p not in links] == []
    family = sorted(f"formats/{p.name}" for p in (DOCS / "formats").glob("*.md"))
    assert [p for p in family if p not in links] == []


def test_rules_policy_lists_every_rule_once_with_its_profile() -> None:
    """docs/rules-policy.md gives each rule's profile and why: it cannot drift from the registry."""
    listed: dict[str, str] = {}
    for line in (DOCS / "rules-policy.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"[A-Z]\d{3}(, [A-Z]\d{3})*", cells[0]):
            for code in cells[0].split(", "):
                assert code not in listed, f"{code} is listed twice"
                listed[code] = cells[1]
    assert listed == {r.code: r.profile for r in RULES}
