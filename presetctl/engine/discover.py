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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import TYPE_CHECKING

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
    """Expand ``paths`` into candidates and skipped entries, both in a stable sorted order."""
    cwd = cwd or os.getcwd()
    matcher = _Matcher(options)
    limit = options.limits.max_file_size
    candidates: list[Candidate] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
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
            _keep(Skipped(namer.shown(full), v, rel=namer.rel(full)), seen, candidates, skipped)
            continue
        if stat.S_ISDIR(st.st_mode) or (stat.S_ISLNK(st.st_mode) and os.path.isdir(full)):
            # A root the user names explicitly may itself be a link to a folder: that is the folder asked for.
            root = os.path.realpath(full) if stat.S_ISLNK(st.st_mode) else full
            for item in _walk(root, matcher, limit, _Namer(raw, root, cwd)):
                _keep(item, seen, candidates, skipped)
            continue
        single = _classify(full, st, os.path.dirname(full), _Namer(raw, full, cwd), limit)
        if single is not None:
            _keep(single, seen, candidates, skipped)
    return candidates, skipped


def _keep(item: Candidate | Skipped, seen: set[str], candidates: list[Candidate], skipped: list[Skipped]) -> None:
    """Add ``item`` once, even when overlapping roots name the same file twice."""
    if isinstance(item, Candidate):
        if item.path not in seen:
            seen.add(item.path)
            candidates.append(item)
    elif item.display not in seen:
        seen.add(item.display)
        skipped.append(item)


def _walk(root: str, matcher: _Matcher, limit: int, namer: _Namer) -> Iterator[Candidate | Skipped]:
    """Iterative walk (deep trees cannot exhaust the stack); never descends through a link."""
    stack = [root]
    visited: set[tuple[int, int]] = set()
    while stack:
        folder = stack.pop()
        try:
            st = os.lstat(folder)
            ident = (st.st_dev, st.st_ino)
            if ident in visited:
                continue
            visited.add(ident)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            v = Violation(f"folder cannot be read: {exc.strerror}", code="F007")
            yield Skipped(namer.shown(folder), v, rel=namer.rel(folder))
            continue
        subdirs: list[str] = []
        for entry in entries:
            rel = namer.inside(entry.path)
            try:
                est = entry.stat(follow_symlinks=False)
            except OSError as exc:
                yield Skipped(namer.shown(entry.path), Violation(f"cannot stat: {exc.strerror}", code="F007"),
                              rel=namer.rel(entry.path))
                continue
            is_dir = stat.S_ISDIR(est.st_mode)
            if matcher.excluded(rel, is_dir):
                continue
            if is_dir:
                subdirs.append(entry.path)
                continue
            if not matcher.included(rel):
                continue
            item = _classify(entry.path, est, root, namer, limit)
            if item is not None:
                yield item
        stack.extend(reversed(subdirs))


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
