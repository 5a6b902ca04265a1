"""An editor's model code tries to take over the server, and fails.

The attack the review found: ``train()`` opened ``$SOFTQUERY_HOME/softquery.db`` and
made its author an admin. Here the same model also tries to read the secret key, the
server's environment and memory, to signal the server, to write the Python
installation, and to reach the metadata PostgreSQL and Redis over the network. With
isolation (the default) every attempt fails and the run itself succeeds; with
``SOFTQUERY_ISOLATION=false`` the very same code does escalate (the control: the test
can fail).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tests import authkit
from tests.api.conftest import train_now
from tests.security.world import acting

from softquery.config import Settings
from softquery.domain.accounts import Role
from softquery.services import models as models_svc
from softquery.services.context import open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a user of its own needs a server running as root")

ATTACK = '''
import json, os, socket, sqlite3

HOME, SERVER, PREFIX, SERVICES, USER_ID = {home!r}, {server!r}, {prefix!r}, {services!r}, {user_id!r}

def attempt(name, action):
    try:
        result = action()
    except Exception as exc:
        return name, "blocked: " + type(exc).__name__
    return name, "DONE: " + repr(result)[:80]

def promote():
    db = sqlite3.connect("file:" + HOME + "/softquery.db?mode=rw", uri=True, timeout=2)
    db.execute("update users set role = 'admin' where id = ?", (USER_ID,))
    db.commit()
    return db.total_changes

def read(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        raise PermissionError("empty")
    return len(data)

def connect(port):
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    return port

def write_python():
    with open(os.path.join(PREFIX, "softquery-was-here"), "w") as f:
        f.write("x")
    return PREFIX

class Model:
    def train(self, X, y):
        found = dict([
            attempt("promote", promote),
            attempt("secret_key", lambda: read(HOME + "/secret.key")),
            attempt("demo_data", lambda: read(HOME + "/demo.db")),
            attempt("server_environ", lambda: read("/proc/%d/environ" % SERVER)),
            attempt("server_memory", lambda: read("/proc/%d/mem" % SERVER)),
            attempt("server_root", lambda: os.listdir("/proc/%d/root%s" % (SERVER, HOME))),
            attempt("signal_server", lambda: os.kill(SERVER, 0)),
            attempt("write_python", write_python),
        ] + [attempt("connect_" + name, lambda port=port: connect(port)) for name, port in SERVICES.items()])
        print("FINDINGS " + json.dumps(found), flush=True)
        self.mean = float(sum(y)) / len(y)

    def predict(self, X):
        return [self.mean] * len(X)
'''


def _findings(stdout: str) -> dict[str, str]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("FINDINGS "))
    found: dict[str, str] = json.loads(line.removeprefix("FINDINGS "))
    return found


def _attack(tmp_path: Path, services: dict[str, int], **settings: Any) -> tuple[dict[str, str], str]:
    home = tmp_path / "home"
    config = Settings(home=home, serving_workers=1, **settings)
    init_home(config)
    ctx = open_context(config)
    try:
        create_demo(ctx)
        ed = authkit.user(ctx, "ed", Role.EDITOR)
        as_ed = acting(ctx, ed)
        models_svc.duplicate_model(as_ed, "house_quality", "ed_model")
        code = ATTACK.format(home=str(home), server=os.getpid(), prefix=sys.prefix, services=services,
                             user_id=ed.id)
        models_svc.update_model(as_ed, "ed_model", models_svc.ModelSpec(code=code))
        train_now(as_ed, "ed_model")
        run = ctx.runs.list("ed_model", None, 1)[0]
        return _findings(run.stdout), ctx.users.get("ed").role.value
    finally:
        ctx.close()
        Path(sys.prefix, "softquery-was-here").unlink(missing_ok=True)


def _port(url: str) -> int:
    from sqlalchemy.engine import make_url

    return int(make_url(url).port or 0)


def test_model_code_cannot_escalate(tmp_path: Path, pg_url: str, redis_url: str) -> None:
    services = {"postgresql": _port(pg_url), "redis": _port(redis_url)}
    found, role = _attack(tmp_path, services)
    assert role == "editor"
    assert {name: outcome for name, outcome in found.items() if not outcome.startswith("blocked")} == {}
    assert set(found) == {"promote", "secret_key", "demo_data", "server_environ", "server_memory",
                          "server_root", "signal_server", "write_python", "connect_postgresql",
                          "connect_redis"}


def test_without_isolation_the_same_code_escalates(tmp_path: Path, pg_url: str) -> None:
    """The control: the attack is real, so the test above can fail."""
    found, role = _attack(tmp_path, {"postgresql": _port(pg_url)}, isolation=False)
    assert role == "admin"
    for name in ("promote", "secret_key", "server_environ", "signal_server", "connect_postgresql"):
        assert found[name].startswith("DONE"), (name, found[name])


MEMORY_SCAN = '''
class Model:
    def train(self, X, y):
        needle = {reversed_secret!r}[::-1].encode()  # built here: the code holds no copy
        hits = 0
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if "r" not in perms:
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                try:
                    mem.seek(start)
                    hits += mem.read(end - start).count(needle)
                except (OSError, ValueError, OverflowError):
                    continue
        print("COPIES", hits - 1, flush=True)  # the needle itself is one
        self.mean = float(sum(y)) / len(y)

    def predict(self, X):
        return [self.mean] * len(X)
'''


def test_a_secret_key_from_the_environment_is_nowhere_in_model_codes_memory(tmp_path: Path) -> None:
    """The server's environment reaches the forkserver every job child is forked from:
    the secret key given as SOFTQUERY_SECRET_KEY must be gone (and zeroed) by then."""
    import secrets
    import subprocess

    secret = "sk-" + secrets.token_hex(24)
    env = {**os.environ, "SOFTQUERY_HOME": str(tmp_path / "home"), "SOFTQUERY_SECRET_KEY": secret}
    code_file = tmp_path / "scan.py"
    code_file.write_text(MEMORY_SCAN.format(reversed_secret=secret[::-1]))

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "softquery.cli.main", *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    cli("init")
    cli("demo")
    cli("model", "duplicate", "house_quality", "scan")
    cli("model", "update", "scan", "--code-file", str(code_file))
    run = json.loads(cli("train", "scan", "--json"))
    copies = [line for line in run["stdout"].splitlines() if line.startswith("COPIES")]
    assert copies and all(line == "COPIES 0" for line in copies), copies
