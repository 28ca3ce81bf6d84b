"""Audio characteristics and performance impact, against configurable thresholds."""

from __future__ import annotations

from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Severity, Violation
from presetctl.engine.rules.base import MARKETPLACE, Level, Rule, RuleContext, RuleDoc

W = Severity.WARNING


def check_voice_load(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    limit = ctx.options.thresholds.max_voice_load
    for p in doc.presets:
        if p.voices is None:
            continue
        load = p.voices * (p.unison or 1) * max(p.oscillators or 1, 1)
        if load > limit:
            yield Violation(
                f"{p.voices} voices x {p.unison or 1} unison x {p.oscillators or 1} oscillators = {load} "
                f"oscillator voices, over the threshold of {limit}", p.location("voices"),
                hint="lower polyphony or unison; users on laptops will hear dropouts")


def check_modulations(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    limit = ctx.options.thresholds.max_modulations
    for p in doc.presets:
        if len(p.modulations) > limit:
            yield Violation(f"{len(p.modulations)} modulation routings, over the threshold of {limit}", p.location("modulations"))


def check_effects(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    limit = ctx.options.thresholds.max_effects
    for p in doc.presets:
        active = sum(1 for e in p.effects if e.enabled)
        if active > limit:
            yield Violation(f"{active} enabled effects in the chain, over the threshold of {limit}", p.location("effects"))


RULES = (
    Rule("A001", "high-voice-load", Level.PERFORMANCE, W, "Voices x unison x oscillators over the threshold",
         RuleDoc("Estimates the oscillator voices a preset can run at once (polyphony x unison x "
                 "oscillators) and reports it above `thresholds.max-voice-load` (default 256).",
                 "CPU cost grows with every oscillator voice: a pad at 16 x 16 x 3 drops out on a laptop.",
                 "`voices: 16, unison: 16, oscillators: 3` -> 768", "Lower polyphony or unison."),
         check=check_voice_load, profile=MARKETPLACE),
    Rule("A002", "many-modulations", Level.PERFORMANCE, W, "More modulation routings than the threshold",
         RuleDoc("Reports presets with more modulation routings than `thresholds.max-modulations` (default 64).",
                 "Each routing is computed per voice and per block: large matrices cost CPU and are hard "
                 "to edit.",
                 "a preset with 80 entries in `modulations` (threshold 64)", "Remove routings that do nothing (amount 0, disabled source)."),
         check=check_modulations, profile=MARKETPLACE),
    Rule("A003", "long-effects-chain", Level.PERFORMANCE, W, "More enabled effects than the threshold",
         RuleDoc("Reports presets with more enabled effects than `thresholds.max-effects` (default 8).",
                 "Reverbs and delays dominate a synth's CPU use; long chains also hide the dry sound.",
                 "`effects` with 10 entries whose `enabled` is true (threshold 8)",
                 "Disable or remove effects that contribute little."),
         check=check_effects, profile=MARKETPLACE),
)
