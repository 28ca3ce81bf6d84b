"""The audio level: what a preset sounds like, not only what it says.

- :mod:`.embedded` decodes the samples and wavetables presets carry (Vital, Surge XT) and checks
  them with numpy (rules W0xx, default set).
- :mod:`.voice` and :mod:`.voicebatch` (the voice model), :mod:`.algorithms`, :mod:`.envelope`
  and :mod:`.render` make an FM renderer for Yamaha DX7 voices, vectorized across a batch; :mod:`.analysis`
  measures each rendered test note (level, onset, release, spectral fingerprint); :mod:`.batch`
  renders many voices through a :mod:`.cache` (rules W1xx, profile ``audio``; the stats
  ``audio`` section).

Everything here is a pure function of its inputs (the cache aside): no printing, no global
state. docs/audio.md says exactly what the renderer models and what it does not. Modules that
the rules import at start-up (:mod:`.voice`, :mod:`.algorithms`, :mod:`.levels`) stay free of
numpy, so commands that render nothing never load it.
"""
