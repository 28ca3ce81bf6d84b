"""The taxonomy of presetctl's own errors: a stable code, a meaning, transient or not, critical or not.

These are failures of the tool or its surroundings (a full disk, a dead worker, a damaged history
database), never problems in a preset: those are findings with rule codes (``F007``, ``X032``).
Codes are two letters and three digits (``PE105``) so they cannot be mistaken for a rule code.
The hundreds group the category. Some conditions are met while checking one file and are then
reported as a finding for that file; ``finding`` names that rule code.

Which exit code a code leads to is not stored here: the code picks its exception class
(:func:`presetctl.engine.errors.exception_class`) and ``presetctl.cli.errors.ERROR_TABLE``, the
one table from exceptions to exit codes, maps the class. docs/errors.md is generated from both.
"""

from __future__ import annotations

import enum
import errno
from dataclasses import dataclass
from types import MappingProxyType


class Category(enum.Enum):
    FILE_SYSTEM = "file system"
    CONFIGURATION = "configuration"
    STATE = "state and history"
    LIMITS = "archives and limits"
    WORKERS = "worker processes"
    INTERRUPT = "interrupts"
    INTERNAL = "internal"


class ErrorCode(enum.StrEnum):
    # file system
    PERMISSION_DENIED = "PE101"
    FILE_VANISHED = "PE102"
    FILE_CHANGED = "PE103"
    TOO_MANY_OPEN_FILES = "PE104"
    DISK_FULL = "PE105"
    READ_ONLY_FILE_SYSTEM = "PE106"
    STALE_FILE_HANDLE = "PE107"
    IO_ERROR = "PE108"
    INTERRUPTED_CALL = "PE109"
    TRY_AGAIN = "PE110"
    TIMED_OUT = "PE111"
    NAME_TOO_LONG = "PE112"
    LINK_LOOP = "PE113"
    NOT_A_FILE = "PE114"
    WRITE_FAILED = "PE115"
    FILE_BUSY = "PE116"
    # configuration and usage
    USAGE = "PE201"
    TARGET_MISSING = "PE202"
    CONFIG_UNREADABLE = "PE203"
    CONFIG_INVALID = "PE204"
    BASELINE_INVALID = "PE205"
    # state directory and history
    STATE_DIR_UNUSABLE = "PE301"
    HISTORY_LOCKED = "PE302"
    HISTORY_CORRUPT = "PE303"
    HISTORY_NEWER = "PE304"
    HISTORY_FOREIGN = "PE305"
    HISTORY_UNAVAILABLE = "PE306"
    BACKUP_DAMAGED = "PE307"
    FIX_LOCKED = "PE308"
    LOG_UNWRITABLE = "PE309"
    # archives and limits
    FILE_TOO_LARGE = "PE401"
    DECOMPRESSION_LIMIT = "PE402"
    ARCHIVE_ENTRY_LIMIT = "PE403"
    NESTING_LIMIT = "PE404"
    TIME_BUDGET = "PE405"
    OUT_OF_MEMORY = "PE406"
    BUDGET_EXCEEDED = "PE407"
    # worker processes
    WORKER_DIED = "PE501"
    WORKER_START_FAILED = "PE502"
    # interrupts
    INTERRUPTED = "PE601"
    TERMINATED = "PE602"
    # internal
    INTERNAL = "PE901"
    RULE_CRASHED = "PE902"

    @property
    def spec(self) -> ErrorSpec:
        return SPECS[self]

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: str) -> ErrorCode:
        """A code from ``PE105``, ``pe105``, ``disk-full`` or ``DISK_FULL``."""
        key = text.strip()
        for code in cls:
            if key.upper() == code.value or key.lower().replace("_", "-") == code.slug:
                return code
        raise ValueError(f"unknown error code {text!r} (see docs/errors.md)")


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """What a code means. ``transient``: a recovery policy retries it (engine/recovery.py).
    ``critical``: shown in the separated block at the end of a run, whatever its outcome."""

    category: Category
    meaning: str
    transient: bool = False
    critical: bool = False
    finding: str = ""  # rule code reported for the file when the condition is met on one file


_FS, _CFG, _ST, _LIM, _WRK, _INT, _BUG = (Category.FILE_SYSTEM, Category.CONFIGURATION, Category.STATE,
                                          Category.LIMITS, Category.WORKERS, Category.INTERRUPT, Category.INTERNAL)
C = ErrorCode

SPECS: MappingProxyType[ErrorCode, ErrorSpec] = MappingProxyType({
    C.PERMISSION_DENIED: ErrorSpec(_FS, "The operating system refused access to a file or folder (EACCES, EPERM).",
                                   finding="F007"),
    C.FILE_VANISHED: ErrorSpec(_FS, "A file found by discovery was gone when it was opened (ENOENT): something "
                               "deleted or moved it during the run.", finding="F007"),
    C.FILE_CHANGED: ErrorSpec(_FS, "A file changed size or modification time while it was read; it is read again "
                              "(bounded retries) so the check sees one version.", transient=True),
    C.TOO_MANY_OPEN_FILES: ErrorSpec(_FS, "The process or system ran out of file descriptors (EMFILE, ENFILE); "
                                     "retried after a pause.", transient=True, finding="F007"),
    C.DISK_FULL: ErrorSpec(_FS, "No space left on the device or the quota is exhausted (ENOSPC, EDQUOT); a write "
                           "was not made.", critical=True),
    C.READ_ONLY_FILE_SYSTEM: ErrorSpec(_FS, "A write went to a read-only file system (EROFS)."),
    C.STALE_FILE_HANDLE: ErrorSpec(_FS, "A network file system lost the file's handle (ESTALE); retried, the file "
                                   "is opened again.", transient=True, finding="F007"),
    C.IO_ERROR: ErrorSpec(_FS, "The device reported an input/output error (EIO); the hardware or the network "
                          "share may be failing.", critical=True, finding="F007"),
    C.INTERRUPTED_CALL: ErrorSpec(_FS, "A system call was interrupted by a signal (EINTR); retried.", transient=True),
    C.TRY_AGAIN: ErrorSpec(_FS, "A resource was temporarily unavailable (EAGAIN, EWOULDBLOCK); retried after a "
                           "pause.", transient=True),
    C.TIMED_OUT: ErrorSpec(_FS, "An operation on a network file system timed out (ETIMEDOUT); retried.",
                           transient=True, finding="F007"),
    C.NAME_TOO_LONG: ErrorSpec(_FS, "A path or file name is longer than the file system allows (ENAMETOOLONG).",
                               finding="F007"),
    C.LINK_LOOP: ErrorSpec(_FS, "A path resolves through a symlink loop, or a file was swapped for a link while "
                           "it was opened (ELOOP).", finding="F003"),
    C.NOT_A_FILE: ErrorSpec(_FS, "A path expected to be a regular file is a folder, a device or missing a "
                            "component (EISDIR, ENOTDIR).", finding="F006"),
    C.WRITE_FAILED: ErrorSpec(_FS, "A write failed for a reason none of the other codes name; the file was left "
                              "as it was."),
    C.FILE_BUSY: ErrorSpec(_FS, "A file or device is busy (EBUSY, ETXTBSY); retried after a pause.", transient=True),
    C.USAGE: ErrorSpec(_CFG, "The command line cannot be carried out as given (conflicting or invalid options)."),
    C.TARGET_MISSING: ErrorSpec(_CFG, "A file or folder named on the command line does not exist or cannot be "
                                "reached."),
    C.CONFIG_UNREADABLE: ErrorSpec(_CFG, "A configuration file cannot be read or is not valid TOML."),
    C.CONFIG_INVALID: ErrorSpec(_CFG, "A configuration file has an unknown key or a value of the wrong kind."),
    C.BASELINE_INVALID: ErrorSpec(_CFG, "A baseline file cannot be read or is not a presetctl baseline."),
    C.STATE_DIR_UNUSABLE: ErrorSpec(_ST, "The state, log or cache folder cannot be created or is not a folder."),
    C.HISTORY_LOCKED: ErrorSpec(_ST, "The history database stayed locked by other presetctl processes beyond the "
                                "busy timeout; the transaction is retried with backoff.", transient=True),
    C.HISTORY_CORRUPT: ErrorSpec(_ST, "The history database was damaged (garbage, truncated, empty); it was moved "
                                 "aside with a timestamp, kept, and rebuilt empty.", critical=True),
    C.HISTORY_NEWER: ErrorSpec(_ST, "The history database was written by a newer presetctl (a higher schema "
                               "version); it is left alone and history is off."),
    C.HISTORY_FOREIGN: ErrorSpec(_ST, "The history file is not a presetctl history database; it is left alone and "
                                 "history is off."),
    C.HISTORY_UNAVAILABLE: ErrorSpec(_ST, "The history database cannot be opened or written (read-only folder, "
                                     "permissions); history is off for the run, the command goes on."),
    C.BACKUP_DAMAGED: ErrorSpec(_ST, "A fix backup or journal is missing or fails its SHA-256 check; nothing is "
                                "restored from it.", critical=True),
    C.FIX_LOCKED: ErrorSpec(_ST, "Another fix, undo or resume holds the state folder's lock; wait for it."),
    C.LOG_UNWRITABLE: ErrorSpec(_ST, "The log file cannot be opened or written; file logging is off for the run."),
    C.FILE_TOO_LARGE: ErrorSpec(_LIM, "A file is over limits.max-file-size and was not read.", finding="F002"),
    C.DECOMPRESSION_LIMIT: ErrorSpec(_LIM, "Compressed content inflates past limits.max-decompressed or the "
                                     "ratio limit; inflation stopped.", finding="X032"),
    C.ARCHIVE_ENTRY_LIMIT: ErrorSpec(_LIM, "An archive has more members than limits.max-entries, or one member is "
                                     "over limits.max-entry-size.", finding="T012"),
    C.NESTING_LIMIT: ErrorSpec(_LIM, "A document or archive is nested deeper than limits.max-nesting or "
                               "limits.max-recursion.", finding="X050"),
    C.TIME_BUDGET: ErrorSpec(_LIM, "Scanning one file took longer than limits.file-seconds; the scan stopped.",
                             finding="X071"),
    C.OUT_OF_MEMORY: ErrorSpec(_LIM, "The process ran out of memory (MemoryError).", critical=True),
    C.BUDGET_EXCEEDED: ErrorSpec(_LIM, "A run took longer or used more memory than [tool.presetctl.budgets] "
                                 "allows; reported as a warning finding, the run went on.", finding="E003"),
    C.WORKER_DIED: ErrorSpec(_WRK, "A worker process died (killed by a signal, crashed in native code) while "
                             "checking files; its files are retried once in a fresh worker, then reported as "
                             "findings for those files.", transient=True, critical=True, finding="E001"),
    C.WORKER_START_FAILED: ErrorSpec(_WRK, "Worker processes could not be started (process or memory limits); "
                                     "the run continues in one process."),
    C.INTERRUPTED: ErrorSpec(_INT, "The run was interrupted (Ctrl-C, SIGINT); files already written stay whole."),
    C.TERMINATED: ErrorSpec(_INT, "The run was stopped by SIGTERM or SIGHUP; files already written stay whole."),
    C.INTERNAL: ErrorSpec(_BUG, "A bug in presetctl stopped the command; a crash report was written to the state "
                          "folder.", critical=True),
    C.RULE_CRASHED: ErrorSpec(_BUG, "A rule or loader raised on one file (a bug); reported as a finding for that "
                              "file and the run went on.", finding="E001"),
})

# errno -> code for OSErrors; anything else is a generic write or I/O failure chosen by the caller.
_ERRNO: MappingProxyType[int, ErrorCode] = MappingProxyType({
    number: code
    for names, code in (
        (("EACCES", "EPERM"), C.PERMISSION_DENIED),
        (("ENOENT",), C.FILE_VANISHED),
        (("EMFILE", "ENFILE"), C.TOO_MANY_OPEN_FILES),
        (("ENOSPC", "EDQUOT"), C.DISK_FULL),
        (("EROFS",), C.READ_ONLY_FILE_SYSTEM),
        (("ESTALE",), C.STALE_FILE_HANDLE),
        (("EIO",), C.IO_ERROR),
        (("EINTR",), C.INTERRUPTED_CALL),
        (("EAGAIN", "EWOULDBLOCK"), C.TRY_AGAIN),
        (("ETIMEDOUT",), C.TIMED_OUT),
        (("ENAMETOOLONG",), C.NAME_TOO_LONG),
        (("ELOOP",), C.LINK_LOOP),
        (("EISDIR", "ENOTDIR"), C.NOT_A_FILE),
        (("EBUSY", "ETXTBSY"), C.FILE_BUSY),
    )
    for name in names
    if (number := getattr(errno, name, None)) is not None
})


def from_errno(number: int | None, default: ErrorCode = ErrorCode.IO_ERROR) -> ErrorCode:
    """The code for an OSError's errno (``default`` when the number names nothing more specific)."""
    if number is None:
        return default
    return _ERRNO.get(number, default)


def by_category() -> dict[Category, list[ErrorCode]]:
    out: dict[Category, list[ErrorCode]] = {c: [] for c in Category}
    for code in ErrorCode:
        out[code.spec.category].append(code)
    return out
