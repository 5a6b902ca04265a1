"""One suite over every backend (the huey way): ``backend_url`` is a SQLite file,
a DuckDB file or a fresh PostgreSQL database, each holding the ``houses`` table;
``run_sql`` executes statements on a separate connection of that backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

RunSql = Callable[[str, str], list[tuple[Any, ...]]]

BACKENDS = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]


def run_sql(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Execute ``sql`` on a new connection and return its rows (committed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(str(parsed.database))
        try:
            rows = conn.execute(sql).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()
    if parsed.get_backend_name() == "duckdb":
        import duckdb

        dconn = duckdb.connect(str(parsed.database))
        try:
            result = dconn.execute(sql)
            return result.fetchall() if result.description else []
        finally:
            dconn.close()
    import psycopg

    with psycopg.connect(url, autocommit=True) as pconn:
        cur = pconn.execute(sql)
        return cur.fetchall() if cur.description else []


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    if request.param == "duckdb":
        return str(request.getfixturevalue("duckdb_url"))
    url = str(request.getfixturevalue("pg_database"))
    run_sql(url, "create table houses (id bigint, price double precision, rooms bigint, color text, quality bigint)")
    run_sql(url, "insert into houses values (1, 10.5, 3, 'red', 1), (2, 20.0, 4, 'blue', 0), "
                 "(3, 15.25, 2, 'red', 1), (4, 30.0, 5, 'green', 0)")
    return url


@pytest.fixture
def sql() -> RunSql:
    return run_sql
