"""Model code never holds its data source's URL or password.

The model below searches its own process in ``train()`` and ``predict()`` —
every object the garbage collector tracks (and their attributes), every frame
on its stack, every module's globals, the environment, its /proc environ and
command line — for the source's password and URL, and prints what it found.
The supervisor reads the source and writes the output table itself, so nothing
is found, and the run still trains and predicts correctly: on PostgreSQL with a
role whose password the server checks (scram), and on SQLite. A planted canary
shows the search finds what is there (the test can fail); before the change
the URL reached the child inside its spec.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from softquery.config import Settings
from softquery.domain import RunKind, RunTrigger
from softquery.services import models as models_svc
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import init_home
from softquery.services.runs import execute_here, submit_run
from softquery.services.sources import add_source

ROWS = [(i, float(i), 2.0 * i + 1.0) for i in range(1, 61)]

SEARCH = '''
import gc, json, os, sys
import numpy as np

NEEDLES = {needles!r}  # name -> hex: the code itself never holds a secret as text
CANARY = {canary!r}


def _hits(value, secrets, hits, where):
    if isinstance(value, str):
        for name, secret in zip(NEEDLES, secrets):
            if secret in value:
                hits.add(name + " @ " + where)
    elif isinstance(value, (bytes, bytearray)):
        for name, secret in zip(NEEDLES, secrets):
            if secret.encode() in value:
                hits.add(name + " @ " + where)


def search(place):
    secrets = tuple(bytes.fromhex(h).decode() for h in NEEDLES.values())
    hits = set()
    me = sys._getframe()
    for obj in gc.get_objects():
        if obj is secrets:
            continue
        where = "gc " + type(obj).__name__
        if isinstance(obj, dict):
            for key, value in list(obj.items()):
                _hits(key, secrets, hits, where)
                _hits(value, secrets, hits, where)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for value in list(obj):
                _hits(value, secrets, hits, where)
        try:
            attributes = object.__getattribute__(obj, "__dict__")
        except Exception:
            attributes = None
        if isinstance(attributes, dict):
            for value in list(attributes.values()):
                _hits(value, secrets, hits, where + ".__dict__")
    frame = me.f_back
    while frame is not None:
        for key, value in list(frame.f_locals.items()):
            _hits(value, secrets, hits, "frame " + frame.f_code.co_name + "." + key)
            if hasattr(value, "__dict__") and not isinstance(value, type):
                for inner in list(vars(value).values()):
                    _hits(inner, secrets, hits, "frame " + frame.f_code.co_name + "." + key + ".*")
        frame = frame.f_back
    for name, module in list(sys.modules.items()):
        for value in list(getattr(module, "__dict__", {{}}).values()):
            _hits(value, secrets, hits, "module " + name)
    for key, value in os.environ.items():
        _hits(key + "=" + value, secrets, hits, "os.environ")
    for path in ("/proc/self/environ", "/proc/self/cmdline"):
        with open(path, "rb") as fh:
            _hits(fh.read(), secrets, hits, path)
    print("SEARCH " + place + " " + json.dumps(sorted(hits)), flush=True)


class Planted:
    pass


class Model:
    def __init__(self):
        self.searched = False

    def train(self, X, y):
        planted = Planted()  # the control: a value the search must find
        planted.value = bytes.fromhex(CANARY).decode()
        search("train")
        del planted
        A = np.column_stack([X["x"].to_numpy(dtype=float), np.ones(len(X))])
        self.coef = np.linalg.lstsq(A, y.to_numpy(dtype=float), rcond=None)[0]

    def predict(self, X):
        if not self.searched:
            self.searched = True
            search("predict")
        return X["x"].to_numpy(dtype=float) * self.coef[0] + self.coef[1]
'''


def _code(secrets: dict[str, str]) -> str:
    canary = "canary-" + uuid.uuid4().hex
    needles = {name: value.encode().hex() for name, value in {**secrets, "canary": canary}.items()}
    return SEARCH.format(needles=needles, canary=canary.encode().hex())


def _searches(stdout: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        if line.startswith("SEARCH "):
            _, place, hits = line.split(" ", 2)
            found[place] = json.loads(hits)
    return found


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    context = open_context(settings)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def pg_source(pg_server: Any, pg_database: str) -> Iterator[tuple[str, str]]:
    """(url, password) of a login role whose password the server checks (scram, not the
    test server's trust), owning nothing but allowed to read ``houses`` and create tables."""
    import psycopg

    role, password = f"analyst_{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"create role {role} login password '{password}'")
        conn.execute("create table houses (id integer, x double precision, y double precision)")
        with conn.cursor() as cur:
            cur.executemany("insert into houses values (%s, %s, %s)", ROWS)
        conn.execute(f"grant select on houses to {role}")
        conn.execute(f"grant create, usage on schema public to {role}")
    hba = Path(pg_server.datadir) / "pg_hba.conf"
    before = hba.read_text()
    hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + before)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute("select pg_reload_conf()")
    try:
        url = make_url(pg_database).set(username=role, password=password)
        yield url.render_as_string(hide_password=False), password
    finally:
        hba.write_text(before)
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute("select pg_reload_conf()")


def _train_and_predict(ctx: ServiceContext, source: str, url: str, secrets: dict[str, str]) -> dict[str, list[str]]:
    add_source(ctx, source, url)  # connects: the URL (and its password) is right
    name = f"{source}_model"
    models_svc.create_model(ctx, name, models_svc.ModelSpec(
        source=source, code=_code(secrets), train_sql="select id, x, y from houses",
        predict_sql="select id, x from houses"))
    found: dict[str, list[str]] = {}
    for kind in (RunKind.TRAIN, RunKind.PREDICT):
        run = execute_here(ctx, submit_run(ctx, name, kind, RunTrigger.CLI, None).id)
        assert run.status.value == "succeeded", (run.error_code, run.error_message, run.stderr[-2000:])
        found.update(_searches(run.stdout))
    assert set(found) == {"train", "predict"}, found
    return found


def _assert_nothing_found(found: dict[str, list[str]]) -> None:
    assert any(hit.startswith("canary @ ") for hit in found["train"]), found  # the search works
    for place, hits in found.items():
        leaks = [hit for hit in hits if not hit.startswith("canary @ ")]
        assert leaks == [], (place, leaks)


def _assert_predictions(rows: list[tuple[Any, ...]]) -> None:
    assert sorted(int(r[0]) for r in rows) == [r[0] for r in ROWS]
    for row_id, prediction in rows:
        assert abs(float(prediction) - (2.0 * row_id + 1.0)) < 1e-6, (row_id, prediction)


@pytest.mark.postgres
def test_postgres_password_never_reaches_model_code(ctx: ServiceContext, pg_source: tuple[str, str],
                                                    pg_database: str) -> None:
    import psycopg

    url, password = pg_source
    with pytest.raises(psycopg.OperationalError):  # the password is checked, really
        psycopg.connect(url.replace(password, "wrong-password"), connect_timeout=5).close()
    found = _train_and_predict(ctx, "pgsrc", url, {"password": password, "url": url})
    _assert_nothing_found(found)
    with psycopg.connect(pg_database) as conn:
        _assert_predictions(conn.execute("select id, prediction from pgsrc_model_prediction").fetchall())


def test_sqlite_url_never_reaches_model_code(ctx: ServiceContext, tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table houses (id integer, x real, y real)")
        conn.executemany("insert into houses values (?, ?, ?)", ROWS)
    conn.close()
    url = f"sqlite:///{path}"
    found = _train_and_predict(ctx, "litesrc", url, {"url": url})
    _assert_nothing_found(found)
    conn = sqlite3.connect(path)
    try:
        _assert_predictions(conn.execute("select id, prediction from litesrc_model_prediction").fetchall())
    finally:
        conn.close()
