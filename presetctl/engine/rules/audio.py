"""Audio level (``W``): embedded samples and wavetables (W0xx, default set), rendered DX7 voices
(W1xx, profile ``audio``).

W001 checks every embedded sample and wavetable (:mod:`presetctl.engine.audio.embedded`) and
also reports W002-W005. W101 renders the voices of a DX7 file (:mod:`presetctl.engine.audio`:
one test note per voice, through the render cache) and also reports W102-W105; those rules run
only when ``profile = "audio"`` is configured or a selector names them (``--select W1``), as
rendering costs far more than reading. Thresholds are module constants, documented below and
in docs/audio.md.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from presetctl.engine.audio.algorithms import ALGORITHMS
from presetctl.engine.audio.levels import ONSET_RANGE, SILENT_DB
from presetctl.engine.audio.voice import INDEX
from presetctl.engine.formats.base import Document
from presetctl.engine.formats.dx7_syx import Dx7File, Voice
from presetctl.engine.model import Location, Severity, Violation
from presetctl.engine.rules.base import Level, Rule, RuleContext, RuleDoc

if TYPE_CHECKING:  # numpy loads when an audio check runs, not with every command
    from presetctl.engine.audio.analysis import VoiceSound
    from presetctl.engine.audio.render import Audition

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
PROFILE = "audio"
DX7 = frozenset({"dx7-syx"})
CLIP_DB = 0.0  # a peak at or above full scale clips
LEVEL_OUTLIER_DB = 18.0  # RMS this far from the bank's median is reported
MEDIAN_MIN_VOICES = 4  # audible voices a bank needs before its median means anything
PERCUSSIVE_DROP_DB = 12.0  # falls this much while held: a percussive voice
RELEASE_DROP_DB = 3.0  # falls less than this in the second after key-up: it does not release
MAX_RENDERED = 4096  # voices rendered per file (the largest real archive file holds about 1,000)


EMBEDDED_FORMATS = frozenset({"vital", "vitalbank", "surge-fxp"})  # audio.embedded.FORMATS


def check_embedded(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    from presetctl.engine.audio import embedded  # here: numpy loads only for files that embed audio

    yield from embedded.violations(doc)


# --- rendered DX7 voices --------------------------------------------------------------------------

def _why_silent(values: Sequence[int]) -> str:
    alg = ALGORITHMS[min(31, values[INDEX["algorithm"]])]
    carriers = sorted(alg.carriers)
    names = ", ".join(f"op{c}" for c in carriers)
    if all(values[INDEX[f"op{c}_output_level"]] == 0 for c in carriers):
        return f"every carrier of algorithm {alg.number} ({names}) has output level 0"
    return f"the carriers of algorithm {alg.number} ({names}) never reach an audible level"


def _where(voice: Voice) -> Location:
    return Location(offset=voice.offset, voice=voice.number)


def voice_findings(voice: Voice, sound: VoiceSound, note: Audition) -> Iterator[Violation]:
    """W101, W102, W104, W105 for one voice (W103 compares a bank: :func:`bank_findings`)."""
    held_ms = note.hold * 1000
    where = _where(voice)
    if sound.silent and sound.reachable_db < SILENT_DB:
        yield Violation(f"silent: the test note never reaches {SILENT_DB:.0f} dBFS while held (peak "
                        f"{sound.held_peak_db:.1f} dBFS): {_why_silent(voice.values)}", where, code="W101")
        return
    if sound.peak_db >= CLIP_DB:
        yield Violation(f"clips: the test note peaks at {sound.peak_db:+.1f} dBFS (RMS {sound.rms_db:.1f} dBFS)",
                        where, code="W102")
    if sound.onset_ms is None or sound.onset_ms >= held_ms:
        onset = "no onset within the note" if sound.onset_ms is None else f"onset {sound.onset_ms:.0f} ms"
        yield Violation(f"silent for the first {held_ms:.0f} ms of the test note: a very slow attack ({onset}; "
                        f"peak {sound.held_peak_db:.1f} dBFS while held, {ONSET_RANGE:.0f}+ dB under the "
                        f"{sound.reachable_db:.1f} dBFS it reaches if held long enough)", where, code="W104")
    percussive = sound.held_max_db - sound.keyup_db >= PERCUSSIVE_DROP_DB
    if (percussive and sound.release_db >= SILENT_DB
            and sound.release_db > sound.keyup_db - RELEASE_DROP_DB):
        change = "it rises" if sound.release_db > sound.keyup_db + RELEASE_DROP_DB else "it holds"
        yield Violation(f"does not decay after key-up: RMS {sound.keyup_db:.1f} dBFS at key-up, "
                        f"{sound.release_db:.1f} dBFS {note.release:g} s later ({change}), though it decays while held "
                        f"(from {sound.held_max_db:.1f} dBFS): a percussive voice that sustains after release",
                        where, code="W105")


def _speaks(sound: VoiceSound, note: Audition) -> bool:
    """Audible, and started within the held note (a slow swell is W104's, not a level outlier)."""
    return not sound.silent and sound.onset_ms is not None and sound.onset_ms < note.hold * 1000


def bank_findings(voices: Sequence[Voice], sounds: Sequence[VoiceSound], note: Audition) -> Iterator[Violation]:
    """W103: voices far louder or quieter than the median of their bank's speaking voices."""
    levels = [s.rms_db for s in sounds if _speaks(s, note)]
    if len(levels) < MEDIAN_MIN_VOICES:
        return
    median = statistics.median(levels)
    for voice, s in zip(voices, sounds, strict=True):
        if not _speaks(s, note) or abs(s.rms_db - median) < LEVEL_OUTLIER_DB:
            continue
        side = "above" if s.rms_db > median else "below"
        yield Violation(f"RMS {s.rms_db:.1f} dBFS is {abs(s.rms_db - median):.1f} dB {side} the bank's median "
                        f"({median:.1f} dBFS; peak {s.peak_db:.1f} dBFS)", _where(voice), code="W103")


def check_rendered(doc: Document, ctx: RuleContext) -> Iterator[Violation]:
    found = doc.raw if isinstance(doc.raw, Dx7File) else None
    if found is None:
        return
    voices = [v for d in found.dumps for v in d.voices]
    if not voices:
        return
    if len(voices) > MAX_RENDERED:  # a file of 10,000 concatenated banks would render for an hour
        yield Violation(f"{len(voices)} voices in one file: only the first {MAX_RENDERED} were rendered",
                        _where(voices[MAX_RENDERED]), code="W106")
        voices = voices[:MAX_RENDERED]
    rendered = {v.number for v in voices}
    from presetctl.engine.audio import batch  # here: numpy loads only when voices are rendered
    from presetctl.engine.audio.cache import SqliteCache
    from presetctl.engine.audio.render import Audition

    note = Audition()
    with SqliteCache() as cache:
        measured = batch.measure([v.values for v in voices], cache, note)
    sounds = dict(zip((v.number for v in voices), measured.sounds, strict=True))
    for dump in found.dumps:
        kept = [v for v in dump.voices if v.number in rendered]
        dumped = [sounds[v.number] for v in kept]
        for v, s in zip(kept, dumped, strict=True):
            yield from voice_findings(v, s, note)
        yield from bank_findings(kept, dumped, note)


# --- registry -------------------------------------------------------------------------------------

_RENDER = ("Renders one test note per voice (middle C, velocity 100, held 1 s, released 1 s, at 16 kHz) "
           "with presetctl's FM model of the DX7 (docs/audio.md says what it models) and measures it. Runs "
           "with `profile = \"audio\"` or when selected by code (`--select W1`); results are cached by the "
           "voice's bytes.")

RULES = (
    Rule("W001", "embedded-audio-not-finite", Level.AUDIO, E, "Embedded wavetable or sample holds NaN or infinity",
         RuleDoc("Decodes every wavetable keyframe and sample a preset embeds (Vital `wave_data`, Surge XT "
                 "wavetable blocks in float format) and reports NaN or infinite samples, naming the first one. "
                 "The check decodes only the loader's blobs, vectorized with numpy.",
                 "One NaN in a wavetable spreads through the synth's interpolation and filters: the voice goes "
                 "silent or bursts into noise, and a DAW's bus can carry the NaN on to every plugin after it.",
                 "`/settings/wavetables/0/groups/0/components/0/keyframes/1/wave_data`: 1 NaN at sample 17",
                 "Redraw or re-import the wavetable in the synth and save the preset again."),
         check=check_embedded, formats=EMBEDDED_FORMATS, also_emits=("W002", "W003", "W004", "W005")),
    Rule("W002", "embedded-audio-over-full-scale", Level.AUDIO, W, "Embedded float audio far beyond full scale",
         RuleDoc("Reports float wavetables whose samples exceed twice full scale (+6 dBFS) when the synth plays "
                 "them at that level: Vital wavetables with `full_normalize` off (and every wavetable saved "
                 "before Vital 0.4.7), Surge XT float wavetables. 16-bit data cannot exceed full scale.",
                 "The oscillator comes out several times louder than designed: it distorts in the filters and "
                 "jumps in level against the other presets of the pack.",
                 "a keyframe peaking at 3.0 (+9.5 dBFS) in a wavetable with `full_normalize: false`",
                 "Normalize the wavetable (Vital: turn on normalization in the wavetable editor) and save again."),
         ),
    Rule("W003", "embedded-audio-dc-offset", Level.AUDIO, I, "Embedded audio carries a DC offset the synth keeps",
         RuleDoc("Reports a wavetable frame or sample whose mean is beyond 0.1 of full scale (-20 dBFS) where the "
                 "synth does not remove it: Vital wavetables with `remove_all_dc` off (and all saved before "
                 "Vital 0.3.8), Vital samples. Surge XT wavetables are not judged: whether their DC reaches the "
                 "output depends on the patch's filters.",
                 "A DC offset makes a thump when notes start and stop, shifts what the distortion and filters "
                 "see, and wastes headroom.",
                 "a sample whose mean is +0.25 (-12 dBFS)",
                 "Remove the DC offset (Vital: turn on *Remove all DC* in the wavetable editor; a high-pass at a "
                 "few Hz in a sample editor) and save again."),
         ),
    Rule("W004", "embedded-audio-silent", Level.AUDIO, W, "Embedded wavetable or sample is all zeros",
         RuleDoc("Reports a wavetable (every keyframe of it) or a sample made only of zeros while the oscillator "
                 "or the sampler that plays it is on, and a Surge XT wavetable block that declares no table.",
                 "The oscillator is silent: the preset sounds thinner than designed, or not at all, usually "
                 "because an import or a conversion failed.",
                 "a Vital sample of 44,100 zero samples with `sample_on` = 1",
                 "Load the intended wavetable or sample again, or switch the silent oscillator off."),
         ),
    Rule("W005", "embedded-audio-bad-length", Level.AUDIO, E, "Embedded audio has a length or rate the synth refuses",
         RuleDoc("Reports embedded audio whose size or sample rate the synth does not accept: a Vital keyframe "
                 "shorter than 2048 float32 samples, a Vital sample whose data is shorter than its `length`, "
                 "longer than Vital's 1,764,000 samples, or without a positive `sample_rate`; a Surge XT "
                 "wavetable whose table size is not a power of two; data that is not valid base64.",
                 "The synth reads past the data (noise, or a crash), cuts the audio, or plays the wrong stretch "
                 "of every table.",
                 "`/settings/sample/samples`: length says 44100 samples but the data holds 8838 bytes",
                 "Re-import the sample or wavetable in the synth and save the preset again."),
         ),
    Rule("W101", "rendered-voice-silent", Level.AUDIO, W, "DX7 voice is silent when played",
         RuleDoc("Reports a voice whose test note never reaches -80 dBFS while the key is held, and would not "
                 "however long it were held: every carrier is at output level 0 or its envelope never rises. "
                 + _RENDER,
                 "A silent voice in a bank is a dead slot: usually a voice damaged in transfer, or a template "
                 "left unfinished. Librarians otherwise find it only by auditioning every voice.",
                 "voice 7: silent, every carrier of algorithm 5 (op1, op3, op5) has output level 0",
                 "Restore the voice from a good copy, or replace it."),
         check=check_rendered, formats=DX7, also_emits=("W102", "W103", "W104", "W105", "W106"), profile=PROFILE),
    Rule("W102", "rendered-voice-clips", Level.AUDIO, W, "DX7 voice clips when played",
         RuleDoc("Reports a voice whose test note peaks at or above full scale (0 dBFS) in the model, where a "
                 "DX7's DAC clips. One note of one voice peaks at most about -2.5 dBFS (six carriers at full "
                 "level), so this shows only where the model's levels are pushed (velocity, level scaling). "
                 + _RENDER,
                 "A voice that clips on one note distorts on every chord.",
                 "voice 12: clips, peak +0.4 dBFS",
                 "Lower the carriers' output levels."),
         profile=PROFILE),
    Rule("W103", "rendered-voice-level-outlier", Level.AUDIO, I, "DX7 voice far louder or quieter than its bank",
         RuleDoc("Reports a voice whose RMS level while held differs by 18 dB or more from the median of the "
                 "voices of its bank that speak within the held second (banks with at least 4 of them; a voice "
                 "silent for that second is W104's). " + _RENDER,
                 "A librarian levels a bank so that switching voices does not jump in loudness; an outlier is "
                 "often a damaged voice or one made for another context.",
                 "voice 3: RMS -45.0 dBFS is 22.3 dB below the bank's median (-22.7 dBFS)",
                 "Adjust the carriers' output levels toward the rest of the bank."),
         profile=PROFILE),
    Rule("W104", "rendered-voice-slow-attack", Level.AUDIO, I, "DX7 voice is silent for the first second",
         RuleDoc("Reports a voice whose test note stays 40 dB or more below the level it reaches if held long "
                 "enough, for the whole held second: its carriers' attack is very slow (rate 1 under about 15). "
                 + _RENDER,
                 "Auditioned or played normally the voice sounds silent: it is a swell that needs notes held "
                 "for several seconds. That may be intended (effects), so this is information.",
                 "voice 32: silent for the first 1000 ms (peak -54.4 dBFS while held, 40+ dB under the -12.8 "
                 "dBFS it reaches)",
                 "Raise the carriers' EG rate 1 if the voice should speak at once."),
         profile=PROFILE),
    Rule("W105", "rendered-voice-does-not-release", Level.AUDIO, W, "Percussive DX7 voice sustains after key-up",
         RuleDoc("Reports a percussive voice (its test note falls 12 dB or more while the key is held) whose level "
                 "falls less than 3 dB in the second after key-up, and stays audible: the release level is at or "
                 "above the sustain, or the release rate is near 0. " + _RENDER,
                 "Percussive notes are meant to die away; one that keeps sounding after key-up piles up notes "
                 "into a wash and, on a DX7, holds voices busy.",
                 "voice 11: RMS -20.3 dBFS at key-up, -19.8 dBFS 1 s later, though it decays while held",
                 "Set the carriers' EG level 4 to 0 and rate 4 high enough."),
         profile=PROFILE),
    Rule("W106", "rendered-voices-limit", Level.AUDIO, I, "DX7 file holds more voices than are rendered",
         RuleDoc(f"Reports a DX7 file with more than {MAX_RENDERED:,} voices: the first {MAX_RENDERED:,} are rendered and "
                 "checked, the rest are not. " + _RENDER,
                 "Rendering costs about 7 ms of CPU per voice: a file of thousands of concatenated banks (or a "
                 "hostile one) would keep a run busy for an hour. Real archive files hold up to about 1,000.",
                 "a 41 MB .syx of 10,000 concatenated banks: 320,000 voices, 4,096 rendered",
                 "Split the file into banks of 32 voices (one file per bank); the rest is then checked too."),
         profile=PROFILE),
)
