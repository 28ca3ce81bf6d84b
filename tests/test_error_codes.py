"""The error taxonomy: every code documented, mapped to an exit code by the one table, with a policy when transient."""

from __future__ import annotations

import errno
import pickle

import pytest

from presetctl.cli.errors import ERROR_TABLE, EXIT_ERROR, EXIT_INTERRUPTED, exit_code_for, explain, is_internal
from presetctl.engine.error_codes import SPECS, Category, ErrorCode, by_category, from_errno
from presetctl.engine.errors import (
    ConfigError,
    FileSystemError,
    HistoryError,
    Interrupted,
    PresetctlError,
    StateError,
    UsageError,
    code_of,
    exception_class,
    os_error,
)
from presetctl.engine.recovery import POLICIES
from presetctl.engine.rules.registry import BY_CODE


def test_at_least_25_codes_in_every_category() -> None:
    assert len(ErrorCode) >= 25
    groups = by_category()
    assert all(groups[c] for c in Category), [c for c in Category if not groups[c]]
    assert set(SPECS) == set(ErrorCode)


def test_codes_are_stable_and_distinct_from_rule_codes() -> None:
    for code in ErrorCode:
        assert code.value.startswith("PE") and len(code.value) == 5 and code.value[2:].isdigit()
        assert code.value not in BY_CODE
    hundreds = {Category.FILE_SYSTEM: "1", Category.CONFIGURATION: "2", Category.STATE: "3", Category.LIMITS: "4",
                Category.WORKERS: "5", Category.INTERRUPT: "6", Category.INTERNAL: "9"}
    assert all(code.value[2] == hundreds[code.spec.category] for code in ErrorCode)


def test_every_code_is_documented_and_names_a_real_finding() -> None:
    for code in ErrorCode:
        spec = code.spec
        assert spec.meaning.endswith(".") and len(spec.meaning) > 30, code
        assert not spec.finding or spec.finding in BY_CODE, (code, spec.finding)


def test_transient_means_a_recovery_policy_exists() -> None:
    transient = {c for c in ErrorCode if c.spec.transient}
    assert transient == set(POLICIES)
    assert {ErrorCode.HISTORY_LOCKED, ErrorCode.TRY_AGAIN, ErrorCode.INTERRUPTED_CALL, ErrorCode.FILE_CHANGED,
            ErrorCode.WORKER_DIED} <= transient
    assert all(0 < p.max_retries <= 6 for p in POLICIES.values())


def test_critical_codes_are_the_ones_the_brief_names() -> None:
    critical = {c for c in ErrorCode if c.spec.critical}
    assert {ErrorCode.HISTORY_CORRUPT, ErrorCode.DISK_FULL, ErrorCode.WORKER_DIED, ErrorCode.INTERNAL} <= critical
    assert ErrorCode.HISTORY_UNAVAILABLE not in critical and ErrorCode.USAGE not in critical


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_reaches_the_one_exit_table(code: ErrorCode) -> None:
    kind = exception_class(code)
    row = next(r for r in ERROR_TABLE if issubclass(kind, r[0]))
    assert exit_code_for(code) == row[1]
    expected = EXIT_INTERRUPTED if code.spec.category is Category.INTERRUPT else EXIT_ERROR
    assert exit_code_for(code) == expected


@pytest.mark.parametrize(("number", "code"), [
    (errno.EACCES, ErrorCode.PERMISSION_DENIED), (errno.EPERM, ErrorCode.PERMISSION_DENIED),
    (errno.ENOENT, ErrorCode.FILE_VANISHED), (errno.EMFILE, ErrorCode.TOO_MANY_OPEN_FILES),
    (errno.ENFILE, ErrorCode.TOO_MANY_OPEN_FILES), (errno.ENOSPC, ErrorCode.DISK_FULL),
    (errno.EDQUOT, ErrorCode.DISK_FULL), (errno.EROFS, ErrorCode.READ_ONLY_FILE_SYSTEM),
    (errno.ESTALE, ErrorCode.STALE_FILE_HANDLE), (errno.EIO, ErrorCode.IO_ERROR),
    (errno.EINTR, ErrorCode.INTERRUPTED_CALL), (errno.EAGAIN, ErrorCode.TRY_AGAIN),
    (errno.ETIMEDOUT, ErrorCode.TIMED_OUT), (errno.ENAMETOOLONG, ErrorCode.NAME_TOO_LONG),
    (errno.ELOOP, ErrorCode.LINK_LOOP), (errno.EISDIR, ErrorCode.NOT_A_FILE), (errno.EBUSY, ErrorCode.FILE_BUSY),
])
def test_errno_classification(number: int, code: ErrorCode) -> None:
    assert from_errno(number) is code
    assert code_of(OSError(number, "x")) is code


def test_unknown_errno_falls_back_to_the_default() -> None:
    assert from_errno(errno.EXDEV) is ErrorCode.IO_ERROR
    assert from_errno(errno.EXDEV, ErrorCode.WRITE_FAILED) is ErrorCode.WRITE_FAILED
    assert from_errno(None) is ErrorCode.IO_ERROR


def test_exceptions_carry_code_and_context_across_processes() -> None:
    exc = os_error(OSError(errno.ENOSPC, "No space left on device"), "cannot write the journal", file="a.vital",
                   stage="write")
    assert isinstance(exc, FileSystemError) and exc.code is ErrorCode.DISK_FULL
    assert (str(exc), exc.file, exc.stage) == ("cannot write the journal: No space left on device", "a.vital", "write")
    back = pickle.loads(pickle.dumps(exc))
    assert (type(back), back.code, back.file, back.stage, str(back)) == (FileSystemError, exc.code, "a.vital",
                                                                          "write", str(exc))
    interrupted = pickle.loads(pickle.dumps(Interrupted(15, code=ErrorCode.TERMINATED)))
    assert (interrupted.signum, interrupted.code) == (15, ErrorCode.TERMINATED)


def test_default_codes_of_the_existing_classes() -> None:
    assert UsageError("x").code is ErrorCode.USAGE
    assert ConfigError("x").code is ErrorCode.CONFIG_INVALID
    assert StateError("x").code is ErrorCode.STATE_DIR_UNUSABLE
    assert HistoryError("x").code is ErrorCode.HISTORY_UNAVAILABLE
    assert code_of(KeyboardInterrupt()) is ErrorCode.INTERRUPTED
    assert code_of(MemoryError()) is ErrorCode.OUT_OF_MEMORY
    assert code_of(ValueError("bug")) is ErrorCode.INTERNAL


def test_explain_keeps_the_messages_users_know() -> None:
    assert explain(UsageError("no such rule")) == (2, "presetctl: error: no such rule")
    assert explain(KeyboardInterrupt()) == (130, "presetctl: interrupted")
    assert explain(Interrupted(15, code=ErrorCode.TERMINATED)) == (143, "presetctl: terminated")
    assert explain(HistoryError("locked")) == (2, "presetctl: history error: locked")
    assert explain(ValueError("boom")) == (2, "presetctl: internal error: ValueError: boom (a bug in presetctl)")
    assert is_internal(ValueError()) and not is_internal(PresetctlError("x")) and not is_internal(OSError())


def test_parse_accepts_code_or_name() -> None:
    assert ErrorCode.parse("pe105") is ErrorCode.DISK_FULL
    assert ErrorCode.parse("disk-full") is ErrorCode.DISK_FULL
    assert ErrorCode.parse("DISK_FULL") is ErrorCode.DISK_FULL
    with pytest.raises(ValueError):
        ErrorCode.parse("PE999")
