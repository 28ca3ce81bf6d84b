"""The presetctl preset format (schemas/preset.schema.json), and the catch-all for ``*.json``.

A ``.json`` file that no other loader claims is read as a presetctl preset, so that a broken
JSON file in a pack is always reported rather than skipped as unknown.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import PurePath
from typing import Any

import orjson

from presetctl.engine.formats import sniff
from presetctl.engine.formats.base import COMPACT_JSON_FACTS, JSON_FACTS, Document, LoadContext, Loader
from presetctl.engine.formats.jsonutil import parse_json
from presetctl.engine.model import AssetRef, Effect, Modulation, Parameter, ParameterColumns, Preset
from presetctl.engine.speedups import compiled


def _text(meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) else None


def _int(block: Mapping[str, Any], key: str) -> int | None:
    value = block.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _parameters(params: list[Any]) -> Iterator[Parameter]:
    for i, p in enumerate(params):
        if isinstance(p, dict):
            value = p.get("value")
            yield Parameter(
                name=str(p.get("name", f"#{i}")),
                value=value if isinstance(value, (int, float, bool, str)) else None,
                minimum=_num(p.get("min")),
                maximum=_num(p.get("max")),
                default=p.get("default"),
                pointer=f"/parameters/{i}",
            )


def _columns(params: list[Any]) -> ParameterColumns:
    """``_parameters`` column-wise (the same entries in the same order), no object per parameter:
    in one compiled pass when the extension is built (``stats`` reads 400 x 20,000 of them)."""
    if compiled is not None:
        columns = compiled.param_columns(params)
        if columns is not None:
            return ParameterColumns(*columns)
    return _columns_python(params)


def _columns_python(params: list[Any]) -> ParameterColumns:
    """:func:`_columns` in Python (the same tuples: tests/test_speedups.py)."""
    names: list[str] = []
    values: list[Any] = []
    lows: list[float | None] = []
    highs: list[float | None] = []
    defaults: list[Any] = []
    scalar = (int, float, bool, str)
    for i, p in enumerate(params):
        if isinstance(p, dict):
            get = p.get
            value = get("value")
            names.append(str(get("name", f"#{i}")))
            values.append(value if isinstance(value, scalar) else None)
            lows.append(_num(get("min")))
            highs.append(_num(get("max")))
            defaults.append(get("default"))
    return ParameterColumns(tuple(names), tuple(values), tuple(lows), tuple(highs), tuple(defaults))


def _sound_key(doc: Mapping[str, Any]) -> bytes:
    """The sound without name and metadata: what duplicate detection compares."""
    sound = {k: doc.get(k) for k in ("audio", "parameters", "modulations", "effects", "assets")}
    return orjson.dumps(sound, option=orjson.OPT_SORT_KEYS)


def build_preset(raw: Mapping[str, Any]) -> Preset:
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    synth = meta.get("synth")
    synth = synth if isinstance(synth, dict) else {}
    audio = raw.get("audio")
    audio = audio if isinstance(audio, dict) else {}
    tags = meta.get("tags")
    params = raw.get("parameters")
    mods = raw.get("modulations")
    effects = raw.get("effects")
    assets = raw.get("assets")
    return Preset(
        format="presetctl",
        name=_text(meta, "name"),
        author=_text(meta, "author"),
        category=_text(meta, "category"),
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        description=_text(meta, "description"),
        license=_text(meta, "license"),
        synth=_text(synth, "name"),
        synth_version=_text(synth, "version"),
        created=_text(meta, "created"),
        modified=_text(meta, "modified"),
        voices=_int(audio, "voices"),
        unison=_int(audio, "unison"),
        oscillators=_int(audio, "oscillators"),
        modulations=tuple(
            Modulation(str(m.get("source", "")), str(m.get("target", "")), _num(m.get("amount")))
            for m in mods if isinstance(m, dict)
        ) if isinstance(mods, list) else (),
        effects=tuple(
            Effect(str(e.get("type", "")), e.get("enabled", True) is not False) for e in effects if isinstance(e, dict)
        ) if isinstance(effects, list) else (),
        assets=tuple(
            AssetRef(str(a.get("kind", "")), str(a.get("path", "")), str(a.get("sha256", "")))
            for a in assets if isinstance(a, dict)
        ) if isinstance(assets, list) else (),
        pointers={
            "name": "/metadata/name", "author": "/metadata/author", "category": "/metadata/category",
            "tags": "/metadata/tags", "description": "/metadata/description", "license": "/metadata/license",
            "synth_version": "/metadata/synth/version", "metadata": "/metadata",
            "voices": "/audio", "modulations": "/modulations", "effects": "/effects",
        },
        parameter_source=(lambda: _parameters(params)) if isinstance(params, list) else None,
        sound_key=lambda: _sound_key(raw),
        column_source=(lambda: _columns(params)) if isinstance(params, list) else None,
    )


class PresetctlJsonLoader(Loader):
    format_id = "presetctl"
    extensions = (".json",)
    description = "presetctl preset (JSON, schemas/preset.schema.json)"

    def sniff(self, head: bytes, path: PurePath) -> int:
        return sniff.presetctl_json(head, path)

    def load(self, data: bytes, ctx: LoadContext) -> Document:
        parsed = parse_json(data)
        if not parsed.ok:
            return Document(self.format_id, data, problems=parsed.problems, text=True, parsed=False,
                            facts=JSON_FACTS)
        raw = parsed.value
        presets = (build_preset(raw),) if isinstance(raw, dict) else ()
        return Document(self.format_id, data, raw=raw, presets=presets, problems=parsed.problems, text=True,
                        facts=COMPACT_JSON_FACTS if parsed.compact else JSON_FACTS)


LOADER = PresetctlJsonLoader()
