"""A job child's own /tmp, /var/tmp, /dev/shm and /run, and no way into local servers' Unix sockets.

Those folders are shared by every process of the machine: a job could leave files there
for the next job (of another user) to read, leave RAM taken in /dev/shm after its end, and
find the Unix sockets of local servers in them. A network namespace does not stop a Unix
socket, which is a file: PostgreSQL's ``/tmp/.s.PGSQL.5432`` or
``/var/run/postgresql/.s.PGSQL.5432`` with initdb's default ``trust`` for local connections
makes whoever connects a superuser. So, in the child's own mount namespace:

* **One fresh tmpfs** provides empty ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run`` (and
  ``/var/run`` when it is a folder, not a link to ``/run``), each with its original mode.
  Its size is the job's memory limit and its pages count in the job's memory cgroup; it
  disappears with the job's last process, which is the namespace's last user.
* **What the child needs from them** (its working folder, a Python installation under
  ``/tmp``) is bound back at the same path, with only the way to it.
* **Every Unix socket listening elsewhere** when the job starts (listed by the parent from
  ``/proc/net/unix``) is covered by ``/dev/null``: ``connect()`` is refused. Abstract
  sockets belong to the network namespace, which the child leaves.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from softquery.sandbox.mount_calls import MS_BIND, MS_NODEV, MS_NOSUID, MS_REC, mount

PRIVATE_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/var/run")  # noqa: S108
SO_ACCEPTCON = 0x10000  # the Flags bit of a listening socket in /proc/net/unix
FULL_BELOW_BYTES = 1024 * 1024


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def private_folders() -> list[str]:
    """The shared folders of this machine, resolved, each once, none inside another."""
    found: list[str] = []
    for path in PRIVATE_FOLDERS:
        real = os.path.realpath(path)
        if real != "/" and os.path.isdir(real) and not any(_inside(real, f) or _inside(f, real) for f in found):
            found.append(real)
    return found


def listening_sockets(table: str = "/proc/net/unix") -> tuple[str, ...]:
    """Paths of the Unix sockets listening in this network namespace (read in the parent:
    the child leaves the namespace before it could look)."""
    paths: list[str] = []
    try:
        with open(table) as lines:
            next(lines, None)
            for line in lines:
                fields = line.rstrip("\n").split(None, 7)
                if len(fields) == 8 and int(fields[3], 16) & SO_ACCEPTCON and fields[7].startswith("/"):
                    paths.append(fields[7])
    except (OSError, ValueError):
        return ()
    return tuple(dict.fromkeys(paths))


def _open_kept(folders: list[str], keep: Iterable[str]) -> list[tuple[str, int]]:
    """An O_PATH fd of each path to bring back (taken before the folders are covered).
    A shared folder itself (``/tmp`` on sys.path: ``python -m`` started there) stays fresh."""
    kept: list[tuple[str, int]] = []
    for path in sorted({os.path.realpath(p) for p in keep}, key=len):
        if path in folders or any(_inside(path, k) for k, _ in kept):
            continue
        if any(_inside(path, f) for f in folders):
            try:
                kept.append((path, os.open(path, os.O_PATH)))
            except OSError:
                continue
    return kept


def _bind_back(path: str, fd: int) -> None:
    way = "/"
    for name in os.path.dirname(path).split("/")[1:]:
        way = os.path.join(way, name)
        if not os.path.isdir(way):
            os.mkdir(way)
            os.chmod(way, 0o755)  # only the way: the folder holds nothing else
    original = f"/proc/self/fd/{fd}"
    if os.path.isdir(original):
        os.mkdir(path)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    mount(original, path, None, MS_BIND | MS_REC)


def make_private(size_mb: int | None, keep: Iterable[str]) -> None:
    """In the child, in its own mount namespace: cover the shared folders with one fresh
    tmpfs of ``size_mb`` and bring back the paths in ``keep`` that lie in them."""
    folders = private_folders()
    if not folders:
        return
    kept = _open_kept(folders, keep)
    try:
        modes = [stat.S_IMODE(os.stat(folder).st_mode) for folder in folders]
        stage = folders[0]
        size = f",size={size_mb}m" if size_mb else ""
        mount("softquery-private", stage, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=0700{size}")
        for index, mode in enumerate(modes):
            os.mkdir(f"{stage}/{index}")
            os.chmod(f"{stage}/{index}", mode)
        for index in reversed(range(len(folders))):  # the stage's own folder last: it covers the rest
            mount(f"{stage}/{index}", folders[index], None, MS_BIND)
        for path, fd in kept:
            _bind_back(path, fd)
    finally:
        for _, fd in kept:
            os.close(fd)


def full() -> bool:
    """In the child: True when its private folders have no room left."""
    folders = private_folders()
    if not folders:
        return False
    room = os.statvfs(folders[0])
    return room.f_bavail * room.f_frsize < FULL_BELOW_BYTES


def close_sockets(paths: Iterable[str]) -> list[str]:
    """Cover each Unix socket still visible with /dev/null; returns warnings for the log."""
    notes: list[str] = []
    for path in paths:
        try:
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                continue
        except OSError:  # gone, in a covered folder, or out of the child's reach as well
            continue
        try:
            mount("/dev/null", path, None, MS_BIND)
        except OSError as exc:
            notes.append(f"model code may reach the Unix socket {path} ({exc})")
    return notes
