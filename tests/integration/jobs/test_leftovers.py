"""Nothing of a job outlives it: not a daemon its model code starts, not a server's kill.

The attack: ``train()`` double-forks a daemon (own session, parent 1) that keeps writing.
``kill -9`` of the server must take it along (every process of a job is in a PID namespace
of its own), and the server or worker that comes back removes what the killed one left:
the job's cgroups and its folder.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, pid_alive, wait_for
from tests.integration.jobs.test_executors import create, submit
from tests.integration.sandbox.test_sandbox import output, run, start
from tests.integration.sandbox.test_sandbox_fallbacks import no_cgroups

from softquery.domain import RunStatus
from softquery.sandbox import Isolation, Limits, Sandbox, cgroups, leftovers, namespaces
from softquery.sandbox.owner_tags import owner_tag

__all__ = ["no_cgroups"]  # the fixture, shared with test_sandbox_fallbacks
System = tuple[JobSystem, SoftqueryCLI, Path]
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="a job's own user needs a server running as root")

DAEMON = '''
import os, time

class Model:
    def train(self, X, y):
        if os.fork() == 0:  # a double fork: the daemon leaves the job's process group
            os.setsid()
            if os.fork() == 0:
                print("DAEMON", os.readlink("/proc/self"), os.getuid(), os.getcwd(), flush=True)
                while True:
                    with open("beat", "a") as fh:
                        fh.write("x")
                    time.sleep(0.05)
            os._exit(0)
        os.wait()
        time.sleep(600)

    def predict(self, X):
        return [0.0] * len(X)
'''


def user_processes(uid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uids = re.search(r"^Uid:(.*)$", status, re.M)
        if uids and str(uid) in uids.group(1).split() and "\nState:\tZ" not in status:
            found.append(int(entry))
    return found


def job_cgroups(pid: int) -> list[Path]:
    mounts = {}
    for line in Path("/proc/mounts").read_text().splitlines():
        _, where, kind, options, *_ = line.split()
        if kind == "cgroup":
            mounts.update({option: where for option in options.split(",")})
    found = []
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        found += [Path(mounts[c], path.lstrip("/")) for c in controllers.split(",")
                  if c in ("pids", "memory") and c in mounts and f"/{cgroups.SUBTREE}/" in path]
    return found


@pytest.fixture
def daemons() -> Iterator[list[int]]:
    """Pids to kill after the test, should a daemon survive (the test then failed)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


@root_only
def test_a_daemon_dies_with_a_killed_server_and_the_next_one_clears_the_rest(
        system: System, tmp_path: Path, daemons: list[int]) -> None:
    jobs, cli, db = system
    create(cli, tmp_path, "daemon", DAEMON)
    run_id = submit(cli, "train", "daemon")
    line = wait_for(lambda: re.search(r"^DAEMON (\d+) (\d+) (\S+)$", jobs.run(run_id).stdout, re.M), 60,
                    "the daemon to report")
    pid, uid, folder = int(line.group(1)), int(line.group(2)), Path(line.group(3))
    daemons.append(pid)
    dirs = job_cgroups(pid)
    assert len(dirs) == 2 and all(d.is_dir() for d in dirs)
    assert folder.name.startswith("softquery-job-") and os.stat(folder).st_uid == uid
    wait_for(lambda: (folder / "beat").exists(), 5, "the daemon to write")

    jobs.kill_all(signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 5, "the daemon to die with the server")
    wait_for(lambda: user_processes(uid) == [], 5, "every process of the job's user to end")

    jobs.start()
    run = jobs.wait_finished(run_id, 30)
    assert run.status is RunStatus.FAILED and run.error_code == "abandoned"
    wait_for(lambda: not any(d.exists() for d in dirs), 5, "the killed server's job cgroups to be removed")
    wait_for(lambda: not folder.exists(), 5, "the killed server's job folder to be removed")
    assert user_processes(uid) == []


# -- the sandbox alone ------------------------------------------------------------
def daemonize(conn: Connection, payload: Any) -> None:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            print("DAEMON", os.readlink("/proc/self"), flush=True)
            os.execvp("sleep", ["sleep", "60"])  # a detached process
        os._exit(0)
    os.wait()  # and return: the job ends


def test_a_daemon_ends_with_its_job_without_cgroups(no_cgroups: None, daemons: list[int]) -> None:
    """Nothing but the job's PID namespace kills it here: no cgroup, not in the process group."""
    info, messages = run(start(daemonize))
    assert info.status == "ok", (info, output(messages, "stderr"))
    pid = int(re.search(r"DAEMON (\d+)", output(messages)).group(1))  # type: ignore[union-attr]
    daemons.append(pid)
    wait_for(lambda: not pid_alive(pid), 2, "the daemon to end with its job")


def signal_server(conn: Connection, payload: Any) -> None:
    try:
        os.kill(payload, 0)
    except OSError as exc:
        conn.send(("refused", type(exc).__name__))
    else:
        conn.send(("signalled", payload))


@pytest.mark.parametrize("own_user", [True, False])
def test_model_code_cannot_signal_the_server_even_as_its_user(own_user: bool) -> None:
    """As the server's own user (a user namespace, as when the server is not root) too:
    the server has no pid in the job's PID namespace."""
    limits = Limits(wall_seconds=30.0, memory_mb=300, isolation=Isolation(own_user=own_user))
    info, messages = run(Sandbox.start(signal_server, os.getpid(), limits=limits, name="signal"))
    assert info.status == "ok", (info, output(messages, "stderr"))
    assert ("refused", "ProcessLookupError") in messages


# -- what the next server finds ----------------------------------------------------
def _dead_owner() -> str:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return f"{proc.pid}@1"


def _sleeper(uid: int = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "60"], user=uid or None, group=uid or None)


@root_only
def test_end_leftovers_ends_processes_and_removes_cgroups_and_folders_of_dead_owners() -> None:
    """Where the kernel gave no PID namespace: leftovers are ended by cgroup and by user."""
    base = Path(namespaces.workdir_base())
    dead, alive = _dead_owner(), owner_tag()
    stale_uid = namespaces.pick_uid(1)
    stale = Path(tempfile.mkdtemp(prefix=f"softquery-job-{dead}-", dir=base))
    os.chown(stale, stale_uid, stale_uid)
    by_user = _sleeper(stale_uid)
    live_uid = namespaces.pick_uid(2)
    live = Path(tempfile.mkdtemp(prefix=f"softquery-job-{alive}-", dir=base))
    os.chown(live, live_uid, live_uid)
    live_job = _sleeper(live_uid)
    # a pid now running something else (a restarted container's server has the killed one's pid)
    reused = Path(tempfile.mkdtemp(prefix=f"softquery-job-{os.getpid()}@1-", dir=base))
    group_dirs = []
    in_group = _sleeper()
    for where in cgroups.bases():
        group_dirs.append(where / f"test-{dead}-{in_group.pid}")
        group_dirs[-1].mkdir(parents=True)
        (group_dirs[-1] / "cgroup.procs").write_text(str(in_group.pid))
    try:
        done = leftovers.end_leftovers()
        assert by_user.wait(5) == -signal.SIGKILL
        assert not stale.exists()
        assert f"removed job folder {stale}" in done
        assert not reused.exists()
        if group_dirs:
            assert in_group.wait(5) == -signal.SIGKILL
            assert not any(d.exists() for d in group_dirs)
        # a live owner's job keeps its processes and folder
        assert live_job.poll() is None and live.is_dir()
    finally:
        for proc in (by_user, live_job, in_group):
            proc.kill()
            proc.wait()
        for folder in (live, stale, reused):
            shutil.rmtree(folder, ignore_errors=True)
        for d in group_dirs:
            if d.exists():
                d.rmdir()
