"""Per-job cgroup v1 directories (pids and memory), created by the parent.

Each job gets ``<controller mount><our own cgroup>/softquery/<name>-<owner>-<its pid>``
(``<owner>`` is our ``<pid>@<start time>``, see ``softquery.sandbox.owner_tags``):
nested under the cgroup this service already runs in, so a job never escapes
the limits and accounting the service itself is under. A controller that is
not mounted or not writable is simply absent (``None``); the caller falls
back to rlimits and says so. cgroup v2 controllers are not used (they need a
delegated subtree, which a process sitting in its own cgroup cannot enable).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from pathlib import Path

from softquery.sandbox.owner_tags import owner_alive, owner_tag

SUBTREE = "softquery"
STALE = re.compile(r"-(\d+@\d+|\d+)-\d+$")  # <owner>-<child>; a bare pid before owner tags


def _mounts() -> dict[str, Path]:
    found: dict[str, Path] = {}
    with contextlib.suppress(OSError), open("/proc/self/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[2] == "cgroup":
                for option in parts[3].split(","):
                    found.setdefault(option, Path(parts[1]))
    return found


def _own_paths() -> dict[str, str]:
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError), open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(","):
                paths[controller] = path
    return paths


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _counter(path: Path, key: str) -> int:
    for line in _read(path).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_gone(name: str) -> bool:
    match = STALE.search(name)
    if match is None:
        return False
    owner = match.group(1)
    return not (owner_alive(owner) if "@" in owner else pid_alive(int(owner)))


def remove_stale(base: Path, timeout: float = 2.0) -> dict[Path, bool]:
    """End the processes of job cgroups whose owner died before close(), then remove
    the cgroups; returns each one found and whether it is gone.

    Only the owner's death makes a cgroup stale: a live owner may not have
    read the OOM and fork counters of its finished job yet.
    """
    found: dict[Path, bool] = {}
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if entry.is_dir() and _owner_gone(entry.name):
                found[entry] = _kill_and_remove(entry, timeout)
    return found


def _rmtree_cgroup(path: Path) -> None:
    """rmdir a cgroup and any empty cgroups nested in it (fails if processes remain)."""
    for inner, _, _ in sorted(os.walk(path), reverse=True):
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(inner)


def bases() -> list[Path]:
    """Where this process makes its jobs' cgroups (one per mounted pids/memory controller)."""
    mounts, own = _mounts(), _own_paths()
    return [mounts[c] / own.get(c, "/").lstrip("/") / SUBTREE for c in ("pids", "memory") if c in mounts]


def _procs(path: Path) -> set[int]:
    found: set[int] = set()
    for inner, _, _ in os.walk(path):
        found.update(int(x) for x in _read(Path(inner) / "cgroup.procs").split() if x.isdigit())
    return found


def _kill_and_remove(path: Path, timeout: float) -> bool:
    """SIGKILL every process in the cgroup ``path`` until it is empty, then remove it."""
    deadline = time.monotonic() + timeout
    while True:
        for pid in _procs(path):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):  # EBUSY until the killed processes have exited
            _rmtree_cgroup(path)
        if not path.exists():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


class JobCgroups:
    """The pids and memory cgroups of one job (either may be missing)."""

    def __init__(self, pids: Path | None, memory: Path | None):
        self.pids, self.memory = pids, memory
        self.problems: list[str] = []

    @classmethod
    def create(cls, name: str, pid: int, max_processes: int | None, memory_mb: int | None) -> JobCgroups:
        mounts, own = _mounts(), _own_paths()
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:64] or "job"
        made: dict[str, Path | None] = {"pids": None, "memory": None}
        problems: list[str] = []
        wanted = {"pids": max_processes, "memory": memory_mb}
        for controller, value in wanted.items():
            if value is None:
                continue
            if controller not in mounts:
                problems.append(f"no cgroup v1 {controller} controller mounted")
                continue
            base = mounts[controller] / own.get(controller, "/").lstrip("/") / SUBTREE
            path = base / f"{safe}-{owner_tag()}-{pid}"
            try:
                for attempt in range(3):  # another job's close() may rmdir base meanwhile
                    try:
                        path.mkdir(parents=True)
                        break
                    except FileNotFoundError:
                        if attempt == 2:
                            raise
                remove_stale(base)
                if controller == "pids":
                    (path / "pids.max").write_text(str(value))
                else:
                    limit = str(int(value) * 1024 * 1024)
                    (path / "memory.limit_in_bytes").write_text(limit)
                    with contextlib.suppress(OSError):  # absent without swap accounting
                        (path / "memory.memsw.limit_in_bytes").write_text(limit)
                (path / "cgroup.procs").write_text(str(pid))
                made[controller] = path
            except OSError as exc:
                problems.append(f"cgroup {controller} not usable at {path}: {exc.strerror or exc}")
                with contextlib.suppress(OSError):
                    path.rmdir()
        group = cls(made["pids"], made["memory"])
        group.problems = problems
        return group

    def dirs(self) -> list[Path]:
        return [p for p in (self.pids, self.memory) if p is not None]

    def processes(self) -> set[int]:
        pids: set[int] = set()
        for path in self.dirs():
            pids.update(int(x) for x in _read(path / "cgroup.procs").split() if x.isdigit())
        return pids

    def signal_all(self, sig: int) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def oom_killed(self) -> bool:
        return self.memory is not None and _counter(self.memory / "memory.oom_control", "oom_kill") > 0

    def memory_at_limit(self) -> bool:
        if self.memory is None:
            return False
        failcnt = _read(self.memory / "memory.failcnt").strip()
        return failcnt.isdigit() and int(failcnt) > 0

    def forks_refused(self) -> bool:
        return self.pids is not None and _counter(self.pids / "pids.events", "max") > 0

    def remove(self, timeout: float = 2.0) -> None:
        """SIGKILL whatever is left, then remove the directories (idempotent)."""
        deadline = time.monotonic() + timeout
        while self.dirs():
            self.signal_all(signal.SIGKILL)
            for attr in ("pids", "memory"):
                path: Path | None = getattr(self, attr)
                if path is None:
                    continue
                try:
                    _rmtree_cgroup(path)
                except OSError:
                    continue
                setattr(self, attr, None)
                with contextlib.suppress(OSError):  # last job out removes softquery/
                    path.parent.rmdir()
            if time.monotonic() > deadline:
                self.problems.append(f"cgroups not removed: {self.dirs()}")
                return
            if self.dirs():
                time.sleep(0.01)
