"""The sandbox without cgroups (rlimit fallback), and messages it refuses to unpickle."""

from __future__ import annotations

import os
import pickle
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from tests.integration.sandbox.test_sandbox import (
    SMALL,
    allocate,
    fork_bomb,
    method,
    run,
    send_and_return,
    start,
    wait_gone,
)

from softquery.sandbox import Limits, memory_error_message
from softquery.sandbox import parent as sandbox_module
from softquery.sandbox.cgroups import JobCgroups

__all__ = ["method"]  # the fixture, shared with test_sandbox


class _Evil:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def send_evil_pickle(conn: Connection, payload: Any) -> None:
    conn.send_bytes(pickle.dumps(("result", _Evil(payload))))
    conn.send(("after", 1))


@pytest.fixture
def no_cgroups(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(name: str, pid: int, max_processes: int | None, memory_mb: int | None) -> JobCgroups:
        group = JobCgroups(None, None)
        group.problems = ["cgroups switched off by the test"]
        return group

    monkeypatch.setattr(sandbox_module.JobCgroups, "create", staticmethod(unavailable))


@pytest.mark.parametrize("how", ["bytearray", "list"])
def test_memory_limit_with_rlimit_as(no_cgroups: None, method: str, how: str) -> None:
    sandbox = start(allocate, how, method, SMALL)
    assert sandbox.enforcement["memory"] == "RLIMIT_AS above the child's start size"
    info, messages = run(sandbox)
    assert info.status == "memory_limit" and info.exit_code == 1
    assert info.message == memory_error_message(SMALL)
    stderr = "".join(m[1] for m in messages if m[0] == "stderr")
    assert "MemoryError" in stderr and memory_error_message(SMALL) in stderr


def test_runs_without_cgroups_and_says_what_is_not_enforced(no_cgroups: None, method: str) -> None:
    sandbox = start(send_and_return, 7, method, Limits(memory_mb=300, max_processes=20))
    expected = "RLIMIT_NPROC of its own user" if os.geteuid() == 0 else "RLIMIT_NPROC"
    assert sandbox.enforcement["processes"] == expected
    info, messages = run(sandbox)
    assert info.status == "ok" and ("got", 7) in messages


def test_untrusted_pickle_is_refused(method: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    info, messages = run(start(send_evil_pickle, str(marker), method))
    assert info.status == "ok"
    assert not marker.exists()
    refused = [m for m in messages if m[0] == "invalid_message"]
    assert len(refused) == 1 and "system" in refused[0][1]
    assert ("after", 1) in messages


@pytest.mark.skipif(os.geteuid() != 0, reason="a server that is not root cannot give jobs their own user")
def test_fork_loop_is_stopped_by_rlimit_nproc_of_the_jobs_own_user(no_cgroups: None, method: str) -> None:
    """As root RLIMIT_NPROC is not enforced; a job's own user makes it work without cgroups."""
    info, messages = run(start(fork_bomb, "raised", method))
    forked = [m[1] for m in messages if m[0] == "forked"]
    assert info.status == "process_limit", info
    assert 10 <= len(forked) < 20
    assert wait_gone(forked, 2.0) == []


def send_half_a_message(conn: Connection, payload: Any) -> None:
    import struct

    os.write(conn.fileno(), struct.pack("!i", 1000) + b"x" * 10)  # 10 of 1000 bytes, then nothing
    time.sleep(600)


def announce_a_huge_message(conn: Connection, payload: Any) -> None:
    import struct

    os.write(conn.fileno(), struct.pack("!i", 2**31 - 1))
    conn.send(("after", 1))
    time.sleep(600)


def test_a_half_sent_message_does_not_stall_the_supervisor(method: str) -> None:
    sandbox = start(send_half_a_message, None, method)
    try:
        got: list[Any] = []
        reader = threading.Thread(target=lambda: got.extend(sandbox.receive(0.5)), daemon=True)
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), "receive() blocked on a half-sent message"
        assert got == []
        sandbox.kill("stopped")
        info = sandbox.wait(5)
        assert info is not None and info.status == "stopped"
    finally:
        sandbox.close()


def test_a_message_larger_than_the_child_could_hold_is_refused(method: str) -> None:
    sandbox = start(announce_a_huge_message, None, method)
    try:
        deadline = time.monotonic() + 10
        messages: list[Any] = []
        while not any(m[0] == "invalid_message" for m in messages):
            assert time.monotonic() < deadline, messages
            messages += sandbox.receive(0.1)
        refused = [m for m in messages if m[0] == "invalid_message"]
        assert "2,147,483,647 bytes" in refused[0][1]
        assert ("after", 1) not in messages  # nothing more is read from that child
    finally:
        sandbox.close()
