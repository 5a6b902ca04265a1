"""Each job's own /tmp, /var/tmp and /dev/shm: nothing in them is seen by another job or
outlives the job, and what it keeps there counts against its memory limit.

The review's attack: a job wrote those folders (1 GiB of RAM stayed in /dev/shm after its
run) and the next job, of another uid, read what it had left.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from tests.integration.harness import wait_for
from tests.integration.sandbox.test_isolation import _outcome, first_message, limits, results
from tests.integration.sandbox.test_sandbox import output, run
from tests.integration.sandbox.test_sandbox_fallbacks import no_cgroups

from softquery.sandbox import Isolation, Limits, Sandbox

__all__ = ["no_cgroups"]  # the fixture, shared with test_sandbox_fallbacks
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a user of its own needs a parent running as root")

SHARED = ("/tmp", "/var/tmp", "/dev/shm")  # noqa: S108 - the folders under test
MODES = {"own user": {}, "user namespace": {"own_user": False}}
MB = 1024 * 1024


# -- targets (module level so the forkserver child can unpickle them) -------------
def leave_files(conn: Connection, payload: Any) -> None:
    """Write a world-readable file into each shared folder, say where, and stay."""
    for path in payload:
        Path(path).write_text("left by the first job")
        os.chmod(path, 0o644)
    conn.send(("wrote", os.getpid()))
    conn.recv()


def look_for(conn: Connection, payload: Any) -> None:
    paths, first_pid = payload
    through_proc = [f"/proc/{first_pid}/root{path}" for path in paths]
    conn.send({path: _outcome(lambda p=path: Path(p).read_text()) for path in [*paths, *through_proc]})


def fill_shm(conn: Connection, payload: Any) -> None:
    """Write ``megabytes`` into /dev/shm and report; with ``stay``, then wait until told."""
    megabytes, stay = payload
    chunk = b"x" * (16 * MB)
    with open("/dev/shm/filled", "wb") as f:  # noqa: S108 - the folder under test
        for _ in range(megabytes // 16):
            f.write(chunk)
    conn.send(("wrote", megabytes))
    if stay:
        conn.recv()


# -- helpers -------------------------------------------------------------------------
@pytest.fixture
def marked() -> Iterator[list[str]]:
    """One file name per shared folder, unique to the test, removed from the machine after it
    (the files only ever reach the machine's folders when isolation fails)."""
    paths = [f"{folder}/softquery-left-{uuid.uuid4().hex}" for folder in SHARED]
    yield paths
    for path in paths:
        Path(path).unlink(missing_ok=True)


def shmem_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Shmem line in /proc/meminfo")


# -- tests -------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_another_job_never_sees_what_a_job_left_and_nothing_outlives_it(marked: list[str], mode: str) -> None:
    first = Sandbox.start(leave_files, marked, limits=limits(**MODES[mode]), name="leaves")
    try:
        assert first_message(first)[0] == "wrote"
        # While the first job still runs, the second looks in the folders and through /proc.
        seen = results(Sandbox.start(look_for, (marked, first.pid), limits=limits(**MODES[mode]),
                                     name="looks"))[0]
        assert {path: outcome for path, outcome in seen.items() if outcome[0] == "ok"} == {}
        for path in marked:  # nor does the server see it
            assert not os.path.lexists(path), path
        first.send("done")
        info, _ = run(first)
        assert info.status == "ok", info
    finally:
        first.close()
    for path in marked:
        assert not os.path.lexists(path), path
    assert not os.path.exists(first.grant.workdir)  # type: ignore[union-attr]


@pytest.mark.parametrize("cgroups", ["memory cgroup", "without cgroups"])
def test_dev_shm_counts_against_the_memory_limit(request: pytest.FixtureRequest, cgroups: str) -> None:
    """Without a memory cgroup only the size of the private folders bounds what /dev/shm
    holds: there, the machine's /dev/shm took all of it and the run ended 'ok'."""
    if cgroups == "without cgroups":
        request.getfixturevalue("no_cgroups")
    small = Limits(wall_seconds=30.0, memory_mb=200, max_processes=20, max_file_mb=1000, isolation=Isolation())
    try:
        sandbox = Sandbox.start(fill_shm, (400, False), limits=small, name="fill-shm")
        info, messages = run(sandbox)
    finally:
        Path("/dev/shm/filled").unlink(missing_ok=True)  # noqa: S108 - there only when isolation fails
    log = output(messages, "stderr")
    assert info.status == "memory_limit", (info, log[-2000:])
    assert info.message == "The run exceeded its memory limit of 200 MB and was stopped."
    if cgroups == "without cgroups":  # the write failed: the log says where the memory went
        assert "into /tmp, /var/tmp, /dev/shm and /run, which are kept in memory" in log


def test_a_gigabyte_left_in_dev_shm_leaves_the_machines_ram_with_the_job() -> None:
    roomy = Limits(wall_seconds=60.0, memory_mb=1536, max_processes=20, max_file_mb=2048, isolation=Isolation())
    before = shmem_bytes()
    sandbox = Sandbox.start(fill_shm, (1024, True), limits=roomy, name="gigabyte")
    try:
        assert first_message(sandbox, 30.0) == ("wrote", 1024)
        assert shmem_bytes() - before > 900 * MB  # the gigabyte is in RAM while the job runs
        sandbox.send("done")
        info, _ = run(sandbox)
        assert info.status == "ok", info
        wait_for(lambda: shmem_bytes() - before < 256 * MB, 10, "the job's /dev/shm to leave RAM")
    finally:
        sandbox.close()
        Path("/dev/shm/filled").unlink(missing_ok=True)  # noqa: S108 - there only when isolation fails


def test_a_shared_folder_on_sys_path_stays_private(marked: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m softquery…`` started in /tmp puts /tmp on sys.path, the paths a child
    keeps: /tmp itself is not brought back (its sockets and other jobs' files with it)."""
    Path(marked[0]).write_text("the server's")
    monkeypatch.syspath_prepend("/tmp")  # noqa: S108 - the folder under test
    seen = results(Sandbox.start(look_for, (marked[:1], os.getpid()), limits=limits(), name="syspath"))[0]
    assert seen[marked[0]] == ("refused", "FileNotFoundError")
