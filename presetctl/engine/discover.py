"""Safe discovery of the files to check.

Walks with ``lstat`` only: regular files are candidates; symlinks are never followed (a link
is reported, and its target is checked in place when it lies inside the root); FIFOs, devices
and sockets are reported and never opened; files over the size limit are reported and never
read. A directory is walked whatever its name (``x.json/`` is a folder).
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import TYPE_CHECKING, overload

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import UsageError
from presetctl.engine.model import Violation
from presetctl.engine.options import Options

if TYPE_CHECKING:
    import pathspec
    from pathspec.pattern import Pattern

DEFAULT_EXCLUDES = (".git/", ".hg/", ".svn/", "__pycache__/", ".presetctl-tmp-*")
_DEFAULT_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__"})  # DEFAULT_EXCLUDES, by name
_TMP_PREFIX = ".presetctl-tmp-"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A regular file to read: absolute path, reported path, size from lstat, path from the cwd."""

    path: str
    display: str  # as the user named it: under an absolute root absolute, else relative
    size: int
    rel: str = ""  # relative to the working directory: what per-file ignores match
    # lstat's (size, mtime_ns, ctime_ns, inode, device) as discovery saw them, packed (``stamp_of``):
    # what tells the check cache (engine/cache.py) that a file changed, without a second lstat.
    # 40 bytes in one object, where a tuple of five ints held 250 for each of 100,000 files.
    stamp: bytes | None = None

    @property
    def lstat(self) -> tuple[int, int, int, int, int] | None:
        """The stamp as (size, mtime_ns, ctime_ns, inode, device)."""
        return _STAMP.unpack(self.stamp) if self.stamp is not None else None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry that is reported but never read."""

    display: str
    violation: Violation
    size: int = 0
    rel: str = ""


def display_path(path: str, cwd: str) -> str:
    """``path`` relative to the working directory, with forward slashes."""
    rel = os.path.relpath(path, cwd)
    return rel.replace(os.sep, "/")


class _Namer:
    """Names an entry under a root the way the user wrote the root (absolute stays absolute).

    Entries found by the walk are the (normalized) root plus names, so the names below the root
    and below the working folder are cut off by prefix; ``relpath`` (about 10 us a call, three
    calls a file) is left for paths outside them."""

    def __init__(self, raw: str, root: str, cwd: str) -> None:
        self.raw = raw  # the root as given
        self.root = root  # the root's absolute path
        self.cwd = cwd
        self._absolute = os.path.isabs(raw)
        self._base = os.path.normpath(raw).replace(os.sep, "/")
        self._root_prefix = _prefix(root)
        self._cwd_prefix = _prefix(cwd) if cwd == os.path.normpath(cwd) and os.path.isabs(cwd) else None
        # A root outside the working folder (a pack in /tmp checked from a project): ``relpath`` is
        # lexical, so the root's own relative path plus the names below it is every entry's; one
        # call instead of one per file (20,000 calls were half of a warm cached run).
        self._root_rel = (display_path(root, cwd) if self._root_prefix is not None and self._cwd_prefix is not None
                          and os.sep == "/" else None)

    def inside(self, full: str) -> str:
        """``full`` relative to the root, with forward slashes."""
        if self._root_prefix is not None and full.startswith(self._root_prefix) and os.sep == "/":
            return full[len(self._root_prefix):]
        return os.path.relpath(full, self.root).replace(os.sep, "/")

    def shown(self, full: str) -> str:
        if self._absolute:
            if self._root_prefix is not None and full.startswith(self._root_prefix) and os.sep == "/" \
                    and _normal_name(full[len(self._root_prefix):]):
                return full  # the normalized root plus plain names: already what normpath returns
            return os.path.normpath(full).replace(os.sep, "/")
        if full == self.root:
            return self._base
        inside = self.inside(full)
        if inside.startswith("..") or os.sep != "/":
            joined = os.path.normpath(os.path.join(self.raw, os.path.relpath(full, self.root)))
            return joined.replace(os.sep, "/")
        return inside if self._base == "." else f"{self._base}/{inside}"

    def rel(self, full: str) -> str:
        if self._cwd_prefix is not None and full.startswith(self._cwd_prefix) and os.sep == "/":
            return full[len(self._cwd_prefix):]
        if self._root_rel is not None and self._root_prefix is not None and full.startswith(self._root_prefix) \
                and _normal_name(below := full[len(self._root_prefix):]):
            return below if self._root_rel == "." else f"{self._root_rel}/{below}"
        return display_path(full, self.cwd)


def _normal_name(below: str) -> bool:
    """A path below a root that ``normpath`` leaves as it is (no empty, ``.`` or ``..`` part)."""
    wrapped = f"/{below}/"
    return bool(below) and "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped


def _prefix(folder: str) -> str | None:
    """``folder`` with one trailing separator, when it is absolute and normalized."""
    if not os.path.isabs(folder) or folder != os.path.normpath(folder):
        return None
    return folder if folder.endswith(os.sep) else folder + os.sep


class _Matcher:
    def __init__(self, options: Options) -> None:
        self.include = tuple(options.include)
        self.defaults_only = not options.exclude
        # Without --exclude the defaults are matched by name (below): pathspec, 6 ms of start-up, is
        # imported only when a pattern of the user's must be matched as gitignore would.
        self.exclude: pathspec.PathSpec[Pattern] | None = None
        if not self.defaults_only:
            import pathspec

            self.exclude = pathspec.PathSpec.from_lines("gitignore", [*DEFAULT_EXCLUDES, *options.exclude])

    def excluded(self, rel: str, is_dir: bool) -> bool:
        if self.defaults_only:  # DEFAULT_EXCLUDES by name, as their gitignore patterns match (5 regexes a file saved)
            name = rel.rsplit("/", 1)[-1]
            return (is_dir and name in _DEFAULT_DIRS) or name.startswith(_TMP_PREFIX)
        assert self.exclude is not None
        return self.exclude.match_file(rel + "/" if is_dir else rel)

    def included(self, rel: str) -> bool:
        if not self.include:
            return True
        name = rel.rsplit("/", 1)[-1]
        return any(fnmatch(rel, g) or fnmatch(name, g) for g in self.include)


def _symlink_violation(full: str, root: str) -> Violation:
    try:
        target = os.readlink(full)
    except OSError as exc:
        return Violation(f"symlink cannot be read: {exc.strerror}", code="F005")
    try:
        resolved = os.path.realpath(full, strict=True)
    except OSError as exc:
        why = "a symlink loop" if exc.errno == errno.ELOOP else "a missing target"
        return Violation(f"symlink to {target!r} points to {why}; not followed", code="F005")
    root_real = os.path.realpath(root)
    if os.path.commonpath([resolved, root_real]) != root_real:
        return Violation(f"symlink points outside the checked folder (to {target!r}); not followed", code="F003")
    return Violation(f"symlink to {target!r} not followed (its target is checked in place)", code="F004")


def _special_violation(mode: int) -> Violation:
    kind = (
        "FIFO" if stat.S_ISFIFO(mode) else
        "character device" if stat.S_ISCHR(mode) else
        "block device" if stat.S_ISBLK(mode) else
        "socket" if stat.S_ISSOCK(mode) else "special file"
    )
    return Violation(f"{kind} is not a regular file; not opened", code="F006")


_STAMP = struct.Struct("<QqqQQ")


def stamp_of(st: os.stat_result) -> bytes | None:
    """``Candidate.stamp`` of a file; None for numbers out of 64-bit range (the cache then calls lstat)."""
    try:
        return _STAMP.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    except struct.error:
        return None


def _classify(full: str, st: os.stat_result, root: str, namer: _Namer, limit: int) -> Candidate | Skipped | None:
    mode = st.st_mode
    shown, rel = namer.shown(full), namer.rel(full)
    if rel == shown:
        rel = shown  # a root named relative to the working folder: one string for both, not two
    if stat.S_ISLNK(mode):
        return Skipped(shown, _symlink_violation(full, root), rel=rel)
    if stat.S_ISREG(mode):
        if st.st_size > limit:
            v = Violation(f"file is {st.st_size} bytes, over the {limit}-byte limit; not read", code="F002")
            return Skipped(shown, v, st.st_size, rel)
        return Candidate(full, shown, st.st_size, rel, stamp_of(st))
    if stat.S_ISDIR(mode):
        return None
    return Skipped(shown, _special_violation(mode), rel=rel)


def discover(paths: Sequence[str], options: Options, cwd: str | None = None) -> tuple[list[Candidate], list[Skipped]]:
    """Expand ``paths`` into candidates and skipped entries, both in a stable sorted order (each
    folder's files by name, then its subfolders)."""
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for item, _namer in _found(paths, options, cwd or os.getcwd(), in_order=False):
        _keep(item, seen, candidates, skipped)
    return candidates, skipped


def discover_in_order(paths: Sequence[str], options: Options, cwd: str | None = None) -> Discovered:
    """What :func:`discover` finds, in report order: ``sorted([*candidates, *skipped], key=display)``.

    Held column-wise (:class:`Discovered`, about 100 bytes a file instead of 450 for a Candidate):
    on 100,000 files the objects were half of a run's peak memory, alive before the first check.
    The walk goes in that order itself (a folder's entries by name, a subfolder at the place of its
    name plus ``/``, where its paths sort), so nothing is sorted; where it cannot (a folder that
    cannot be read sorts by its own name, roots out of order, a folder reached twice) the order is
    found out of step and the run falls back to sorting what :func:`discover` returns."""
    cwd = cwd or os.getcwd()
    found = Discovered()
    seen: set[str] | None = set() if len(paths) > 1 else None  # one root never finds a path twice
    last: str | None = None
    namers: dict[_Namer, int] = {}  # each root's index in ``found`` (the key keeps the namer alive)
    try:
        for item, namer in _found(paths, options, cwd, in_order=True):
            key = item.path if isinstance(item, Candidate) else item.display
            if seen is not None:
                if key in seen:
                    continue
                seen.add(key)
            if last is not None and not last < item.display:
                raise _OutOfOrder
            last = item.display
            at = namers.get(namer)
            if at is None:
                at = namers[namer] = found.add_namer(namer)
            found.add(item, at)
    except _OutOfOrder:
        cands, skipped = discover(paths, options, cwd)
        found = Discovered()
        every: list[Candidate | Skipped] = [*cands, *skipped]
        for whole in sorted(every, key=lambda i: i.display):
            found.add(whole, -1)
    return found


class _OutOfOrder(Exception):
    """The in-order walk met an entry it cannot place: discovery sorts instead."""


def _found(paths: Sequence[str], options: Options, cwd: str, in_order: bool) -> Iterator[tuple[Candidate | Skipped, _Namer]]:
    """Every entry below ``paths`` with the namer that named it, roots in the order given."""
    matcher = _Matcher(options)
    limit = options.limits.max_file_size
    for raw in paths:
        full = os.path.abspath(os.path.join(cwd, raw))
        try:
            st = os.lstat(full)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise UsageError(f"cannot access {raw!r}: {exc.strerror}", code=ErrorCode.TARGET_MISSING,
                                 file=raw) from None
            # There but not readable (a permission): the same finding as inside a folder.
            namer = _Namer(raw, full, cwd)
            v = Violation(f"cannot stat: {exc.strerror}", code="F007")
            yield Skipped(namer.shown(full), v, rel=namer.rel(full)), namer
            continue
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isdir(full)):
            # A root the user names explicitly may itself be a link to a folder: that is the folder asked for.
            root = os.path.realpath(full) if stat.S_ISLNK(st.st_mode) else full
            namer = _Namer(raw, root, cwd)
            walk = _walk_in_order if in_order else _walk
            for item in walk(root, matcher, limit, namer):
                yield item, namer
            continue
        namer = _Namer(raw, full, cwd)
        single = _classify(full, st, os.path.dirname(full), namer, limit)
        if single is not None:
            yield single, namer


def _keep(item: Candidate | Skipped, seen: set[str], candidates: list[Candidate], skipped: list[Skipped]) -> None:
    """Add ``item`` once, even when overlapping roots name the same file twice."""
    if isinstance(item, Candidate):
        if item.path not in seen:
            seen.add(item.path)
            candidates.append(item)
    elif item.display not in seen:
        seen.add(item.display)
        skipped.append(item)


def _open_folder(folder: str, visited: set[tuple[int, int]], namer: _Namer,
                 in_order: bool) -> list[os.DirEntry[str]] | list[str] | Skipped | None:
    """``folder``'s entries sorted by name (``in_order``: its entries' paths, each folder at the place
    of its name plus ``/``), a finding when it cannot be read, None when it was walked already (a
    loop through a bind mount)."""
    try:
        st = os.lstat(folder)
        ident = (st.st_dev, st.st_ino)
        if ident in visited:
            return None
        visited.add(ident)
        with os.scandir(folder) as it:
            if not in_order:
                return sorted(it, key=_by_name)
            # Paths, not DirEntry objects (a third of the memory: a flat folder of 100,000 presets).
            keys = sorted(_path_order(entry) for entry in it)
    except OSError as exc:
        v = Violation(f"folder cannot be read: {exc.strerror}", code="F007")
        return Skipped(namer.shown(folder), v, rel=namer.rel(folder))
    head = folder if folder.endswith(os.sep) else folder + os.sep  # os.path.join, as DirEntry.path is made
    return [head + (key[:-1] if key.endswith("/") else key) for key in keys]


def _by_name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _path_order(entry: os.DirEntry[str]) -> str:
    """Where ``entry``'s paths sort among its siblings': a folder's all start with its name and ``/``."""
    try:
        return entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name
    except OSError:
        return entry.name


def _entry(entry: os.DirEntry[str] | str, root: str, matcher: _Matcher, limit: int,
           namer: _Namer) -> Candidate | Skipped | str | None:
    """What one entry of a folder is: a candidate or finding, a folder to walk (its path), or nothing."""
    path = entry if isinstance(entry, str) else entry.path
    rel = namer.inside(path)
    try:  # lstat either way (a DirEntry caches only the type)
        est = os.lstat(path) if isinstance(entry, str) else entry.stat(follow_symlinks=False)
    except OSError as exc:
        return Skipped(namer.shown(path), Violation(f"cannot stat: {exc.strerror}", code="F007"),
                       rel=namer.rel(path))
    is_dir = stat.S_ISDIR(est.st_mode)
    if matcher.excluded(rel, is_dir):
        return None
    if is_dir:
        return path
    if not matcher.included(rel):
        return None
    return _classify(path, est, root, namer, limit)


def _walk(root: str, matcher: _Matcher, limit: int, namer: _Namer) -> Iterator[Candidate | Skipped]:
    """Iterative walk (deep trees cannot exhaust the stack); never descends through a link."""
    stack = [root]
    visited: set[tuple[int, int]] = set()
    while stack:
        folder = stack.pop()
        entries = _open_folder(folder, visited, namer, in_order=False)
        if entries is None:
            continue
        if isinstance(entries, Skipped):
            yield entries
            continue
        subdirs: list[str] = []
        for entry in entries:
            item = _entry(entry, root, matcher, limit, namer)
            if isinstance(item, str):
                subdirs.append(item)
            elif item is not None:
                yield item
        stack.extend(reversed(subdirs))


def _walk_in_order(root: str, matcher: _Matcher, limit: int, namer: _Namer) -> Iterator[Candidate | Skipped]:
    """The walk of :func:`_walk` in the order of the paths: a subfolder is walked where it sorts."""
    visited: set[tuple[int, int]] = set()
    stack: list[Iterator[os.DirEntry[str] | str]] = []
    folder: str | None = root
    while True:
        if folder is not None:
            entries = _open_folder(folder, visited, namer, in_order=True)
            if entries is None:
                raise _OutOfOrder  # reached twice: which path is kept depends on the order of the walk
            if isinstance(entries, Skipped):
                yield entries
            else:
                stack.append(iter(entries))
            folder = None
        if not stack:
            return
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        item = _entry(entry, root, matcher, limit, namer)
        if isinstance(item, str):
            folder = item
        elif item is not None:
            yield item


_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
_SIZE = struct.Struct("<Q")  # the first field of a stamp


@dataclass(frozen=True, slots=True)
class _Naming:
    """How one root's candidates are named from their path below the folder holding the root
    (``below``): path ``stem + below``, display ``shown + below[shown_cut:]``, rel ``rel +
    below[rel_cut:]``. Found from a root's first candidate, and held for each one after it."""

    stem: str
    shown: str
    shown_cut: int
    rel: str
    rel_cut: int

    @classmethod
    def of(cls, stem: str, cand: Candidate) -> _Naming | None:
        below = cand.path[len(stem):]
        cuts = [0, *(k + 1 for k, ch in enumerate(below) if ch == "/")]
        shown_cut = next((c for c in cuts if cand.display.endswith(below[c:])), None)
        rel_cut = next((c for c in cuts if cand.rel.endswith(below[c:])), None)
        if not cand.path.startswith(stem) or shown_cut is None or rel_cut is None:
            return None
        return cls(stem, cand.display[:len(cand.display) - len(below) + shown_cut], shown_cut,
                   cand.rel[:len(cand.rel) - len(below) + rel_cut], rel_cut)

    def names(self, cand: Candidate) -> str | None:
        """``below`` of ``cand`` when this naming gives back its path, display and rel, else None."""
        if not cand.path.startswith(self.stem):
            return None
        below = cand.path[len(self.stem):]
        if cand.display != self.shown + below[self.shown_cut:] or cand.rel != self.rel + below[self.rel_cut:]:
            return None
        return below


class Discovered(Sequence[Candidate | Skipped]):
    """Discovery's entries in report order, column-wise (see :func:`discover_in_order`).

    A candidate is its path below the folder holding its root (file-system bytes in one buffer),
    its stamp (40 bytes in another) and the index of its root's naming: about 100 bytes a file.
    Its ``display`` and ``rel`` are the root's prefixes plus that path (``_Naming``), held equal to
    what the walk named when each entry is added, so reading entry ``i`` builds a Candidate equal
    to the one the walk made (tests/test_discover_order.py). Skipped entries, candidates whose stamp
    does not fit 64 bits or whose names do not follow their root's are kept whole (they are few).
    """

    __slots__ = ("_stems", "_namings", "_root", "_paths", "_ends", "_stamps", "_whole", "_skipped")

    def __init__(self) -> None:
        self._stems: list[str] = []  # each root's: the folder holding it (a root named as a file starts with it too)
        self._namings: list[_Naming | None] = []  # each root's, from its first candidate
        self._root = array("i")  # the naming of each entry (-1: kept whole)
        self._paths = bytearray()
        self._ends = array("Q")  # where each entry's path ends in ``_paths``
        self._stamps = bytearray()  # 40 bytes an entry (zeros for one kept whole)
        self._whole: dict[int, Candidate | Skipped] = {}
        self._skipped = 0

    def add_namer(self, namer: _Namer) -> int:
        self._stems.append((_prefix(os.path.dirname(namer.root)) or "") if os.sep == "/" else "")
        self._namings.append(None)
        return len(self._namings) - 1

    def add(self, item: Candidate | Skipped, namer: int) -> None:
        """Append ``item``, named by the root at index ``namer`` (-1: keep the object itself)."""
        i = len(self._ends)
        below = self._below(item, namer) if namer >= 0 and isinstance(item, Candidate) else None
        if below is not None and isinstance(item, Candidate) and item.stamp is not None:
            self._paths += os.fsencode(below)
            self._stamps += item.stamp
            self._root.append(namer)
        else:
            self._whole[i] = item
            self._stamps += bytes(_STAMP.size)
            self._root.append(-1)
            self._skipped += isinstance(item, Skipped)
        self._ends.append(len(self._paths))

    def _below(self, cand: Candidate, namer: int) -> str | None:
        naming = self._namings[namer]
        if naming is None:
            naming = self._namings[namer] = _Naming.of(self._stems[namer], cand)
        return naming.names(cand) if naming is not None else None

    def candidates(self) -> int:
        """How many entries are candidates (files to read)."""
        return len(self._ends) - self._skipped

    def whole_candidates(self) -> int:
        """Candidates kept as objects (a stamp out of range, or entries sorted after the walk)."""
        return sum(1 for item in self._whole.values() if isinstance(item, Candidate))

    def is_candidate(self, i: int) -> bool:
        return not isinstance(self._whole.get(i), Skipped)

    def _at(self, i: int) -> Candidate | Skipped:
        at = self._root[i]
        if at < 0:
            return self._whole[i]
        below = self._paths[self._ends[i - 1] if i else 0 : self._ends[i]].decode(_FS_ENCODING, _FS_ERRORS)
        naming = self._namings[at]
        assert naming is not None
        shown, rel = naming.shown + below[naming.shown_cut:], naming.rel + below[naming.rel_cut:]
        stamp = bytes(self._stamps[i * _STAMP.size : (i + 1) * _STAMP.size])
        return Candidate(naming.stem + below, shown, _SIZE.unpack_from(stamp)[0], shown if rel == shown else rel, stamp)

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> Candidate | Skipped: ...

    @overload
    def __getitem__(self, index: slice) -> Rows: ...

    def __getitem__(self, index: int | slice) -> Candidate | Skipped | Rows:
        if isinstance(index, slice):
            return Rows(self, range(len(self))[index])
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("entry index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[Candidate | Skipped]:
        return (self._at(i) for i in range(len(self)))

    def rows(self, indices: Iterable[int] | None = None) -> Rows:
        """A view of the entries at ``indices`` (all by default), read as they are asked for."""
        return Rows(self, range(len(self)) if indices is None else array("I", indices))


class Rows(Sequence[Candidate | Skipped]):
    """Some entries of a :class:`Discovered`, built when read: what the worker pool's chunks hold.
    Sent to a worker process, it travels as the list of its entries (not the whole table)."""

    __slots__ = ("_table", "_indices")

    def __init__(self, table: Discovered, indices: range | array[int]) -> None:
        self._table = table
        self._indices = indices

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, index: int) -> Candidate | Skipped: ...

    @overload
    def __getitem__(self, index: slice) -> Rows: ...

    def __getitem__(self, index: int | slice) -> Candidate | Skipped | Rows:
        if isinstance(index, slice):
            return Rows(self._table, self._indices[index])
        return self._table[self._indices[index]]

    def __iter__(self) -> Iterator[Candidate | Skipped]:
        table = self._table
        return (table._at(i) for i in self._indices)  # the view's own table

    def index_of(self, at: int) -> int:
        """The table's index of this view's entry ``at``."""
        return self._indices[at]

    def candidates(self) -> int:
        table = self._table
        return sum(1 for i in self._indices if table.is_candidate(i))

    def __reduce__(self) -> tuple[type[list[Candidate | Skipped]], tuple[list[Candidate | Skipped]]]:
        return list, (list(self),)


def read_bounded(path: str, limit: int) -> bytes:
    """Read a regular file without following links or blocking on a swapped-in FIFO.

    The lstat in discovery and this open race with other processes, so the checks repeat on
    the open descriptor: O_NOFOLLOW refuses a link, O_NONBLOCK keeps a FIFO from hanging the
    open, fstat refuses anything but a regular file, and the read stops one byte past the limit.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(21, "not a regular file")
        if st.st_size > limit:
            raise OverflowError(st.st_size)
        chunks: list[bytes] = []
        remaining = limit + 1
        # First ask for the whole file and one byte more (a read of 1 MiB allocates 1 MiB for a 20 KB
        # preset); a file that grew since fstat is read on in 1 MiB steps up to the limit.
        want = st.st_size + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, want))
            want = 1 << 20
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise OverflowError(len(data))
        return data
    finally:
        os.close(fd)
