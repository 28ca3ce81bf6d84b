"""The registries load lazily (rules by code family and format, loaders by detection, reporters by
name); these tests hold every table line to what it names, and every lazy answer to the eager one
it replaced, so that loading less can never change what a run reports.
"""

from __future__ import annotations

import importlib
import random
from pathlib import PurePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from presetctl.engine.formats import registry as formats
from presetctl.engine.formats.base import Loader
from presetctl.engine.options import Options
from presetctl.engine.rules import registry
from presetctl.engine.rules.base import DEFAULT, Level, Rule
from presetctl.engine.rules.selection import RuleSet
from presetctl.report.base import Reporter
from presetctl.report.registry import REPORTERS

FORMAT_IDS = [f.format_id for f in formats.FORMATS] + ["unknown"]


# --- rules ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module", list(registry.MODULES))
def test_each_rule_module_holds_only_its_families_and_formats(module: str) -> None:
    families, module_formats = registry.MODULES[module]
    rules = importlib.import_module("presetctl.engine.rules." + module).RULES
    assert rules, module
    for r in rules:
        assert r.code[0] in families, (module, r.code)
        if r.check is not None and module_formats is not None:  # a check the format table would not load
            assert r.formats is not None and r.formats <= module_formats, (module, r.code)
        if r.pack_check is not None:  # pack rules run in every run: only modules every run loads
            assert module_formats is None, (module, r.code)


def test_every_code_is_found_through_its_family() -> None:
    assert {r.code: r for r in registry.all_rules()} == dict(registry.by_code())
    for r in registry.all_rules():
        assert registry.lookup(r.code) is r
    assert registry.lookup("Z999") is None and registry.lookup("") is None


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def _reference_enabled(options: Options) -> frozenset[str]:
    """The selection as it was computed before the registry loaded lazily: over every rule at once."""
    selectors = options.select + options.extend_select
    profiles = set(options.profiles)
    return frozenset(
        r.code for r in registry.all_rules()
        if _matches(r.code, selectors) and not _matches(r.code, options.ignore)
        and (options.levels is None or r.level.value in options.levels)
        and (r.profile == DEFAULT or r.profile in profiles or "all" in profiles
             or any(s != "ALL" and r.code.startswith(s) for s in selectors)))


def _reference_checks(enabled: frozenset[str], format_id: str, parsed: bool, validated: bool) -> tuple[Rule, ...]:
    out = []
    for r in registry.all_rules():
        wanted = r.code in enabled or any(c in enabled for c in r.also_emits)
        if r.check is None or not wanted or not r.applies_to(format_id):
            continue
        if not parsed and not r.needs_unparsed:
            continue
        if not validated and r.level is not Level.SECURITY and r.formats is None:
            continue
        out.append(r)
    return tuple(out)


PREFIXES = sorted({r.code[:n] for r in registry.all_rules() for n in (1, 2, 4)})
selectors = st.lists(st.sampled_from(["ALL", *PREFIXES]), max_size=3).map(tuple)
option_sets = st.builds(
    Options, select=selectors.map(lambda s: s or ("ALL",)), extend_select=selectors, ignore=selectors,
    profiles=st.lists(st.sampled_from(["marketplace", "audio", "all"]), max_size=2, unique=True).map(tuple),
    levels=st.none() | st.just(frozenset({Level.SECURITY.value, Level.FILE.value, Level.PARSE.value})))


@settings(max_examples=150, deadline=None)
@given(option_sets)
def test_a_lazy_rule_set_answers_as_the_eager_one(options: Options) -> None:
    rules = RuleSet(options)
    enabled = _reference_enabled(options)
    assert rules.enabled_codes == enabled
    for code in random.Random(0).sample(PREFIXES, 20):
        assert rules.enabled(code) == (code in enabled)
        assert (code in rules.context(PurePath("a.json")).enabled) == (code in enabled)
    for format_id in FORMAT_IDS:
        for parsed in (True, False):
            for validated in (True, False):
                assert rules.checks_for(format_id, parsed, validated) == _reference_checks(
                    enabled, format_id, parsed, validated), (format_id, parsed, validated)
    assert rules.pack_rules() == tuple(r for r in registry.all_rules() if r.pack_check is not None and r.code in enabled)


# --- formats ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", formats.FORMATS, ids=[f.format_id for f in formats.FORMATS])
def test_each_format_line_is_its_loader(fmt: formats.Format) -> None:
    loader = fmt.loader()
    assert isinstance(loader, Loader)
    assert (loader.format_id, loader.extensions) == (fmt.format_id, fmt.extensions)


HEADS = [b"", b"{", b'{"format_version": "1.0"}', b'\xef\xbb\xbf {"settings": {}, "patch_name": "x"}',
         b'{"settings": {}, "license": "", "synth_version": "0.9"}', b'{"settings": {}, "preset_style": ""}',
         b"PK\x03\x04", b"\xf0\x43\x00\x09\x20\x00", b"\xf0\x43\x00\x00\x01\x1b", b"\xf0\x43\x10\x00\xf7",
         b"CcnK\x00\x00\x00\x00FPCh\x00\x00\x00\x01cjs3", b"CcnK\x00\x00\x00\x00FBCh", b"<ZynAddSubFX-data",
         b"<?xml ?><Ableton x>", b"/*@Meta", b"#AM=Diva"]
NAMES = ["a.json", "a.JSON", "a.vital", "a.vitalbank", "a.helm", "a.syx", "a.fxp", "a.fxb", "a.xiz", "a.h2p",
         "a.adv", "a.adg", "a.txt", "noext"]


@given(st.one_of(st.sampled_from(HEADS), st.binary(max_size=64)).flatmap(
    lambda h: st.tuples(st.just(h), st.sampled_from(HEADS).map(lambda t: h + t))), st.sampled_from(NAMES))
def test_detection_picks_the_loader_the_loaders_themselves_pick(heads: tuple[bytes, bytes], name: str) -> None:
    loaders = formats.loaders()
    path = PurePath(name)
    for head in heads:
        best: Loader | None = None
        best_score = 0
        for loader in loaders:  # every loader's own sniff, in table order: what detect() did before
            score = loader.sniff(head, path)
            if score > best_score:
                best, best_score = loader, score
        assert formats.detect(head, path) is best
        owner = next((lo.format_id for lo in loaders if path.suffix.lower() in lo.extensions), None)
        assert formats.extension_format(path) == owner


# --- reporters --------------------------------------------------------------------------------------

def test_each_reporter_line_is_its_reporter() -> None:
    assert list(REPORTERS) == ["full", "concise", "json", "json-lines", "sarif", "junit", "github", "gitlab"]
    for name in REPORTERS:
        reporter = REPORTERS[name]
        assert isinstance(reporter, Reporter) and reporter.name == name
    assert "full" in REPORTERS and "nope" not in REPORTERS and len(REPORTERS) == 8
    with pytest.raises(KeyError):
        REPORTERS["nope"]

