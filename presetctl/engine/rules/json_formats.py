"""Format level for the JSON synth formats: Vital (``T0xx``, presets and banks) and Helm (``H0xx``).

Checks read ``Document.facts.members``: ``(entry, parsed JSON)`` pairs, one per preset (a
bank has one per ``.vital`` member, located by ``entry``). Bank codes ``T010``-``T013`` are
emitted by the bank loader itself and registered here so they are documented and selectable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from presetctl.engine.fix import fields
from presetctl.engine.fix.edits import FixAction, FixContext
from presetctl.engine.fix.toolkit import each, target
from presetctl.engine.formats import helm
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.pointer import join as join_pointer
from presetctl.engine.rules.base import Fix, FixSafety, Level, Rule, RuleContext, RuleDoc
from presetctl.engine.versions import compare_versions

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
VITAL = frozenset({"vital", "vitalbank"})
HELM = frozenset({"helm"})
_VERSION = re.compile(r"\d+\.\d+\.\d+")
NEWEST_VITAL = "1.5.5"  # last release of Vital as of this writing
NEWEST_HELM = "0.9.0"  # last release of Helm
VITAL_TEXT_KEYS = ("author", "comments", "macro1", "macro2", "macro3", "macro4", "preset_name", "preset_style",
                   "synth_version")
VITAL_KEYS = frozenset({*VITAL_TEXT_KEYS, "settings"})
HELM_TEXT_KEYS = ("license", "synth_version", "patch_name", "folder_name", "author")
HELM_KEYS = frozenset({*HELM_TEXT_KEYS, "settings"})
_VITAL_SHAPES: Mapping[str, type] = {"modulations": list, "lfos": list, "wavetables": list, "sample": dict,
                                     "custom_warps": list, "random_values": list}


def _members(doc: Document) -> Iterator[tuple[str, Any]]:
    yield from doc.facts.members


def _at(entry: str, *tokens: str | int) -> Location:
    return Location(pointer=join_pointer(tokens), entry=entry)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _version_problem(raw: Mapping[str, Any], entry: str, synth: str, newest: str) -> Violation | None:
    version = raw.get("synth_version")
    where = _at(entry, "synth_version")
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        return Violation(f"synth_version {version!r} is not a {synth} version (expected like {newest!r})", where)
    if compare_versions(version, newest) > 0:
        return Violation(f"synth_version {version} is newer than any known {synth} release ({newest})", where)
    return None


# --- Vital --------------------------------------------------------------------------------------

def check_vital_structure(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            yield Violation(f"preset is {_type_name(raw)}, not a JSON object", _at(entry))
        elif "settings" not in raw:
            yield Violation("preset has no settings object: Vital loads it as the init sound", _at(entry))
        elif not isinstance(raw["settings"], dict):
            yield Violation(f"settings is {_type_name(raw['settings'])}, not an object", _at(entry, "settings"))


def _text_keys(raw: dict[str, Any], entry: str, keys: Iterable[str]) -> Iterator[Violation]:
    for key in keys:
        if key in raw and not isinstance(raw[key], str):
            yield Violation(f"{key} is {_type_name(raw[key])}, not a string", _at(entry, key))


def _vital_settings(settings: dict[str, Any], entry: str) -> Iterator[Violation]:
    for key, value in settings.items():
        shape = _VITAL_SHAPES.get(key)
        if shape is not None:
            if not isinstance(value, shape):
                yield Violation(f"settings.{key} is {_type_name(value)}, not {_type_name(shape())}",
                                _at(entry, "settings", key))
        elif not _is_number(value):
            yield Violation(f"parameter {key!r} is {_type_name(value)}, not a number", _at(entry, "settings", key))
    mods = settings.get("modulations")
    for i, m in enumerate(mods if isinstance(mods, list) else ()):
        if not isinstance(m, dict) or not isinstance(m.get("source"), str) or not isinstance(m.get("destination"), str):
            yield Violation(f"modulation {i + 1} is not an object with string source and destination",
                            _at(entry, "settings", "modulations", i))


def check_vital_types(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            continue
        yield from _text_keys(raw, entry, VITAL_TEXT_KEYS)
        settings = raw.get("settings")
        if isinstance(settings, dict):
            yield from _vital_settings(settings, entry)


def check_vital_version(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            continue
        if "synth_version" not in raw:
            # LoadSave::jsonToState reads data["synth_version"] into a std::string: the json exception
            # makes SynthBase::loadFromFile refuse the preset.
            yield Violation("no synth_version: Vital refuses the preset (\"Preset file is corrupted\")", _at(entry),
                            code="T006")
        elif isinstance(raw["synth_version"], str) and (
                v := _version_problem(raw, entry, "Vital", NEWEST_VITAL)) is not None:
            yield Violation(v.message, v.location, code="T003")  # not a string at all: T002, refused as well


def check_vital_name(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if isinstance(raw, dict) and "preset_name" not in raw:
            yield Violation("preset has no preset_name: Vital shows the file name instead", _at(entry))


def check_vital_keys(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if isinstance(raw, dict):
            for key in raw:
                if key not in VITAL_KEYS:
                    yield Violation(f"unknown top-level key {key!r}: Vital ignores it", _at(entry, key))


# --- Helm ---------------------------------------------------------------------------------------

def check_helm_structure(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            yield Violation(f"patch is {_type_name(raw)}, not a JSON object: Helm loads nothing", _at(entry))
            continue
        settings, _ = helm.settings_of(raw)
        if "settings" not in raw and not helm.is_flat(raw):
            yield Violation(f"patch of Helm {helm.version_of(raw)} has no settings object: Helm dereferences it and "
                            "crashes", _at(entry))
        elif not isinstance(settings, dict):
            yield Violation(f"settings is {_type_name(settings)}, not an object: Helm dereferences it and crashes",
                            _at(entry, "settings"))


def check_helm_modulations(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    """varToState takes ``settings["modulations"].getArray()`` and loadModulations walks it, and each
    entry's ``getDynamicObject()``, without a null check."""
    for entry, raw in _members(doc):
        settings, base = helm.settings_of(raw) if isinstance(raw, dict) else (None, "")
        if not isinstance(settings, dict):
            continue  # H001
        prefix = ("settings",) if base else ()
        mods = settings.get("modulations")
        if not isinstance(mods, list):
            what = "no modulations array" if mods is None else f"modulations is {_type_name(mods)}, not an array"
            yield Violation(f"{what}: Helm dereferences the missing array and crashes loading the patch",
                            _at(entry, *prefix, "modulations"), data={"missing": mods is None})
            continue
        for i, m in enumerate(mods):
            if not isinstance(m, dict):
                yield Violation(f"modulation {i + 1} is {_type_name(m)}, not an object: Helm dereferences it and "
                                "crashes loading the patch", _at(entry, *prefix, "modulations", i))


def _helm_settings(settings: dict[str, Any], entry: str, base: bool) -> Iterator[Violation]:
    prefix = ("settings",) if base else ()
    for key, value in settings.items():
        if key == "modulations" or (not base and key in HELM_KEYS):
            continue
        if not _is_number(value):
            yield Violation(f"parameter {key!r} is {_type_name(value)}, not a number", _at(entry, *prefix, key))
    mods = settings.get("modulations")
    for i, m in enumerate(mods if isinstance(mods, list) else ()):  # not an array, not an object: H009
        if isinstance(m, dict) and not (isinstance(m.get("source"), str) and isinstance(m.get("destination"), str)
                                        and _is_number(m.get("amount"))):
            yield Violation(f"modulation {i + 1} is not {{source: string, destination: string, amount: number}}",
                            _at(entry, *prefix, "modulations", i))


def check_helm_types(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            continue
        settings, base = helm.settings_of(raw)
        yield from _text_keys(raw, entry, HELM_TEXT_KEYS)
        if isinstance(settings, dict):
            yield from _helm_settings(settings, entry, bool(base))


def check_helm_version(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            continue
        if "synth_version" not in raw:
            layout = (" and ignores the settings object (every parameter at its default)" if "settings" in raw
                      else "")
            yield Violation("no synth_version: Helm takes the patch for 0.4.1, reads its top level as the settings"
                            f"{layout}, and applies every conversion since", _at(entry))
        elif (v := _version_problem(raw, entry, "Helm", NEWEST_HELM)) is not None:
            yield v


def check_helm_legacy(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            continue
        version = helm.version_of(raw)
        if helm.is_legacy(version) and isinstance(raw.get("synth_version"), str):
            yield Violation(f"saved by Helm {version}: Helm converts it on load (beats_per_minute from BPM to "
                            "beats per second, oscillator and sub volumes, filter types to filter styles, "
                            "saturation to distortion)", _at(entry, "synth_version"),
                            hint="open and save it again in Helm 0.9 so the file holds what users hear")
        elif helm.is_flat(raw) and "settings" not in raw:
            yield Violation("patch uses the layout of Helm 0.4.1 and older (no settings object)", _at(entry))


def check_helm_keys(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if isinstance(raw, dict) and not helm.is_flat(raw):
            for key in raw:
                if key not in HELM_KEYS:
                    yield Violation(f"unknown top-level key {key!r}: Helm ignores it", _at(entry, key))


def check_helm_parameters(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if not isinstance(raw, dict):
            continue
        settings, base = helm.settings_of(raw)
        if not isinstance(settings, dict):
            continue
        known = helm.ranges_for(helm.version_of(raw))
        prefix = ("settings",) if base else ()
        for key in settings:
            if key == "modulations" or (not base and key in HELM_KEYS):
                continue
            if key not in known:
                yield Violation(f"parameter {key!r} is not a Helm parameter: Helm ignores it",
                                _at(entry, *prefix, key), code="H006")
            elif key in helm.DEPRECATED and not helm.is_legacy(helm.version_of(raw)):
                yield Violation(f"parameter {key!r} is deprecated since Helm 0.9: it no longer affects the sound",
                                _at(entry, *prefix, key), code="H007")


def check_helm_name(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    for entry, raw in _members(doc):
        if isinstance(raw, dict) and "patch_name" not in raw:
            yield Violation("patch has no patch_name: Helm shows the file name instead", _at(entry))


def fix_helm_modulations(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        if not (v.data or {}).get("missing"):
            return None  # only a missing key: replacing a value of the wrong type would drop data
        splice = fields.set_json(doc, v.location.pointer, [], insert="only")
        if splice is None:
            return None
        return FixAction(v.code, f"{v.location.pointer}: [] added", v.location, (splice,), targets=(target(v),))
    return each(violations, make)


_BANK_WHY = ("A bank is unpacked by Vital into the user's preset folders: an archive that cannot be read "
             "installs nothing, and a hostile one can exhaust memory or write outside the folder.")

RULES = (
    Rule("T001", "vital-structure", Level.FORMAT, E, "Vital preset is not an object with a settings object",
         RuleDoc("Reports a Vital preset whose top level is not a JSON object, or that has no `settings` object.",
                 "Vital reads every sound parameter from `settings`: without it the preset loads as the init sound.",
                 '`{"preset_name": "Pad", "synth_version": "1.5.5"}`', "Export the preset again from Vital."),
         check=check_vital_structure, formats=VITAL),
    Rule("T002", "vital-value-type", Level.FORMAT, E, "Vital value of the wrong type",
         RuleDoc("Reports Vital values of the wrong JSON type: metadata (`author`, `comments`, `preset_name`, "
                 "`preset_style`, `macro1`-`macro4`, `synth_version`) that is not a string, a parameter in "
                 "`settings` that is not a number, a structured setting (`modulations`, `lfos`, `wavetables`, "
                 "`sample`) of the wrong shape, or a modulation without string `source`/`destination`.",
                 "Vital converts by type and silently uses a default (0, the init wavetable) for what it cannot "
                 "read: the preset does not sound as designed.",
                 '`"settings": {"filter_1_cutoff": "60"}`', "Store the value with the type Vital writes."),
         check=check_vital_types, formats=VITAL),
    Rule("T003", "vital-version-unknown", Level.FORMAT, W, "Vital synth_version garbled or unknown",
         RuleDoc(f"Reports a Vital preset whose `synth_version` is a string but not a dotted version such as "
                 f"`1.5.5`, or is newer than the newest known Vital release ({NEWEST_VITAL}). A missing one is "
                 f"T006; one that is not a string is T002.",
                 "Vital upgrades old presets by their version (`LoadSave::updateFromOldVersion`): a garbled "
                 "version makes it apply the wrong conversions, and Vital refuses a preset whose major.minor is "
                 "newer than its own (\"Preset was created with a newer version\").",
                 '`"synth_version": "v1.5"`', "Save the preset again with Vital."),
         check=check_vital_version, formats=VITAL, also_emits=("T006",)),
    Rule("T004", "vital-preset-name-missing", Level.FORMAT, I, "Vital preset has no preset_name",
         RuleDoc("Reports a Vital preset without the `preset_name` key. Vital shows the file name whatever the "
                 "key says (`SynthBase::loadFromFile` sets the name from the file), and so does presetctl, so the "
                 "metadata rule M001 does not fire. Harmless for Vital (11 of Matt Tytel's own presets lack it).",
                 "Tools that read only the JSON see no name; the name changes when the file is renamed.",
                 '`{"author": "...", "preset_style": "Pad", "settings": {...}}`',
                 "Nothing for Vital; add `preset_name` for other tools (Vital writes it when the preset is "
                 "saved again)."),
         check=check_vital_name, formats=VITAL, profile="marketplace"),
    Rule("T005", "vital-unknown-key", Level.FORMAT, I, "Unknown top-level key in a Vital preset",
         RuleDoc("Reports top-level keys other than `author comments macro1..4 preset_name preset_style "
                 "settings synth_version`.",
                 "Vital ignores them: data stored there is lost on the next save, and a misspelled key "
                 "(`preset_nmae`) hides the real value.",
                 '`"presetName": "Pad"`', "Remove the key or move its value where Vital reads it."),
         check=check_vital_keys, formats=VITAL),
    Rule("T006", "vital-version-missing", Level.FORMAT, E, "Vital preset has no synth_version",
         RuleDoc("Reports a Vital preset without the `synth_version` key.",
                 "Vital reads it into a string before anything else (`LoadSave::jsonToState`); the JSON exception "
                 "makes it refuse the whole preset with \"Preset file is corrupted\".",
                 '`{"preset_name": "Pad", "settings": {...}}`',
                 "Add the version the preset was made with (`\"synth_version\": \"1.5.5\"`), or save it again "
                 "from Vital.")),
    Rule("T010", "vitalbank-unreadable", Level.FORMAT, E, "Vital bank is not a readable zip archive",
         RuleDoc("Reports a `.vitalbank` whose zip central directory cannot be read (not a zip, truncated, "
                 "corrupt).", _BANK_WHY, "a `.vitalbank` cut short by a failed download",
                 "Export the bank again from Vital.")),
    Rule("T011", "vitalbank-bad-entry", Level.FORMAT, E, "Vital bank member is unsafe or unreadable",
         RuleDoc("Reports a bank member that is a symbolic link, a special file, encrypted, corrupt, or whose "
                 "path is absolute or climbs out of the bank with `..` (zip slip). Such members are not read.",
                 _BANK_WHY, "a member named `../../.bashrc`", "Rebuild the bank from plain files.")),
    Rule("T012", "vitalbank-over-limits", Level.FORMAT, E, "Vital bank exceeds the archive limits",
         RuleDoc("Reports a bank with more members than `limits.max-entries`, members that inflate past "
                 "`limits.max-decompressed` in total, or a member whose compression ratio is over "
                 "`limits.max-ratio` (a decompression bomb). Members past a limit are not read.",
                 _BANK_WHY, "a 40 KB bank whose member inflates to 4 GB",
                 "Remove the file; raise the limits only for a bank you trust.")),
    Rule("T013", "vitalbank-no-presets", Level.FORMAT, W, "Vital bank holds no preset",
         RuleDoc("Reports a readable bank without any `.vital` member.",
                 "A bank is how sound designers ship presets to Vital users: one without presets installs only "
                 "wavetables or LFOs, which is rarely what was meant.",
                 "a bank of `.vitaltable` files only", "Add the presets, or ship the assets in a plain zip.")),
    Rule("H001", "helm-structure", Level.FORMAT, E, "Helm patch is not an object with a settings object",
         RuleDoc("Reports a Helm patch whose top level is not a JSON object, or a patch of a version after 0.4.1 "
                 "without a `settings` object (or with a `settings` that is not an object). Patches of 0.4.1 and "
                 "older, and patches without `synth_version`, which Helm takes for 0.4.1, keep their settings at "
                 "the top level (H004).",
                 "Helm loads nothing from a patch that is not an object; without a settings object, "
                 "`LoadSave::varToState` dereferences a null pointer and Helm crashes.",
                 '`{"patch_name": "Pad", "synth_version": "0.9.0"}`', "Save the patch again from Helm."),
         check=check_helm_structure, formats=HELM),
    Rule("H002", "helm-value-type", Level.FORMAT, E, "Helm value of the wrong type",
         RuleDoc("Reports metadata (`license synth_version patch_name folder_name author`) that is not a "
                 "string, a parameter in `settings` that is not a number, or a modulation object that is not "
                 "`{source: string, destination: string, amount: number}` (a modulation that is not an object "
                 "at all is H009).",
                 "Helm converts what it reads to numbers: a string or null parameter silently becomes 0.",
                 '`"settings": {"cutoff": "80"}`', "Store the value with the type Helm writes."),
         check=check_helm_types, formats=HELM),
    Rule("H003", "helm-version-unknown", Level.FORMAT, W, "Helm synth_version missing, garbled or unknown",
         RuleDoc(f"Reports a Helm patch whose `synth_version` is missing (Helm then takes it for 0.4.1: it reads "
                 f"the top level as the settings, ignores a `settings` object, and applies every conversion "
                 f"since), not a dotted version, or newer than the last Helm release ({NEWEST_HELM}).",
                 "Helm chooses its layout and unit conversions by version: the wrong version makes it misread the "
                 "tempo, the oscillator volumes and the filter, or read no parameter at all.",
                 '`"synth_version": "1.0"`', "Save the patch again from Helm."),
         check=check_helm_version, formats=HELM),
    Rule("H004", "helm-legacy-units", Level.FORMAT, I, "Helm patch stored in the units of an old version",
         RuleDoc("Reports a patch saved by Helm 0.8.6 or older, or in the 0.4.1 layout. Helm converts those "
                 "on load: `beats_per_minute` from BPM (20-300) to beats per second, oscillator and sub "
                 "volumes, filter types to filter styles and saturation to distortion. presetctl checks such "
                 "patches against the ranges of their own version.",
                 "The file does not hold what users hear; tools that read it as a current patch see a tempo of "
                 "120 beats per second.",
                 '`"synth_version": "0.8.6", "settings": {"beats_per_minute": 120}`',
                 "Open and save the patch again in Helm 0.9."),
         check=check_helm_legacy, formats=HELM, profile="marketplace"),
    Rule("H005", "helm-unknown-key", Level.FORMAT, I, "Unknown top-level key in a Helm patch",
         RuleDoc("Reports top-level keys other than `license synth_version patch_name folder_name author "
                 "settings`.",
                 "Helm ignores them: data stored there is lost on the next save.",
                 '`"category": "Bass"`', "Remove the key, or use `folder_name` for the category."),
         check=check_helm_keys, formats=HELM),
    Rule("H006", "helm-unknown-parameter", Level.FORMAT, I, "Setting that is not a Helm parameter",
         RuleDoc("Reports keys in `settings` that are not parameters of Helm (0.9.0, or of the patch's own "
                 "version for old patches).",
                 "Helm ignores them: a misspelled parameter (`cutof`) leaves the real one at its default.",
                 '`"settings": {"cutof": 80}`', "Rename the key to Helm's parameter name or remove it."),
         check=check_helm_parameters, formats=HELM, also_emits=("H007",)),
    Rule("H007", "helm-deprecated-parameter", Level.FORMAT, I, "Helm parameter deprecated since 0.9",
         RuleDoc("Reports `osc_mix`, `filter_type` or `filter_saturation` in a patch saved by Helm 0.9 or later. "
                 "Helm converts them only in patches of 0.8.6 and older.",
                 "They no longer affect the sound: editing them in the file does nothing.",
                 '`"filter_saturation": 12`', "Remove them; use `distortion_drive` and `filter_style`."),
         profile="marketplace"),
    Rule("H008", "helm-patch-name-missing", Level.FORMAT, I, "Helm patch has no patch_name",
         RuleDoc("Reports a Helm patch without the `patch_name` key. Helm (and presetctl) then use the file name "
                 "as the patch's name, so the metadata rule M001 does not fire.",
                 "The name changes when the file is renamed, and tools that read only the JSON see no name.",
                 '`{"synth_version": "0.5.0", "settings": {...}}`', "Save the patch again from Helm."),
         check=check_helm_name, formats=HELM, profile="marketplace"),
    Rule("H009", "helm-modulations-missing", Level.FORMAT, E, "Helm patch has no modulations array",
         RuleDoc("Reports a Helm patch whose settings hold no `modulations` array (missing, or not an array), or "
                 "a modulation that is not an object.",
                 "`LoadSave::varToState` takes `settings[\"modulations\"].getArray()` and `loadModulations` walks "
                 "it and each entry's object without a null check: Helm crashes loading the patch (with the host "
                 "that runs it).",
                 '`{"synth_version": "0.9.0", "settings": {"cutoff": 80}}`',
                 "Add `\"modulations\": []` to the settings, or save the patch again from Helm.",
                 "Safe: an empty array is what Helm writes for a patch without modulations; the fix is offered "
                 "only where the key is missing."),
         check=check_helm_modulations, formats=HELM,
         fix=Fix(FixSafety.SAFE, "add an empty modulations array", fix_helm_modulations)),
)
