"""Recovery: bounded retries, exponential backoff with full jitter, every attempt reported, reads that see one version."""

from __future__ import annotations

import errno
import os
import random
from pathlib import Path

import pytest

from presetctl.engine.error_codes import ErrorCode
from presetctl.engine.errors import FileSystemError, UsageError
from presetctl.engine.incidents import Incident, Outcome, RecoveryAttempt
from presetctl.engine.recovery import POLICIES, ReadFailed, Recovery, RetriesExhausted, RetryPolicy, read_consistent


class Flaky:
    """Fails ``times`` times with ``exc``, then returns "ok"."""

    def __init__(self, times: int, exc: BaseException) -> None:
        self.left = times
        self.exc = exc
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise self.exc
        return "ok"


def recovery(seen: list[tuple[Incident, RecoveryAttempt]], sleeps: list[float], seed: int = 7) -> Recovery:
    return Recovery(sleep=sleeps.append, rng=random.Random(seed), on_attempt=lambda i, a: seen.append((i, a)))


def test_full_jitter_stays_under_the_doubling_cap() -> None:
    policy = RetryPolicy(max_retries=8, base=0.05, cap=1.0)
    rng = random.Random(1)
    for retry in range(1, 9):
        ceiling = min(1.0, 0.05 * 2 ** (retry - 1))
        delays = [policy.delay(retry, rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # the whole range is used (full jitter, not equal jitter)
    assert RetryPolicy(1, 0.0, 0.0).delay(1, rng) == 0.0


def test_a_transient_error_is_retried_until_it_recovers() -> None:
    seen: list[tuple[Incident, RecoveryAttempt]] = []
    sleeps: list[float] = []
    fn = Flaky(2, OSError(errno.EAGAIN, "Resource temporarily unavailable"))
    value, incident = recovery(seen, sleeps).call(fn, stage="read", file="a.vital")
    assert value == "ok" and fn.calls == 3
    assert incident is not None and incident.code is ErrorCode.TRY_AGAIN and incident.outcome is Outcome.RECOVERED
    assert (incident.file, incident.stage, incident.retries) == ("a.vital", "read", 2)
    assert [a.succeeded for a in incident.attempts] == [False, True]
    assert [a.number for _, a in seen] == [1, 2]  # each attempt reported as it ended
    assert [i.outcome for i, _ in seen] == [Outcome.FAILED, Outcome.RECOVERED]
    policy = POLICIES[ErrorCode.TRY_AGAIN]
    assert len(sleeps) == 2 and all(0 <= d <= min(policy.cap, policy.base * 2 ** n) for n, d in enumerate(sleeps))
    assert [a.delay for a in incident.attempts] == sleeps


def test_retries_are_bounded() -> None:
    seen: list[tuple[Incident, RecoveryAttempt]] = []
    fn = Flaky(100, OSError(errno.EAGAIN, "again"))
    with pytest.raises(RetriesExhausted) as info:
        recovery(seen, []).call(fn)
    policy = POLICIES[ErrorCode.TRY_AGAIN]
    assert fn.calls == 1 + policy.max_retries
    assert info.value.incident.outcome is Outcome.FAILED and info.value.incident.retries == policy.max_retries
    assert isinstance(info.value.__cause__, OSError) and info.value.code is ErrorCode.TRY_AGAIN


def test_no_policy_no_retry_and_the_original_error() -> None:
    fn = Flaky(1, OSError(errno.EACCES, "Permission denied"))
    with pytest.raises(PermissionError):
        Recovery(sleep=lambda _: None).call(fn)
    assert fn.calls == 1
    bug = Flaky(1, ZeroDivisionError("bug"))
    with pytest.raises(ZeroDivisionError):
        Recovery(sleep=lambda _: None).call(bug)
    with pytest.raises(UsageError):
        Recovery(sleep=lambda _: None).call(Flaky(1, UsageError("no")))


def test_a_retry_that_turns_into_a_hard_error_stops() -> None:
    calls = []

    def fn() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.EAGAIN, "again")
        raise OSError(errno.EACCES, "denied")

    with pytest.raises(RetriesExhausted) as info:
        Recovery(sleep=lambda _: None, rng=random.Random(0)).call(fn)
    assert len(calls) == 2 and info.value.incident.attempts[0].detail == "denied"


def test_a_file_that_changes_while_read_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b"{}")
    import presetctl.engine.recovery as rec

    real = rec.read_bounded
    writes = iter([b'{"a": 1}', b'{"a": 12}'])

    def racing_read(path: str, limit: int) -> bytes:
        data = real(path, limit)
        nxt = next(writes, None)
        if nxt is not None:  # another process rewrites the file right after our read
            Path(path).write_bytes(nxt)
            os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 1_000_000))
        return data

    monkeypatch.setattr(rec, "read_bounded", racing_read)
    data, incident = read_consistent(str(target), 1 << 20, Recovery(sleep=lambda _: None, rng=random.Random(0)),
                                     display="a.json")
    assert data == b'{"a": 12}'
    assert incident is not None and incident.code is ErrorCode.FILE_CHANGED and incident.outcome is Outcome.RECOVERED
    assert incident.retries == 2 and incident.file == "a.json"


def test_a_file_that_never_settles_is_an_oserror_with_the_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b"{}")
    import presetctl.engine.recovery as rec

    real = rec.read_bounded
    counter = [0]

    def always_racing(path: str, limit: int) -> bytes:
        data = real(path, limit)
        counter[0] += 1
        Path(path).write_bytes(b"x" * counter[0])
        return data

    monkeypatch.setattr(rec, "read_bounded", always_racing)
    with pytest.raises(ReadFailed) as info:
        read_consistent(str(target), 1 << 20, Recovery(sleep=lambda _: None, rng=random.Random(0)))
    assert isinstance(info.value, OSError) and info.value.incident.outcome is Outcome.FAILED
    assert info.value.incident.retries == POLICIES[ErrorCode.FILE_CHANGED].max_retries


def test_a_stable_file_is_read_once_without_incident(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_bytes(b'{"ok": true}')
    assert read_consistent(str(target), 100) == (b'{"ok": true}', None)
    with pytest.raises(OverflowError):
        read_consistent(str(target), 3)
    with pytest.raises(FileNotFoundError):
        read_consistent(str(tmp_path / "gone"), 100)


def test_exhausted_pickles_with_its_incident() -> None:
    import pickle

    inc = Incident(ErrorCode.WORKER_DIED, "worker died", outcome=Outcome.FAILED,
                   attempts=(RecoveryAttempt(1, 0.0, False, "SIGKILL"),))
    back = pickle.loads(pickle.dumps(RetriesExhausted(inc)))
    assert back.incident == inc and back.code is ErrorCode.WORKER_DIED
    assert isinstance(FileSystemError("x", code=ErrorCode.FILE_CHANGED), FileSystemError)
