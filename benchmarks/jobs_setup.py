"""Setting up what the job dispatch benchmark (jobs.py) measures: throwaway Redis and
PostgreSQL servers (tests/redisserver.py, tests/pgserver.py), the processes it starts, and a
softquery home with a source and trivial models."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL_CODE = '''
class Model:
    task = "regression"
    def train(self, X, y):
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        return [self.mean] * len(X)
'''


# --------------------------------------------------------------------------- servers


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"softquery_bench_{name}", ROOT / "tests" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    server = _load("redisserver").RedisServer()
    try:
        server.start()
        yield str(server.url)
    finally:
        server.stop()


@contextlib.contextmanager
def metadata_db(home: Path, postgres: bool) -> Iterator[str | None]:
    if not postgres:
        yield None  # SQLite file in SOFTQUERY_HOME
        return
    server = _load("pgserver").PostgresServer()
    try:
        server.start()
        yield str(server.create_database("softquery_bench"))
    finally:
        server.stop()


class Processes:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []

    def spawn(self, args: list[str], env: dict[str, str], **kw: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(args, env=env, text=True, **kw)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()


# --------------------------------------------------------------------------- softquery setup


def environment(home: Path, database_url: str | None, queue: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env["SOFTQUERY_HOME"] = str(home)
    if database_url:
        env["SOFTQUERY_DATABASE_URL"] = database_url
    if queue:
        env["SOFTQUERY_QUEUE"] = queue
    return env


@contextlib.contextmanager
def softquery_env(env: dict[str, str]) -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith("SOFTQUERY_")}
    for key in saved:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("SOFTQUERY_")})
    try:
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("SOFTQUERY_")]:
            del os.environ[key]
        os.environ.update(saved)


def cli(*args: str) -> None:
    """The real `softquery` command, in-process (setup only)."""
    from softquery.cli.exit_codes import run_with_error_handling
    from softquery.cli.main import cli as command

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = run_with_error_handling(command, list(args))
    if code != 0:
        raise SystemExit(f"softquery {' '.join(args)} exited {code}:\n{out.getvalue()}")


def set_up(home: Path, env: dict[str, str], models: list[str]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    source = home.parent / f"{home.name}-source.db"
    with contextlib.closing(sqlite3.connect(source)) as conn:
        conn.execute("create table t (id integer, x real, y real)")
        conn.executemany("insert into t values (?, ?, ?)", [(i, float(i), 2.0 * i + 1) for i in range(10)])
        conn.commit()
    code = home.parent / f"{home.name}-model.py"
    code.write_text(MODEL_CODE)
    with softquery_env(env):
        cli("init")
        cli("source", "add", "src", f"sqlite:///{source}")
        for name in models:
            cli("model", "create", name, "--source", "src", "--code-file", str(code),
                "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t")


def api_token(env: dict[str, str]) -> str:
    """An admin ``bench`` with a full-scope API token, made through the service layer (the runs
    train models the CLI created, which only admins may change)."""
    from softquery.domain.accounts import Role
    from softquery.services.accounts import add_user
    from softquery.services.tokens import create_token

    ctx = open_ctx(env)
    try:
        add_user(ctx, "bench", Role.ADMIN)
        return str(create_token(ctx, "bench", name="jobs benchmark", days=1).token)
    finally:
        ctx.close()


def open_ctx(env: dict[str, str]) -> Any:
    from softquery.config import Settings
    from softquery.services.context import open_context

    return open_context(Settings(home=Path(env["SOFTQUERY_HOME"]), database_url=env.get("SOFTQUERY_DATABASE_URL"),
                                 queue=env.get("SOFTQUERY_QUEUE")))
