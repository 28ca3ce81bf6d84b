"""What every edit of a format must keep true, applied by the planner to each pass's splices.

A format whose bytes carry a checksum (DX7 sysex) recomputes it as part of the edit, inside
the writer, so no fix depends on a separate checksum fix running first and the planner checks
each fix on bytes as the synth would receive them. One entry per format that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from presetctl.engine.fix.model import Splice
from presetctl.engine.fix.writers import dx7_sysex
from presetctl.engine.formats.base import Document

EditHook = Callable[[Document, Sequence[Splice]], list[Splice]]

EDIT_HOOKS: Mapping[str, EditHook] = {
    "dx7-syx": dx7_sysex.keep_checksums,
}


def complete_edit(doc: Document, splices: Sequence[Splice]) -> list[Splice]:
    """``splices`` (in ``doc.data``'s coordinates) with what the format's integrity needs added."""
    hook = EDIT_HOOKS.get(doc.format)
    return hook(doc, splices) if hook is not None else list(splices)
