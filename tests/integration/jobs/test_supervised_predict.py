"""Batch prediction with the supervisor reading and writing, the job child only predicting:
a stop between many batches, and a child that forges its answers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.harness import wait_for

from softquery.config import Settings
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.services import models as models_svc
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import init_home
from softquery.services.runs import execute_here, stop_run, submit_run
from softquery.services.sources import add_source

ROWS = 12_000
CHUNK_ROWS = 1_000  # 12 batches

SLOW = '''
import os, time
class Model:
    def train(self, X, y):
        self.mean = float(y.mean())
    def predict(self, X):
        if os.path.exists({slow!r}):
            with open({count!r}, "a") as fh:
                fh.write("x")
            time.sleep(0.3)
        return [self.mean] * len(X)
'''

FORGING = '''
import os, sys
import numpy as np
class Model:
    def train(self, X, y):
        self.mean = float(y.mean())
    def predict(self, X):
        if os.path.exists({forge!r}):
            frame = sys._getframe()
            while frame.f_code.co_name != "job_child_main":
                frame = frame.f_back
            frame.f_locals["conn"].send({message})
        return [self.mean] * len(X)
'''


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "source.db"
        with sqlite3.connect(path) as conn:
            conn.execute("create table t (id integer, x real, y real)")
            conn.executemany("insert into t values (?, ?, ?)", [(i, float(i), 2.0 * i) for i in range(ROWS)])
        conn.close()
        return f"sqlite:///{path}"
    import psycopg

    url = str(request.getfixturevalue("pg_database"))
    with psycopg.connect(url, autocommit=True) as pconn:
        pconn.execute("create table t (id integer, x double precision, y double precision)")
        pconn.execute(f"insert into t select i, i, 2 * i from generate_series(0, {ROWS - 1}) as i")
    return url


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as pconn:
        return pconn.execute(sql).fetchall()


def staging_tables(url: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        return rows(url, "select name from sqlite_master where name like '\\_sq\\_stage\\_%' escape '\\'")
    return rows(url, "select tablename from pg_tables where tablename like '\\_sq\\_stage\\_%'")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", chunk_rows=CHUNK_ROWS)
    init_home(settings)
    return settings


@pytest.fixture
def ctx(settings: Settings) -> Iterator[ServiceContext]:
    context = open_context(settings)
    try:
        yield context
    finally:
        context.close()


def _model(ctx: ServiceContext, url: str, code: str) -> None:
    add_source(ctx, "src", url)
    models_svc.create_model(ctx, "m", models_svc.ModelSpec(
        source="src", code=code, train_sql="select id, x, y from t", predict_sql="select id, x from t"))
    for kind in (RunKind.TRAIN, RunKind.PREDICT):
        run = execute_here(ctx, submit_run(ctx, "m", kind, RunTrigger.CLI, None).id)
        assert run.status is RunStatus.SUCCEEDED, run.error_message
    assert len(rows(url, "select * from m_prediction")) == ROWS


def test_stop_between_many_batches_keeps_the_old_table(ctx: ServiceContext, settings: Settings,
                                                       source_url: str, exchange_dir: Path) -> None:
    slow, count = exchange_dir / "slow.flag", exchange_dir / "count"
    _model(ctx, source_url, SLOW.format(slow=str(slow), count=str(count)))
    before = rows(source_url, "select * from m_prediction order by id")
    slow.write_text("1")
    run_id = submit_run(ctx, "m", RunKind.PREDICT, RunTrigger.CLI, None).id
    supervisor_ctx = open_context(settings)
    thread = threading.Thread(target=execute_here, args=(supervisor_ctx, run_id), daemon=True)
    thread.start()
    try:
        wait_for(lambda: count.exists() and len(count.read_text()) >= 3, 60, "three batches predicted")
        stop_run(ctx, run_id)
        thread.join(30)
        assert not thread.is_alive()
    finally:
        thread.join(30)
        supervisor_ctx.close()
    run = ctx.runs.get(run_id)
    assert run.status is RunStatus.CANCELLED, (run.status, run.error_message)
    assert len(count.read_text()) < ROWS // CHUNK_ROWS  # stopped mid-run
    assert rows(source_url, "select * from m_prediction order by id") == before
    assert staging_tables(source_url) == []


@pytest.mark.parametrize(("message", "error"), [
    ('("predictions", np.zeros(1), None)', "predict(X) returned 1 value(s)"),
    ('("predictions", [0.0] * len(X), None)', "not as one array"),
    ('("bogus",)', "sent 'bogus' where softquery expected 'predictions'"),
    ('("predictions", __import__("collections").Counter(), None)', "sent 'invalid_message'"),
])
def test_forged_answers_fail_the_run_and_write_nothing(ctx: ServiceContext, source_url: str,
                                                       exchange_dir: Path, message: str, error: str) -> None:
    forge = exchange_dir / "forge.flag"
    _model(ctx, source_url, FORGING.format(forge=str(forge), message=message))
    before = rows(source_url, "select * from m_prediction order by id")
    forge.write_text("1")
    run = execute_here(ctx, submit_run(ctx, "m", RunKind.PREDICT, RunTrigger.CLI, None).id)
    assert run.status is RunStatus.FAILED
    assert run.error_code == "model_code_error", (run.error_code, run.error_message)
    assert error in (run.error_message or ""), run.error_message
    assert rows(source_url, "select * from m_prediction order by id") == before
    assert staging_tables(source_url) == []
