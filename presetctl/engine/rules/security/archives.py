"""Archives in a pack: zip slip, link and device members, bombs, encryption, nesting, corruption.

The facts come from :class:`presetctl.engine.security.unpack.Unpacker`, which lists every zip
(the file itself, or one found in base64, a blob or another archive) before inflating anything,
checks the declared sizes, and inflates only within the limits. Nothing is ever extracted to
disk; these rules report what an extracting synth (Vital unpacks ``.vitalbank`` files straight
into the user's folder) would do with the members.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from presetctl.engine.formats.base import Document
from presetctl.engine.model import Violation
from presetctl.engine.rules.base import RuleContext, RuleDoc
from presetctl.engine.rules.security.base import CRITICAL, HIGH, MEDIUM, security_rule
from presetctl.engine.security.content import Scan
from presetctl.engine.security.unpack import entry_location, is_bomb_ratio
from presetctl.safe_text import excerpt

_SLIP = re.compile(r"(?:^|/)\.\.(?:/|$)|^/|^[A-Za-z]:|^//")
_BOMB_STOPS = {"limit", "ratio", "declared", "recursion", "entries", "total"}


def _has_archives(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    return bool(scan.unpacked().archives)


def _may_stop(doc: Document, ctx: RuleContext, scan: Scan) -> bool:
    up = scan.unpacked()
    return bool(up.archives or up.stops)


def check_slip(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for arc in scan.unpacked().archives:
        for e in arc.entries:
            name = e.name.replace("\\", "/")
            if _SLIP.search(name):
                yield Violation(f"archive member {excerpt(e.name)} extracts outside the target folder (zip slip)",
                                entry_location(arc.location, e.name))


def check_links(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for arc in scan.unpacked().archives:
        for e in arc.entries:
            if e.is_symlink or e.is_special:
                kind = "a symbolic link" if e.is_symlink else "a device, FIFO or socket"
                yield Violation(f"archive member {excerpt(e.name)} is {kind}: extracting it lets later members "
                                "write through it, or blocks the extractor", entry_location(arc.location, e.name))


def check_bomb(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    up = scan.unpacked()
    limits = scan.limits
    for arc in up.archives:
        where = arc.location
        if arc.problem == "entries":
            yield Violation(f"more than {limits.max_entries} members (limits.max-entries); not inflated", where)
        if arc.problem == "recursion":
            yield Violation(f"archives nested more than {limits.max_recursion} deep (limits.max-recursion)", where)
        if arc.overlapping:
            yield Violation("zip members overlap each other (a non-recursive zip bomb)", where)
        big = [e for e in arc.entries if e.size > limits.max_entry_size or is_bomb_ratio(e.size, e.compressed, limits)]
        for e in big:
            yield Violation(f"member declares {e.size} bytes from {e.compressed} compressed bytes "
                            f"(ratio {e.size // max(e.compressed, 1)}:1); not inflated",
                            entry_location(arc.location, e.name))
        if not big and arc.kind == "zip" and arc.declared > limits.max_decompressed:
            yield Violation(f"members declare {arc.declared} bytes in total from {arc.compressed} compressed bytes, "
                            f"over limits.max-decompressed ({limits.max_decompressed})", where)
    for location, why in up.stops:
        if why in _BOMB_STOPS - {"declared", "recursion", "entries"}:
            gz = next((a for a in up.archives if a.location == location and a.kind == "gzip"), None)
            claim = f"; its trailer claims {gz.declared} bytes" if gz is not None and gz.declared < gz.inflated else ""
            text = {"ratio": f"inflates more than {limits.max_ratio}:1", "limit":
                    f"inflates past limits.max-entry-size ({limits.max_entry_size} bytes)",
                    "total": f"inflates past limits.max-decompressed ({limits.max_decompressed} bytes)"}[why]
            yield Violation(f"compressed data {text}; inflation stopped{claim}", location)


def check_encrypted(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    for arc in scan.unpacked().archives:
        for e in arc.entries:
            if e.encrypted:
                yield Violation(f"archive member {excerpt(e.name)} is encrypted: it cannot be scanned",
                                entry_location(arc.location, e.name))


def check_nested(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    archives = scan.unpacked().archives
    for arc in archives:
        if arc.depth == 1:  # one finding per nested chain, at its outermost inner archive
            deepest = max(a.depth for a in archives if a.location.entry.startswith(arc.location.entry)
                          and a.location.pointer == arc.location.pointer)
            levels = f", {deepest + 1} levels in all" if deepest > 1 else ""
            yield Violation(f"{arc.kind} archive inside another archive{levels}", arc.location)


def check_unreadable(doc: Document, ctx: RuleContext, scan: Scan) -> Iterator[Violation]:
    up = scan.unpacked()
    for arc in up.archives:
        if arc.problem and arc.problem not in _BOMB_STOPS:
            yield Violation(f"{arc.kind} data cannot be read: {arc.problem}", arc.location)
    for location, why in up.stops:
        if why not in _BOMB_STOPS and why.startswith(("corrupt", "truncated")):
            yield Violation(f"compressed data is damaged ({why}); the rest was not scanned", location)


RULES = (
    security_rule("X030", "zip-slip", CRITICAL, "Archive member extracts outside the target folder",
                  RuleDoc("Reports archive members whose names contain a `..` segment or are absolute (`/etc/x`, "
                          "`C:...`, `//host/...`), with either slash, in the file or in any nested archive.",
                          "Extracting the archive writes outside the folder chosen by the user: over a plugin, a "
                          "startup script or `~/.bashrc` (the \"zip slip\" vulnerability of many extractors).",
                          "`Bank.vitalbank` containing `../../../../AppData/Roaming/Microsoft/Windows/Start Menu/x.exe`",
                          "Delete the archive; a pack never needs such names."),
                  check_slip, quick=_has_archives),
    security_rule("X031", "archive-link-entry", CRITICAL, "Archive member is a symlink or a device",
                  RuleDoc("Reports archive members marked as symbolic links, devices, FIFOs or sockets (Unix mode bits "
                          "in the zip's external attributes).",
                          "An extracted link lets a later member write through it to anywhere on the disk; a FIFO or "
                          "device blocks or floods the extractor.",
                          "`presets -> /home/alice/.ssh` followed by `presets/authorized_keys`",
                          "Delete the archive."),
                  check_links, quick=_has_archives),
    security_rule("X032", "compression-bomb", HIGH, "Compressed data inflates beyond the limits (a bomb)",
                  RuleDoc("Reports zip and gzip data that declares or reaches more than the limits: member size "
                          "(`limits.max-entry-size`), total (`limits.max-decompressed`), ratio (`limits.max-ratio`), "
                          "member count (`limits.max-entries`), nesting (`limits.max-recursion`), or members that "
                          "overlap. Declared sizes are checked before inflating; inflation is streamed with a bound, so "
                          "a gzip trailer that lies about its size changes nothing.",
                          "A bomb exhausts the memory or disk of whatever unpacks it: the synth, the sample manager, "
                          "the user's machine. A 1 MB zip can expand to 1 GB or, nested, to petabytes.",
                          "a 1 MB `.vitalbank` whose member inflates to 1 GB of zeros",
                          "Delete the file. If it is a genuine huge bank, raise the limits in the config."),
                  check_bomb, quick=_may_stop),
    security_rule("X033", "encrypted-archive-entry", MEDIUM, "Archive member is encrypted and cannot be scanned",
                  RuleDoc("Reports encrypted zip members.",
                          "What cannot be read cannot be checked: encryption is how malware gets past scanners. A "
                          "preset pack has no reason to encrypt members.",
                          "a `.vitalbank` made with `zip -e`", "Ship the pack unencrypted."),
                  check_encrypted, quick=_has_archives),
    security_rule("X034", "nested-archive", MEDIUM, "Archive inside an archive",
                  RuleDoc("Reports an archive found inside another archive (a zip in a zip, a gzip in a zip ...). "
                          "The inner archive is scanned too, up to `limits.max-recursion` levels.",
                          "Nesting is how recursive bombs and scanner evasion work, and synths do not unpack nested "
                          "archives, so the content is useless to them anyway.",
                          "`Bank.vitalbank` containing `more.zip`", "Flatten the archive."),
                  check_nested, quick=_has_archives),
    security_rule("X035", "unreadable-archive", MEDIUM, "Archive or compressed data is damaged",
                  RuleDoc("Reports zip or gzip data that cannot be listed or inflated (bad central directory, CRC "
                          "error, truncated stream).",
                          "Damaged archives cannot be scanned, and different extractors recover different content from "
                          "them: what the scanner saw may not be what the synth loads.",
                          "a `.vitalbank` truncated by a failed download", "Download or export the file again."),
                  check_unreadable, quick=_may_stop),
)
