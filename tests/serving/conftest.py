"""A trained home built once per session (copied per test), app clients, a real server.

Models in the template home:

* ``pj``: linear_regression on ``wine_quality(id, features TEXT JSON array of 11 floats,
  quality REAL)`` — the MLSQL seed's wine-quality request;
* ``lin``: linear_regression on ``points(id, f0..f9 REAL, y REAL)``, versions 1 and 2
  (v2 active), 10 float features as in the benchmark;
* ``iris_species`` (multiclass) and ``cancer_diagnosis`` (binary) from the demo.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests import authkit

from softquery.config import Settings
from softquery.domain import RunKind, RunTrigger
from softquery.server import create_app
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home
from softquery.services.models import ModelSpec, create_model
from softquery.services.runs import execute_here, submit_run
from softquery.services.sources import add_source

ROOT = Path(__file__).resolve().parents[2]


def make_wine_table(path: Path, rows: int = 300, seed: int = 7) -> None:
    """A wine-quality-like table: 11 physico-chemical features as a JSON array, quality 3..9."""
    rng = random.Random(seed)
    weights = [-0.5, 0.03, -20.0, 0.002, 0.1, 0.001, -1.5, 0.8, -0.6, 0.05, 0.3]
    data = []
    for i in range(rows):
        f = [rng.uniform(0.01, 0.1), rng.uniform(4, 15), rng.uniform(0.98, 1.01), rng.uniform(10, 80),
             rng.uniform(2, 12), rng.uniform(50, 250), rng.uniform(0.1, 0.6), rng.uniform(0.2, 0.9),
             rng.uniform(0.1, 0.6), rng.uniform(1, 6), rng.uniform(8, 22)]
        quality = 25.0 + sum(w * x for w, x in zip(weights, f, strict=True)) + rng.gauss(0, 0.3)
        data.append((i + 1, json.dumps([round(x, 4) for x in f]), round(quality, 3)))
    with sqlite3.connect(path) as conn:
        conn.execute("create table wine_quality (id integer primary key, features text, quality real)")
        conn.executemany("insert into wine_quality values (?, ?, ?)", data)
    conn.close()


def make_points_table(path: Path, rows: int = 400, seed: int = 3) -> None:
    rng = random.Random(seed)
    with sqlite3.connect(path) as conn:
        cols = ", ".join(f"f{i} real" for i in range(10))
        conn.execute(f"create table points (id integer primary key, {cols}, y real)")
        for i in range(rows):
            f = [rng.gauss(0, 1) for _ in range(10)]
            y = sum((j + 1) * x for j, x in enumerate(f)) + rng.gauss(0, 0.1)
            conn.execute(f"insert into points values ({', '.join('?' * 12)})", (i + 1, *f, y))
    conn.close()


def train_now(ctx: ServiceContext, model: str) -> None:
    run = submit_run(ctx, model, RunKind.TRAIN, RunTrigger.CLI, None)
    done = execute_here(ctx, run.id)
    assert done.status.value == "succeeded", done.error_message


def copy_sqlite(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


@pytest.fixture(scope="session")
def template_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("serving")
    home = base / "home"
    settings = Settings(home=home)
    init_home(settings)
    ctx = open_context(settings)
    try:
        create_demo(ctx)
        make_wine_table(base / "wine.db")
        make_points_table(base / "points.db")
        add_source(ctx, "wine", f"sqlite:///{base / 'wine.db'}")
        add_source(ctx, "pts", f"sqlite:///{base / 'points.db'}")
        create_model(ctx, "pj", ModelSpec(source="wine", template="linear_regression",
                                          train_sql="select id, features, quality from wine_quality",
                                          predict_sql="select id, features from wine_quality"))
        fs = ", ".join(f"f{i}" for i in range(10))
        create_model(ctx, "lin", ModelSpec(source="pts", template="linear_regression",
                                           train_sql=f"select id, {fs}, y from points",
                                           predict_sql=f"select id, {fs} from points"))
        for name in ("pj", "lin", "lin", "iris_species", "cancer_diagnosis"):
            train_now(ctx, name)
    finally:
        ctx.close()
    return home


@pytest.fixture
def home(template_home: Path, tmp_path: Path) -> Path:
    """A private copy of the trained home (the sources stay shared and read-only)."""
    home = tmp_path / "home"
    home.mkdir()
    for item in template_home.iterdir():
        if item.name.startswith("softquery.db"):
            continue
        if item.is_file():
            shutil.copy2(item, home / item.name)
    copy_sqlite(template_home / "softquery.db", home / "softquery.db")
    return home


@pytest.fixture
def ctx(home: Path) -> Iterator[ServiceContext]:
    context = open_context(Settings(home=home, serving_workers=1))
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def client(ctx: ServiceContext) -> Iterator[TestClient]:
    """A client holding a full-scope API token of the admin ``admin``."""
    with TestClient(create_app(ctx, None), raise_server_exceptions=False) as test_client:
        test_client.headers.update(authkit.bearer(ctx))
        yield test_client


def lin_row(seed: int = 0) -> dict[str, float]:
    rng = random.Random(seed)
    return {f"f{i}": rng.gauss(0, 1) for i in range(10)}


def wait_for(check: Any, timeout: float, what: str, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    home: Path
    auth: dict[str, str]  # Authorization header of an admin's full-scope token

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client that authenticates as the admin (``headers=`` adds to or overrides it)."""
        headers = {**self.auth, **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers, **kwargs)


def admin_bearer(home: Path) -> dict[str, str]:
    """An admin's API token, made through the service layer on ``home`` (the server reads it from the DB)."""
    context = open_context(Settings(home=home))
    try:
        return authkit.bearer(context)
    finally:
        context.close()


def start_server(home: Path, extra_env: dict[str, str] | None = None) -> Server:
    env = dict(os.environ, SOFTQUERY_HOME=str(home), SOFTQUERY_PORT="0", **(extra_env or {}))
    log = home / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "softquery.cli.main", "serve", "--no-scheduler", "--slots", "1"],
            stdout=out, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT, start_new_session=True)

    def url() -> str | None:
        for line in log.read_text().splitlines():
            if "serving at " in line:
                return line.split("serving at ", 1)[1].split()[0].rstrip("/")
        if process.poll() is not None:
            raise AssertionError("softquery serve exited: " + log.read_text())
        return None

    server = Server(wait_for(url, 60, "softquery serve to listen"), process, home, admin_bearer(home))
    with server.client() as c:
        wait_for(lambda: _ok(c), 30, "the server to answer /api/v1/health")
    return server


def _ok(c: httpx.Client) -> bool:
    try:
        return c.get("/api/v1/health").status_code == 200
    except httpx.HTTPError:
        return False


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(5)


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    srv = start_server(home)
    try:
        yield srv
    finally:
        stop_server(srv)
