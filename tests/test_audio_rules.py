"""Rendered DX7 rules W101-W105: a positive and a negative case each, the profile that switches
them on, and the issue's proofs on the corpus's factory banks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from audio_data import ROM1A, load, syx_bank

from presetctl.engine.audio.analysis import VoiceSound
from presetctl.engine.audio.render import Audition
from presetctl.engine.audio.voice import init_voice, voice_values, with_values
from presetctl.engine.formats.dx7_syx import Voice
from presetctl.engine.model import Violation
from presetctl.engine.options import Options
from presetctl.engine.rules import audio
from presetctl.engine.rules.base import RuleContext

INIT = init_voice()
SILENT = with_values(INIT, {"op1_output_level": 0})
SLOW = with_values(INIT, {"op1_eg_rate1": 5})
PERCUSSIVE = with_values(INIT, {"op1_eg_rate2": 50, "op1_eg_level2": 60, "op1_eg_level3": 60})
RINGS_ON = with_values(PERCUSSIVE, {"op1_eg_level4": 99})
CREEPS_DOWN = with_values(PERCUSSIVE, {"op1_eg_rate4": 0})
QUIET = with_values(INIT, {"op1_output_level": 60})


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESETCTL_CACHE_DIR", str(tmp_path / "render-cache"))


def rendered_findings(voices: list[tuple[int, ...]]) -> list[tuple[str, int | None, str]]:
    doc = load(syx_bank(voices), "bank.syx")
    ctx = RuleContext(PurePosixPath("bank.syx"), Options())
    return sorted((v.code, v.location.voice, v.message) for v in audio.check_rendered(doc, ctx))


def codes_by_voice(voices: list[tuple[int, ...]]) -> list[tuple[str, int | None]]:
    return [(c, n) for c, n, _ in rendered_findings(voices)]


def test_a_bank_of_plain_voices_has_no_finding() -> None:
    assert rendered_findings([INIT, PERCUSSIVE, with_values(INIT, {"algorithm": 31, "op2_output_level": 99})]) == []


def test_w101_silent_voice() -> None:
    ((code, voice, message),) = rendered_findings([INIT, SILENT])
    assert (code, voice) == ("W101", 2)
    assert message.startswith("silent:") and "peak -140.0 dBFS" in message
    assert "every carrier of algorithm 1 (op1, op3) has output level 0" in message


def test_w102_clipping_is_judged_on_the_measured_peak() -> None:
    voice = Voice(1, 6, b"", True, INIT)
    sound = VoiceSound(1.2, 1.2, -3.0, 1.5, 0.0, -3.0, -140.0, -3.0, (0.0,) * 96, (0.0,) * 40)
    found = list(audio.voice_findings(voice, sound, Audition()))
    assert [v.code for v in found] == ["W102"] and "peaks at +1.2 dBFS" in found[0].message
    quiet = VoiceSound(-3.0, -3.0, -6.0, -3.0, 0.0, -6.0, -140.0, -6.0, (0.0,) * 96, (0.0,) * 40)
    assert list(audio.voice_findings(voice, quiet, Audition())) == []


def test_w103_a_voice_far_from_its_banks_median() -> None:
    ((code, voice, message),) = rendered_findings([INIT, QUIET, INIT, INIT])
    assert (code, voice) == ("W103", 2)
    assert "dB below the bank's median" in message and "RMS -5" in message  # about 29 dB under -21
    assert rendered_findings([with_values(INIT, {"op1_output_level": 90})]) == []  # 7 dB off: fine


def test_w104_silent_first_second() -> None:
    ((code, voice, message),) = rendered_findings([SLOW])
    assert (code, voice) == ("W104", 1)
    assert "silent for the first 1000 ms" in message and "dBFS" in message and "onset" in message
    assert rendered_findings([with_values(INIT, {"op1_eg_rate1": 40})]) == []  # slow, but speaks in time


def test_w105_percussive_voice_that_does_not_release() -> None:
    found = codes_by_voice([RINGS_ON, CREEPS_DOWN, PERCUSSIVE])
    assert found == [("W105", 1), ("W105", 2)]
    message = rendered_findings([RINGS_ON])[0][2]
    assert "does not decay after key-up: RMS" in message and "percussive" in message
    # An organ that sustains after key-up is not percussive: nothing says it should stop.
    organ = with_values(INIT, {"op1_eg_level4": 99})
    assert rendered_findings([organ]) == []


def test_findings_point_at_the_voices_bytes(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    bank = tmp_path / "bank.syx"
    bank.write_bytes(syx_bank([INIT, SILENT]))
    result = cli(["validate", str(bank), "--select", "W101", "-o", "json"])
    (f,) = json.loads(result.stdout)["findings"]
    assert (f["code"], f["voice"], f["offset"], f["severity"]) == ("W101", 2, 6 + 128, "warning")
    assert result.exit_code == 0  # a warning under the default --fail-on error


def test_rendering_rules_run_only_when_their_profile_or_a_selector_asks(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "bank.syx").write_bytes(syx_bank([INIT, SILENT]))

    def codes(*args: str) -> list[str]:
        out = cli(["validate", str(pack), "-o", "json", "--exit-zero", *args])
        return [f["code"] for f in json.loads(out.stdout)["findings"] if f["code"].startswith("W")]

    assert codes() == []  # default set: no rendering
    assert codes("--select", "W1") == ["W101"]
    assert codes("--extend-select", "W101") == ["W101"]
    config = tmp_path / "presetctl.toml"
    config.write_text('profile = "audio"\n')
    assert codes("--config", str(config)) == ["W101"]
    assert codes("--config", str(config), "--ignore", "W101") == []


def test_numpy_stays_unloaded_until_an_audio_check_runs() -> None:
    code = "import sys, presetctl.cli.app, presetctl.engine.rules.registry; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


# --- the corpus --------------------------------------------------------------------------------------

def _factory_banks(corpus: Path) -> list[Path]:
    root = corpus / "dx7-syx"
    banks = [p for p in root.rglob("*") if p.is_file() and (p.name.upper() in ("ROM1A.SYX", "DX7ROM1A.SYX")
                                                             or "Original Yamaha" in p.parts)]
    assert len(banks) >= 6
    return sorted(banks)


@pytest.mark.corpus
def test_factory_rom_banks_render_with_no_silent_voice(corpus: Path) -> None:
    for bank in _factory_banks(corpus):
        doc = load(bank.read_bytes(), bank.name)
        ctx = RuleContext(PurePosixPath(bank.name), Options())
        found = [v for v in audio.check_rendered(doc, ctx) if v.code == "W101"]
        assert found == [], bank


def _rom_voices(corpus: Path) -> list[tuple[int, ...]]:
    data = (corpus / ROM1A).read_bytes()
    return [voice_values(data[6 + 128 * i : 6 + 128 * (i + 1)]) for i in range(32)]


@pytest.mark.corpus
def test_a_rom_voice_with_every_output_level_at_zero_is_reported_silent(corpus: Path) -> None:
    rom = _rom_voices(corpus)
    muted = with_values(rom[0], {f"op{o}_output_level": 0 for o in range(1, 7)})
    found: list[Violation] = list(audio.check_rendered(load(syx_bank([*rom[:31], muted]), "b.syx"),
                                                       RuleContext(PurePosixPath("b.syx"), Options())))
    silent = [v for v in found if v.code == "W101"]
    assert [v.location.voice for v in silent] == [32]
    assert "silent" in silent[0].message


def test_w106_only_so_many_voices_of_a_file_are_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "MAX_RENDERED", 40)
    two_banks = syx_bank([INIT] * 32) + syx_bank([SILENT] * 32)  # voices 33-64 silent
    doc = load(two_banks, "two.syx")
    found = sorted((v.code, v.location.voice) for v in audio.check_rendered(doc, RuleContext(PurePosixPath("two.syx"),
                                                                                                Options())))
    assert found[0] == ("W101", 33) and ("W106", 41) in found
    assert [n for c, n in found if c == "W101"] == list(range(33, 41))  # 41-64 were not rendered
    assert rendered_findings([INIT]) == []  # under the limit: no W106
