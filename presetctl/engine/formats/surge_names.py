"""What Surge's numbers in a patch mean: modulation source ids and patch format revisions.

Both tables come from surge-synthesizer/surge: ``enum modsources`` and ``modsource_names`` in
``src/common/ModulationSource.h``, the revision history above ``ff_revision`` in
``src/common/SurgeStorage.h``, and ``SurgePatch::load_xml`` (``src/common/SurgePatch.cpp``),
which renumbers the sources of revision 0-8 patches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# modsource_names, indexed by enum modsources. load_xml renumbers stored ids only where revision 9
# inserted Macro 8 after Macro 7 (see modsource_name), so this order holds for every other revision.
MODSOURCE_NAMES: tuple[str, ...] = (
    "Off", "Velocity", "Keytrack", "Polyphonic Aftertouch", "Channel Aftertouch", "Pitch Bend", "Modwheel",
    "Macro 1", "Macro 2", "Macro 3", "Macro 4", "Macro 5", "Macro 6", "Macro 7", "Macro 8",
    "Amp EG", "Filter EG",
    "Voice LFO 1", "Voice LFO 2", "Voice LFO 3", "Voice LFO 4", "Voice LFO 5", "Voice LFO 6",
    "Scene LFO 1", "Scene LFO 2", "Scene LFO 3", "Scene LFO 4", "Scene LFO 5", "Scene LFO 6",
    "Timbre", "Release Velocity", "Random Bipolar", "Random Unipolar", "Alternate Bipolar", "Alternate Unipolar",
    "Breath", "Expression", "Sustain Pedal", "Lowest Key", "Highest Key", "Latest Key",
)
MS_CTRL7 = 13  # Macro 7: before revision 9 the ids above it were one lower
MACRO8_REVISION = 9

# The Surge releases that write each patch revision: revision N appears with the release (or
# nightlies) its history comment names and is written until the release that brings N + 1.
# The history names no release for revisions 7-10 (so only the span they fall in is known),
# nor for revisions after 26.
_BEFORE_1_2 = "before Surge 1.2.0"
_1_2_TO_1_6_1 = "between Surge 1.2.0 and 1.6.1"
REVISION_WRITERS: Mapping[int, str] = {
    **dict.fromkeys(range(6), _BEFORE_1_2),
    **dict.fromkeys(range(6, 11), _1_2_TO_1_6_1),
    11: "Surge 1.6.2",
    12: "Surge 1.6.3 to 1.6.x",
    13: "Surge 1.7.x",
    14: "Surge 1.8.0 nightlies",
    15: "Surge 1.8.x",
    16: "Surge 1.9.x",
    17: "Surge XT 1.0.x",
    18: "Surge XT 1.1 nightlies",
    19: "Surge XT 1.1 nightlies",
    20: "Surge XT 1.1.x",
    21: "Surge XT 1.2.x",
    22: "Surge XT 1.3.0 to 1.3.1",
    23: "Surge XT 1.3.2",
    24: "Surge XT 1.3.3",
    25: "Surge XT 1.3.4",
    26: "Surge XT 1.4 nightlies",
}

_LEADING_INT = re.compile(r"\s*([+-]?[0-9]+)")
_DIGITS = re.compile(r"[0-9]+")


def read_int(text: str | None) -> int | None:
    """The integer Surge reads from an attribute (TinyXML's ``QueryIntAttribute``: a leading
    integer, the rest ignored), or None when it reads none."""
    m = _LEADING_INT.match(text) if text is not None else None
    return int(m.group(1)) if m else None


def stored_revision(text: str | None) -> int:
    """The revision Surge converts a patch from: a patch without a readable one counts as 0."""
    revision = read_int(text)
    return revision if revision is not None else 0


def modsource_name(source: str | None, revision: int) -> str:
    """Surge's name of a ``<modrouting source>`` id in a patch of ``revision``; ``modsource N``
    for an id Surge does not know."""
    ms = read_int(source)
    if ms is None:
        return f"modsource {source}"
    if revision < MACRO8_REVISION and ms > MS_CTRL7:  # load_xml makes room for Macro 8 the same way
        ms += 1
    return MODSOURCE_NAMES[ms] if 0 <= ms < len(MODSOURCE_NAMES) else f"modsource {source}"


def revision_label(revision: str | None) -> str:
    """How to show a patch's ``revision``: it is the patch format, not a Surge release."""
    if revision is None or not revision.strip():
        return "Surge patch (no revision)"
    number = int(revision) if _DIGITS.fullmatch(revision.strip()) else None
    writers = REVISION_WRITERS.get(number) if number is not None else None
    shown = str(number) if number is not None else revision
    return f"Surge patch revision {shown} ({writers})" if writers else f"Surge patch revision {shown}"
