"""Regenerates sample_presets/ (the demo pack). Run from anywhere: python benchmarks/make_sample_presets.py"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent / "sample_presets"
for old in root.rglob("*.json"):  # README.md (the contract) stays
    old.unlink()
(root / "broken").mkdir(parents=True, exist_ok=True)

def P(name, value, lo=None, hi=None, unit=None, type_="float", default=None):
    d = {"name": name, "type": type_, "value": value, "min": lo, "max": hi, "default": default, "unit": unit}
    return {k: v for k, v in d.items() if v is not None}

def preset(name, category, tags, desc, voices, unison, oscs, params, mods=(), fx=(), author="Mara Lindqvist"):
    return {
        "format_version": "1.0",
        "metadata": {"name": name, "author": author, "category": category, "tags": tags, "description": desc,
                     "license": "CC-BY-4.0", "created": "2026-03-02T10:00:00Z", "modified": "2026-09-14T18:30:00Z",
                     "synth": {"name": "Vital", "version": "1.5.5"}},
        "audio": {"voices": voices, "unison": unison, "oscillators": oscs, "sample_rate": 48000},
        "parameters": params,
        "modulations": [{"source": s, "target": t, "amount": a} for s, t, a in mods],
        "effects": [{"type": t, "enabled": e, "parameters": p} for t, e, p in fx],
    }

def osc(i, wave, level, detune=0.0):
    return [P(f"osc{i}_wave", wave, type_="enum", default="saw") if False else
            {"name": f"osc{i}_wave", "type": "enum", "value": wave, "options": ["sine", "saw", "square", "triangle", "noise", "wavetable"]},
            P(f"osc{i}_level", level, 0.0, 1.0, default=0.7),
            P(f"osc{i}_detune", detune, -100.0, 100.0, "cents", default=0.0)]

def env(prefix, a, d, s, r):
    return [P(f"{prefix}_attack", a, 0.0, 20.0, "s", default=0.01), P(f"{prefix}_decay", d, 0.0, 20.0, "s", default=0.3),
            P(f"{prefix}_sustain", s, 0.0, 1.0, default=0.7), P(f"{prefix}_release", r, 0.0, 30.0, "s", default=0.5)]

def filt(cut, res, kind="lowpass"):
    return [P("filter_cutoff", cut, 20.0, 20000.0, "Hz", default=8000.0), P("filter_resonance", res, 0.0, 1.0, default=0.2),
            {"name": "filter_type", "type": "enum", "value": kind, "options": ["lowpass", "highpass", "bandpass", "notch"]},
            {"name": "filter_keytrack", "type": "bool", "value": True}]

REV = ("reverb", True, {"size": 0.6, "mix": 0.25})
DLY = ("delay", True, {"time": 0.375, "feedback": 0.35, "mix": 0.2})
CHO = ("chorus", True, {"rate": 0.8, "depth": 0.4, "mix": 0.3})
DIST = ("distortion", True, {"drive": 0.55, "mix": 1.0})
COMP = ("compressor", True, {"threshold": -18.0, "ratio": 4.0})

good = {
 "deep-sub-bass": preset("Deep Sub Bass", "Bass", ["sub", "mono", "dark"], "Sine sub with a touch of saw for club systems.", 1, 1, 2,
     osc(1, "sine", 0.9) + osc(2, "saw", 0.15, -3.0) + env("amp", 0.005, 0.4, 0.9, 0.12) + filt(180.0, 0.1),
     [("mod_wheel", "filter_cutoff", 0.3)], [COMP]),
 "acid-squelch": preset("Acid Squelch", "Bass", ["acid", "303", "resonant"], "Saw into a screaming resonant low-pass; ride the cutoff.", 1, 1, 1,
     osc(1, "saw", 0.8) + env("amp", 0.001, 0.2, 0.5, 0.08) + env("filter_env", 0.001, 0.18, 0.0, 0.1) + filt(420.0, 0.82),
     [("filter_env", "filter_cutoff", 0.7), ("velocity", "filter_env_decay", 0.25)], [DIST, DLY]),
 "glass-lead": preset("Glass Lead", "Lead", ["bright", "bell", "mono"], "Thin FM-like glassy lead with long delay.", 1, 2, 2,
     osc(1, "triangle", 0.7) + osc(2, "sine", 0.4, 12.0) + env("amp", 0.01, 0.6, 0.6, 0.4) + filt(9000.0, 0.15),
     [("lfo1", "osc2_detune", 0.1)], [DLY, REV]),
 "saw-anthem": preset("Saw Anthem", "Lead", ["supersaw", "trance", "wide"], "Seven-voice supersaw lead for big drops.", 8, 7, 2,
     osc(1, "saw", 0.8, -12.0) + osc(2, "saw", 0.8, 12.0) + env("amp", 0.01, 0.3, 0.8, 0.35) + filt(12000.0, 0.1),
     [("lfo1", "filter_cutoff", 0.05), ("mod_wheel", "osc1_detune", 0.4)], [CHO, DLY, REV]),
 "evening-pad": preset("Evening Pad", "Pad", ["warm", "slow", "analog"], "Slow-breathing warm pad.", 8, 2, 2,
     osc(1, "saw", 0.6, -6.0) + osc(2, "square", 0.4, 6.0) + env("amp", 1.8, 2.0, 0.8, 3.5) + filt(2400.0, 0.25),
     [("lfo1", "filter_cutoff", 0.2), ("lfo2", "osc1_level", 0.1)], [CHO, REV]),
 "frozen-lake": preset("Frozen Lake", "Atmosphere", ["ambient", "cold", "evolving"], "Noisy wavetable texture drifting under the ice.", 6, 1, 3,
     osc(1, "wavetable", 0.5) + osc(2, "noise", 0.2) + osc(3, "sine", 0.3) + env("amp", 4.0, 3.0, 0.7, 8.0) + filt(3200.0, 0.4, "bandpass"),
     [("lfo1", "filter_cutoff", 0.45), ("random", "osc1_level", 0.2), ("lfo2", "filter_resonance", 0.15)], [DLY, REV]),
 "felt-keys": preset("Felt Keys", "Keys", ["soft", "intimate"], "Muted felt piano-ish keys.", 16, 1, 2,
     osc(1, "triangle", 0.7) + osc(2, "sine", 0.3, 0.0) + env("amp", 0.002, 1.2, 0.2, 0.6) + filt(3500.0, 0.05),
     [("velocity", "filter_cutoff", 0.5)], [COMP, REV]),
 "rubber-pluck": preset("Rubber Pluck", "Pluck", ["short", "bouncy"], "Short rubbery pluck for house chords.", 8, 1, 2,
     osc(1, "square", 0.7) + osc(2, "saw", 0.3, 7.0) + env("amp", 0.001, 0.25, 0.0, 0.2) + filt(1800.0, 0.55),
     [("filter_env", "filter_cutoff", 0.6)], [DLY]),
 "night-arp": preset("Night Arp", "Arp", ["arp", "tempo-synced", "dark"], "Sixteenth-note arpeggio through a tempo delay.", 4, 1, 2,
     osc(1, "saw", 0.7) + osc(2, "square", 0.3, -12.0) + env("amp", 0.001, 0.15, 0.3, 0.1) + filt(2600.0, 0.45)
     + [P("arp_rate", 16, 1, 32, "steps", type_="int", default=8), {"name": "arp_enabled", "type": "bool", "value": True}],
     [("lfo1", "filter_cutoff", 0.3)], [DLY, REV]),
 "tin-snare": preset("Tin Snare", "Percussion", ["drum", "snare", "metallic"], "Noise snare with a tinny ring.", 4, 1, 2,
     osc(1, "noise", 0.8) + osc(2, "triangle", 0.4) + env("amp", 0.0, 0.18, 0.0, 0.15) + filt(5200.0, 0.3, "highpass"),
     [("velocity", "osc1_level", 0.4)], [COMP]),
 "riser-sweep": preset("Riser Sweep", "FX", ["riser", "transition", "noise"], "Eight-bar white-noise riser.", 2, 3, 2,
     osc(1, "noise", 0.7) + osc(2, "saw", 0.3) + env("amp", 8.0, 0.1, 1.0, 1.0) + filt(400.0, 0.6, "bandpass"),
     [("lfo1", "filter_cutoff", 0.9), ("envelope2", "osc2_detune", 0.5)], [DLY, REV]),
 "chamber-strings": preset("Chamber Strings", "Strings", ["orchestral", "ensemble", "legato"], "Bowed chamber ensemble from detuned saws.", 12, 3, 2,
     osc(1, "saw", 0.6, -4.0) + osc(2, "saw", 0.6, 4.0) + env("amp", 0.35, 0.5, 0.85, 1.2) + filt(5000.0, 0.1),
     [("mod_wheel", "filter_cutoff", 0.35), ("aftertouch", "osc1_detune", 0.2)], [CHO, REV]),
}
for stem, doc in good.items():
    (root / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")

base = good["rubber-pluck"]
_n = iter(range(1, 100))
def variant(name, **meta):
    # each broken preset is its own sound, so only the problem it demonstrates is reported
    d = json.loads(json.dumps(base))
    d["metadata"]["name"] = name
    d["metadata"].update(meta)
    d["parameters"][1]["value"] = round(0.5 + next(_n) / 50, 2)
    return d

b = root / "broken"


def save(name, doc):
    (b / name).write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2) + "\n")


text = json.dumps(variant("Truncated"), indent=2)
save("truncated.json", text[: len(text) // 2])
d = variant("Wrong Type")
d["audio"]["voices"] = "eight"
save("wrong-type.json", d)
d = variant("Out Of Range")
d["parameters"][4]["value"] = 1.7
save("out-of-range.json", d)
save("bad-category.json", variant("Bad Category", category="Basses"))
t = json.dumps(variant("Nan Value"), indent=2).replace('"value": 0.25', '"value": NaN', 1)
assert "NaN" in t
save("nan-value.json", t)
save("duplicate-key.json", json.dumps(variant("Duplicate Key"), indent=2).replace(
    '"author": "Mara Lindqvist",', '"author": "Mara Lindqvist",\n    "author": "M. Lindqvist",', 1))
d = variant("No Author")
del d["metadata"]["author"]
save("no-author.json", d)
d = variant("Heavy Pad")
d["audio"].update(voices=32, unison=16, oscillators=3)
save("heavy-pad.json", d)
