"""Pids as the test sees them, from inside a job.

Model code runs in a PID namespace of its own (``softquery.sandbox.pid_namespace``):
``os.getpid()`` there is not the pid the test, outside, can look at or kill.
``/proc`` is still the host's, so a job can find the host's pid of a process.
"""

from __future__ import annotations

import os


def host_pid() -> int:
    """This process's pid outside its PID namespace."""
    return int(os.readlink("/proc/self"))


def host_ids() -> tuple[int, int, int]:
    """(pid, process group, session) of this process, outside its PID namespace."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return host_pid(), int(fields[2]), int(fields[3])


def host_pid_of(ns_pid: int) -> int:
    """The host's pid of ``ns_pid``, a process of this process's own PID namespace."""
    mine = os.readlink("/proc/self/ns/pid")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != mine:
                continue
            with open(f"/proc/{entry}/status") as f:
                nspid = next(line for line in f if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if int(nspid.split()[-1]) == ns_pid:
            return int(entry)
    raise LookupError(f"no process {ns_pid} in this PID namespace")
