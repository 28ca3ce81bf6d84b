"""The stats audio section: DX7 voices that sound alike though their bytes differ."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from audio_data import ROM1A, syx_bank

from presetctl.engine.audio.voice import INDEX, init_voice, voice_values, with_values
from presetctl.engine.stats.audio import sound_alike


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESETCTL_CACHE_DIR", str(tmp_path / "render-cache"))
    monkeypatch.chdir(tmp_path)  # paths in the output are relative to the working directory


def audio_json(cli, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = cli(["stats", *args, "--json", "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["audio"]  # type: ignore[no-any-return]


def test_the_section_is_opt_in(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bank.syx").write_bytes(syx_bank([init_voice()]))
    section = audio_json(cli, str(tmp_path))
    assert section["available"] is False and "--section audio" in section["reason"]
    config = tmp_path / "presetctl.toml"
    config.write_text('profile = "audio"\n')
    assert "sound_alike" in audio_json(cli, str(tmp_path), "--config", str(config))


def _sine(coarse: int, fine: int = 0, **changes: int) -> tuple[int, ...]:
    return with_values(init_voice(), {"op1_freq_coarse": coarse, "op1_freq_fine": fine,
                                      "op2_output_level": 85, "op2_freq_coarse": 3, **changes})


def test_tweaked_copies_sound_alike_and_other_voices_do_not(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    pack.mkdir()
    a, a_tweak, b = _sine(1), _sine(1, 1), _sine(1, 0, op2_freq_coarse=9)
    muted = with_values(init_voice(), {"op1_output_level": 0})
    voices = [a, a_tweak, b, a, muted] + [_sine(c) for c in range(2, 29)]
    (pack / "bank.syx").write_bytes(syx_bank(voices, [f"V{i:02d}".encode() for i in range(32)]))
    section = audio_json(cli, "pack", "--section", "audio")
    groups = [g["paths"] for g in section["sound_alike"]]
    assert sorted(["pack/bank.syx#1", "pack/bank.syx#2", "pack/bank.syx#4"]) in groups  # #4: byte copy of #1
    assert all("pack/bank.syx#3" not in g for g in groups)
    assert section["silent"] == ["pack/bank.syx#5"]
    assert all(g["distance"] < 2 * section["threshold_db"] for g in section["sound_alike"])
    assert (section["voices"], section["distinct"], section["rendered"], section["cached"]) == (32, 31, 31, 0)
    again = audio_json(cli, "pack", "--section", "audio")
    assert (again["rendered"], again["cached"]) == (0, 31)
    assert again["sound_alike"] == section["sound_alike"]


def test_groups_form_around_leaders_so_chains_do_not_merge_far_sounds() -> None:
    # Five sounds 2 dB apart on a line: 0-1-2-3-4. Linked neighbours at 3.5 dB; 0 and 4 are 8 dB apart.
    prints = np.zeros((5, 96))
    for i in range(5):
        prints[i, :] = -2.0 * i
    groups = sound_alike([[f"s{i}"] for i in range(5)], prints, threshold=3.5)
    assert all(g["distance"] <= 7.0 for g in groups)
    assert sorted(p for g in groups for p in g["paths"]) == [f"s{i}" for i in range(5)]
    assert sound_alike([["only"]], prints[:1]) == []


@pytest.mark.corpus
def test_a_one_step_fine_tune_copy_of_a_rom_voice_sounds_alike(cli, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = (corpus / ROM1A).read_bytes()
    rom = [voice_values(data[6 + 128 * i : 6 + 128 * (i + 1)]) for i in range(32)]
    fine = rom[0][INDEX["op1_freq_fine"]]
    tweaked = with_values(rom[0], {"op1_freq_fine": fine + 1 if fine < 99 else fine - 1})  # BRASS 1, one step
    assert tweaked != rom[0]
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "rom.syx").write_bytes(data)
    (pack / "copy.syx").write_bytes(syx_bank([tweaked]))
    section = audio_json(cli, "pack", "--section", "audio")
    together = [g for g in section["sound_alike"] if "pack/copy.syx#1" in g["paths"]]
    assert len(together) == 1 and "pack/rom.syx#1" in together[0]["paths"]
    assert together[0]["distance"] <= section["threshold_db"] * 2
    # The ROM's own voices are distinct sounds: no two of them in a group.
    assert all(sum(p.startswith("pack/rom.syx#") for p in g["paths"]) <= 1 for g in section["sound_alike"])


def test_text_and_html_outputs_show_the_section(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bank.syx").write_bytes(syx_bank([_sine(1), _sine(1, 1)]))
    page = tmp_path / "stats.html"
    result = cli(["stats", str(tmp_path), "--section", "audio", "--html", str(page), "-q"])
    assert result.exit_code == 0
    assert "sound alike" in result.stdout and "bank.syx#1" in result.stdout
    assert "sound alike" in page.read_text()
