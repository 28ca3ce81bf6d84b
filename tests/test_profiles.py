"""Rule profiles: the default set reports defects, opt-in profiles add house style, curation and
audio; a selector that names a rule switches it on whatever its profile; ALL never does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from presetctl.engine.errors import ConfigError
from presetctl.engine.options import Options
from presetctl.engine.rules.base import DEFAULT, PROFILES
from presetctl.engine.rules.registry import RULES
from presetctl.engine.rules.selection import RuleSet

MARKET = {r.code for r in RULES if r.profile == "marketplace"}
AUDIO = {r.code for r in RULES if r.profile == "audio"}


def _preset(name: str, cutoff: float, **meta: object) -> str:
    metadata = {"name": name, "author": "A. Person", "category": "Pad", "description": "d", "license": "CC0-1.0",
                **meta}
    return json.dumps({"format_version": "1.0", "metadata": {k: v for k, v in metadata.items() if v is not None},
                       "parameters": [{"name": "cutoff", "type": "float", "value": cutoff, "min": 0, "max": 1}]})


@pytest.fixture
def curation_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No defect at all; two house-style problems: no author (M002), a category outside the taxonomy (M004)."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "Pad.json").write_text(_preset("Pad", 0.1))
    (pack / "Bass.json").write_text(_preset("Bass", 0.2, author=None))
    (pack / "Wub.json").write_text(_preset("Wub", 0.3, category="Wubstep"))
    monkeypatch.chdir(tmp_path)
    return pack


def codes(cli, *args: str) -> tuple[int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "-o", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, [(f["path"].rsplit("/", 1)[-1], f["code"]) for f in json.loads(result.stdout)["findings"]]


def test_every_rule_is_in_a_known_profile_and_most_are_default() -> None:
    assert {r.profile for r in RULES} == set(PROFILES)
    assert {"M002", "M004", "N001", "Q001", "Q002", "U012", "A001"} <= MARKET
    assert {"D001", "U007", "P001", "Q003", "N002", "X063"}.isdisjoint(MARKET | AUDIO)


def test_the_default_set_leaves_out_every_opt_in_rule() -> None:
    enabled = RuleSet(Options()).enabled_codes
    assert enabled == {r.code for r in RULES if r.profile == DEFAULT}
    assert RuleSet(Options(profiles=("marketplace",))).enabled_codes == enabled | MARKET
    assert RuleSet(Options(profiles=("all",))).enabled_codes == {r.code for r in RULES}


def test_default_run_is_clean_and_the_profile_adds_house_style(cli, curation_pack: Path) -> None:  # type: ignore[no-untyped-def]
    assert codes(cli) == (0, [])
    assert codes(cli, "--profile", "marketplace") == (0, [("Bass.json", "M002"), ("Wub.json", "M004")])
    assert codes(cli, "--profile", "marketplace", "--fail-on", "warning")[0] == 1


def test_a_selector_that_names_a_rule_switches_it_on(cli, curation_pack: Path) -> None:  # type: ignore[no-untyped-def]
    assert codes(cli, "--select", "M004") == (0, [("Wub.json", "M004")])
    assert codes(cli, "--extend-select", "M002") == (0, [("Bass.json", "M002")])
    assert codes(cli, "--select", "M00") == (0, [("Bass.json", "M002"), ("Wub.json", "M004")])
    assert codes(cli, "--select", "ALL") == (0, [])  # ALL: every rule of the active profiles only
    assert codes(cli, "--profile", "marketplace", "--ignore", "M004") == (0, [("Bass.json", "M002")])


def test_profiles_from_config(cli, curation_pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "presetctl.toml"
    config.write_text('profile = "marketplace"\n')
    assert codes(cli) == (0, [("Bass.json", "M002"), ("Wub.json", "M004")])
    config.write_text('profiles = ["marketplace"]\nselect = ["ALL"]\nignore = ["M002"]\n')
    assert codes(cli) == (0, [("Wub.json", "M004")])
    config.write_text('select = ["ALL"]\n')
    assert codes(cli) == (0, [])


def test_unknown_profile_is_a_usage_error(cli, curation_pack: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["validate", "pack", "--profile", "store"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("presetctl: config error: unknown rule profile 'store' "
                             "(known: all, audio, default, marketplace)\n")
    with pytest.raises(ConfigError, match="unknown rule profile 'houseStyle'"):
        RuleSet(Options(profiles=("houseStyle",)))


def test_fix_applies_a_profile_fix_only_when_the_profile_is_on(cli, curation_pack: Path) -> None:  # type: ignore[no-untyped-def]
    (curation_pack / "Wub.json").write_text(_preset("Wub", 0.3, category="pads"))  # M004, fixable: "Pad"
    before = (curation_pack / "Wub.json").read_bytes()
    assert cli(["fix", "pack", "--no-fsync", "-q"]).exit_code == 0
    assert (curation_pack / "Wub.json").read_bytes() == before
    assert cli(["fix", "pack", "--no-fsync", "-q", "--profile", "marketplace"]).exit_code == 0
    assert json.loads((curation_pack / "Wub.json").read_text())["metadata"]["category"] == "Pad"
