"""``presetctl stats`` engine: the real corpus (numbers checked with plain Python here), planted
duplicates, the near-duplicate search against brute force, and the section list."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require_corpus

from presetctl.engine.errors import UsageError
from presetctl.engine.options import Options
from presetctl.engine.stats import duplicates
from presetctl.engine.stats.model import SECTIONS
from presetctl.engine.stats.run import collect


@pytest.fixture(scope="module")
def corpus_stats() -> tuple[Path, dict[str, Any]]:
    """One stats run over the whole corpus, shared by the corpus tests (it takes seconds)."""
    root = require_corpus()
    result = collect(["."], Options(), cwd=str(root))
    return root, result.to_json()


def _files(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, names in os.walk(root) for f in names]


def _json(path: Path) -> dict[str, Any]:
    value = json.loads(path.read_bytes())
    assert isinstance(value, dict)
    return value


def _blank(value: object) -> bool:
    return not (isinstance(value, str) and value.strip())


# --- the real corpus -----------------------------------------------------------------------

def test_corpus_counts_per_format(corpus_stats: tuple[Path, dict[str, Any]]) -> None:
    root, data = corpus_stats
    overview = data["overview"]
    files = _files(root)
    by_format = overview["by_format"]
    assert overview["files"] == len(files) == sum(by_format.values())
    # The corpus is laid out by format: count by folder and extension, independently of the loaders.
    assert by_format["helm"] == sum(1 for f in files if f.suffix == ".helm")
    assert by_format["vital"] == sum(1 for f in files if f.suffix == ".vital")
    surge = sum(1 for f in files if f.suffix == ".fxp" and f.relative_to(root).parts[0] == "surge-fxp")
    assert by_format["surge-fxp"] == surge
    other_fxp = sum(1 for f in files if f.relative_to(root).parts[0] in ("other-fxp", "obxf-fxp"))
    assert by_format["fxp"] == other_fxp
    sysex = sum(1 for f in files if f.suffix.lower() == ".syx")
    assert by_format["dx7-syx"] + by_format.get("syx", 0) == sysex
    assert overview["total_bytes"] == sum(f.stat().st_size for f in files)
    assert overview["presets_by_format"]["helm"] == by_format["helm"]  # one patch per Helm file
    assert overview["presets_by_format"]["vital"] == by_format["vital"]
    assert sum(overview["size_histogram"].values()) == len(files)
    assert sorted(overview["unknown"]) == overview["unknown"]


def test_corpus_missing_metadata(corpus_stats: tuple[Path, dict[str, Any]]) -> None:
    root, data = corpus_stats
    missing = data["naming"]["missing_by_format"]
    helm = [_json(f) for f in sorted(root.rglob("*.helm"))]
    vital = [_json(f) for f in sorted(root.rglob("*.vital"))]
    assert missing["helm"]["author"] == sum(1 for p in helm if _blank(p.get("author")))
    assert missing["helm"]["category"] == sum(1 for p in helm if _blank(p.get("folder_name")))
    assert missing["helm"]["license"] == sum(1 for p in helm if _blank(p.get("license")))
    assert missing["vital"]["author"] == sum(1 for p in vital if _blank(p.get("author")))
    assert missing["vital"]["category"] == sum(1 for p in vital if _blank(p.get("preset_style")))
    assert missing["vital"]["description"] == sum(1 for p in vital if _blank(p.get("comments")))
    # Measured by hand once: these are the corpus facts the computation above must keep finding.
    assert (missing["helm"]["author"], missing["helm"]["category"]) == (1, 5)
    assert (missing["vital"]["author"], missing["vital"]["category"], missing["vital"]["description"]) == (1, 2, 17)
    tax = data["taxonomy"]
    assert tax["without_category_by_format"]["helm"] == 5
    helm_categories: dict[str, int] = defaultdict(int)
    for p in helm:
        if not _blank(p.get("folder_name")):
            helm_categories[p["folder_name"]] += 1
    for category, n in helm_categories.items():
        assert tax["categories"][category] >= n  # Vital may use the same spelling


def _settings_key(doc: dict[str, Any]) -> str:
    settings = doc.get("settings") if isinstance(doc.get("settings"), dict) else {}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def test_corpus_exact_duplicates(corpus_stats: tuple[Path, dict[str, Any]]) -> None:
    root, data = corpus_stats
    exact = data["duplicates"]["exact"]
    # Helm and Vital: the sound is the settings object; group by its canonical JSON here.
    for suffix in (".helm", ".vital"):
        groups: dict[str, list[str]] = defaultdict(list)
        for f in sorted(root.rglob(f"*{suffix}")):
            groups[_settings_key(_json(f))].append(f.relative_to(root).as_posix())
        expected = sorted(sorted(g) for g in groups.values() if len(g) > 1)
        found = sorted(g for g in exact if g[0].endswith(suffix))
        assert found == expected
    # DX7: voices of standard 32-voice banks with the same 118 sound bytes (bit 7 masked, name
    # left out) must land in one group (the loader compares unpacked values, which may merge more).
    voice_groups: dict[bytes, list[str]] = defaultdict(list)
    for f in sorted(root.rglob("*")):
        data_bytes = f.read_bytes() if f.suffix.lower() == ".syx" else b""
        if len(data_bytes) == 4104 and data_bytes[:6] == b"\xf0\x43" + data_bytes[2:3] + b"\x09\x20\x00":
            for v in range(32):
                voice = bytes(b & 0x7F for b in data_bytes[6 + 128 * v : 6 + 128 * v + 118])
                voice_groups[voice].append(f"{f.relative_to(root).as_posix()}#{v + 1}")
    group_of = {ref: i for i, g in enumerate(exact) for ref in g}
    checked = 0
    for refs in voice_groups.values():
        if len(refs) > 1:
            assert len({group_of.get(r, -1) for r in refs}) == 1 and refs[0] in group_of, refs
            checked += 1
    assert checked >= 10  # the factory ROM bank alone is copied several times in the corpus
    for g in exact:
        assert g == sorted(g) and len(g) > 1
    assert data["duplicates"]["exact_copies"] == sum(len(g) - 1 for g in exact)


def test_corpus_drift_and_aliases(corpus_stats: tuple[Path, dict[str, Any]]) -> None:
    _, data = corpus_stats
    tax = data["taxonomy"]
    aliases = tax["category_aliases"]
    # Helm's factory folders use both spellings (SOURCES.md); the taxonomy spelling is the target.
    assert aliases["BASS"] == "Bass" and aliases["PAD"] == "Pad" and aliases["LEAD"] == "Lead"
    assert {"Sf": "SF"}.items() <= tax["author_aliases"].items()
    for group in tax["drift"]["categories"]:
        assert len(group["spellings"]) > 1
        assert group["presets"] == sum(group["spellings"].values())


def test_corpus_sections_present(corpus_stats: tuple[Path, dict[str, Any]]) -> None:
    _, data = corpus_stats
    assert list(data) == list(SECTIONS)
    assert data["history"]["available"] is False  # the API caller passed no history facts
    assert data["history"]["reason"].startswith("needs run history")
    for cluster in data["duplicates"]["near"]:
        assert 0.0 <= cluster["distance"] and len(cluster["paths"]) >= 2
    sound = data["sound"]
    assert sound["modulations"]["routings"] == sum(sound["modulations"]["sources"].values())
    helm_params = {p["name"]: p for p in sound["parameters"]["helm"]}
    assert 0.0 <= helm_params["cutoff"]["moved"] <= 1.0


# --- planted duplicates ---------------------------------------------------------------------

HELM = "helm/mtytel__helm/patches/Factory Presets/Bass"


def _helm_pack(tmp_path: Path) -> tuple[Path, list[Path]]:
    src = require_corpus(HELM)
    pack = tmp_path / "pack"
    pack.mkdir()
    originals = sorted(src.glob("*.helm"))[:6]
    for f in originals:
        shutil.copy(f, pack / f.name)
    return pack, sorted(pack.iterdir())


def test_planted_exact_and_near(tmp_path: Path) -> None:
    pack, files = _helm_pack(tmp_path)
    base = _json(files[0])
    copy = dict(base, patch_name="Renamed copy", author="Someone else")  # same sound, other metadata
    (pack / "zz copy.helm").write_text(json.dumps(copy))
    near = json.loads(json.dumps(base))
    settings = near["settings"]
    key = "cutoff"
    step = 0.5  # Helm's cutoff spans 28..127 (a 99-semitone range)
    settings[key] = float(settings[key]) + step if float(settings[key]) + step <= 127 else float(settings[key]) - step
    (pack / "zz near.helm").write_text(json.dumps(near))
    result = collect(["pack"], Options(jobs=1), ["duplicates"], threshold=0.01, cwd=str(tmp_path)).to_json()
    dup = result["duplicates"]
    assert [f"pack/{files[0].name}", "pack/zz copy.helm"] in dup["exact"]
    cluster = next(c for c in dup["near"] if "pack/zz near.helm" in c["paths"])
    # The exact copy is compared once and listed with the cluster of its sound.
    assert cluster["paths"] == sorted([f"pack/{files[0].name}", "pack/zz copy.helm", "pack/zz near.helm"])
    width = len([v for v in settings.values() if isinstance(v, (int, float))])
    assert cluster["distance"] == pytest.approx(step / 99 / np.sqrt(width), rel=0.05)


def test_banks_are_named_with_their_voice_number(tmp_path: Path) -> None:
    rom = require_corpus("dx7-syx/mmontag__dx7-synth-js/roms/ROM1A.SYX")
    shutil.copy(rom, tmp_path / "a.syx")
    shutil.copy(rom, tmp_path / "b.syx")
    result = collect(["."], Options(jobs=1), ["duplicates", "taxonomy"], cwd=str(tmp_path)).to_json()
    exact = result["duplicates"]["exact"]
    assert len(exact) == 32 and ["a.syx#1", "b.syx#1"] in exact and ["a.syx#32", "b.syx#32"] in exact
    assert result["taxonomy"]["banks"] == {"a.syx": 32, "b.syx": 32}


# --- the near-duplicate search --------------------------------------------------------------

def _brute(x: np.ndarray, radius: float) -> set[tuple[int, int]]:
    out = set()
    for i in range(len(x)):
        d = np.sqrt(((x[i + 1 :] - x[i]) ** 2).sum(axis=1))
        out.update((i, int(j) + i + 1) for j in np.nonzero(d <= radius)[0])
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_close_pairs_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centers = rng.random((30, 40))
    x = np.clip(centers[rng.integers(0, 30, 900)] + rng.normal(0, 0.03, (900, 40)), 0, 1)
    radius = 0.25
    pi, pj, dist = duplicates.close_pairs(x, radius)
    assert set(zip(pi.tolist(), pj.tolist(), strict=True)) == _brute(x, radius)
    assert np.allclose(dist, np.sqrt(((x[pi] - x[pj]) ** 2).sum(axis=1)))


def test_close_pairs_ten_thousand_presets() -> None:
    """10,000 presets of one synth: planted pairs found, no others (the scale the issue asks for)."""
    rng = np.random.default_rng(7)
    x = rng.random((10_000, 200))
    planted = [(i, i + 5000) for i in range(0, 5000, 500)]
    for a, b in planted:
        x[b] = np.clip(x[a] + rng.normal(0, 0.001, 200), 0, 1)
    pi, pj, _ = duplicates.close_pairs(x, 0.02 * np.sqrt(200))
    assert sorted(zip(pi.tolist(), pj.tolist(), strict=True)) == planted


def test_unknown_section_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown section 'colours'"):
        collect([str(tmp_path)], Options(), ["colours"])
    with pytest.raises(UsageError, match="threshold"):
        collect([str(tmp_path)], Options(), [], threshold=-1.0)


def test_empty_folder(tmp_path: Path) -> None:
    result = collect(["."], Options(), cwd=str(tmp_path)).to_json()
    assert result["overview"]["files"] == 0 and result["overview"]["by_format"] == {}
    assert result["duplicates"]["exact"] == [] and result["duplicates"]["near"] == []


def test_alias_table_is_valid_toml_for_any_spelling() -> None:
    import tomllib

    from presetctl.engine.stats.taxonomy import alias_toml

    table = {'a"b\\c': "x", "emoji \U0001f600": "\u202e\x1b\n", "Bass": "Bass ", "=cmd": "tab\there"}
    text = alias_toml(table)
    assert text.isascii() and "\x1b" not in text
    assert tomllib.loads(text) == table


def test_hostile_parameters_do_not_break_stats(tmp_path: Path) -> None:
    def preset(name: str, params: list[Any]) -> str:
        return json.dumps({"format_version": "1.0", "metadata": {"name": name}, "parameters": params})

    (tmp_path / "a.json").write_text(preset("a", [
        {"name": "x", "type": "float", "value": 1e308, "min": 1e308, "max": -1e308},
        {"name": "x", "type": "float", "value": 0.5},
        {"name": "y", "type": "int", "value": 123456789012345678, "max": 1},
        {"name": "z", "type": "bool", "value": True},
        {"name": "w", "value": [1, 2]},
        "not an object",
    ]))
    (tmp_path / "b.json").write_text(preset("b", [{"name": "x", "type": "float", "value": -1e308}]))
    (tmp_path / "c.json").write_text(preset("c", []))
    (tmp_path / "d.json").write_bytes(b"{broken")
    result = collect(["."], Options(jobs=1), cwd=str(tmp_path)).to_json()
    assert result["overview"]["by_status"] == {"validated": 3, "broken": 1}
    assert result["overview"]["unreadable"][0]["path"] == "d.json"
    assert result["duplicates"]["near"] == []
    usage = {p["name"]: p for p in result["sound"]["parameters"]["presetctl"]}
    assert usage["x"]["presets"] == 2 and usage["z"]["mean"] == 1.0
