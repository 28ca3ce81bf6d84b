"""Parameter level: types, declared and synth ranges, non-finite values."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from itertools import compress, repeat
from operator import ge, is_not, le
from typing import Any

from presetctl.engine.fix import fields
from presetctl.engine.fix.edits import FixAction, FixContext
from presetctl.engine.fix.toolkit import clamp, each, number, target
from presetctl.engine.fix.writers import json_text
from presetctl.engine.formats.base import Document
from presetctl.engine.model import Location, Parameter, Severity, Violation
from presetctl.engine.rules.base import Fix, FixSafety, Level, Rule, RuleContext, RuleDoc
from presetctl.engine.speedups import compiled

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
_TYPES = {"float": (int, float), "int": (int,), "bool": (bool,), "enum": (str, int)}


# (declared type, exact type of the value) pairs that pass the type check whatever else holds.
_FINE_TYPES = frozenset({
    ("float", float), ("float", int), ("int", int), ("bool", bool), ("enum", str), ("enum", int),
    (None, float), (None, int), (None, bool), (None, str),
})
_BOUNDS: tuple[tuple[str, Callable[[Any, Any], Any]], ...] = (("min", le), ("max", ge))  # bound <= / >= value
_get = dict.get


def _plainly_fine(params: list[Any]) -> bool:
    """:func:`_plainly_fine_python`, in one compiled pass when the extension is built (the same answer
    for every list: tests/test_speedups.py)."""
    if compiled is not None:
        return compiled.plainly_fine(params)
    return _plainly_fine_python(params)


def _plainly_fine_python(params: list[Any]) -> bool:
    """True only when the full check below cannot report anything: unique names, values of
    their declared type, ``min <= value <= max`` wherever a bound is given.

    Hundreds of parameters per file make the per-parameter loop the costliest check of the clean
    path; these column-wise passes run in C (map, zip, compress). False means "look closely",
    never "wrong": the exact loop then decides. A TypeError (an item that is not a dict, an
    unhashable name or type, a number compared with a string) also just means "look closely".
    """
    try:
        names = list(map(_get, params, repeat("name")))
        if len(set(names)) != len(names):
            return False
        values = list(map(_get, params, repeat("value")))
        kinds = map(_get, params, repeat("type"))
        if not _FINE_TYPES.issuperset(zip(kinds, map(type, values), strict=True)):
            return False
        # Bounds are compared only where one is given: most parameters (normalized knobs, switches)
        # carry none, so the items with a bound are picked first (every item is a dict by now).
        bounded = [i for i, p in enumerate(params) if "min" in p or "max" in p]
        if bounded:
            chosen = [params[i] for i in bounded]
            picked = [values[i] for i in bounded]
            for key, within in _BOUNDS:
                bounds = list(map(_get, chosen, repeat(key)))
                given = list(map(is_not, bounds, repeat(None)))
                if not all(map(within, compress(bounds, given), compress(picked, given))):
                    return False
    except TypeError:
        return False
    return True


def check_declared(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    """presetctl format: values against the type and range the file itself declares."""
    params = doc.raw.get("parameters") if isinstance(doc.raw, dict) else None
    if not isinstance(params, list) or _plainly_fine(params):
        return
    seen: set[str] = set()
    for i, p in enumerate(params):
        if not isinstance(p, dict):
            continue
        name, value = p.get("name"), p.get("value")
        where = Location(pointer=f"/parameters/{i}")
        if isinstance(name, str):
            if name in seen:
                yield Violation(f"parameter {name!r} is defined twice", where, code="V005")
            seen.add(name)
        kind = p.get("type")
        if isinstance(kind, str) and kind in _TYPES and value is not None:  # a list "type" is S001, not a crash
            ok = isinstance(value, _TYPES[kind]) and (kind == "bool" or not isinstance(value, bool))
            if kind == "int" and isinstance(value, float) and value.is_integer():
                ok = True
            if not ok:
                yield Violation(f"parameter {name!r} is declared {kind} but holds {value!r}",
                                Location(pointer=f"/parameters/{i}/value"), code="V001")
        lo, hi = p.get("min"), p.get("max")
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
            yield Violation(f"parameter {name!r} has min {lo} above max {hi}", where, code="V004")
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (isinstance(lo, (int, float)) and value < lo) or (isinstance(hi, (int, float)) and value > hi):
                yield Violation(f"parameter {name!r} = {value} is outside its declared range [{lo}, {hi}]",
                                Location(pointer=f"/parameters/{i}/value"), code="V002",
                                data={"index": i, "min": lo, "max": hi})


def _ulp32(bound: float) -> float:
    """The spacing of 32-bit floats at ``bound`` (0 for 0, whose neighbours are denormals)."""
    if bound == 0.0 or not math.isfinite(bound):
        return 0.0
    return math.ldexp(1.0, math.frexp(bound)[1] - 24)


def _margin(bound: float, span: float) -> float:
    """How far a float32-stored value may sit past ``bound`` and still be that bound: two float32
    steps (values that went through float arithmetic land one step off, e.g. 4.000000476837158 is
    the float32 after 4), or a step of the span at a bound of 0."""
    return 2.0 * (_ulp32(bound) or _ulp32(span) or 0.0)


def within(value: float, lo: float | None, hi: float | None) -> bool:
    """``lo <= value <= hi`` for a value and bounds stored as 32-bit floats (Vital, Helm)."""
    if (lo is None or value >= lo) and (hi is None or value <= hi):
        return True  # the common case: no float32 steps to compute
    span = (hi - lo) if lo is not None and hi is not None else 0.0
    return ((lo is None or value >= lo - _margin(lo, span))
            and (hi is None or value <= hi + _margin(hi, span)))


def shown(value: float) -> str:
    """A number as a user can find it in the file: up to 9 significant digits (float32 needs 9)."""
    return f"{value:.9g}"


def _range(lo: float | None, hi: float | None) -> str:
    return f"[{shown(lo) if lo is not None else '-inf'}, {shown(hi) if hi is not None else 'inf'}]"


def _judge(param: Parameter, v: float) -> tuple[str, str] | None:
    """(code, message) for a finite value outside its knob's range, as the synth treats it."""
    lo, hi = param.minimum, param.maximum
    if within(v, lo, hi):
        return None
    name, where = repr(param.name), _range(lo, hi)
    how = param.out_of_range
    if how is None:
        return "V003", f"parameter {name} = {shown(v)} is outside the synth's range {where}"
    if how.indexed:
        index = math.trunc(v)
        if (lo is None or index >= lo) and (hi is None or index <= hi):
            return None  # the synth truncates to an index inside its table
        return "V008", f"parameter {name} = {shown(v)} indexes past {how.synth}'s table {where}: {how.effect}"
    if how.written is not None and within(v, *how.written):
        return "V007", (f"parameter {name} = {shown(v)} is beyond the knob's range {where} but within what "
                        f"{how.synth} itself saves ({_range(*how.written)}, from converting older patches): "
                        f"{how.synth} plays it as stored; moving the knob snaps it into range")
    return "V003", f"parameter {name} = {shown(v)} is outside {how.synth}'s range {where}: {how.effect}"


def check_synth_ranges(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    """Other formats: values against the ranges the synth's definition gives (loaders fill them),
    judged by what the synth does with a value outside them (``Parameter.out_of_range``)."""
    if doc.format in ("presetctl", "dx7-syx"):
        return  # presetctl declares its ranges in the file (V002); DX7 has its own rule with byte offsets (D009)
    for p in doc.presets:
        for param in p.parameters:
            v = param.value
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            if isinstance(v, float) and not math.isfinite(v):
                yield Violation(f"parameter {param.name!r} is {v}", Location(pointer=param.pointer, voice=p.index),
                                code="V006")
                continue
            lo, hi = param.minimum, param.maximum
            if (lo is None or v >= lo) and (hi is None or v <= hi):
                continue  # in range: the path of nearly every value, kept free of calls
            where = Location(pointer=param.pointer, voice=p.index)
            verdict = _judge(param, v)
            if verdict is not None:
                code, message = verdict
                yield Violation(message, where, code=code,
                                data={"min": param.minimum, "max": param.maximum, "name": param.name})


# --- fixes ------------------------------------------------------------------------------------

def fix_declared_range(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        data = v.data or {}
        value = number(json_text.resolve(doc.raw, v.location.pointer))
        if value is None:
            return None
        new = clamp(value, number(data.get("min")), number(data.get("max")))
        splice = fields.set_json(doc, v.location.pointer, new)
        if splice is None or new == value:
            return None
        return FixAction(v.code, f"{v.location.pointer}: {value!r} clamped to {new!r}", v.location, (splice,),
                         targets=(target(v),))
    return each(violations, make)


def fix_synth_range(doc: Document, violations: Sequence[Violation], ctx: FixContext) -> list[FixAction]:
    def make(v: Violation) -> FixAction | None:
        if fields.json_body(doc) is None or v.location.voice is not None:
            return None  # binary formats: no writer for parameters yet
        pointer = v.location.pointer
        node = json_text.resolve(doc.raw, pointer)
        if isinstance(node, dict) and number(node.get("value")) is not None:
            pointer += "/value"
            node = node["value"]
        value = number(node)
        if value is None:
            return None
        data = v.data or {}
        new = clamp(value, number(data.get("min")), number(data.get("max")))
        splice = fields.set_json(doc, pointer, new)
        if splice is None or new == value:
            return None
        return FixAction(v.code, f"{pointer}: {value!r} clamped to {new!r} (synth range)", v.location, (splice,),
                         targets=(target(v),))
    return each(violations, make)


RULES = (
    Rule("V001", "parameter-type-mismatch", Level.PARAMETERS, E, "Parameter value does not match its declared type",
         RuleDoc("Reports a presetctl parameter whose `value` does not match its `type` (`float`, `int`, "
                 "`bool`, `enum`).",
                 "Importers convert by the declared type: a string in a float parameter is lost or crashes "
                 "the import.",
                 '`{"name": "cutoff", "type": "float", "value": "high"}`', "Store a value of the declared type."),
         check=check_declared, formats=frozenset({"presetctl"}), also_emits=("V002", "V004", "V005")),
    Rule("V002", "parameter-out-of-declared-range", Level.PARAMETERS, E, "Parameter outside the range the file declares",
         RuleDoc("Reports a presetctl parameter whose value lies outside its own `min`/`max`.",
                 "The file contradicts itself: a synth clamps the value, so the preset does not sound as saved.",
                 '`{"name": "resonance", "value": 1.4, "min": 0, "max": 1}`',
                 "Bring the value into range.",
                 "Unsafe: clamping changes the sound (to what the synth would play anyway)."),
         fix=Fix(FixSafety.UNSAFE, "clamp the value to [min, max]", fix_declared_range)),
    Rule("V003", "parameter-out-of-synth-range", Level.PARAMETERS, W, "Parameter outside every range the synth saves",
         RuleDoc("Reports a parameter of a real synth format (Vital, Helm) outside its knob's range (the synth's "
                 "own parameter table) that no version of the synth saves either: not a value the synth's own "
                 "load conversions produce (those are V007). Both synths store 32-bit floats, so a value within "
                 "two float32 steps of a bound is the bound. The message says what the synth does with the value "
                 "(from its source): Helm's oscillators clamp the waveform to 10, its LFOs play every waveform "
                 "above 12 as smooth random, most other values are played as stored.",
                 "The file holds a value the synth's editor cannot produce or show: a generated or hand-edited "
                 "patch. Where the synth clamps it, the patch does not sound as the file says; where it plays it "
                 "as stored, the sound is one nobody could have set in the synth, and touching the knob loses it.",
                 "Helm `resonance: 40` (range 0-1)", "Bring the value into range.",
                 "Unsafe: clamping changes the stored sound where the synth plays the value as stored."),
         check=check_synth_ranges, also_emits=("V006", "V007", "V008"),
         fix=Fix(FixSafety.UNSAFE, "clamp the value to the synth's range", fix_synth_range)),
    Rule("V004", "parameter-range-inverted", Level.PARAMETERS, E, "Parameter declares min above max",
         RuleDoc("Reports a presetctl parameter whose `min` is greater than its `max`.",
                 "No value can be in range; importers disagree on how to treat it.",
                 '`{"min": 1, "max": 0}`', "Swap the bounds.")),
    Rule("V005", "duplicate-parameter", Level.PARAMETERS, E, "Parameter defined twice",
         RuleDoc("Reports a presetctl parameter name that appears more than once in `parameters`.",
                 "Importers keep the first or the last: the sound differs between hosts.",
                 "two entries named `cutoff`", "Keep one entry per parameter.")),
    Rule("V006", "non-finite-parameter", Level.PARAMETERS, E, "Parameter is NaN or infinite",
         RuleDoc("Reports a parameter whose value is NaN or infinite (possible in XML and binary formats, "
                 "which can spell `nan` or `inf`).",
                 "Non-finite values propagate through DSP: silence, noise bursts or a crashed audio thread.",
                 '`<cutoff value="nan"/>`', "Replace the value with a finite one.")),
    Rule("V007", "parameter-beyond-knob-range", Level.PARAMETERS, I,
         "Parameter beyond its knob's range, as the synth itself saves it",
         RuleDoc("Reports a parameter outside its knob's range but inside a range the synth itself writes: "
                 "Helm 0.9 converts patches of 0.8.6 and older on load without clamping (saturation becomes "
                 "`distortion_drive` + 12, `cutoff` loses `keytrack` x 12, `stutter_frequency` keeps the old "
                 "range -7..6) and saves the converted values. The synth plays such a value as stored.",
                 "Nothing is wrong with the sound: it is what the author heard. The knob shows the nearest end "
                 "of its range, and moving it snaps the value into range, which changes the sound.",
                 "Helm 0.9.0 factory `distortion_drive: 72` (knob -30..30; 60 + 12 from an old saturation)",
                 "Nothing to do for the sound; re-save from the synth after a deliberate edit if the knob "
                 "should show the value."),
         ),
    Rule("V008", "parameter-index-out-of-table", Level.PARAMETERS, E, "Indexed parameter reads past the synth's table",
         RuleDoc("Reports a parameter the synth uses as an index into a table without a bound check (Vital's "
                 "`stereo_mode`, `lfo_N_smooth_mode`, `osc_N_spectral_morph_type`, `osc_N_distortion_type`, "
                 "`osc_N_destination`, `sample_destination`, read by its editor's `setAllValues`) whose value, "
                 "truncated to an integer as the synth does, lies outside the table.",
                 "The editor reads past the end of a C++ array when it shows the preset: undefined behaviour, "
                 "usually garbage text or a crash of the plugin and the host.",
                 "Vital `stereo_mode: 2` (modes 0-1)", "Set the value to one of the table's entries.",
                 "Unsafe: clamping picks the nearest entry, which may not be the one the author meant."),
         fix=Fix(FixSafety.UNSAFE, "clamp the value to the table's range", fix_synth_range)),
)
