"""Model code tries to reach local servers through their Unix sockets, and fails.

The attack the review found: a network namespace does not stop a Unix socket, which is a
file. Model code connected to PostgreSQL through ``/tmp/.s.PGSQL.*`` and
``/var/run/postgresql``; with initdb's default ``trust`` for local connections it became
superuser. Here a real PostgreSQL started that way listens in those two folders and in
one elsewhere on the machine; a job (its own user, or a user namespace as a server that
is not root has) tries each socket with psycopg. The control: without isolation the very
same code is superuser.
"""

from __future__ import annotations

import multiprocessing.forkserver
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from tests.integration.sandbox.test_isolation import _outcome, limits, results
from tests.pgserver import PG_USER, PostgresServer, PostgresUnavailable

from softquery.sandbox import Sandbox, prepare_forkserver

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a user of its own needs a parent running as root")

RUN_DIR = "/var/run/postgresql"
MODES = {"own user": {}, "user namespace": {"own_user": False}}


def _postgres_folder(path: Path) -> None:
    shutil.chown(path, user=PG_USER, group=PG_USER)
    path.chmod(0o2775)


@pytest.fixture(scope="module")
def trusting_pg() -> Iterator[tuple[PostgresServer, list[str]]]:
    """A real PostgreSQL with initdb's ``trust`` for local connections, listening in /tmp,
    /var/run/postgresql and a folder elsewhere (on its own free port, TCP on 127.0.0.1)."""
    made_run_dir = not os.path.isdir(RUN_DIR)
    if made_run_dir:
        os.makedirs(RUN_DIR)
        _postgres_folder(Path(RUN_DIR))
    elsewhere = Path(tempfile.mkdtemp(prefix="softquery-sockets-", dir="/var/lib"))
    _postgres_folder(elsewhere)
    folders = ["/tmp", RUN_DIR, str(elsewhere)]  # noqa: S108 - where PostgreSQL's sockets go
    server = PostgresServer(socket_dirs=folders, local_trust=True)
    try:
        server.start()
    except PostgresUnavailable as exc:
        server.stop()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server, folders
    finally:
        server.stop()
        shutil.rmtree(elsewhere, ignore_errors=True)
        if made_run_dir:
            shutil.rmtree(RUN_DIR, ignore_errors=True)


def become_superuser(conn: Connection, payload: Any) -> None:
    """What the review's model did: psycopg through each socket, then ask who it is."""
    import psycopg

    port, folders = payload

    def superuser(folder: str) -> str:
        with psycopg.connect(host=folder, port=port, user=PG_USER, dbname="postgres", connect_timeout=2) as db:
            row = db.execute("select current_setting('is_superuser')").fetchone()
            return f"superuser={row[0] if row else None}"

    conn.send({folder: _outcome(lambda f=folder: superuser(f)) for folder in folders})


def connect_unix(conn: Connection, payload: Any) -> None:
    def connect(path: str) -> None:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(path)

    conn.send({path: _outcome(lambda p=path: connect(p)) for path in payload})


@pytest.mark.parametrize("mode", MODES)
def test_model_code_cannot_reach_postgresql_through_its_unix_sockets(
        trusting_pg: tuple[PostgresServer, list[str]], mode: str) -> None:
    server, folders = trusting_pg
    seen = results(Sandbox.start(become_superuser, (server.port, folders), limits=limits(**MODES[mode]),
                                 name="pg-socket"))[0]
    assert {folder: outcome for folder, outcome in seen.items() if outcome[0] == "ok"} == {}
    sockets = [server.socket_path(folder) for folder in folders]
    raw = results(Sandbox.start(connect_unix, sockets, limits=limits(**MODES[mode]), name="raw-socket"))[0]
    assert raw == {sockets[0]: ("refused", "FileNotFoundError"),  # a fresh /tmp
                   sockets[1]: ("refused", "FileNotFoundError"),  # a fresh /run
                   sockets[2]: ("refused", "ConnectionRefusedError")}  # covered where it is


def test_without_isolation_the_same_code_is_superuser(trusting_pg: tuple[PostgresServer, list[str]]) -> None:
    """The control: the attack is real, so the test above can fail."""
    server, folders = trusting_pg
    seen = results(Sandbox.start(become_superuser, (server.port, folders), limits=limits(enabled=False),
                                 name="pg-socket-control"))[0]
    assert seen == {folder: ("ok", "superuser=on") for folder in folders}


@pytest.mark.parametrize("mode", MODES)
def test_model_code_cannot_reach_the_forkserver(mode: str) -> None:
    """The forkserver starts every job child, outside any sandbox: a job that could talk to
    it (a user namespace is the server's own user) would get a process of the server."""
    prepare_forkserver()
    address = multiprocessing.forkserver._forkserver._forkserver_address  # type: ignore[attr-defined]
    assert isinstance(address, str) and os.path.exists(address)
    seen = results(Sandbox.start(connect_unix, [address], limits=limits(**MODES[mode]), name="forkserver"))[0]
    assert seen[address][0] == "refused", seen
