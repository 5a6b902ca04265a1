"""Which server or worker a job's cgroups and folder belong to, and whether it still lives.

A job's cgroup directories and working folder carry its owner's tag,
``<pid>@<start time>`` (the start time in clock ticks since boot, from
``/proc/PID/stat``). A pid alone is not enough: a server restarted in a
container often gets the pid of the one that was killed, and its leftovers
would then look alive forever.
"""

from __future__ import annotations

import os
import re

TAG = re.compile(r"(\d+)@(\d+)")


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # a zombie has ended: only its exit status is left
        return None
    return int(fields[19])  # field 22 of stat; fields[0] is field 3


def owner_tag(pid: int | None = None) -> str:
    """The tag of ``pid`` (this process by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}@{start_time(pid) or 0}"


def owner_alive(tag: str) -> bool:
    """True while the process that made ``tag`` (``<pid>@<start>``) is running."""
    match = TAG.fullmatch(tag)
    if match is None:
        return True  # not ours to judge
    return start_time(int(match.group(1))) == int(match.group(2))
