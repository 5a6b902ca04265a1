"""The home is its owner's alone whatever the umask (services/home_privacy.py): `softquery init`
run for real under umask 022 makes the folder 0700 and every file 0600, and the next start of
the CLI, `serve` or `worker` repairs a home that others can read, saying what it changed."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.cli.test_serve_access import serve

from softquery.config import Settings
from softquery.errors import SoftqueryError
from softquery.services.home import init_home
from softquery.services.home_privacy import secure_home

ROOT = Path(__file__).resolve().parents[3]


def softquery(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `softquery` command in a new process under umask 022."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SOFTQUERY_DATABASE_URL", "SOFTQUERY_SECRET_KEY", "SOFTQUERY_QUEUE")}
    return subprocess.run(
        [sys.executable, "-m", "softquery.cli.main", *args], capture_output=True, text=True, timeout=120,
        cwd=ROOT, umask=0o022, env={**clean, **(env or {}), "SOFTQUERY_HOME": str(home)})


def modes(home: Path) -> dict[str, str]:
    """``{path relative to home ("." for the home): "0600"}`` for the home and all in it."""
    found = {".": f"{stat.S_IMODE(home.stat().st_mode):04o}"}
    for path in home.rglob("*"):
        found[str(path.relative_to(home))] = f"{stat.S_IMODE(path.lstat().st_mode):04o}"
    return found


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home made by `softquery init` and `softquery demo` under umask 022 (once)."""
    home = tmp_path_factory.mktemp("privacy") / "home"
    for command in ("init", "demo"):
        done = softquery(home, command)
        assert done.returncode == 0, done.stderr
        assert "could be read by other users" not in done.stderr  # nothing to repair: made private
    return home


@pytest.fixture
def made(template: Path, tmp_path: Path) -> Path:
    """A copy of the template home, modes and all."""
    home = tmp_path / "home"
    shutil.copytree(template, home)
    os.chmod(home, stat.S_IMODE(template.stat().st_mode))
    return home


def test_init_and_demo_under_umask_022_make_a_private_home(made: Path) -> None:
    found = modes(made)
    assert {"softquery.db", "secret.key", "demo.db"} <= set(found), found
    assert found == {name: "0700" if name == "." else "0600" for name in found}
    # SQLite gives the metadata DB's -wal and -shm the DB file's own mode, whatever the umask
    old = os.umask(0o022)
    try:
        conn = sqlite3.connect(made / "softquery.db")
        conn.execute("pragma journal_mode=wal")
        conn.execute("create table probe (x)")
        conn.commit()
        journals = modes(made)
        conn.close()
    finally:
        os.umask(old)
    assert {"softquery.db-wal", "softquery.db-shm"} <= set(journals), journals
    assert journals == {name: "0700" if name == "." else "0600" for name in journals}


def _expose(home: Path) -> None:
    """As a umask-022 home of an older softquery: others may read everything."""
    os.chmod(home, 0o755)
    for name in ("softquery.db", "secret.key", "demo.db"):
        os.chmod(home / name, 0o644)


@pytest.mark.parametrize("command", [("model", "list"), ("init",), ("worker", "--burst")],
                         ids=["cli", "init", "worker"])
def test_the_next_start_repairs_a_home_others_can_read(made: Path, command: tuple[str, ...]) -> None:
    _expose(made)
    # worker: the repair comes first; then it cannot reach this queue (nothing listens there)
    done = softquery(made, *command, env={"SOFTQUERY_QUEUE": "redis://127.0.0.1:9/0"})
    message = " ".join(done.stderr.split())
    assert "the home could be read by other users of this machine; made it private" in message, done.stderr
    assert f"{made} 0755 -> 0700" in message and f"{made / 'softquery.db'} 0644 -> 0600" in message
    assert f"{made / 'secret.key'} 0644 -> 0600" in message and f"{made / 'demo.db'} 0644 -> 0600" in message
    if command != ("worker", "--burst"):
        assert done.returncode == 0, done.stderr
    found = modes(made)
    assert found == {name: "0700" if name == "." else "0600" for name in found}
    if command == ("model", "list"):
        again = softquery(made, "model", "list")  # private now: nothing more to say
        assert again.returncode == 0 and "could be read" not in again.stderr, again.stderr


def test_serve_repairs_a_home_others_can_read(made: Path, tmp_path: Path) -> None:
    _expose(made)
    _, out = serve(made, tmp_path / "serve.log", {})
    assert f"made it private (folder 0700, files 0600):\n  {made} 0755 -> 0700" in out, out
    found = modes(made)
    assert found == {name: "0700" if name == "." else "0600" for name in found}


def test_a_home_softquery_cannot_repair_is_refused(made: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of another user (root can change any, so the refusal of chmod is simulated)."""
    os.chmod(made / "secret.key", 0o644)

    def refuse(path: object, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted", str(path))

    monkeypatch.setattr(os, "chmod", refuse)
    with pytest.raises(SoftqueryError) as refused:
        secure_home(Settings(home=made))
    assert refused.value.code == "home_not_private"
    assert f"{made / 'secret.key'} can be read by other users of this machine (mode 0644)" in refused.value.message
    assert f"chmod -R go-rwx {made}" in refused.value.message


def test_a_metadata_file_kept_elsewhere_is_private_too(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'meta' / 'softquery.db'}")
    (tmp_path / "meta").mkdir()
    old = os.umask(0o022)
    try:
        init_home(settings)
    finally:
        os.umask(old)
    db = tmp_path / "meta" / "softquery.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    os.chmod(db, 0o644)
    assert secure_home(settings) == [f"{db} 0644 -> 0600"]
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
