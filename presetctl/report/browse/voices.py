"""The envelope of the DX7 voice an audio finding (W101-W105) is about, for the viewer and the pages.

The voice is found again the way the rule found it: the file is read through the run's
:class:`~presetctl.report.browse.context.ContextReader` (inside the targets, bounded, no links),
parsed by the DX7 loader's own parser, and the voice picked by the finding's number and byte
offset. Its measurements come from the render cache the rules filled (keyed by the voice's
sound bytes, so a renamed copy hits too); a voice missing there is rendered on demand while
that stays cheap: at most ``budget`` voices per view (a few milliseconds each, about 150 per
second), and the rest say why they have no picture. Results are kept per voice for the view.

numpy loads only when a picture is first asked for (the renderer's analysis needs it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from presetctl.engine.formats import dx7_syx
from presetctl.engine.model import Finding
from presetctl.engine.stats.model import Envelope
from presetctl.report.browse.context import ContextReader

PICTURED = frozenset({"W101", "W102", "W103", "W104", "W105"})  # findings about one rendered voice
RENDER_BUDGET = 128  # voices rendered on demand per view (about a second); the cache answers the rest

Picture = Envelope | str  # the envelope, or why there is none


@dataclass
class VoicePictures:
    """Envelopes of the voices a run's audio findings name. Not frozen: it remembers what it found."""

    reader: ContextReader
    budget: int = RENDER_BUDGET
    cache_path: str | None = None  # the render cache (default: the one the rules use)
    _found: dict[tuple[str, int], Picture] = field(default_factory=dict)

    @staticmethod
    def wanted(f: Finding) -> bool:
        return f.code in PICTURED and f.location.voice is not None

    def picture(self, f: Finding) -> Picture | None:
        """The envelope of ``f``'s voice, a sentence saying why there is none, or None (not an audio finding)."""
        if not self.wanted(f):
            return None
        self.prefetch([f])
        return self._found[_key(f)]

    def prefetch(self, findings: Iterable[Finding]) -> None:
        """Find the voices of ``findings`` (one cache query, one batch render for the missing ones)."""
        todo: dict[tuple[str, int], tuple[int, ...]] = {}
        for f in findings:
            key = _key(f) if self.wanted(f) else None
            if key is None or key in self._found or key in todo:
                continue
            values = self._values(f)
            if isinstance(values, str):
                self._found[key] = values
            else:
                todo[key] = values
        if todo:
            self._measure(todo)

    def _values(self, f: Finding) -> tuple[int, ...] | str:
        if f.location.entry:
            return f"inside archive member {f.location.entry!r}: no picture"
        data = self.reader.read(f.path)
        if isinstance(data, str):
            return data
        for dump in dx7_syx.parse(data).dumps:
            for voice in dump.voices:
                if voice.number == f.location.voice:
                    if f.location.offset is not None and voice.offset != f.location.offset:
                        break
                    return voice.values
        return f"voice {f.location.voice} is not where the run found it: the file changed since"

    def _measure(self, todo: dict[tuple[str, int], tuple[int, ...]]) -> None:
        from presetctl.engine.audio import batch  # numpy: only once a picture is wanted
        from presetctl.engine.audio.analysis import VoiceSound
        from presetctl.engine.audio.cache import SqliteCache, usable
        from presetctl.engine.audio.render import Audition

        note = Audition()
        version = batch.version(note)
        with SqliteCache(self.cache_path) as store:
            cache, _ = usable(store, version)
            keys = {k: batch.voice_key(v) for k, v in todo.items()}
            stored = cache.get_many(version, sorted(set(keys.values())))
            missing = [k for k in todo if keys[k] not in stored]
            allowed = missing[: self.budget]
            self.budget -= len(allowed)
            measured = batch.measure([todo[k] for k in allowed], cache, note) if allowed else None
        sounds = dict(zip(allowed, measured.sounds, strict=True)) if measured is not None else {}
        for k in todo:
            if k in sounds:
                sound = sounds[k]
            elif keys[k] in stored:
                try:
                    sound = VoiceSound.from_bytes(stored[keys[k]])
                except ValueError:
                    self._found[k] = "the render cache holds a damaged entry for this voice"
                    continue
            else:
                self._found[k] = f"not rendered: more than {RENDER_BUDGET} voices missing from the render cache"
                continue
            self._found[k] = Envelope.of(sound.envelope, note.hold + note.release, note.hold)


def _key(f: Finding) -> tuple[str, int]:
    return (f.path, f.location.voice or 0)
