"""End what a killed server or worker left behind on this host.

A job's processes end with it (``softquery.sandbox.pid_namespace``), but a server killed
with ``kill -9`` never runs ``Sandbox.close``: its jobs' cgroup directories
and folders (``softquery-job-<owner>-*``) stay, and where the kernel refused a
PID namespace so may processes of the jobs' users. Both are named after their
owner (``softquery.sandbox.owner_tags``), so whoever comes back on this host finds
those of owners that are gone, without asking the metadata DB — which could
not help anyway: a run is marked abandoned by any server or worker, on any
host, and only this host can end its processes. ``end_leftovers`` runs when a server
or worker starts and after it marks runs abandoned.

Leftovers of an owner that is gone: every process in its jobs' cgroups and
every process of its jobs' users (a user of its own, which no live job has:
never the server's user), then the cgroups and the folders.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import time
from pathlib import Path

from softquery.sandbox import cgroups
from softquery.sandbox.namespaces import UID_FIRST, UID_LAST, workdir_base
from softquery.sandbox.owner_tags import owner_alive

log = logging.getLogger(__name__)
FOLDER = re.compile(r"softquery-job-(\d+@\d+)-.+")
KILL_SECONDS = 2.0


def _folders(base: Path) -> tuple[list[Path], set[int]]:
    """Job folders of owners that are gone, and the users of every other job folder."""
    stale: list[Path] = []
    live_uids: set[int] = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir(base):
            if not entry.name.startswith("softquery-job-") or not entry.is_dir(follow_symlinks=False):
                continue
            match = FOLDER.fullmatch(entry.name)
            if match and not owner_alive(match.group(1)):
                stale.append(Path(entry.path))
            else:
                with contextlib.suppress(OSError):
                    live_uids.add(entry.stat(follow_symlinks=False).st_uid)
    return stale, live_uids


def _job_user(folder: Path) -> int | None:
    """The user of its own that the folder's job ran as, if any (never this process's)."""
    try:
        uid = folder.lstat().st_uid
    except OSError:
        return None
    return uid if UID_FIRST <= uid <= UID_LAST and uid != os.geteuid() else None


def processes_of(uid: int) -> list[int]:
    """Live processes with ``uid`` as any of their user ids (``/proc/PID/status``, which a
    process cannot hide the way it hides the owner of ``/proc/PID`` by being non-dumpable)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if not fields.get("State", "").strip().startswith(("Z", "X")) and \
                str(uid) in fields.get("Uid", "").split():
            found.append(int(entry))
    return found


def _end_processes(uid: int, base: Path) -> int:
    """SIGKILL the processes of ``uid`` until none is left, unless a live job has (since)
    taken that user: its folder is made before any of its processes becomes the user,
    so looking at the folders after listing the processes never kills one of a live job."""
    deadline = time.monotonic() + KILL_SECONDS
    ended: set[int] = set()
    while (pids := processes_of(uid)) and uid not in _folders(base)[1]:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        ended.update(pids)
        if time.monotonic() > deadline:
            log.error("processes %s of user %d did not end", pids, uid)
            break
        time.sleep(0.01)
    return len(ended)


def end_leftovers() -> list[str]:
    """End and remove the leftovers of this host's servers and workers that are gone;
    returns what was done (also logged)."""
    done: list[str] = []
    for base in cgroups.bases():
        for path, removed in cgroups.remove_stale(base, KILL_SECONDS).items():
            done.append(f"{'removed' if removed else 'could not remove'} cgroup {path}")
    folders = Path(workdir_base())
    stale, _ = _folders(folders)
    for uid in sorted({uid for folder in stale if (uid := _job_user(folder)) is not None}):
        if ended := _end_processes(uid, folders):
            done.append(f"ended {ended} process(es) of user {uid}")
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
        done.append(f"removed job folder {folder}")
    for line in done:
        log.warning("leftovers of a killed server or worker: %s", line)
    return done
