"""Configuration: where it is found, every setting, and errors that exit 2 with a clear message."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from presetctl.engine.config import find_config, options_from_config, resolve_options
from presetctl.engine.errors import ConfigError
from presetctl.engine.model import Severity
from presetctl.engine.options import Limits, Options, Thresholds

CLEAN: dict[str, Any] = {
    "format_version": "1.0",
    "metadata": {"name": "Bass", "author": "A. Person", "category": "Bass", "tags": ["deep"],
                 "description": "Sub bass.", "license": "CC-BY-4.0"},
    "parameters": [{"name": "cutoff", "type": "float", "value": 0.5, "min": 0, "max": 1}],
}


def write_preset(path: Path, **meta: Any) -> None:
    doc = json.loads(json.dumps(CLEAN))
    doc["metadata"]["name"] = path.stem
    for key, value in meta.items():
        if value is None:
            doc["metadata"].pop(key)
        else:
            doc["metadata"][key] = value
    doc["parameters"][0]["value"] = zlib.crc32(path.stem.encode()) % 997 / 997  # distinct sounds: no Q001
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """project/presets/deep/: Bass.json (no author: M002), Lead.json (no license: M007)."""
    root = tmp_path / "project"
    write_preset(root / "presets" / "deep" / "Bass.json", author=None)
    write_preset(root / "presets" / "deep" / "Lead.json", license=None, category="Lead")
    monkeypatch.chdir(tmp_path)
    return root


def codes(cli, *args: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """Findings with the marketplace profile on (the metadata rules these tests configure are in it)."""
    result = cli(["validate", "project/presets", "-o", "json", "--profile", "marketplace", *args])
    assert result.exit_code in (0, 1), result.output
    return [(f["path"].rsplit("/", 1)[-1], f["code"], f["severity"]) for f in json.loads(result.stdout)["findings"]]


BASE = [("Bass.json", "M002", "warning"), ("Lead.json", "M007", "info")]


# -- finding the file -------------------------------------------------------------------------------------
def test_no_config_gives_the_defaults(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert codes(cli) == BASE
    assert resolve_options(["project/presets"], None) == (Options(), None)
    default = cli(["validate", "project/presets", "-o", "json"])  # no author, no license: not defects
    assert (default.exit_code, json.loads(default.stdout)["findings"]) == (0, [])


def test_pyproject_section_is_found_walking_up(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "pyproject.toml").write_text('[project]\nname = "pack"\n\n[tool.presetctl]\nignore = ["M002"]\n')
    assert codes(cli) == [("Lead.json", "M007", "info")]
    assert find_config(str(project / "presets" / "deep")) == project / "pyproject.toml"


def test_pyproject_without_the_section_is_skipped(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presets" / "pyproject.toml").write_text('[project]\nname = "not presetctl"\n')
    (project / "presetctl.toml").write_text('ignore = ["M007"]\n')
    assert codes(cli) == [("Bass.json", "M002", "warning")]
    assert find_config(str(project / "presets")) == project / "presetctl.toml"


def test_nearest_config_wins_and_presetctl_toml_before_pyproject(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('ignore = ["M007"]\n')
    (project / "presets" / "pyproject.toml").write_text('[tool.presetctl]\nignore = ["M002"]\n')
    assert codes(cli) == [("Lead.json", "M007", "info")]
    (project / "presets" / "presetctl.toml").write_text('ignore = ["M"]\n')
    assert codes(cli) == []


def test_config_option_overrides_discovery(cli, project: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('ignore = ["M007"]\n')
    other = tmp_path / "ci.toml"
    other.write_text('ignore = ["M002"]\n')
    assert codes(cli, "--config", str(other)) == [("Lead.json", "M007", "info")]
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.presetctl]\nselect = ["M007"]\n')
    assert codes(cli, "--config", str(pyproject)) == [("Lead.json", "M007", "info")]


# -- settings ---------------------------------------------------------------------------------------------
def test_select_extend_select_and_ignore(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    config = project / "presetctl.toml"
    config.write_text('select = ["P", "S"]\nextend-select = ["M00"]\nignore = ["M007"]\n')
    assert codes(cli) == [("Bass.json", "M002", "warning")]
    # Flags go on top of the config, as in ruff: --select replaces the selection (the configured
    # extend-select and ignore still apply), --ignore and --extend-select add.
    assert codes(cli, "--select", "M007") == [("Bass.json", "M002", "warning")]
    assert codes(cli, "--select", "M", "--ignore", "M002") == []
    assert codes(cli, "--extend-select", "N") == [("Bass.json", "M002", "warning")]


def test_per_file_ignores(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('[per-file-ignores]\n"Bass*" = ["M00"]\n"presets/deep/Lead.json" = "M007"\n')
    assert codes(cli) == [("Lead.json", "M007", "info")]  # the second glob is matched against cwd-relative paths
    (project / "presetctl.toml").write_text('[per-file-ignores]\n"project/presets/deep/Lead.json" = "M007"\n')
    assert codes(cli) == [("Bass.json", "M002", "warning")]


def test_severity_overrides_change_the_exit_code(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli(["validate", "project/presets", "--profile", "marketplace"]).exit_code == 0
    (project / "presetctl.toml").write_text('[severity]\nM002 = "error"\nM007 = "warning"\n')
    assert codes(cli) == [("Bass.json", "M002", "error"), ("Lead.json", "M007", "warning")]
    assert cli(["validate", "project/presets", "--profile", "marketplace"]).exit_code == 1
    assert cli(["validate", "project/presets"]).exit_code == 0  # the override does not switch the rule on


def test_severity_override_for_an_unknown_code_is_an_error(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('[severity]\nM999 = "error"\n')
    result = cli(["validate", "project/presets"])
    assert result.exit_code == 2
    assert result.stderr == "presetctl: config error: severity override for unknown rule code 'M999'\n"


def test_taxonomy_profile_and_extra_categories(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    write_preset(project / "presets" / "deep" / "Chip.json", category="Chiptune")
    assert ("Chip.json", "M004", "warning") in codes(cli)
    (project / "presetctl.toml").write_text('taxonomy = ["auto", "Chiptune"]\n')
    assert codes(cli) == BASE
    # The NKS profile alone: "Bass" is an NKS type, "Lead" and "Chiptune" are not.
    (project / "presetctl.toml").write_text('taxonomy = ["nks"]\nselect = ["M004"]\n')
    assert codes(cli) == [("Chip.json", "M004", "warning"), ("Lead.json", "M004", "warning")]


def test_category_aliases_make_a_category_fixable(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    write_preset(project / "presets" / "deep" / "Wob.json", category="Wobble")
    (project / "presetctl.toml").write_text('select = ["M004"]\n[category-aliases]\nWobble = "Bass"\n')
    result = json.loads(cli(["validate", "project/presets", "-o", "json"]).stdout)
    assert [(f["code"], f["message"], f["fixable"]) for f in result["findings"]] == [
        ("M004", "category 'Wobble' is spelled 'Bass' in the taxonomy", True)]


def test_limits_and_thresholds(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('select = ["F", "A"]\n[limits]\nmax-file-size = 100\n')
    assert codes(cli) == [("Bass.json", "F002", "error"), ("Lead.json", "F002", "error")]
    doc = json.loads(json.dumps(CLEAN))
    doc["metadata"]["name"] = "Fx"
    doc["effects"] = [{"type": "reverb"}, {"type": "delay"}, {"type": "chorus", "enabled": False}]
    (project / "presets" / "deep" / "Fx.json").write_text(json.dumps(doc))
    (project / "presetctl.toml").write_text('select = ["A"]\n[thresholds]\nmax-effects = 1\n')
    assert codes(cli) == [("Fx.json", "A003", "warning")]
    (project / "presetctl.toml").write_text('select = ["A"]\n[thresholds]\nmax-effects = 2\n')
    assert codes(cli) == []


def test_options_from_config_builds_every_field() -> None:
    opts = options_from_config({
        "select": "M", "extend-select": ["N"], "ignore": ["M006"], "include": ["*.json"], "exclude": ["old/"],
        "per-file-ignores": {"Init*": ["N001"]}, "severity": {"M002": "info"}, "taxonomy": ["surge", "Chip"],
        "category-aliases": {"Basses": "Bass"}, "limits": {"max-file-size": 1000, "max-nesting": 10},
        "thresholds": {"max-voice-load": 64}, "jobs": 3,
        "pack": {"author": "Ann", "license": "CC0-1.0", "min-versions": {"vital": "1.0"}, "max-versions": {"vital": "1.5.5"}},
    })
    assert opts.select == ("M",) and opts.extend_select == ("N",) and opts.ignore == ("M006",)
    assert opts.include == ("*.json",) and opts.exclude == ("old/",)
    assert opts.per_file_ignores == (("Init*", ("N001",)),)
    assert opts.severity_overrides == {"M002": Severity.INFO}
    assert opts.taxonomy == ("surge", "Chip") and opts.category_aliases == {"Basses": "Bass"}
    assert opts.limits == Limits(max_file_size=1000, max_nesting=10)
    assert opts.thresholds == Thresholds(max_voice_load=64)
    assert opts.jobs == 3
    assert (opts.pack.author, opts.pack.license) == ("Ann", "CC0-1.0")
    assert opts.pack.min_versions == {"vital": "1.0"} and opts.pack.max_versions == {"vital": "1.5.5"}


@pytest.mark.parametrize(("section", "message"), [
    ({"selekt": ["M"]}, "unknown setting 'selekt' in [tool.presetctl]"),
    ({"limits": {"max-size": 1}}, "limits.max-size: unknown setting (known: max-file-size, "),
    ({"limits": {"max-file-size": True}}, "limits.max-file-size must be a positive number"),
    ({"limits": 5}, "limits must be a table"),
    ({"thresholds": {"max-effects": 0}}, "thresholds.max-effects must be a positive number"),
    ({"pack": {"owner": "x"}}, "pack.owner: unknown setting (known: author, license, max-versions, min-versions)"),
    ({"pack": {"author": 3}}, "pack.author and pack.license must be strings"),
    ({"per-file-ignores": ["x"]}, "per-file-ignores must be a table of glob = [codes]"),
    ({"per-file-ignores": {"x": [1]}}, "per-file-ignores.x must be a string or a list of strings"),
    ({"severity": {"M002": "fatal"}}, "severity: unknown severity 'fatal' (expected error, warning or info)"),
    ({"category-aliases": {"a": 1}}, "category-aliases must be a table of strings"),
    ({"jobs": 0}, "jobs must be a positive integer"),
    ({"taxonomy": [1]}, "taxonomy must be a string or a list of strings"),
])
def test_invalid_settings_name_the_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        options_from_config(section)
    assert str(info.value).startswith(message)


def test_config_errors_exit_2_in_the_cli(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('[limits]\nmax-size = 1\n')
    result = cli(["validate", "project/presets"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("presetctl: config error: limits.max-size: unknown setting (known: ")
    assert cli(["validate", "project/presets", "--config", "nope.toml"]).stderr == (
        "presetctl: config error: config file 'nope.toml' does not exist\n")


def test_a_selector_that_matches_no_rule_is_an_error(cli, project: Path) -> None:  # type: ignore[no-untyped-def]
    (project / "presetctl.toml").write_text('ignore = ["M0O2"]\n')
    result = cli(["validate", "project/presets"])
    assert result.exit_code == 2
    assert result.stderr == "presetctl: config error: ignore: 'M0O2' matches no rule code (see `presetctl rules`)\n"


def test_config_file_with_a_tool_table_is_read_under_any_name(tmp_path: Path) -> None:
    from presetctl.engine.config import load_config

    cfg = tmp_path / "ci-presetctl.toml"
    cfg.write_text('[tool.presetctl]\nignore = ["M006"]\n')
    assert load_config(cfg) == {"ignore": ["M006"]}
    bare = tmp_path / "bare.toml"
    bare.write_text('ignore = ["M006"]\n')
    assert load_config(bare) == {"ignore": ["M006"]}
