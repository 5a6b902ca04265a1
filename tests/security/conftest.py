"""Security tests: every data backend holds a ``users`` table with two rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from tests.api.conftest import client, ctx, executor  # noqa: F401 - the API fixtures, reused

BACKENDS = ["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]
USERS_DDL = "create table users (id integer, name text)"


def run_sql(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Execute ``sql`` on a separate, writable connection (committed)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        conn = sqlite3.connect(str(parsed.database))
        try:
            rows = conn.execute(sql).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()
    if backend == "duckdb":
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


def user_rows(url: str) -> list[tuple[Any, ...]]:
    return run_sql(url, "select id, name from users order by id")


@pytest.fixture(params=BACKENDS)
def users_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'users.db'}"
    elif request.param == "duckdb":
        url = f"duckdb:///{tmp_path / 'users.duckdb'}"
    else:
        url = str(request.getfixturevalue("pg_database"))
    run_sql(url, USERS_DDL)
    run_sql(url, "insert into users values (1, 'ada'), (2, 'bob')")
    return url
