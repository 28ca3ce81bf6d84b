"""Errors of the tool itself (exit code 2, 130 for interrupts). Problems in presets are findings, never these.

Every exception carries an :class:`ErrorCode` (engine/error_codes.py) and the context it was met
in: the file, the stage of the run (``discover``, ``read``, ``check``, ``history`` ...) and the
rule. Raise the class of the code's category (``exception_class(code)`` picks it) so that
``presetctl.cli.errors.ERROR_TABLE``, the one table from exceptions to exit codes, maps it.
"""

from __future__ import annotations

import errno as _errno

from presetctl.engine.error_codes import Category, ErrorCode, from_errno


class PresetctlError(Exception):
    """Base class: a failure of the tool or of its invocation, not of a preset."""

    default_code = ErrorCode.INTERNAL

    def __init__(self, message: str = "", *, code: ErrorCode | None = None, file: str = "", stage: str = "",
                 rule: str = "") -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.file = file
        self.stage = stage
        self.rule = rule

    @property
    def message(self) -> str:
        return str(self)

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in worker processes too: code and context must survive pickling.
        return (_rebuild, (type(self), str(self), self.code, self.file, self.stage, self.rule))


class UsageError(PresetctlError):
    """The request cannot be carried out as given (missing path, unknown option value)."""

    default_code = ErrorCode.USAGE


class ConfigError(PresetctlError):
    """A configuration file is unreadable or holds invalid settings."""

    default_code = ErrorCode.CONFIG_INVALID


class StateError(PresetctlError):
    """The state directory (journal, backups, history) is unusable."""

    default_code = ErrorCode.STATE_DIR_UNUSABLE


class HistoryError(StateError):
    """The history database cannot be used (locked, damaged, foreign, newer, read-only)."""

    default_code = ErrorCode.HISTORY_UNAVAILABLE


class FileSystemError(PresetctlError):
    """An operating-system failure the tool could not work around (disk full, read-only, EIO ...)."""

    default_code = ErrorCode.IO_ERROR


class LimitError(PresetctlError):
    """A resource limit stopped the work (inside a file this becomes a finding)."""

    default_code = ErrorCode.FILE_TOO_LARGE


class WorkerError(PresetctlError):
    """Worker processes died or could not be started, beyond what recovery could absorb."""

    default_code = ErrorCode.WORKER_DIED


class InternalError(PresetctlError):
    """A bug: an invariant of presetctl itself does not hold."""

    default_code = ErrorCode.INTERNAL


_SIGNAL_WORDS = {2: "interrupted", 15: "terminated", 1: "hang-up"}  # SIGINT, SIGTERM, SIGHUP


class Interrupted(KeyboardInterrupt):
    """The user or the system asked the run to stop (SIGINT, SIGTERM or SIGHUP): exit 128 + the signal.

    A KeyboardInterrupt, so ``except Exception`` never swallows it and everything that cleans up
    after Ctrl-C cleans up after a termination too. ``hint`` tells what to do next (``fix``
    names its ``--resume``).
    """

    def __init__(self, signum: int = 2, hint: str = "", code: ErrorCode = ErrorCode.INTERRUPTED) -> None:
        super().__init__(signum)
        self.signum = signum
        self.hint = hint
        self.code = code

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def message(self) -> str:
        word = _SIGNAL_WORDS.get(self.signum, "stopped by a signal")
        return f"presetctl: {word}" + (f"; {self.hint}" if self.hint else "")

    def __reduce__(self) -> tuple[object, ...]:
        return (Interrupted, (self.signum, self.hint, self.code))


def _rebuild(kind: type[PresetctlError], message: str, code: ErrorCode, file: str, stage: str,
             rule: str) -> PresetctlError:
    return kind(message, code=code, file=file, stage=stage, rule=rule)


_CLASSES: dict[Category, type[BaseException]] = {
    Category.FILE_SYSTEM: FileSystemError,
    Category.CONFIGURATION: ConfigError,
    Category.STATE: StateError,
    Category.LIMITS: LimitError,
    Category.WORKERS: WorkerError,
    Category.INTERRUPT: Interrupted,
    Category.INTERNAL: InternalError,
}


def exception_class(code: ErrorCode) -> type[BaseException]:
    """The exception raised for ``code``: the ERROR_TABLE row of this class gives its exit code."""
    if code in (ErrorCode.USAGE, ErrorCode.TARGET_MISSING):
        return UsageError
    if code.name.startswith("HISTORY_"):
        return HistoryError
    if code is ErrorCode.OUT_OF_MEMORY:
        return MemoryError
    return _CLASSES[code.spec.category]


def os_error(exc: OSError, message: str = "", *, file: str = "", stage: str = "",
             default: ErrorCode = ErrorCode.IO_ERROR) -> FileSystemError:
    """An OSError as a FileSystemError with the code its errno names."""
    why = exc.strerror or str(exc) or _errno.errorcode.get(exc.errno or 0, "error")
    text = f"{message}: {why}" if message else why
    return FileSystemError(text, code=from_errno(exc.errno, default), file=file or (exc.filename or ""), stage=stage)


def code_of(exc: BaseException) -> ErrorCode:
    """The error code of any exception: its own, the errno's, or INTERNAL for a bug."""
    own = getattr(exc, "code", None)
    if isinstance(own, ErrorCode):
        return own
    if isinstance(exc, KeyboardInterrupt):
        return ErrorCode.INTERRUPTED
    if isinstance(exc, MemoryError):
        return ErrorCode.OUT_OF_MEMORY
    if isinstance(exc, OSError):
        return from_errno(exc.errno)
    return ErrorCode.INTERNAL
