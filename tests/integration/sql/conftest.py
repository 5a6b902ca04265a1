"""SQL statements against real sources: a fresh home, a SQLite/DuckDB/PostgreSQL source
with a ``houses`` table, and models trained through the same use cases as the CLI."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from softquery.config import Settings
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import init_home
from softquery.services.models import ModelSpec, create_model
from softquery.services.runs import execute_here, start_run
from softquery.services.sources import add_source

N = 200
DDL = ("create table houses (id integer, price double precision, rooms integer, area double precision, "
       "color text, value double precision, kind text)")
OWNERS_DDL = "create table owners (house_id integer, owner text)"


def house_rows(n: int = N) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        price, rooms = float(rng.uniform(50, 500)), int(rng.integers(1, 8))
        area = float(rooms * 20 + rng.normal(0, 3))
        value = 2.0 * price + 10.0 * rooms + 0.5 * area
        kind = "big" if area > 80 else "small"
        rows.append((i + 1, price, rooms, area, ["red", "blue"][i % 2], value, kind))
    return rows


def owner_rows(n: int = N) -> list[tuple[Any, ...]]:
    return [(i + 1, f"owner{i % 7}") for i in range(0, n, 2)]


def make_sqlite(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute(DDL.replace("double precision", "real"))
        conn.executemany("insert into houses values (?, ?, ?, ?, ?, ?, ?)", house_rows())
        conn.execute(OWNERS_DDL)
        conn.executemany("insert into owners values (?, ?)", owner_rows())
    conn.close()
    return f"sqlite:///{path}"


def make_duckdb(path: Path) -> str:
    import duckdb

    conn = duckdb.connect(str(path))
    try:
        conn.execute(DDL)
        conn.executemany("insert into houses values (?, ?, ?, ?, ?, ?, ?)", house_rows())
        conn.execute(OWNERS_DDL)
        conn.executemany("insert into owners values (?, ?)", owner_rows())
    finally:
        conn.close()
    return f"duckdb:///{path}"


def make_postgres(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        conn.execute(OWNERS_DDL)
        with conn.cursor() as cur:
            cur.executemany("insert into houses values (%s, %s, %s, %s, %s, %s, %s)", house_rows())
            cur.executemany("insert into owners values (%s, %s)", owner_rows())
    return url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", database_url=None, secret_key=None)
    init_home(settings)
    return settings


@pytest.fixture
def ctx(settings: Settings) -> Iterator[ServiceContext]:
    ctx = open_context(settings)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def sqlite_source(ctx: ServiceContext, tmp_path: Path) -> str:
    """A source named ``src`` (SQLite) with houses and owners; returns its URL."""
    url = make_sqlite(tmp_path / "houses.db")
    add_source(ctx, "src", url)
    return url


Train = Callable[..., None]


def train_model(ctx: ServiceContext, name: str, *, template: str = "linear_regression",
                train_sql: str = "select price, rooms, area, value from houses",
                predict_sql: str = "select id, price, rooms, area from houses",
                code: str | None = None, source: str = "src", **extra: Any) -> None:
    create_model(ctx, name, ModelSpec(source=source, template=None if code else template, code=code,
                                      train_sql=train_sql, predict_sql=predict_sql, **extra))
    run = start_run(ctx, name, RunKind.TRAIN, RunTrigger.CLI, None)
    done = execute_here(ctx, run.id)
    assert done.status is RunStatus.SUCCEEDED, (done.error_message, done.stderr[-2000:])


def batch_predict(ctx: ServiceContext, name: str) -> None:
    run = start_run(ctx, name, RunKind.PREDICT, RunTrigger.CLI, None)
    done = execute_here(ctx, run.id)
    assert done.status is RunStatus.SUCCEEDED, (done.error_message, done.stderr[-2000:])
