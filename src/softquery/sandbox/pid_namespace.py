"""Every process of a job in a PID namespace of its own, so that none outlives the job.

A process that model code starts and detaches (a double fork, ``setsid``) leaves
the job's process group, and once its parent has exited the host's init adopts
it: neither the job child's death signal nor ``killpg`` reaches it, and a
killed server would leave it running. In a PID namespace of its own, the
kernel kills every process in the namespace when the namespace's init ends,
whatever they did to detach::

    forkserver
      └ job child      the sandbox's pid; waits, then exits as model code did
          └ init       pid 1 of the namespace: adopts and reaps orphans
              └ model code   pid 2; all it starts stays in the namespace

The job child dies with the forkserver (its death signal), the forkserver
with the server, init with the job child (its death signal), and with init
everything in the namespace. The job child leaves with model code's exit
status or signal, so the supervisor sees what it saw without a namespace;
model code gets the sandbox's SIGTERM (the job child and init ignore it) and
the SIGKILL after the grace ends all three. Model code sees pids of its own
namespace (``os.getpid()`` is 2) and cannot signal any process outside it.

``unshare`` runs in the job child while it still has the privileges to make
the namespace (``softquery.sandbox.namespaces.enter``); ``enter`` forks init and
model code afterwards and returns only in model code.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import select
import signal
import struct
from typing import NoReturn

CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1
HELPERS = 2  # processes a job has besides model code's own: init and the job child above it
EXIT_PARENT_GONE = 70
EXIT_LOST = 72  # init lost model code without its exit status (cannot happen)
_libc = ctypes.CDLL(None, use_errno=True)


class _State:
    """Whether this process made a namespace for its children. Set only in a job child (a
    fresh fork of the forkserver, which never calls ``unshare``); the kernel cannot tell:
    ``/proc/self/ns/pid_for_children`` is unreadable until the namespace has a process."""

    unshared = False


def unshare(notes: list[str]) -> None:
    """Put the processes this one forks from now on into a new PID namespace. Until then
    this process cannot start a thread (the kernel refuses it): ``enter`` comes next."""
    if _libc.unshare(CLONE_NEWPID) != 0:
        reason = os.strerror(ctypes.get_errno())
        notes.append(f"a process that model code starts in the background can outlive the job "
                     f"(no PID namespace: {reason})")
        return
    _State.unshared = True


def prepared() -> bool:
    """True when this process's children go into a PID namespace of their own."""
    return _State.unshared


def enter() -> None:
    """Fork the namespace's init and, under it, model code; returns only in model code.
    Does nothing when ``unshare`` did not make a namespace."""
    if not prepared():
        return
    _State.unshared = False
    status_r, status_w = os.pipe()  # init → job child: model code's wait status
    alive_r, alive_w = os.pipe()  # EOF at init's end once the job child is gone
    init = os.fork()
    if init:
        os.close(status_w)
        os.close(alive_r)
        _job_child(init, status_r, alive_w)
    os.close(status_r)
    os.close(alive_w)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if select.select([alive_r], [], [], 0)[0]:  # the job child died before the line above
        os._exit(EXIT_PARENT_GONE)
    model = os.fork()
    if model:
        _init(model, status_w)
    os.close(status_w)
    os.close(alive_r)


def _keep_only(*fds: int) -> None:
    """Close every other fd: the job's pipes and sockets stay with model code alone."""
    top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    top = top if top != resource.RLIM_INFINITY else 1 << 20
    low = 0
    for fd in sorted(fds):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, top)


def _job_child(init: int, status_r: int, alive_w: int) -> NoReturn:
    _keep_only(status_r, alive_w)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    _, status = os.waitpid(init, 0)
    data = os.read(status_r, 4)
    _leave_as(struct.unpack("i", data)[0] if len(data) == 4 else status)


def _init(model: int, status_w: int) -> NoReturn:
    _keep_only(status_w)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(EXIT_LOST)
        if pid == model:  # leaving ends the namespace: the kernel kills what is left in it
            os.write(status_w, struct.pack("i", status))
            os._exit(0)


def _leave_as(status: int) -> NoReturn:
    """Exit with the wait status ``status``: the same code, or the same signal."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
