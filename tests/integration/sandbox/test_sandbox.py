"""The job sandbox against real processes, for both start methods.

Nothing sleeps to wait: every wait polls the sandbox with a deadline.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy  # noqa: F401 - a warm parent: OpenBLAS is loaded before the fork
import pytest
from tests.integration.hostpids import host_ids, host_pid_of

from softquery.sandbox import ExitInfo, Limits, Sandbox, memory_error_message, namespaces

SMALL = Limits(wall_seconds=30.0, memory_mb=300, max_processes=20, max_file_mb=100)


# -- targets (module level so the forkserver child can unpickle them) -------------
def send_and_return(conn: Connection, payload: Any) -> None:
    conn.send(("got", payload))
    conn.send(("pid", os.getpid(), *host_ids()))


def print_everywhere(conn: Connection, payload: Any) -> None:
    print("from python")
    print("to stderr", file=sys.stderr)
    os.write(1, b"from os.write\n")
    libc = ctypes.CDLL(None)
    libc.puts(b"from puts")
    libc.printf(b"from printf %d\n", 42)
    libc.fflush(None)


def print_megabytes(conn: Connection, payload: Any) -> None:
    line = "x" * 1023 + "\n"
    for _ in range(payload // 1024):
        sys.stdout.write(line)
    conn.send("done")


def loop_forever(conn: Connection, payload: Any) -> None:
    while True:
        pass


def allocate(conn: Connection, payload: Any) -> None:
    if payload == "bytearray":
        bytearray(10**10)
    chunks = []
    while True:
        chunks.append(bytearray(10 * 1024 * 1024))
        chunks[-1][::4096] = b"x" * len(chunks[-1][::4096])


def exit_3(conn: Connection, payload: Any) -> None:
    os._exit(3)


def segfault(conn: Connection, payload: Any) -> None:
    ctypes.string_at(0)


def fork_bomb(conn: Connection, payload: Any) -> None:
    while True:
        try:
            pid = os.fork()
        except BlockingIOError:
            if payload == "caught":  # job code that catches errors still exits 0
                return
            raise
        if pid == 0:
            time.sleep(100)
            os._exit(0)
        conn.send(("forked", host_pid_of(pid)))


def start_sleep(conn: Connection, payload: Any) -> None:
    sleeper = subprocess.Popen(["sleep", "100"])
    conn.send(("sleep", host_pid_of(sleeper.pid)))
    sleeper.wait()


def report_environment(conn: Connection, payload: Any) -> None:
    import threadpoolctl

    with open("/proc/self/environ", "rb") as f:
        raw = f.read()
    threads = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()]
    conn.send((dict(os.environ), raw, threads))


def sleep_forever(conn: Connection, payload: Any) -> None:
    conn.send(("pid", os.getpid()))
    time.sleep(1000)


# -- helpers -------------------------------------------------------------------------
@pytest.fixture
def method() -> str:
    """Jobs always start from the forkserver: a fork of this process would copy its
    memory (keys, URLs, sessions) into the process that runs model code."""
    return "forkserver"


def start(target: Any, payload: Any = None, method: str = "forkserver", limits: Limits = SMALL) -> Sandbox:
    sandbox = Sandbox.start(target, payload, limits=limits, name="test")
    assert sandbox.start_method == method
    return sandbox


def run(sandbox: Sandbox, seconds: float = 30.0) -> tuple[ExitInfo, list[Any]]:
    deadline = time.monotonic() + seconds
    messages: list[Any] = []
    try:
        while (info := sandbox.wait(0)) is None:
            assert time.monotonic() < deadline, f"job still running after {seconds}s"
            messages += sandbox.receive(0.05)
        messages += sandbox.receive(0.05)
        return info, messages
    finally:
        sandbox.close()


def output(messages: list[Any], stream: str = "stdout") -> str:
    return "".join(m[1] for m in messages if isinstance(m, tuple) and m[0] == stream)


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := [p for p in pids if not gone(p)]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return left


# -- tests ---------------------------------------------------------------------------
def test_ok_with_messages_in_own_session(method: str) -> None:
    sandbox = start(send_and_return, {"n": 1}, method)
    info, messages = run(sandbox)
    assert info == ExitInfo("ok", 0, None, info.message)
    assert ("got", {"n": 1}) in messages
    _, own_pid, host_pid, group, session = next(m for m in messages if m[0] == "pid")
    # model code is pid 2 of its own PID namespace, under the namespace's init, in the
    # job child's process group and session
    assert (own_pid, group, session) == (2, sandbox.pid, sandbox.pid) and host_pid != sandbox.pid


def test_python_and_c_output_arrive(method: str) -> None:
    info, messages = run(start(print_everywhere, None, method))
    assert info.status == "ok"
    out = output(messages)
    for text in ("from python\n", "from os.write\n", "from puts\n", "from printf 42\n"):
        assert text in out
    assert output(messages, "stderr") == "to stderr\n"


def test_megabytes_of_output_do_not_deadlock(method: str) -> None:
    size = 5 * 1024 * 1024
    info, messages = run(start(print_megabytes, size, method))
    assert info.status == "ok" and "done" in messages
    assert len(output(messages)) == size


def test_output_is_bounded_when_nobody_reads(method: str) -> None:
    sandbox = start(print_megabytes, 5 * 1024 * 1024, method)
    try:
        info = sandbox.wait(30)
        assert info is not None and info.status == "ok"
        messages = sandbox.receive(0)
        assert "done" in messages
        assert len(output(messages)) <= 1024 * 1024
        assert "characters of output were dropped" in output(messages, "stderr")
    finally:
        sandbox.close()


def test_time_limit(method: str) -> None:
    limits = Limits(wall_seconds=1.0, memory_mb=300, max_processes=20)
    sandbox = start(loop_forever, None, method, limits)
    deadline = time.monotonic() + 10
    while not sandbox.deadline_passed():
        assert time.monotonic() < deadline
        sandbox.receive(0.05)
    sandbox.kill("time_limit")
    info = sandbox.wait(2)
    elapsed = time.monotonic() - sandbox.started
    sandbox.close()
    assert info is not None and info.status == "time_limit"
    assert info.message == "The run exceeded its time limit of 1 seconds and was stopped."
    assert elapsed < 1.0 + 2.0


@pytest.mark.parametrize("how", ["bytearray", "list"])
def test_memory_limit(method: str, how: str) -> None:
    info, messages = run(start(allocate, how, method, SMALL))
    assert info.status == "memory_limit", (info, output(messages, "stderr"))
    assert info.message == memory_error_message(SMALL)
    assert "300 MB" in info.message


def test_os_exit_code(method: str) -> None:
    info, _ = run(start(exit_3, None, method))
    assert (info.status, info.exit_code, info.signal) == ("exited", 3, None)
    assert "code 3" in info.message


def test_interpreter_crash(method: str) -> None:
    info, _ = run(start(segfault, None, method))
    assert (info.status, info.signal) == ("signal", signal.SIGSEGV)
    assert "SIGSEGV" in info.message


@pytest.mark.parametrize("error", ["raised", "caught"])
def test_fork_loop_hits_process_limit_and_leaves_nothing(method: str, error: str) -> None:
    sandbox = start(fork_bomb, error, method)
    info, messages = run(sandbox)
    forked = [m[1] for m in messages if m[0] == "forked"]
    assert info.status == "process_limit", info
    assert "20 processes" in info.message
    assert 10 <= len(forked) < 20
    assert wait_gone(forked, 2.0) == []


def test_stop_ends_whole_group_within_2s(method: str) -> None:
    sandbox = start(start_sleep, None, method)
    deadline = time.monotonic() + 10
    messages: list[Any] = []
    while not any(m[0] == "sleep" for m in messages):
        assert time.monotonic() < deadline
        messages += sandbox.receive(0.05)
    sleeper = next(m[1] for m in messages if m[0] == "sleep")
    began = time.monotonic()
    sandbox.kill("stopped")
    assert wait_gone([sandbox.pid, sleeper], 2.0 - (time.monotonic() - began)) == []
    info = sandbox.wait(1)
    sandbox.close()
    assert info is not None and info.status == "stopped"
    assert time.monotonic() - began < 2.0


def test_environment_scrubbed_and_blas_pinned(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTQUERY_SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("SOFTQUERY_DATABASE_URL", "postgresql://u:pw@h/db")
    monkeypatch.setenv("WAREHOUSE_API_TOKEN", "tok")
    info, messages = run(start(report_environment, None, method))
    assert info.status == "ok"
    environ, raw, threads = next(m for m in messages if isinstance(m[0], dict))
    for name in ("SOFTQUERY_SECRET_KEY", "SOFTQUERY_DATABASE_URL", "WAREHOUSE_API_TOKEN"):
        assert name not in environ
    assert b"do-not-leak" not in raw and b"pw@h" not in raw
    assert environ["PATH"] == os.environ["PATH"]
    assert environ["OMP_NUM_THREADS"] == environ["OPENBLAS_NUM_THREADS"] == "1"
    assert threads and set(threads) == {1}


def test_close_removes_cgroups_and_is_idempotent(method: str) -> None:
    sandbox = start(sleep_forever, None, method)
    dirs = sandbox.cgroups.dirs()
    if os.geteuid() == 0:
        assert sandbox.enforcement == {"memory": "cgroup v1 memory", "processes": "cgroup v1 pids",
                                       "isolation": namespaces.describe(sandbox.grant)}
        assert len(dirs) == 2 and all(d.is_dir() for d in dirs)
        assert all(str(sandbox.pid) in (d / "cgroup.procs").read_text().split() for d in dirs)
    assert sandbox.grant is not None and os.path.isdir(sandbox.grant.workdir)
    sandbox.close()
    sandbox.close()
    assert not any(d.exists() for d in dirs)
    assert not os.path.exists(sandbox.grant.workdir)
    assert gone(sandbox.pid)
    info = sandbox.wait(0)
    assert info is not None and info.status == "stopped"
