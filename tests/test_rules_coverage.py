"""Every registered rule code is made to fire by some test (the list comes from the registry).

A code no test names is a rule nobody has seen report anything: its check may be dead, its
message wrong, its location off. This meta-test keeps the set complete as rules are added;
the cases below cover the codes no format-specific test file reaches.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_subprocess

from presetctl.engine.rules.registry import RULES

TESTS = Path(__file__).resolve().parent


def _test_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(TESTS.glob("test_*.py")) if p.name != Path(__file__).name
                     ) + "\n" + Path(__file__).read_text(encoding="utf-8").split("# --- cases", 1)[1]


def test_every_rule_code_is_named_by_a_test() -> None:
    text = _test_sources()
    missing = [r.code for r in RULES if not re.search(rf"\b{r.code}\b", text)]
    assert missing == [], f"no test makes these fire: {missing}"


# --- cases for codes no other test file reaches ------------------------------------------------

def _bank() -> bytes:
    data = bytes(4096)
    return bytes([0xF0, 0x43, 0x00, 0x09, 0x20, 0x00]) + data + bytes([(-sum(data)) & 0x7F, 0xF7])


def test_f008_an_extension_that_names_another_format(tmp_path: Path) -> None:
    (tmp_path / "bank.fxp").write_bytes(_bank())
    (tmp_path / "bank.syx").write_bytes(_bank())
    result = run_subprocess(["validate", ".", "-o", "concise", "-q", "--select", "F008"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (
        0, "bank.fxp: F008 [warning] extension '.fxp' says surge-fxp but the content is dx7-syx [byte 0]\n")


def test_g008_a_u_he_preset_without_the_synth_line(tmp_path: Path) -> None:
    (tmp_path / "Bare.h2p").write_text("/*@Meta\nAuthor:\n'Ann'\n*/\n#mv=Gen\n")
    (tmp_path / "Diva.h2p").write_text("/*@Meta\nAuthor:\n'Ann'\n*/\n#AM=Diva\n#Vers=10000\n")
    result = run_subprocess(["validate", ".", "-o", "concise", "-q", "--select", "G008"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (
        0, "Bare.h2p:1:1: G008 [warning] no #AM= line naming the synth: not a u-he preset body\n")
