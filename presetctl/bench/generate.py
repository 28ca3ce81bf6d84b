"""A pack of synthetic presetctl presets for benchmarks (``presetctl bench``) and fast-path tests.

    python benchmarks/generate.py OUT --count 20000 --params 400 [--seed 0]   # the script front end

Every file is valid against ``schemas/preset.schema.json`` and clean under presetctl's default
rules: complete metadata, a category from the ``presetctl`` taxonomy, normalized tags, a preset
name that matches the file name, unique parameter names, values of the declared type inside
the declared range, a voice load, modulation count and effects chain under the default
thresholds, and no two presets with the same name or sound. The output depends only on the
arguments (same seed, same bytes). With ``--params 400`` a file is about 20 KB, the size of a
real Helm or Vital preset without embedded wavetables.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from presetctl.engine.taxonomy import PROFILES

CATEGORIES = PROFILES["presetctl"]
ADJECTIVES = (
    "Analog", "Airy", "Bright", "Broken", "Cold", "Crystal", "Dark", "Deep", "Dirty", "Distant", "Dusty",
    "Electric", "Fat", "Floating", "Glassy", "Gritty", "Hollow", "Hyper", "Lush", "Metallic", "Mellow",
    "Neon", "Noisy", "Old", "Punchy", "Rubber", "Shimmer", "Soft", "Solar", "Thick", "Velvet", "Warm", "Wide",
)
AUTHORS = ("Ada Moog", "Kai Nakamura", "Lena Voss", "Marco Reyes", "Nils Berg", "Priya Shah", "Tom Okafor")
TAGS = (
    "analog", "ambient", "bright", "cinematic", "clean", "dark", "digital", "dirty", "evolving", "fat", "glide",
    "lofi", "mono", "poly", "punchy", "retro", "soft", "stereo", "techno", "warm", "wide",
)
LICENSES = ("CC-BY-4.0", "CC0-1.0", "Royalty-free")
SYNTHS = (("Helm", "0.9.0"), ("Vital", "1.5.5"), ("Surge XT", "1.3.1"))
MOD_SOURCES = ("env_1", "env_2", "env_3", "lfo_1", "lfo_2", "lfo_3", "lfo_4", "velocity", "mod_wheel",
               "aftertouch", "random_1", "macro_1", "macro_2", "macro_3", "macro_4", "note", "stereo")
EFFECTS = ("chorus", "compressor", "delay", "distortion", "eq", "filter", "flanger", "phaser", "reverb")
WAVES = ("sine", "triangle", "saw", "square", "noise", "wavetable")

# (suffix, type, min, max): the controls a module instance has; ints and enums mirror real synths.
MODULES: dict[str, tuple[tuple[str, str, float, float], ...]] = {
    "osc": (("on", "bool", 0, 1), ("level", "float", 0, 1), ("pan", "float", -1, 1),
            ("transpose", "int", -48, 48), ("tune", "float", -1, 1), ("wave", "enum", 0, 0),
            ("unison_voices", "int", 1, 16), ("unison_detune", "float", 0, 1), ("phase", "float", 0, 1),
            ("spread", "float", 0, 1), ("distortion", "float", 0, 1), ("frame", "float", 0, 1)),
    "env": (("delay", "float", 0, 4), ("attack", "float", 0, 4), ("hold", "float", 0, 4),
            ("decay", "float", 0, 8), ("sustain", "float", 0, 1), ("release", "float", 0, 8),
            ("attack_power", "float", -10, 10), ("decay_power", "float", -10, 10)),
    "lfo": (("on", "bool", 0, 1), ("frequency", "float", 0.01, 20), ("sync", "bool", 0, 1),
            ("tempo", "int", 0, 12), ("phase", "float", 0, 1), ("smooth", "float", 0, 1),
            ("shape", "enum", 0, 0), ("stereo", "float", -1, 1)),
    "filter": (("on", "bool", 0, 1), ("cutoff", "float", 8, 136), ("resonance", "float", 0, 1),
               ("drive", "float", 0, 20), ("blend", "float", 0, 2), ("keytrack", "float", -1, 1),
               ("model", "int", 0, 7), ("mix", "float", 0, 1)),
    "macro": (("value", "float", 0, 1),),
    "voice": (("glide", "float", 0, 2), ("legato", "bool", 0, 1), ("bend_range", "int", 0, 48),
              ("velocity_track", "float", -1, 1)),
}
INSTANCES = {"osc": 3, "env": 6, "lfo": 8, "filter": 2, "macro": 4, "voice": 1}


def parameter_specs(count: int) -> list[tuple[str, str, float, float]]:
    """``count`` distinct parameter definitions, in a fixed order (the same for every preset)."""
    base: list[tuple[str, str, float, float]] = []
    for module, controls in MODULES.items():
        for n in range(1, INSTANCES[module] + 1):
            base.extend((f"{module}_{n}_{suffix}", kind, lo, hi) for suffix, kind, lo, hi in controls)
    specs = base[:count]
    extra = 1
    while len(specs) < count:  # large synths: numbered modulation slots, like Vital's modulation_N_*
        specs.extend((f"slot_{extra}_{suffix}", kind, lo, hi) for suffix, kind, lo, hi in
                      (("amount", "float", -1, 1), ("bipolar", "bool", 0, 1), ("bypass", "bool", 0, 1),
                       ("stereo", "bool", 0, 1)))
        extra += 1
    return specs[:count]


def _parameter(rng: random.Random, name: str, kind: str, lo: float, hi: float) -> dict[str, Any]:
    # Like a synth's own files: a switch needs no declared type (true/false says it), a normalized
    # control ([0, 1] or [-1, 1]) no bounds; ints, enums and controls with units declare both.
    if kind == "bool":
        return {"name": name, "value": rng.random() < 0.5}
    if kind == "enum":
        return {"name": name, "type": "enum", "value": rng.choice(WAVES)}
    if kind == "int":
        return {"name": name, "type": "int", "value": rng.randint(int(lo), int(hi)), "min": int(lo), "max": int(hi)}
    value = min(max(round(rng.uniform(lo, hi), 3), lo), hi)
    if (lo, hi) in ((0, 1), (-1, 1)):
        return {"name": name, "type": "float", "value": value}
    return {"name": name, "type": "float", "value": value, "min": lo, "max": hi}


def _plain(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def make_preset(rng: random.Random, index: int, specs: list[tuple[str, str, float, float]]) -> dict[str, Any]:
    category = CATEGORIES[index % len(CATEGORIES)]
    name = f"{rng.choice(ADJECTIVES)} {category} {index + 1:05d}"
    synth, version = rng.choice(SYNTHS)
    params = [_parameter(rng, n, kind, _plain(lo), _plain(hi)) for n, kind, lo, hi in specs]
    targets = [p["name"] for p in params if p.get("type") == "float"] or ["voice_1_glide"]
    effects = [
        {"type": fx, "enabled": rng.random() < 0.8,
         "parameters": {"mix": round(rng.random(), 3), "amount": round(rng.random(), 3)}}
        for fx in rng.sample(EFFECTS, rng.randint(1, 6))
    ]
    return {
        "format_version": "1.0",
        "metadata": {
            "name": name,
            "author": rng.choice(AUTHORS),
            "category": category,
            "tags": sorted(rng.sample(TAGS, rng.randint(1, 5))),
            "description": f"{category.lower()} patch; mod wheel opens the filter, macro 1 adds movement",
            "license": rng.choice(LICENSES),
            "created": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
            "synth": {"name": synth, "version": version},
        },
        "audio": {"voices": rng.choice((1, 4, 8, 16)), "unison": rng.randint(1, 4), "oscillators": rng.randint(1, 3),
                  "sample_rate": 48000},
        "parameters": params,
        "modulations": [
            {"source": rng.choice(MOD_SOURCES), "target": rng.choice(targets), "amount": round(rng.uniform(-1, 1), 3),
             "bipolar": rng.random() < 0.3}
            for _ in range(rng.randint(2, 16))
        ],
        "effects": effects,
    }


def presets(count: int, params: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """(relative path, file bytes) of ``count`` distinct presets."""
    rng = random.Random(seed)
    specs = parameter_specs(params)
    sounds: set[bytes] = set()
    for i in range(count):
        while True:
            preset = make_preset(rng, i, specs)
            sound = {k: preset.get(k) for k in ("audio", "parameters", "modulations", "effects", "assets")}
            key = hashlib.blake2b(orjson.dumps(sound, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()
            if key not in sounds:  # astronomically rare with 400 random values, but promised
                sounds.add(key)
                break
        meta = preset["metadata"]
        yield f"{meta['category']}/{meta['name']}.json", orjson.dumps(preset) + b"\n"


def write_pack(out: Path, count: int, params: int, seed: int = 0) -> list[Path]:
    written: list[Path] = []
    for rel, data in presets(count, params, seed):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("out", type=Path, help="folder to write into (category subfolders are created)")
    ap.add_argument("--count", type=int, default=1000, help="number of presets (default 1000)")
    ap.add_argument("--params", type=int, default=400, help="parameters per preset (default 400, ~20 KB)")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = ap.parse_args(argv)
    if args.count < 0 or args.params < 1:
        ap.error("--count must be >= 0 and --params >= 1")
    files = write_pack(args.out, args.count, args.params, args.seed)
    total = sum(p.stat().st_size for p in files)
    sys.stderr.write(f"wrote {len(files)} presets to {args.out} ({total / max(len(files), 1) / 1024:.1f} KiB each)\n")
    return 0
