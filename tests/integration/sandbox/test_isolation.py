"""Isolation of a sandbox child: its own user, no network, hidden files, a private folder.

Each check has its control: the same probe without isolation (or without hiding) does
reach what the isolated child cannot.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest
from tests.integration.sandbox.test_sandbox import SMALL, run

from softquery.sandbox import Isolation, Limits, Sandbox
from softquery.sandbox.namespaces import UID_FIRST, UID_LAST

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a user of its own needs a parent running as root")


def limits(**isolation: Any) -> Limits:
    return Limits(wall_seconds=SMALL.wall_seconds, memory_mb=SMALL.memory_mb, max_processes=SMALL.max_processes,
                  max_file_mb=SMALL.max_file_mb, isolation=Isolation(**isolation))


def _outcome(action: Any) -> Any:
    try:
        return ("ok", action())
    except Exception as exc:  # noqa: BLE001 - the probe reports what happened
        return ("refused", type(exc).__name__)


def identity(conn: Connection, payload: Any) -> None:
    conn.send({"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
               "home": os.environ.get("HOME"), "tmpdir": os.environ.get("TMPDIR"), "cwd": os.getcwd()})
    conn.recv()  # stay alive until the test has looked at both children


def reads(conn: Connection, payload: Any) -> None:
    def read(path: str) -> Any:
        return sorted(os.listdir(path)) if os.path.isdir(path) else Path(path).read_text()

    conn.send({path: _outcome(lambda p=path: read(p)) for path in payload})


def connects(conn: Connection, payload: Any) -> None:
    conn.send(_outcome(lambda: socket.create_connection(("127.0.0.1", payload), timeout=2).close()))


def imports(conn: Connection, payload: Any) -> None:
    import isolation_probe_module  # type: ignore[import-not-found]  # found only through the exposed way

    conn.send((isolation_probe_module.VALUE, _outcome(lambda: sorted(os.listdir(payload)))))


def writes_home(conn: Connection, payload: Any) -> None:
    target = Path(os.environ["HOME"], "scratch.txt")
    target.write_text("mine")
    conn.send((target.read_text(), _outcome(lambda: Path(sys.prefix, "not-yours").write_text("x"))))


def first_message(sandbox: Sandbox, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in sandbox.receive(0.1):
            if not (isinstance(message, tuple) and message[0] in ("stdout", "stderr")):
                return message
    raise AssertionError(f"no message within {seconds}s")


def results(sandbox: Sandbox) -> list[Any]:
    info, messages = run(sandbox)
    assert info.status == "ok", (info, messages)
    return [m for m in messages if not (isinstance(m, tuple) and m[0] in ("stdout", "stderr"))]


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_each_child_runs_as_a_user_of_its_own_in_a_private_folder() -> None:
    first = Sandbox.start(identity, None, limits=limits(), name="one")
    second = Sandbox.start(identity, None, limits=limits(), name="two")
    try:
        seen = [first_message(first), first_message(second)]
        for me, sandbox in zip(seen, (first, second), strict=True):
            assert UID_FIRST <= me["uid"] <= UID_LAST and me["uid"] == me["euid"] == me["gid"]
            assert me["groups"] == []
            assert me["home"] == me["tmpdir"] == me["cwd"] == sandbox.grant.workdir  # type: ignore[union-attr]
            folder = os.stat(me["home"])
            assert folder.st_uid == me["uid"] and stat.S_IMODE(folder.st_mode) == 0o700
        assert seen[0]["uid"] != seen[1]["uid"]
        assert "uid" in first.enforcement["isolation"]
    finally:
        for sandbox in (first, second):
            sandbox.send("done")
            sandbox.close()


def test_without_isolation_the_child_is_the_servers_user() -> None:
    sandbox = Sandbox.start(identity, None, limits=limits(enabled=False), name="plain")
    try:
        assert first_message(sandbox)["uid"] == os.getuid()
        assert sandbox.enforcement["isolation"].startswith("none")
    finally:
        sandbox.send("done")
        sandbox.close()


def test_hidden_folders_and_files_are_empty_even_when_world_readable(open_folder: Path) -> None:
    shared = open_folder
    (shared / "secret.key").write_text("key")
    (shared / "data.db").write_text("rows")
    for path in (shared / "secret.key", shared / "data.db"):
        path.chmod(0o644)
    probe = [str(shared), str(shared / "data.db")]
    hidden = results(Sandbox.start(reads, probe, limits=limits(hide=(str(shared),)), name="hide"))[0]
    assert hidden == {str(shared): ("refused", "PermissionError"),
                      str(shared / "data.db"): ("refused", "PermissionError")}
    one_file = results(Sandbox.start(reads, probe, limits=limits(hide=(str(shared / "data.db"),)),
                                     name="hide-file"))[0]
    assert one_file[str(shared / "data.db")] == ("ok", "")
    assert one_file[str(shared)] == ("ok", ["data.db", "secret.key"])
    plain = results(Sandbox.start(reads, probe, limits=limits(), name="control"))[0]
    assert plain[str(shared / "data.db")] == ("ok", "rows")


def test_no_network(listener: int) -> None:
    isolated = results(Sandbox.start(connects, listener, limits=limits(), name="net"))[0]
    assert isolated == ("refused", "OSError")
    control = results(Sandbox.start(connects, listener, limits=limits(enabled=False), name="net-control"))[0]
    assert control == ("ok", None)


def test_python_behind_a_private_folder_stays_importable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The way to a sys.path entry through a folder others cannot enter (like /root holding
    a pyenv) is rebuilt with only that way; the folder's other entries stay out of reach."""
    private = tmp_path / "private"
    lib = private / "lib"
    lib.mkdir(parents=True)
    private.chmod(0o700)
    lib.chmod(0o755)
    (lib / "isolation_probe_module.py").write_text("VALUE = 42\n")
    (lib / "isolation_probe_module.py").chmod(0o644)
    (private / "neighbour.txt").write_text("not for jobs")
    monkeypatch.syspath_prepend(str(lib))
    value, listing = results(Sandbox.start(imports, str(private), limits=limits(), name="import"))[0]
    assert value == 42
    assert listing == ("ok", ["lib"])


def test_the_child_writes_its_own_folder_but_not_the_python_installation() -> None:
    written, python = results(Sandbox.start(writes_home, None, limits=limits(), name="write"))[0]
    assert written == "mine"
    assert python == ("refused", "PermissionError")
    assert not Path(sys.prefix, "not-yours").exists()


def capabilities(conn: Connection, payload: Any) -> None:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    conn.send({"effective": int(status["CapEff"].strip(), 16), "no_new_privs": status["NoNewPrivs"].strip(),
               "listing": _outcome(lambda: sorted(os.listdir(payload))),
               "network": _outcome(lambda: socket.create_connection(("127.0.0.1", 9), timeout=1).close())})


def test_a_server_that_cannot_switch_users_hides_files_in_a_user_namespace(open_folder: Path) -> None:
    """What a server not running as root does (tried here as root, without the user switch)."""
    home = open_folder / "home"
    home.mkdir()
    (home / "softquery.db").write_text("metadata")
    seen = results(Sandbox.start(capabilities, str(home), limits=limits(own_user=False, hide=(str(home),)),
                                 name="userns"))[0]
    assert seen["effective"] == 0 and seen["no_new_privs"] == "1"
    assert seen["listing"] in (("ok", []), ("refused", "PermissionError"))
    assert seen["network"] == ("refused", "OSError")
