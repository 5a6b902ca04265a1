"""Who model code runs as, and what it can reach: the mechanism behind ``Isolation``
(``softquery.sandbox.limits``; what to hide is the caller's policy).

Limits bound how much a job child may use; isolation bounds what it may touch.
Model code is an editor's Python: without isolation it would run as the
server's OS user and could open the metadata DB, read the secret key and talk
to every service on the machine. So, before the child runs any model code:

* **Own user.** When the server runs as root, the child switches to a user id
  of its own (``UID_FIRST``…``UID_LAST``, one no live process has), with no
  supplementary groups. It cannot read the server's files (the home is 0700),
  signal or trace the server or another job, or write the Python installation.
* **Own mount namespace.** softquery's home (metadata DB, secret key, demo
  data), the metadata DB file and every file data source are covered by an
  empty read-only tmpfs (a file by ``/dev/null``). Directories on the way to
  the Python installation that the child's user could not traverse (``/root``
  with a pyenv in it) are replaced by a tmpfs that holds only that way through.
* **No network.** An empty network namespace: no PostgreSQL, Redis or internet.
* **Own shared folders, no Unix sockets.** A fresh ``/tmp``, ``/var/tmp``,
  ``/dev/shm`` and ``/run`` in memory that counts against the job's memory limit and
  goes with it, and every listening Unix socket covered
  (``softquery.sandbox.private_mounts``).
* **Own working directory.** A fresh 0700 directory (``HOME``, ``TMPDIR`` and
  the working directory), removed with the sandbox; it stays on disk and is bound
  into the private ``/tmp`` at its usual path.
* **Own PID namespace.** Every process model code starts ends with the job,
  detached daemons too (``softquery.sandbox.pid_namespace``).

A server that is not root cannot change user: the child then enters a user
namespace of its own (same steps without the user switch, capabilities
dropped, not dumpable), and runs as the server's user without them when the
kernel refuses one — with a warning at the top of the run's log.
``SOFTQUERY_ISOLATION=off`` turns all of this off (for debugging only).

``prepare`` runs in the parent once the child's pid is known; ``enter`` runs
in the child after its limits are set and before the job's target.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import stat
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from softquery.sandbox import pid_namespace, private_mounts
from softquery.sandbox.cgroups import pid_alive
from softquery.sandbox.limits import Isolation
from softquery.sandbox.mount_calls import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
)
from softquery.sandbox.mount_calls import check as _check
from softquery.sandbox.mount_calls import libc as _libc
from softquery.sandbox.mount_calls import mount as _mount
from softquery.sandbox.owner_tags import owner_tag

UID_FIRST, UID_LAST = 61184, 65519  # the range systemd hands to dynamic users
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
UNMOUNTED = ("the home, data files and Unix sockets are protected by permissions only, and /tmp, "
             "/var/tmp, /dev/shm and /run are shared with other jobs")


@dataclass(frozen=True)
class Grant:
    """What the parent prepared for one child: sent to it with the "go"."""

    uid: int | None            # None: not root, stay the server's user (user namespace)
    workdir: str
    hide: tuple[str, ...]
    expose: tuple[str, ...]    # paths the child must still read (the Python installation)
    parent_pid: int = 0
    notes: list[str] = field(default_factory=list)
    private_size_mb: int | None = None  # the fresh /tmp, /var/tmp, /dev/shm and /run together
    sockets: tuple[str, ...] = ()  # Unix sockets listening when the child started: covered


def _uids_in_use() -> set[int]:
    used: set[int] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                used.add(os.stat(f"/proc/{entry}").st_uid)
    return used


def pick_uid(pid: int) -> int:
    """A uid in the range that no live process has, starting from one derived from ``pid``."""
    span = UID_LAST - UID_FIRST + 1
    used = _uids_in_use()
    for step in range(span):
        uid = UID_FIRST + (pid + step) % span
        if uid not in used:
            return uid
    return UID_FIRST + pid % span


def python_paths() -> tuple[str, ...]:
    """What model code needs to read: the interpreter, the standard library, site-packages,
    softquery itself and everything else on sys.path."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(v for v in sysconfig.get_paths().values() if v)
    paths.update(p for p in sys.path if p and os.path.isabs(p))
    paths.add(str(Path(__file__).resolve().parents[2]))  # the directory holding the softquery package
    return tuple(sorted(p for p in paths if os.path.exists(p)))


def workdir_base() -> str:
    """Where job folders are made (``softquery.sandbox.leftovers`` looks for them there too)."""
    base = tempfile.gettempdir()
    mode = os.stat(base).st_mode
    return base if mode & stat.S_IXOTH and mode & stat.S_ISVTX else "/tmp"  # noqa: S108


def refuse_tracing() -> None:
    """Make this process non-dumpable: a job child that stays the server's user (a user
    namespace) then cannot read its memory, environment or files through /proc/PID.
    Called by the server's sandbox parent and, at import, by the forkserver."""
    if os.geteuid() != 0:
        _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def prepare(isolation: Isolation, pid: int, memory_mb: int | None = None) -> Grant | None:
    """In the parent: pick the child's uid and make its working directory; ``memory_mb``
    bounds the child's private /tmp, /var/tmp, /dev/shm and /run together."""
    if not isolation.enabled:
        return None
    uid = pick_uid(pid) if os.geteuid() == 0 and isolation.own_user else None
    if uid is None:
        refuse_tracing()
    # named after its owner: a server that comes back removes the folders of one that was killed
    workdir = tempfile.mkdtemp(prefix=f"softquery-job-{owner_tag()}-", dir=workdir_base())
    if uid is not None:
        os.chown(workdir, uid, uid)
    os.chmod(workdir, 0o700)
    return Grant(uid=uid, workdir=workdir, hide=isolation.hide, expose=python_paths(), parent_pid=os.getpid(),
                 private_size_mb=memory_mb, sockets=private_mounts.listening_sockets())


def release(grant: Grant | None) -> None:
    """In the parent, after the child is gone."""
    if grant is not None:
        shutil.rmtree(grant.workdir, ignore_errors=True)


# -- in the child ----------------------------------------------------------------------
def _others_can_enter(path: str) -> bool:
    return bool(os.stat(path).st_mode & stat.S_IXOTH)


class _Expose:
    """Make each needed path reachable for a user that is neither owner nor group:
    a directory on the way that others cannot enter becomes a tmpfs holding only
    bind mounts of the entries on the way (taken from the original through an fd)."""

    def __init__(self) -> None:
        self.originals: dict[str, int] = {}
        self.kept: set[str] = set()

    def _cover(self, directory: str) -> None:
        self.originals[directory] = os.open(directory, os.O_PATH | os.O_DIRECTORY)
        _mount("softquery-way", directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k")

    def _keep(self, directory: str, name: str) -> None:
        target = os.path.join(directory, name)
        if target in self.kept:
            return
        original = f"/proc/self/fd/{self.originals[directory]}/{name}"
        if os.path.isdir(original):
            os.mkdir(target)
        else:
            Path(target).touch()
        _mount(original, target, None, MS_BIND | MS_REC)
        self.kept.add(target)

    def path(self, wanted: str) -> None:
        current = "/"
        for name in Path(wanted).parts[1:]:
            if current not in self.originals and not _others_can_enter(current):
                self._cover(current)
            if current in self.originals:
                self._keep(current, name)
            current = os.path.join(current, name)

    def close(self) -> None:
        for fd in self.originals.values():
            os.close(fd)


def _hide(paths: tuple[str, ...], expose: tuple[str, ...], notes: list[str]) -> None:
    for path in paths:
        if not os.path.lexists(path):
            continue
        real = os.path.realpath(path)
        if any(e == real or e.startswith(real.rstrip("/") + "/") for e in expose):
            notes.append(f"{path} holds the Python installation or the job's folder and stays visible")
            continue
        if os.path.isdir(real):
            _mount("softquery-hidden", real, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "mode=0000,size=4k")
        else:
            _mount("/dev/null", real, None, MS_BIND)


def _unshare(flags: int, what: str) -> None:
    _check(_libc.unshare(flags), what)


def _own_mounts(grant: Grant, notes: list[str]) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the server's view
    private_mounts.make_private(grant.private_size_mb, grant.expose + (grant.workdir,))
    expose = _Expose()
    try:
        if grant.uid is not None:
            for path in grant.expose + (grant.workdir,):
                expose.path(path)
    finally:
        expose.close()
    _hide(grant.hide, grant.expose + (grant.workdir,), notes)
    notes += private_mounts.close_sockets(grant.sockets)


def _switch_user(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # every capability is gone with uid 0


def _user_namespace() -> None:
    uid, gid = os.getuid(), os.getgid()
    _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET, "a user namespace")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")


def _drop_capabilities() -> None:
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "dropping capabilities")


def enter(grant: Grant) -> list[str]:
    """In the child, before model code: returns warnings for the run's log (none when
    every layer is in place). Raises when the server is root and the child could not
    leave root: model code never runs as root."""
    notes: list[str] = list(grant.notes)
    if grant.uid is not None:
        try:
            _unshare(CLONE_NEWNS, "a mount namespace")
            _own_mounts(grant, notes)
        except OSError as exc:
            notes.append(f"{UNMOUNTED} ({exc})")
        try:
            _unshare(CLONE_NEWNET, "a network namespace")
        except OSError as exc:
            notes.append(f"model code can reach the network ({exc})")
        pid_namespace.unshare(notes)  # while still root: every process of the job ends with it
        _switch_user(grant.uid)
    else:
        try:
            _user_namespace()
        except OSError as exc:
            notes.append("model code runs as the server's OS user and can reach what the server can "
                         f"(the kernel refused a user namespace: {exc}); run softquery as root "
                         "or allow unprivileged user namespaces to isolate it")
        else:
            try:
                _own_mounts(grant, notes)
            except OSError as exc:
                notes.append(f"{UNMOUNTED} ({exc})")
            pid_namespace.unshare(notes)  # while it has the namespace's capabilities
            _drop_capabilities()  # raises rather than run model code with them
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    # Same user as the server (user namespace): no process of that user may trace or read it.
    # Its own user: nobody else has it, and /proc/self stays readable for the job itself.
    _libc.prctl(PR_SET_DUMPABLE, 0 if grant.uid is None else 1, 0, 0, 0)
    _libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # a change of user clears it
    if grant.parent_pid and not pid_alive(grant.parent_pid):
        os._exit(70)
    os.chdir(grant.workdir)
    for name in ("HOME", "TMPDIR", "TEMP", "TMP"):
        os.environ[name] = grant.workdir
    tempfile.tempdir = None
    return notes


def describe(grant: Grant | None) -> str:
    if grant is None:
        return "none: SOFTQUERY_ISOLATION is off"
    if grant.uid is None:
        return "user namespace: no network, home hidden, own /tmp, /dev/shm and /run (server not root)"
    return f"uid {grant.uid}, no network, home and data files hidden, own /tmp, /dev/shm and /run"


__all__ = ["Grant", "Isolation", "describe", "enter", "prepare", "release"]
