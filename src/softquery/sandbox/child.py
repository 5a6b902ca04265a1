"""The child side of a sandbox (its one entry, ``child_main``): everything between
fork and the end of target.

Order matters: own session, die with the parent, fds, environment, rlimits,
then wait for the parent's "go" (sent once the child is in its cgroups, with
its isolation grant), then isolation (own user, mounts, no network, a PID
namespace for its children) while the child is still single-threaded, then the
limits the cgroups could not provide, then the namespace's init and model code
under it (``softquery.sandbox.pid_namespace``), then thread pools, then target.
The child always leaves through ``os._exit``: the parent's atexit handlers
and finalizers (database connections, servers) must never run here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import threadpoolctl

from softquery.sandbox import environment, namespaces, pid_namespace, private_mounts
from softquery.sandbox.cgroups import pid_alive
from softquery.sandbox.limits import Limits, memory_error_message, private_folders_full_message

PR_SET_PDEATHSIG = 1
EXIT_PARENT_GONE = 70
_libc = ctypes.CDLL(None, use_errno=True)


def _neuter_inherited_fds(keep: set[int]) -> None:
    """Point every inherited fd (DB sockets, other jobs' pipes) at /dev/null.

    Closing them would let a later open() reuse the number under a Python
    object that still thinks it owns it; /dev/null keeps the number taken.
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    keep = keep | {0, 1, 2, devnull}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd in keep:
            continue
        try:
            os.fstat(fd)
        except OSError:
            continue
        os.dup2(devnull, fd, inheritable=False)
    os.dup2(devnull, 0)
    os.close(devnull)


def _redirect_output(out_fd: int, err_fd: int) -> None:
    for target_fd, fd in ((1, out_fd), (2, err_fd)):
        os.dup2(fd, target_fd)
        os.close(fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115


def _set_limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def _virtual_size() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _tasks_of_user(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                continue
    return count


def _fallback_limits(limits: Limits, memory_cgroup: bool, pids_cgroup: bool, own_user: bool) -> None:
    if limits.memory_mb is not None and not memory_cgroup:
        # A warm child starts with the parent's whole address space (numpy,
        # pandas, pyarrow, OpenBLAS buffers: hundreds of MB of mostly shared
        # or untouched mappings), so the budget is added on top of that.
        _set_limit(resource.RLIMIT_AS, _virtual_size() + limits.memory_mb * 1024 * 1024)
    if limits.max_processes is not None and not pids_cgroup and os.geteuid() != 0:
        # RLIMIT_NPROC counts every task of the user: a user of its own has only the
        # job's; the server's user has others, so the cap goes on top of those.
        others = 0 if own_user else _tasks_of_user(os.getuid())
        _set_limit(resource.RLIMIT_NPROC, others + limits.max_processes
                   + (pid_namespace.HELPERS if pid_namespace.prepared() else 0))


def _report(exc: BaseException) -> tuple[str, int]:
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None or isinstance(code, int):
            return "exited", int(code or 0)
        print(code, file=sys.stderr)
        return "exited", 1
    traceback.print_exception(exc)
    if isinstance(exc, MemoryError):
        return "memory", 1
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN and "fork" in "".join(
            traceback.format_tb(exc.__traceback__)):
        return "processes", 1
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return "file_size", 1
    return "exception", 1


def _leave(control: Connection, report: str, code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - nothing left to tell
            pass
    _libc.fflush(None)
    try:
        control.send_bytes(report.encode())
    except Exception:  # noqa: BLE001 - parent gone
        pass
    os._exit(code)


def child_main(target: Callable[[Connection, Any], None], payload: Any, conn: Connection,
               out_w: Connection, err_w: Connection, control: Connection, limits: Limits,
               parent_pid: int) -> None:
    """Entry point in the child for both start methods; never returns."""
    try:
        os.setsid()
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if not pid_alive(parent_pid):
            os._exit(EXIT_PARENT_GONE)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        out_fd, err_fd = os.dup(out_w.fileno()), os.dup(err_w.fileno())
        _neuter_inherited_fds({conn.fileno(), control.fileno(), out_fd, err_fd})
        _redirect_output(out_fd, err_fd)
        environment.apply(limits.threads)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits.max_file_mb is not None:
            _set_limit(resource.RLIMIT_FSIZE, limits.max_file_mb * 1024 * 1024)
        if limits.wall_seconds is not None:  # backstop if the supervisor is stuck
            _set_limit(resource.RLIMIT_CPU, int(limits.wall_seconds * (os.cpu_count() or 1)) + 10)
        try:
            go = control.recv()
        except (EOFError, OSError):
            os._exit(EXIT_PARENT_GONE)
        if go.get("refuse"):
            print(go["refuse"], file=sys.stderr)
            _leave(control, "setup_failed", 71)
        if go.get("grant") is not None:
            for note in namespaces.enter(go["grant"]):
                print(f"softquery: warning: {note}", file=sys.stderr)
        grant = go.get("grant")
        _fallback_limits(limits, bool(go.get("memory_cgroup")), bool(go.get("pids_cgroup")),
                         own_user=grant is not None and grant.uid is not None)
        pid_namespace.enter()  # from here on: model code, under its namespace's init
        # After isolation: pinning the pools starts BLAS/OpenMP threads, and a user
        # namespace can only be entered by a single-threaded process.
        pools = threadpoolctl.threadpool_limits(limits.threads)
    except BaseException:  # noqa: BLE001 - setup failed: say why, then leave
        traceback.print_exc()
        _leave(control, "setup_failed", 71)
    try:
        target(conn, payload)
        report, code = "returned", 0
    except MemoryError as exc:
        report, code = _report(exc)
        print(memory_error_message(limits), file=sys.stderr)
    except BaseException as exc:  # noqa: BLE001 - the child decides its exit code here
        report, code = _report(exc)
        if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC and grant is not None
                and grant.private_size_mb is not None and private_mounts.full()):
            report = "memory"  # the private /tmp, /dev/shm … are memory, bounded by the limit
            print(private_folders_full_message(limits), file=sys.stderr)
    del pools
    _leave(control, report, code)
