"""Re-using the outcome of a file checked before: what a cached outcome is keyed by, and when it holds.

A file's outcome depends on its bytes, on where it is (the path shown, per-file ignores, rules
that read the file name), on the run's rule configuration and on presetctl itself. So an entry
is found by the run's *scope* (presetctl's version and code, the options that change findings)
and the file's *key* (absolute path, path shown, path from the working folder), and holds the
content's SHA-256 with the ``stat`` fields seen when it was checked.

A matching stamp (size, mtime, ctime, inode, device) is trusted on its own only when the file
had not changed for :data:`RACY_SECONDS` before its stamp was taken: a write in the same clock
tick as the stamp could leave it unchanged (git's "racy" entries). Otherwise, and whenever the
stamp differs (a CI checkout resets every mtime), the content is read and its hash decides.

The engine never imports ``presetctl.state``: a store (SQLite in ``state/outcome_cache.py``, or
any object with the two methods of :class:`OutcomeStore`) is handed in by the caller.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson

from presetctl import __version__
from presetctl.engine.discover import Candidate, read_bounded
from presetctl.engine.model import (
    FileOutcome,
    FileStatus,
    Finding,
    Location,
    PresetSummary,
    Related,
    SecuritySeverity,
    Severity,
)
from presetctl.engine.options import Options

FORMAT = 1  # of the stored values; bump when FileOutcome or what it holds changes shape
RACY_SECONDS = 2.0
PREFIX_FETCH_FROM = 500  # keys from which a look-up reads their common prefix's range (see CheckCache._fetch)
_RACY_NS = int(RACY_SECONDS * 1e9)


class Stamp(NamedTuple):
    """What ``lstat`` says about a file, as far as telling a change goes (a tuple: 20,000 of them
    are built per warm run, and a frozen dataclass costs three times as much to make)."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class Entry(NamedTuple):
    """One stored outcome. ``trusted``: the stamp alone proves the content unchanged."""

    key: str
    stamp: Stamp
    digest: str
    trusted: bool
    payload: bytes


class OutcomeStore(Protocol):
    """Where entries live (the CLI's is an SQLite file in the user cache folder)."""

    def fetch(self, scope: str, keys: Sequence[str]) -> dict[str, Entry]: ...

    def save(self, scope: str, entries: Sequence[Entry]) -> None: ...


def key_of(cand: Candidate) -> str:
    return f"{cand.path}\0{cand.display}\0{cand.rel}"


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """presetctl's version and its code as installed (name, size and mtime of every module and
    schema): an edited rule in a development checkout must not be answered from the cache."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"{__version__} {FORMAT}".encode())
    for folder in (root, root.parent / "schemas", root / "schemas"):
        if not folder.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            rel = os.path.relpath(dirpath, folder)  # once a folder: relpath costs more than the stat
            for name in sorted(filenames):
                if name.endswith((".py", ".json")):
                    st = os.stat(os.path.join(dirpath, name))
                    h.update(f"{rel}/{name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


def scope_of(options: Options, command: str) -> str:
    """The run's part of every key: presetctl itself and every option that can change an outcome
    (``jobs`` cannot)."""
    settings = repr(replace(options, jobs=None))
    return hashlib.sha256(f"{code_fingerprint()}\n{command}\n{settings}".encode()).hexdigest()[:32]


# An outcome is stored as JSON arrays of its fields (orjson: about 2 us a clean outcome each way,
# ten times faster than pickling frozen dataclasses, and a cache file edited by someone else can
# only ever yield wrong values, which the digest check guards, never run code).
def _loc(loc: Location) -> list[Any]:
    return [loc.pointer, loc.offset, loc.voice, loc.entry]


def _finding(f: Finding) -> list[Any]:
    return [f.path, f.code, int(f.severity), f.message, _loc(f.location), f.line, f.column, f.hint, f.fixable,
            int(f.security) if f.security is not None else None, f.rule_name,
            [[r.path, _loc(r.location), r.name] for r in f.related]]


def encode(outcome: FileOutcome) -> bytes:
    return orjson.dumps([
        outcome.path, outcome.format, outcome.status.value, outcome.size, outcome.presets, outcome.seconds,
        outcome.digest, [_finding(f) for f in outcome.findings],
        [[s.path, s.format, s.name, s.author, s.category, s.sound_hash, s.index, list(s.tags)]
         for s in outcome.summaries],
    ])


def _location(v: list[Any]) -> Location:
    return Location(v[0], v[1], v[2], v[3])


def _decode_finding(v: list[Any]) -> Finding:
    return Finding(v[0], v[1], Severity(v[2]), v[3], _location(v[4]), v[5], v[6], v[7], v[8],
                   SecuritySeverity(v[9]) if v[9] is not None else None, v[10],
                   tuple(Related(r[0], _location(r[1]), r[2]) for r in v[11]))


# A warm run decodes every file's outcome: enum look-ups by value cost a microsecond each through
# ``Enum.__call__``, a plain dict a tenth of that.
_STATUS = {s.value: s for s in FileStatus}


def decode(payload: bytes) -> FileOutcome | None:
    """The stored outcome, or None for a payload that is not one (a miss: the file is checked)."""
    try:
        v = orjson.loads(payload)
        found, summaries = v[7], v[8]
        return FileOutcome(
            v[0], v[1], _STATUS[v[2]], v[3], v[4], tuple(_decode_finding(f) for f in found) if found else (),
            tuple(PresetSummary(s[0], s[1], s[2], s[3], s[4], s[5], s[6], tuple(s[7])) for s in summaries)
            if summaries else (), v[5], digest=v[6])
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError, KeyError):
        return None


def cacheable(outcome: FileOutcome) -> bool:
    """Outcomes that depend on nothing but the file: not a file that could not be read, not one
    whose check met a tool error (a retried read), not one a dying worker lost."""
    return bool(outcome.digest) and outcome.status is not FileStatus.SKIPPED and not outcome.incidents


class CheckCache:
    """The cache as one run uses it: look up candidates before checking, keep what was checked."""

    def __init__(self, store: OutcomeStore, options: Options, command: str, started_ns: int | None = None) -> None:
        self.store = store
        self.scope = scope_of(options, command)
        self.limit = options.limits.max_file_size
        self.started_ns = started_ns if started_ns is not None else time.time_ns()
        self.hits = 0
        self._pending: list[Entry] = []
        self._stamps: dict[str, Stamp] = {}

    def lookup(self, cands: Sequence[Candidate]) -> list[FileOutcome | None]:
        """The stored outcome of each candidate that still holds, else None (to be checked)."""
        keys = [key_of(c) for c in cands]
        found = self._fetch(keys)
        out: list[FileOutcome | None] = []
        for cand, key in zip(cands, keys, strict=True):
            stamp = self._stamp(cand)
            if stamp is not None:
                self._stamps[key] = stamp
            entry = found.get(key)
            outcome = self._holds(cand, key, entry, stamp) if entry is not None else None
            if outcome is not None:
                self.hits += 1
            out.append(outcome)
        return out

    def keep(self, cand: Candidate, outcome: FileOutcome) -> None:
        """Remember a freshly checked outcome (written by :meth:`flush`)."""
        key = key_of(cand)
        stamp = self._stamps.get(key)
        if stamp is None or not cacheable(outcome):
            return
        try:
            payload = encode(outcome)
        except TypeError:  # text orjson cannot write (a file name that is not UTF-8): checked every time
            return
        self._pending.append(Entry(key, stamp, outcome.digest, self._settled(stamp), payload))
        if len(self._pending) >= 1000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            self.store.save(self.scope, pending)

    # -- internals -------------------------------------------------------------------------------
    def _fetch(self, keys: Sequence[str]) -> dict[str, Entry]:
        """The stored entries of ``keys``. Many keys are read as one range of the index: every
        entry whose key starts as all of theirs do (a pack's folder), a third of the time of
        looking 20,000 keys up in lists of 500; what is not asked for is left out."""
        ranged = getattr(self.store, "fetch_prefix", None)
        if ranged is not None and len(keys) > PREFIX_FETCH_FROM:
            wanted = set(keys)
            return {k: e for k, e in ranged(self.scope, os.path.commonprefix(list(keys))).items() if k in wanted}
        found: dict[str, Entry] = {}
        for start in range(0, len(keys), 500):
            found.update(self.store.fetch(self.scope, keys[start : start + 500]))
        return found

    def _stamp(self, cand: Candidate) -> Stamp | None:
        seen = cand.lstat
        if seen is not None:  # discovery's lstat: no second system call
            return Stamp(*seen)
        try:
            return Stamp.of(os.lstat(cand.path))
        except OSError:
            return None

    def _settled(self, stamp: Stamp) -> bool:
        """The file had not changed for a while when its stamp was taken (see the module doc)."""
        latest = max(stamp.mtime_ns, stamp.ctime_ns)
        return latest < self.started_ns - _RACY_NS

    def _holds(self, cand: Candidate, key: str, entry: Entry, stamp: Stamp | None) -> FileOutcome | None:
        if stamp is None:
            return None
        if stamp == entry.stamp and entry.trusted:
            return decode(entry.payload)
        if stamp.size != entry.stamp.size:
            return None
        try:  # same size, other stamp (a checkout, a touch) or too recent to trust: the content decides
            data = read_bounded(cand.path, self.limit)
        except (OSError, OverflowError):
            return None
        if digest_of(data) != entry.digest:
            return None
        outcome = decode(entry.payload)
        if outcome is not None:
            self._pending.append(Entry(key, stamp, entry.digest, self._settled(stamp), entry.payload))
        return outcome
