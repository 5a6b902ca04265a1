"""Starting the job forkserver ahead (a one-shot `softquery train`/`predict` starts it
before importing its commands) and ending one that was not needed after all
(``softquery.sandbox.forkserver.start_forkserver`` / ``stop_forkserver``), and what a
sandbox records of its start (``Sandbox.startup``). Nothing sleeps: waits poll with a deadline."""

from __future__ import annotations

import os
import time
from multiprocessing.connection import Connection
from typing import Any

from tests.integration.harness import wait_for

from softquery.sandbox import Limits, Sandbox, start_forkserver, stop_forkserver
from softquery.sandbox.forkserver import forkserver_asked_at

LIMITS = Limits(wall_seconds=60.0, memory_mb=300, max_processes=20, max_file_mb=100)


def send_pid(conn: Connection, payload: Any) -> None:
    conn.send(("pid", os.getpid()))


def forkservers() -> list[int]:
    """The forkserver processes this process started (its children running the forkserver)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if parent == os.getpid() and b"multiprocessing.forkserver import main" in command:
            found.append(int(entry))
    return found


def one_forkserver() -> int:
    """The one forkserver this process started. Polled: multiprocessing forks it and returns
    before its exec, and until then /proc shows the forked copy's command line (this one's)."""
    found: list[int] = wait_for(forkservers, 10, "the forkserver's process")
    assert len(found) == 1, found
    return found[0]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def run(sandbox: Sandbox, seconds: float = 60.0) -> list[Any]:
    deadline = time.monotonic() + seconds
    messages: list[Any] = []
    try:
        while sandbox.wait(0) is None:
            assert time.monotonic() < deadline, f"job still running after {seconds}s"
            messages += sandbox.receive(0.05)
        return messages + sandbox.receive(0.05)
    finally:
        sandbox.close()


def test_a_forkserver_started_ahead_can_be_ended_at_once_and_a_later_job_starts_a_new_one() -> None:
    stop_forkserver()  # whatever earlier tests in this process left running
    assert forkservers() == [] and forkserver_asked_at() is None
    before = time.time()
    start_forkserver()  # returns without waiting for its imports
    pid = one_forkserver()
    asked = forkserver_asked_at()
    assert asked is not None and before <= asked <= time.time()
    stop_forkserver()  # ended (killed even halfway through its imports) and reaped
    assert not alive(pid) and forkservers() == []
    assert forkserver_asked_at() is None
    messages = run(Sandbox.start(send_pid, None, limits=LIMITS, name="after-stop"))
    assert any(isinstance(m, tuple) and m[0] == "pid" for m in messages), messages
    again = one_forkserver()
    assert again != pid


def test_a_sandbox_records_when_its_forkserver_and_it_were_asked_for_and_started() -> None:
    stop_forkserver()
    start_forkserver()
    asked = forkserver_asked_at()
    sandbox = Sandbox.start(send_pid, None, limits=LIMITS, name="startup")
    run(sandbox)
    startup = sandbox.startup
    assert startup["forkserver"] == asked
    assert asked is not None and startup["asked"] is not None and startup["started"] is not None
    assert asked <= startup["asked"] <= startup["started"]
    second = Sandbox.start(send_pid, None, limits=LIMITS, name="startup-2")  # the same forkserver
    run(second)
    assert second.startup["forkserver"] == asked
