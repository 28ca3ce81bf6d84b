"""Category taxonomies: built-in profiles and the one that applies to a file.

``taxonomy = ["auto"]`` (the default) picks each format's own profile; config may name
profiles (``"surge"``, ``"nks"``) and/or list extra categories, which are added to them.
"""

from __future__ import annotations

import re
from functools import lru_cache

PROFILES: dict[str, tuple[str, ...]] = {
    # The presetctl format's built-in list: the categories common to the big synth browsers.
    "presetctl": (
        "Arp", "Atmosphere", "Bass", "Bell", "Brass", "Chord", "Drone", "Drum", "FX", "Keys", "Lead",
        "Organ", "Pad", "Percussion", "Pluck", "Sequence", "Strings", "Sub", "Synth", "Template",
        "Texture", "Vocal", "Woodwind",
    ),
    # Vital's preset_style values (the nine styles of its browser).
    "vital": ("Bass", "Lead", "Keys", "Pad", "Percussion", "Sequence", "Experiment", "SFX", "Template"),
    # NKS (Native Kontrol Standard) instrument types.
    "nks": (
        "Bass", "Bowed Strings", "Brass", "Drums", "Flute", "Guitar", "Mallet Instruments", "Multitracks",
        "Organ", "Percussion", "Piano / Keys", "Plucked Strings", "Reed Instruments", "Sound Effects",
        "Soundscapes", "Synth Lead", "Synth Misc", "Synth Pad", "Vocal", "World Instruments",
    ),
}

# Profile used for a format when the taxonomy is "auto"; formats absent here are not checked.
FORMAT_PROFILES: dict[str, str] = {"presetctl": "presetctl", "vital": "vital"}


def register_profile(name: str, categories: tuple[str, ...], *formats: str) -> None:
    """Used by format modules to add their own profile (Surge folders, Helm folders, ...)."""
    PROFILES[name] = categories
    for fmt in formats:
        FORMAT_PROFILES[fmt] = name


def fold(category: str) -> str:
    """Comparison key: case, spacing and a trailing plural 's' do not make a new category."""
    text = re.sub(r"[\s_\-]+", " ", category.strip().casefold())
    if text.endswith("es") and text[:-2].endswith(("ss", "sh", "ch", "x")):
        return text[:-2]
    if text.endswith("s") and not text.endswith("ss") and len(text) > 3:
        return text[:-1]
    return text


@lru_cache(maxsize=256)
def allowed(format_id: str, taxonomy: tuple[str, ...]) -> tuple[str, ...] | None:
    """Categories allowed for a format under a taxonomy setting; None: no taxonomy applies."""
    names: list[str] = []
    extra: list[str] = []
    for item in taxonomy:
        if item == "auto":
            profile = FORMAT_PROFILES.get(format_id)
            if profile is not None:
                names.extend(PROFILES[profile])
        elif item in PROFILES:
            names.extend(PROFILES[item])
        else:
            extra.append(item)
    if not names and not extra:
        return None
    return tuple(dict.fromkeys(names + extra))


def canonical(category: str, choices: tuple[str, ...]) -> str | None:
    """The taxonomy spelling of ``category`` when it differs only by case, spacing or plural."""
    key = fold(category)
    for choice in choices:
        if fold(choice) == key:
            return choice
    return None


# Helm's factory bank folders (patches/Factory Presets/<folder> in mtytel/helm). Patches' own
# folder_name values drift from these (BASS, DRUMS, FX): that drift is what M004 reports.
register_profile("helm", ("Arp", "Bass", "Chip", "Harsh", "Keys", "Lead", "Pad", "Percussion", "SFX"), "helm")
# A Vital bank's presets use Vital's nine styles.
register_profile("vital", PROFILES["vital"], "vital", "vitalbank")
# Surge XT's factory patch folders (resources/data/patches_factory): the categories of its browser.
register_profile("surge", ("Basses", "Brass", "Chords", "FX", "Keys", "Leads", "MPE", "Pads", "Percussion", "Plucks", "Polysynths", "Sequences", "Splits", "Templates", "Vocoder", "Winds"), "surge-fxp")
